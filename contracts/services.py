"""Contract services: templates and their versions, contracts from draft to service, issued PDFs and their proof.

Every refusal names its field and, where a rule asks for it, the clause. Services flush, never commit.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from contracts import pdf as pdfs
from contracts import rules
from contracts.context import build_context
from contracts.models import (
    Contract,
    ContractLine,
    ContractState,
    ContractTemplate,
    Instalment,
    InstalmentCondition,
    IssuedDocument,
    ReportFrequency,
    TemplateKind,
    TemplateState,
    TemplateVersion,
)
from contracts.rendering import (
    Placeholder,
    RenderError,
    TemplateReport,
    inspect_body,
    missing_values,
    page_html,
    parse_schema,
    render_body,
    sample_context,
)
from procurement import files
from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Action
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.orgs import services as orgs
from procurement.orgs.models import Organization, Region
from procurement.projects import services as projects
from procurement.projects.models import Project, award_bid
from procurement.rules.clock import utcnow
from procurement.rules.money import split_by_percent, to_fen
from procurement.rules.procurement import PERIODS
from procurement.rules.stages import ProjectStage

SHIPPED = Path(__file__).resolve().parent / "default_templates"
#: The templates shipped with the toolkit: code → (name, kind, file stem).
SHIPPED_TEMPLATES = {
    "service-contract": ("政府购买社会救助服务合同（示范文本）", TemplateKind.MAIN, "service_contract"),
    "supplementary-contract": ("政府购买社会救助服务补充合同（示范文本）", TemplateKind.SUPPLEMENTARY,
                               "supplementary_contract"),
}
DEFAULT_INSTALMENTS = ((Decimal(30), InstalmentCondition.ON_SIGNING), (Decimal(40), InstalmentCondition.MID_TERM_EVALUATION),
                       (Decimal(30), InstalmentCondition.FINAL_ACCEPTANCE))
TEXT_MAX, NAME_MAX, REF_MAX, BODY_MAX = 4000, 64, 256, 200_000
MAX_INSTALMENTS = 12


class ContractInvalid(DomainError):
    """Several problems at once, each with its field: the form shows every one of them."""

    def __init__(self, problems: list[rules.Problem]):
        first = problems[0]
        super().__init__(first.message, field=first.field, citation=first.citation or None)
        self.problems = problems


def _raise_problems(problems: list[rules.Problem]) -> None:
    if problems:
        raise ContractInvalid(problems)


def _check_version(obj, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise ConflictError(_("Someone else changed this record; look at it again before you go on."))


def _text(value, limit: int, field: str, required: bool = False) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_("This field is required."), field=field)
    if len(text) > limit:
        raise DomainError(_("At most %(n)s characters.", n=limit), field=field)
    return text or None


# --- templates ---------------------------------------------------------------------------------

def shipped_files(stem: str) -> tuple[str, str, list]:
    body = (SHIPPED / f"{stem}.html").read_text(encoding="utf-8")
    stylesheet = (SHIPPED / "print.css").read_text(encoding="utf-8")
    schema = json.loads((SHIPPED / f"{stem}.schema.json").read_text(encoding="utf-8"))
    return body, stylesheet, schema


def ensure_shipped_templates() -> int:
    """Add the shipped templates (published version 1) that the database does not have yet."""
    existing = set(db.session.execute(select(ContractTemplate.code)).scalars())
    added = 0
    for code, (name, kind, stem) in SHIPPED_TEMPLATES.items():
        if code in existing:
            continue
        body, stylesheet, schema = shipped_files(stem)
        template = ContractTemplate(code=code, name=name, kind=kind)
        db.session.add(template)
        db.session.flush()
        now = utcnow()
        db.session.add(TemplateVersion(template_id=template.id, number=1, state=TemplateState.PUBLISHED, body=body,
                                       stylesheet=stylesheet, schema=schema, note="随软件发布的示范文本",
                                       created_at=now, published_at=now))
        added += 1
    db.session.flush()
    return added


def templates() -> list[ContractTemplate]:
    return list(db.session.execute(select(ContractTemplate).options(selectinload(ContractTemplate.versions))
                                   .order_by(ContractTemplate.id)).scalars())


def published_version(kind: TemplateKind) -> TemplateVersion | None:
    """The newest published version of the first template of ``kind`` (contracts are generated from it)."""
    return db.session.execute(
        select(TemplateVersion).join(ContractTemplate).where(ContractTemplate.kind == kind,
                                                             TemplateVersion.state == TemplateState.PUBLISHED)
        .order_by(ContractTemplate.id, TemplateVersion.number.desc()).limit(1)).scalar()


def version_schema(version: TemplateVersion) -> list[Placeholder]:
    return parse_schema(version.schema)


def can_edit_templates(user) -> bool:
    return user.may(Action.TEMPLATE_EDIT)


def start_draft(template: ContractTemplate, actor: Actor) -> TemplateVersion:
    """A new draft version copied from the newest version; the existing draft if there is one."""
    if not can_edit_templates(actor.user):
        raise AccessDenied(_("You may not edit contract templates."))
    versions = template.versions
    draft = next((v for v in versions if v.state == TemplateState.DRAFT), None)
    if draft is not None:
        return draft
    latest = versions[-1]
    draft = TemplateVersion(template_id=template.id, number=latest.number + 1, state=TemplateState.DRAFT,
                            body=latest.body, stylesheet=latest.stylesheet, schema=latest.schema,
                            created_by_id=actor.user_id)
    db.session.add(draft)
    db.session.flush()
    append_audit(actor, "template.draft", draft, detail={"template": template.code, "number": draft.number})
    return draft


def save_draft(version: TemplateVersion, body: str, stylesheet: str, schema_text: str, note: str | None,
               actor: Actor, expected_version: int | None = None) -> TemplateReport:
    """Save a draft version. Unknown placeholders are allowed in a draft (the preview marks them); bad syntax is not.

    Raises:
        DomainError: the version is published, the body does not parse, or the schema is malformed.
    """
    if not can_edit_templates(actor.user):
        raise AccessDenied(_("You may not edit contract templates."))
    if version.read_only:
        raise DomainError(_("A published version is read-only; start a new draft to change it."))
    _check_version(version, expected_version)
    body = _text(body, BODY_MAX, "body", required=True)
    stylesheet = _text(stylesheet, BODY_MAX, "stylesheet") or ""
    try:
        schema = json.loads(schema_text or "")
        placeholders = parse_schema(schema)
    except json.JSONDecodeError as exc:
        raise DomainError(_("The schema is not valid JSON (line %(line)s, column %(col)s).", line=exc.lineno,
                            col=exc.colno), field="schema") from None
    except ValueError as exc:
        raise DomainError(str(exc), field="schema") from None
    report = inspect_body(body, placeholders)
    if report.syntax_error:
        raise DomainError(report.syntax_error, field="body")
    version.body, version.stylesheet, version.schema = body, stylesheet, [p.to_dict() for p in placeholders]
    version.note = _text(note, TEXT_MAX, "note")
    version.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "template.save", version, detail={"template": version.template.code, "number": version.number})
    return report


def publish_version(version: TemplateVersion, actor: Actor, expected_version: int | None = None) -> None:
    """Publish a draft: it becomes read-only and the version new contracts use; the previous one is superseded.

    Raises:
        DomainError: not a draft, or its body uses placeholders its schema does not declare, or it fails
            to render with the schema's samples.
    """
    if not can_edit_templates(actor.user):
        raise AccessDenied(_("You may not edit contract templates."))
    if version.state != TemplateState.DRAFT:
        raise DomainError(_("Only a draft can be published."))
    _check_version(version, expected_version)
    placeholders = version_schema(version)
    report = inspect_body(version.body, placeholders)
    if report.syntax_error:
        raise DomainError(report.syntax_error, field="body")
    if report.unknown:
        raise DomainError(_("The body uses placeholders the schema does not declare: %(names)s.",
                            names="、".join(report.unknown)), field="body")
    samples = sample_context(placeholders)
    lacking = [p.name for p in placeholders if p.required and p.name not in samples]
    if lacking:
        raise DomainError(_("Give a sample for every required placeholder, so the preview shows them: %(names)s.",
                            names="、".join(lacking)), field="schema")
    try:
        render_body(version.body, samples, placeholders, strict=True)
    except RenderError as exc:
        raise DomainError(str(exc), field="body") from None
    now = utcnow()
    for other in version.template.versions:
        if other.state == TemplateState.PUBLISHED:
            other.state = TemplateState.RETIRED
    version.state = TemplateState.PUBLISHED
    version.published_at = now
    version.published_by_id = actor.user_id
    db.session.flush()
    append_audit(actor, "template.publish", version, detail={"template": version.template.code,
                                                             "number": version.number})


@dataclass
class Preview:
    html: str  # a complete document, stylesheet inline: for a sandboxed frame, never the app's own page
    missing: list[Placeholder]  # required values the context lacks
    report: TemplateReport
    error: str | None = None


def preview_template(version: TemplateVersion, context: dict | None = None) -> Preview:
    """The version rendered with its samples (or ``context``); undefined and unknown placeholders marked red."""
    try:
        placeholders = version_schema(version)
    except ValueError as exc:
        return Preview("", [], TemplateReport(), str(exc))
    report = inspect_body(version.body, placeholders)
    context = sample_context(placeholders) if context is None else context
    try:
        body = render_body(version.body, context, placeholders)
    except RenderError as exc:
        return Preview("", missing_values(placeholders, context), report, str(exc))
    return Preview(page_html(body, version.template.name, version.stylesheet), missing_values(placeholders, context),
                   report)


# --- who sees what -------------------------------------------------------------------------------

def contract_query(user):
    """The contracts a user may see: officers and finance their region's; a supplier its own."""
    query = select(Contract)
    if user.may(Action.CONTRACT_VIEW):
        return (query.join(Organization, Contract.purchaser_id == Organization.id)
                .join(Region, Organization.region_id == Region.id)
                .where(Region.path.startswith(user.organization.region.path)))
    if user.may(Action.OWN_CONTRACTS_VIEW):
        return query.where(Contract.supplier_id == user.organization_id, Contract.state != ContractState.DRAFT)
    return query.where(False)


def can_view_contract(user, contract: Contract) -> bool:
    if user.may(Action.CONTRACT_VIEW):
        return orgs.in_user_subtree(user, contract.purchaser.region)
    if user.may(Action.OWN_CONTRACTS_VIEW):
        return contract.supplier_id == user.organization_id and contract.state != ContractState.DRAFT
    return False


def can_edit_contract(user, contract: Contract) -> bool:
    return user.may(Action.CONTRACT_EDIT) and orgs.in_user_subtree(user, contract.purchaser.region)


def _ensure_edit(actor: Actor, contract: Contract) -> None:
    if not can_edit_contract(actor.user, contract):
        raise AccessDenied(_("You may not change this contract."))


def _ensure_state(contract: Contract, *states: ContractState) -> None:
    if contract.state not in states:
        raise DomainError(_("This cannot be done while the contract is “%(state)s”.", state=contract.state.label))


def contracts_of_project(project: Project) -> list[Contract]:
    return list(db.session.execute(select(Contract).where(Contract.project_id == project.id)
                                   .order_by(Contract.id)).scalars())


def main_contract(project: Project) -> Contract | None:
    return db.session.execute(select(Contract).where(Contract.project_id == project.id,
                                                     Contract.parent_id.is_(None))).scalar()


# --- generating and editing a draft ----------------------------------------------------------------

def _next_number(project: Project) -> str:
    """HT-<project code>, and HT-<project code>-B<n> for the n-th supplementary contract."""
    count = db.session.scalar(select(func.count()).select_from(Contract).where(Contract.project_id == project.id))
    return f"HT-{project.code}" if not count else f"HT-{project.code}-B{count}"


def _set_instalments(contract: Contract, plan) -> None:
    """Replace the instalments with ``plan`` [(percent, condition, note)]; amounts split to the fen."""
    amounts = split_by_percent(contract.amount, [p for p, _c, _n in plan])
    contract.instalments.clear()
    db.session.flush()
    for position, ((percent, condition, note), amount) in enumerate(zip(plan, amounts, strict=True), 1):
        contract.instalments.append(Instalment(position=position, percent=percent, amount=amount,
                                               condition=condition, condition_note=note))


def _recompute(contract: Contract) -> None:
    contract.amount = sum((line.amount for line in contract.lines), Decimal("0.00"))
    plan = [(i.percent, i.condition, i.condition_note) for i in contract.instalments]
    if plan and sum(p for p, _c, _n in plan) == 100 and contract.amount > 0:
        _set_instalments(contract, plan)


def generate_contract(project: Project, actor: Actor, today: date) -> Contract:
    """The draft contract of an awarded project: parties, items, quantities, prices, amount and term prefilled.

    Raises:
        DomainError: the project is not awarded, already has its contract, or no template is published.
    """
    if not can_edit_contract(actor.user, _Probe(project)):
        raise AccessDenied(_("You may not change this contract."))
    if project.stage != ProjectStage.AWARDED:
        raise DomainError(_("A contract is generated from an awarded project; this one is “%(stage)s”.",
                            stage=project.stage.label))
    if main_contract(project) is not None:
        raise DomainError(_("This project already has its contract."))
    version = published_version(TemplateKind.MAIN)
    if version is None:
        raise DomainError(_("No contract template is published; ask the system administrator."))
    bid = award_bid(project)
    start = project.service_start or today
    end = project.service_end or _year_after(start)
    contract = Contract(number=_next_number(project), project_id=project.id, template_version_id=version.id,
                        state=ContractState.DRAFT, purchaser_id=project.bureau_id, supplier_id=project.award_supplier_id,
                        title=f"{project.title}合同"[:128], amount=project.total, term_start=start, term_end=end,
                        service_place=project.service_place, bond_percent=Decimal("0.00"),
                        payment_days=rules.DEFAULT_PAYMENT_DAYS, late_interest_per_day=rules.DEFAULT_LATE_INTEREST,
                        report_frequency=ReportFrequency.MONTHLY, created_by_id=actor.user_id,
                        beneficiary_assignment="甲方以书面名单形式向乙方分派服务对象，名单调整时提前5个工作日书面通知乙方；"
                                               "乙方不得自行增减服务对象。")
    for position, line in enumerate(project.lines):
        contract.lines.append(ContractLine(item_id=line.item_id, quantity=line.quantity, unit_price=line.unit_price,
                                           amount=line.amount, position=position))
    db.session.add(contract)
    db.session.flush()
    if bid is not None and bid.price != project.total and contract.lines:
        _fit_prices_to(contract, bid.price)
    _recompute(contract)
    _set_instalments(contract, [(p, c, None) for p, c in DEFAULT_INSTALMENTS])
    db.session.flush()
    append_audit(actor, "contract.generate", contract, detail={"project": project.code, "number": contract.number,
                                                               "template_version": version.id})
    return contract


def _year_after(start: date) -> date:
    """The last day of a one-year term starting on ``start``."""
    try:
        return start.replace(year=start.year + 1) - timedelta(days=1)
    except ValueError:  # 29 February
        return date(start.year + 1, 2, 28)


class _Probe:
    """What :func:`can_edit_contract` needs, before the contract exists."""

    def __init__(self, project: Project):
        self.purchaser = project.bureau


def _fit_prices_to(contract: Contract, price: Decimal) -> None:
    """Scale the unit prices to the awarded price when that can be done to the fen; else leave them for the officer."""
    total = sum((line.amount for line in contract.lines), Decimal("0.00"))
    if total <= 0:
        return
    factor = price / total
    candidate = [to_fen(line.unit_price * factor) for line in contract.lines]
    if sum((p * line.quantity for p, line in zip(candidate, contract.lines, strict=True)), Decimal("0.00")) == price \
            and all(p > 0 for p in candidate):
        for p, line in zip(candidate, contract.lines, strict=True):
            line.unit_price, line.amount = p, p * line.quantity


CONTRACT_FIELDS = ("title", "term_start", "term_end", "long_term_justification", "service_place", "bond_percent",
                   "payment_days", "late_interest_per_day", "report_frequency", "staff_requirements",
                   "beneficiary_assignment", "special_terms")


def contract_values(contract: Contract) -> dict:
    return {name: getattr(contract, name) for name in CONTRACT_FIELDS}


def update_contract(contract: Contract, data: dict, actor: Actor, expected_version: int | None = None) -> None:
    """Change a draft's terms; every rule is checked and every problem reported at once.

    Raises:
        ContractInvalid: with each problem and its field.
        ConflictError: someone changed the contract since it was loaded.
    """
    _ensure_edit(actor, contract)
    _ensure_state(contract, ContractState.DRAFT)
    _check_version(contract, expected_version)
    problems = []
    title = (data.get("title") or "").strip()
    if not title:
        problems.append(rules.Problem("title", _("This field is required.")))
    for name, limit in (("long_term_justification", TEXT_MAX), ("service_place", REF_MAX),
                        ("staff_requirements", TEXT_MAX), ("beneficiary_assignment", TEXT_MAX),
                        ("special_terms", TEXT_MAX), ("title", 128)):
        if len((data.get(name) or "").strip()) > limit:
            problems.append(rules.Problem(name, _("At most %(n)s characters.", n=limit)))
    problems += rules.check_term(data.get("term_start"), data.get("term_end"), data.get("long_term_justification"))
    problems += rules.check_bond(data.get("bond_percent"))
    problems += rules.check_payment_terms(data.get("payment_days"), data.get("late_interest_per_day"))
    if data.get("report_frequency") not in list(ReportFrequency):
        problems.append(rules.Problem("report_frequency", _("Choose how often the supplier reports.")))
    _raise_problems(problems)
    before = {k: _plain(v) for k, v in contract_values(contract).items()}
    for name in CONTRACT_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            value = value.strip() or None
        setattr(contract, name, value)
    contract.title = title
    contract.bond_percent = data.get("bond_percent") or Decimal("0.00")
    contract.report_frequency = ReportFrequency(data["report_frequency"])
    contract.updated_at = utcnow()
    db.session.flush()
    after = {k: _plain(v) for k, v in contract_values(contract).items()}
    append_audit(actor, "contract.update", contract, detail={
        "changes": {k: [before[k], after[k]] for k in after if before[k] != after[k]}})


def _plain(value):
    return value.isoformat() if isinstance(value, date) else (str(value) if value is not None else None)


def set_line_prices(contract: Contract, prices: dict[int, tuple[int, Decimal]], actor: Actor,
                    expected_version: int | None = None) -> None:
    """Set the quantity and unit price of each line (``{line_id: (quantity, unit_price)}``) of a draft.

    Raises:
        ContractInvalid: a quantity or price out of bounds, or a supplementary contract above its limit.
    """
    _ensure_edit(actor, contract)
    _ensure_state(contract, ContractState.DRAFT)
    _check_version(contract, expected_version)
    problems = []
    for line in contract.lines:
        if line.id not in prices:
            continue
        quantity, price = prices[line.id]
        if quantity is None or not 0 < quantity <= projects.MAX_QUANTITY:
            problems.append(rules.Problem(f"quantity_{line.id}", _("A quantity from 1 to %(n)s.", n=projects.MAX_QUANTITY)))
        if price is None or not Decimal("0") < price <= projects.MAX_UNIT_PRICE:
            problems.append(rules.Problem(f"price_{line.id}", _("A unit price above 0 and at most %(n)s yuan.",
                                                                n=projects.MAX_UNIT_PRICE)))
    _raise_problems(problems)
    for line in contract.lines:
        if line.id in prices:
            line.quantity, line.unit_price = prices[line.id]
            line.amount = line.unit_price * line.quantity
    _recompute(contract)
    if contract.parent is not None:
        _raise_problems(rules.check_supplementary(contract.parent.amount, _supplemented(contract.parent, contract),
                                                  contract.amount))
    contract.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "contract.prices", contract, detail={"amount": str(contract.amount)})


def set_instalments(contract: Contract, plan: list[tuple[Decimal, InstalmentCondition, str | None]], actor: Actor,
                    expected_version: int | None = None) -> None:
    """Replace the payment instalments of a draft: percentages summing to 100, amounts split to the fen.

    Raises:
        ContractInvalid: the percentages do not add up to exactly 100, one is not positive, or a condition
            of kind "other" has no description.
    """
    _ensure_edit(actor, contract)
    _ensure_state(contract, ContractState.DRAFT)
    _check_version(contract, expected_version)
    problems = []
    if not plan or len(plan) > MAX_INSTALMENTS:
        problems.append(rules.Problem("instalments", _("Between 1 and %(n)s instalments.", n=MAX_INSTALMENTS)))
    for number, (percent, condition, note) in enumerate(plan, 1):
        if percent is None or percent <= 0 or percent > 100:
            problems.append(rules.Problem("instalments", _("Instalment %(n)s: a percentage above 0 and at most 100.",
                                                           n=number)))
        elif percent != percent.quantize(Decimal("0.01")):
            problems.append(rules.Problem("instalments", _("Instalment %(n)s: at most two decimals.", n=number)))
        if condition == InstalmentCondition.OTHER and not (note or "").strip():
            problems.append(rules.Problem("instalments", _("Instalment %(n)s: describe the condition.", n=number)))
        if note and len(note) > 256:
            problems.append(rules.Problem("instalments", _("Instalment %(n)s: at most %(m)s characters.", n=number,
                                                           m=256)))
    _raise_problems(problems)
    total = sum((p for p, _c, _n in plan), Decimal(0))
    if total != 100:
        _raise_problems([rules.Problem("instalments", _("The instalments add up to %(p)s percent; they must add up to "
                                                        "exactly 100 percent.", p=f"{total.normalize():f}"),
                                       rules.CITE_CONTENT)])
    _set_instalments(contract, [(p, c, (n or "").strip() or None) for p, c, n in plan])
    contract.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "contract.instalments", contract,
                 detail={"plan": [[str(p), c.value] for p, c, _n in plan]})


# --- checks before signing -------------------------------------------------------------------------

def _supplemented(parent: Contract, exclude: Contract | None = None) -> Decimal:
    return sum((c.amount for c in parent.supplements
                if c.state != ContractState.DRAFT and (exclude is None or c.id != exclude.id)), Decimal("0.00"))


def contract_problems(contract: Contract) -> list[rules.Problem]:
    """Everything that stops this draft from being signed, each with its field and clause."""
    problems = []
    if contract.parent is None:
        problems += rules.check_term(contract.term_start, contract.term_end, contract.long_term_justification)
        bid = award_bid(contract.project)
        if bid is not None and contract.amount != bid.price:
            problems.append(rules.Problem("lines", _("The lines add up to %(a)s yuan; the awarded price is %(b)s yuan.",
                                                     a=contract.amount, b=bid.price), "《政府采购法》第四十六条"))
    else:
        problems += rules.check_supplementary(contract.parent.amount, _supplemented(contract.parent, contract),
                                              contract.amount)
    problems += rules.check_bond(contract.bond_percent)
    problems += rules.check_instalments(contract.amount, [rules.InstalmentPlan(i.percent, i.amount)
                                                          for i in contract.instalments])
    schema = version_schema(contract.template_version)
    for placeholder in missing_values(schema, build_context(contract)):
        if placeholder.name in ("purchaser_signatory", "supplier_signatory", "signed_on"):
            continue  # recorded when signing
        problems.append(rules.Problem("placeholder", _("The contract needs “%(what)s” (%(name)s).",
                                                       what=placeholder.description, name=placeholder.name)))
    return problems


def signing_window(contract: Contract, today: date) -> rules.SigningWindow | None:
    notice_on = contract.project.award_notice_on
    if contract.parent is not None or notice_on is None:
        return None
    return rules.signing_window(projects.work_calendar(), notice_on, today)


def preview_contract(contract: Contract) -> Preview:
    """The contract as it would print now, missing values marked red (an issued contract: its stored context)."""
    if contract.document_id is not None:
        return preview_template(contract.template_version, contract.document.context)
    return preview_template(contract.template_version, build_context(contract))


def render_contract(contract: Contract, strict: bool) -> pdfs.RenderResult:
    """Render the contract's PDF from its current data (strict: refuse any missing value).

    Raises:
        ContractInvalid: (strict) a required value is missing or the template fails.
    """
    version = contract.template_version
    schema = version_schema(version)
    context = build_context(contract)
    if strict:
        missing = [p for p in missing_values(schema, context)]
        if missing:
            _raise_problems([rules.Problem("placeholder", _("The contract needs “%(what)s” (%(name)s).",
                                                            what=p.description, name=p.name)) for p in missing])
    try:
        body = render_body(version.body, context, schema, strict=strict)
    except RenderError as exc:
        raise ContractInvalid([rules.Problem("template", str(exc))]) from None
    return pdfs.html_to_pdf(page_html(body, contract.title), version.stylesheet, context, contract.title)


# --- signing and after -----------------------------------------------------------------------------

def sign_contract(contract: Contract, signed_on: date, purchaser_signatory: str, supplier_signatory: str,
                  scan: tuple[bytes, str] | None, actor: Actor, today: date, expected_version: int | None = None
                  ) -> IssuedDocument:
    """Sign a draft: its PDF is rendered once, stored with its SHA-256, template version and data; the
    project becomes "contract signed". A signed contract can no longer be edited.

    Raises:
        ContractInvalid: every problem of :func:`contract_problems`, a bad date or signatory, a bad scan.
    """
    _ensure_edit(actor, contract)
    _ensure_state(contract, ContractState.DRAFT)
    _check_version(contract, expected_version)
    problems = []
    for field, value in (("purchaser_signatory", purchaser_signatory), ("supplier_signatory", supplier_signatory)):
        if not (value or "").strip():
            problems.append(rules.Problem(field, _("Who signs for this party?")))
        elif len(value.strip()) > NAME_MAX:
            problems.append(rules.Problem(field, _("At most %(n)s characters.", n=NAME_MAX)))
    if signed_on is None:
        problems.append(rules.Problem("signed_on", _("This field is required.")))
    else:
        notice_on = contract.project.award_notice_on if contract.parent is None else contract.parent.signed_on
        problems += rules.check_signing_date(projects.work_calendar(), notice_on, signed_on, today)
    scan_kind = None
    if scan is not None:
        try:
            scan_kind = files.check_upload(scan[0], "scan")
        except DomainError as exc:
            problems.append(rules.Problem("scan", exc.message))
    _raise_problems(problems)
    _raise_problems(contract_problems(contract))
    if contract.parent is None and contract.project.stage != ProjectStage.AWARDED:
        raise DomainError(_("The project is “%(stage)s”; a contract is signed after the award.",
                            stage=contract.project.stage.label))
    contract.purchaser_signatory = purchaser_signatory.strip()
    contract.supplier_signatory = supplier_signatory.strip()
    contract.signed_on = signed_on
    if scan is not None:
        contract.scan_sha256 = files.store(scan[0])
        contract.scan_name = (scan[1] or "scan")[-128:]
        contract.scan_type = scan_kind
    result = render_contract(contract, strict=True)
    if result.problems:
        raise DomainError(_("The PDF could not be made cleanly: %(problem)s", problem=result.problems[0]))
    document = issue_document("contract", contract.number, contract.title, result, contract.template_version_id,
                              build_context(contract), actor)
    now = utcnow()
    contract.document_id = document.id
    contract.state = ContractState.SIGNED
    contract.signed_at = now
    contract.updated_at = now
    db.session.flush()
    append_audit(actor, "contract.sign", contract, detail={"number": contract.number, "signed_on": signed_on.isoformat(),
                                                           "sha256": document.sha256, "scan": contract.scan_sha256})
    if contract.parent is None:
        projects.record_automatic_stage(contract.project, ProjectStage.CONTRACTED, actor,
                                        _("Contract %(number)s signed", number=contract.number))
    return document


def issue_document(kind: str, reference: str, title: str, result: pdfs.RenderResult, template_version_id: int | None,
                   context: dict, actor: Actor) -> IssuedDocument:
    document = IssuedDocument(kind=kind, reference=reference, title=title[:256], sha256=result.sha256,
                              size=len(result.pdf), pdf=result.pdf, template_version_id=template_version_id,
                              context=context, issued_at=utcnow(), issued_by_id=actor.user_id)
    db.session.add(document)
    db.session.flush()
    append_audit(actor, "document.issue", document, detail={"kind": kind, "reference": reference,
                                                            "sha256": result.sha256})
    return document


def _after_signing(contract: Contract, day: date, today: date, field: str) -> list[rules.Problem]:
    if day is None:
        return [rules.Problem(field, _("This field is required."))]
    if day < contract.signed_on:
        return [rules.Problem(field, _("Not before the contract was signed (%(day)s).", day=contract.signed_on))]
    if day > today:
        return [rules.Problem(field, _("This date cannot be in the future."))]
    return []


def publish_contract(contract: Contract, published_on: date, reference: str, actor: Actor, today: date,
                     expected_version: int | None = None) -> None:
    """Record the contract's publication (合同公告, due within 2 working days of signing)."""
    _ensure_edit(actor, contract)
    _ensure_state(contract, ContractState.SIGNED)
    _check_version(contract, expected_version)
    problems = _after_signing(contract, published_on, today, "published_on")
    if not (reference or "").strip():
        problems.append(rules.Problem("publication_ref", _("Where was it published (the website or the notice "
                                                           "number)?")))
    elif len(reference.strip()) > REF_MAX:
        problems.append(rules.Problem("publication_ref", _("At most %(n)s characters.", n=REF_MAX)))
    _raise_problems(problems)
    contract.published_on, contract.publication_ref = published_on, reference.strip()
    contract.state = ContractState.PUBLISHED
    contract.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "contract.publish", contract, detail={"published_on": published_on.isoformat(),
                                                              "reference": contract.publication_ref})


def file_contract(contract: Contract, filed_on: date, reference: str | None, actor: Actor, today: date,
                  expected_version: int | None = None) -> None:
    """Record the copy filed with the finance bureau (备案, due within 7 working days of signing)."""
    _ensure_edit(actor, contract)
    _ensure_state(contract, ContractState.PUBLISHED)
    _check_version(contract, expected_version)
    problems = _after_signing(contract, filed_on, today, "filed_on")
    if reference and len(reference.strip()) > 128:
        problems.append(rules.Problem("filing_ref", _("At most %(n)s characters.", n=128)))
    _raise_problems(problems)
    contract.filed_on, contract.filing_ref = filed_on, (reference or "").strip() or None
    contract.state = ContractState.FILED
    contract.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "contract.file", contract, detail={"filed_on": filed_on.isoformat(),
                                                           "reference": contract.filing_ref})


def start_service(contract: Contract, started_on: date, actor: Actor, today: date,
                  expected_version: int | None = None) -> None:
    """The service starts: the contract and its project are "in service"."""
    _ensure_edit(actor, contract)
    _ensure_state(contract, ContractState.FILED)
    _check_version(contract, expected_version)
    problems = _after_signing(contract, started_on, today, "started_on")
    _raise_problems(problems)
    contract.service_started_on = started_on
    contract.state = ContractState.IN_SERVICE
    contract.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "contract.start", contract, detail={"started_on": started_on.isoformat()})
    if contract.parent is None and contract.project.stage == ProjectStage.CONTRACTED:
        projects.record_automatic_stage(contract.project, ProjectStage.IN_SERVICE, actor,
                                        _("Contract %(number)s in service", number=contract.number))


def deadline_state(contract: Contract, step: str, today: date):
    """The due day of publication or filing and whether it is met, late, due or overdue."""
    deadline = PERIODS[step].end(projects.work_calendar(), contract.signed_on)
    done = contract.published_on if step == "contract_publication" else contract.filed_on
    if done is not None:
        return deadline, "done" if done <= deadline.day else "done_late"
    return deadline, "due" if today <= deadline.day else "overdue"


def contract_deadline_rows(user, today: date, include_done: bool = False) -> list:
    """Publication and filing deadlines of signed contracts in the user's region (for "my deadlines")."""
    if not user.may(Action.CONTRACT_VIEW):
        return []
    rows = []
    query = contract_query(user).where(Contract.state != ContractState.DRAFT)
    if not include_done:  # publication and filing are both done once a contract is filed
        query = query.where(Contract.state.in_((ContractState.SIGNED, ContractState.PUBLISHED)))
    for contract in db.session.execute(query).scalars():
        for step in ("contract_publication", "contract_filing"):
            deadline, state = deadline_state(contract, step, today)
            if state in ("done", "done_late") and not include_done:
                continue
            done = contract.published_on if step == "contract_publication" else contract.filed_on
            project = contract.project
            rows.append(projects.Deadline(project.id, contract.number, contract.title, contract.purchaser.name, step,
                                          contract.signed_on, deadline.day, deadline.estimated, done, state,
                                          contract.id))
    return rows


# --- supplementary contracts ----------------------------------------------------------------------

def create_supplementary(parent: Contract, change_reason: str, quantities: dict[int, int], actor: Actor,
                         today: date) -> Contract:
    """A draft supplementary contract adding quantities of the original's items at the original's prices.

    Raises:
        ContractInvalid: no reason, no quantity, or more than 10 percent of the original in total.
    """
    _ensure_edit(actor, parent)
    if parent.parent_id is not None or parent.state == ContractState.DRAFT:
        raise DomainError(_("A supplementary contract belongs to a signed original contract."))
    problems = []
    reason = (change_reason or "").strip()
    if not reason:
        problems.append(rules.Problem("change_reason", _("Say why the service is added; it is kept with the contract.")))
    elif len(reason) > TEXT_MAX:
        problems.append(rules.Problem("change_reason", _("At most %(n)s characters.", n=TEXT_MAX)))
    wanted = [(line, quantities.get(line.id) or 0) for line in parent.lines]
    if any(q < 0 or q > projects.MAX_QUANTITY for _line, q in wanted):
        problems.append(rules.Problem("lines", _("A quantity from 1 to %(n)s.", n=projects.MAX_QUANTITY)))
    wanted = [(line, q) for line, q in wanted if q > 0]
    if not wanted:
        problems.append(rules.Problem("lines", _("Add a quantity to at least one item.")))
    _raise_problems(problems)
    added = sum((line.unit_price * q for line, q in wanted), Decimal("0.00"))
    _raise_problems(rules.check_supplementary(parent.amount, _supplemented(parent), added))
    version = published_version(TemplateKind.SUPPLEMENTARY)
    if version is None:
        raise DomainError(_("No supplementary contract template is published; ask the system administrator."))
    contract = Contract(number=_next_number(parent.project), project_id=parent.project_id, parent=parent,
                        template_version_id=version.id, state=ContractState.DRAFT, purchaser_id=parent.purchaser_id,
                        supplier_id=parent.supplier_id, title=f"{parent.title}补充合同"[:128], amount=added,
                        term_start=max(today, parent.term_start), term_end=parent.term_end,
                        service_place=parent.service_place, bond_percent=Decimal("0.00"),
                        payment_days=parent.payment_days, late_interest_per_day=parent.late_interest_per_day,
                        report_frequency=parent.report_frequency, change_reason=reason, created_by_id=actor.user_id)
    if contract.term_start > contract.term_end:
        contract.term_start = contract.term_end
    for position, (line, quantity) in enumerate(wanted):
        contract.lines.append(ContractLine(item_id=line.item_id, quantity=quantity, unit_price=line.unit_price,
                                           amount=line.unit_price * quantity, position=position))
    db.session.add(contract)
    db.session.flush()
    _set_instalments(contract, [(Decimal(100), InstalmentCondition.FINAL_ACCEPTANCE, None)])
    db.session.flush()
    append_audit(actor, "contract.supplement", contract, detail={"parent": parent.number, "amount": str(added)})
    return contract


# --- downloads and proof -----------------------------------------------------------------------------

def contract_pdf(contract: Contract) -> bytes:
    """The issued PDF's stored bytes (a signed contract), or a fresh draft rendering with missing values marked."""
    if contract.document_id is not None:
        return contract.document.pdf
    return render_contract(contract, strict=False).pdf


@dataclass
class Verification:
    sha256: str
    document: IssuedDocument | None  # the issued document these exact bytes are
    claimed_reference: str | None = None  # not issued, but its attached data names this document

    @property
    def genuine(self) -> bool:
        return self.document is not None


def verify_document(data: bytes) -> Verification:
    """Whether ``data`` is, byte for byte, a document this system issued; if not, what it claims to be."""
    sha256 = hashlib.sha256(data).hexdigest()
    document = db.session.execute(select(IssuedDocument).where(IssuedDocument.sha256 == sha256)).scalar()
    if document is not None:
        return Verification(sha256, document)
    claimed = None
    if files.sniff(data) == "application/pdf":
        try:
            context = pdfs.embedded_context(data)
        except Exception:  # pypdf on a damaged upload raises nearly anything; the claim is only a hint
            context = None
        if context and isinstance(context.get("contract_number"), str):
            claimed = context["contract_number"][:64]
    return Verification(sha256, None, claimed)


def log_verification(result: Verification, actor: Actor) -> None:
    append_audit(actor, "document.verify", result.document, detail={
        "sha256": result.sha256, "genuine": result.genuine, "claimed": result.claimed_reference})
