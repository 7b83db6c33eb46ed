"""Procurement-project services: budget lines, projects and their content, the purchase steps, transitions.

Every rule that refuses cites its source; services flush but never commit.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import g
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Action
from procurement.catalog import services as catalog
from procurement.catalog.models import CatalogItem, ListKind, ServiceCategory
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.orgs import services as orgs
from procurement.orgs.models import Organization, OrgKind, Region
from procurement.projects.models import (
    Bid,
    BudgetLine,
    CalendarDay,
    CalendarYear,
    DayOff,
    Invitation,
    PerformanceTarget,
    Project,
    ProjectLine,
    ProjectTransition,
    TargetDirection,
)
from procurement.rules import stages
from procurement.rules.catalog import negative_list_hits
from procurement.rules.clock import utcnow
from procurement.rules.eligibility import Severity
from procurement.rules.procurement import (
    PERIODS,
    RESPONSE_PERIOD,
    Method,
    Purchase,
    SingleSourceGround,
    Thresholds,
    method_option,
    split_check,
)
from procurement.rules.stages import ProjectStage
from procurement.rules.workdays import WorkCalendar
from procurement.settings import get_setting

#: Stages whose projects hold budget (cancelled and failed purchases release it).
ENDED = (ProjectStage.CANCELLED, ProjectStage.FAILED)
EDITABLE = (ProjectStage.DRAFT,)
MAX_QUANTITY = 10_000_000
MAX_TOTAL = Decimal("100000000.00")
CITE_BID_BUDGET = "《政府采购货物和服务招标投标管理办法》（财政部令第87号）第六十三条"
CITE_LATE_BID = "《政府采购法实施条例》第三十三条；财政部令第87号 第三十三条"


# --- context --------------------------------------------------------------------------------

def thresholds() -> Thresholds:
    return Thresholds(get_setting("procurement.decentralized_limit"), get_setting("procurement.open_tender_threshold"))


def work_calendar() -> WorkCalendar:
    """The holiday calendar as entered by the system administrator, cached for the app context."""
    cached = g.get("_work_calendar")
    if cached is None:
        days = db.session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
        years = db.session.execute(select(CalendarYear.year)).scalars().all()
        cached = WorkCalendar.build(holidays=[d for d, k in days if k == DayOff.HOLIDAY],
                                    workdays=[d for d, k in days if k == DayOff.WORKDAY], known_years=years)
        g._work_calendar = cached
    return cached


def forget_calendar() -> None:
    g.pop("_work_calendar", None)


# --- permissions ----------------------------------------------------------------------------

def can_view_project(user, project: Project) -> bool:
    return user.may(Action.PROJECT_VIEW) and orgs.in_user_subtree(user, project.bureau.region)


def can_edit_project(user, project: Project) -> bool:
    """Officers of the purchaser's region (or above) run the purchase until it ends."""
    return (user.may(Action.PROJECT_EDIT) and orgs.in_user_subtree(user, project.bureau.region)
            and not project.stage.is_end)


def can_manage_budget(user, bureau: Organization) -> bool:
    return user.may(Action.BUDGET_EDIT) and orgs.in_user_subtree(user, bureau.region)


def supplier_involved(user, project: Project) -> bool:
    """A supplier user sees a purchase it was invited to or bid in (and only its own bid)."""
    if not user.may(Action.OWN_BIDS_VIEW):
        return False
    org_id = user.organization_id
    return any(i.supplier_id == org_id for i in project.invitations) or any(b.supplier_id == org_id for b in project.bids)


def _ensure(allowed: bool) -> None:
    if not allowed:
        raise AccessDenied(_("You may not change this project."))


def _ensure_stage(project: Project, *allowed: ProjectStage) -> None:
    if project.stage not in allowed:
        raise DomainError(_("This cannot be changed while the project is “%(stage)s”.", stage=project.stage.label))


def _check_version(obj, expected_version: int | None, message: str) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise ConflictError(message)


def project_query(user):
    """Projects the user may see: those of the user's region and below."""
    return select(Project).join(Organization, Project.bureau_id == Organization.id).join(
        Region, Organization.region_id == Region.id).where(Region.path.startswith(user.organization.region.path))


# --- budget lines ---------------------------------------------------------------------------

def committed(line: BudgetLine, exclude: Project | None = None) -> Decimal:
    """What the line's live projects take from it (cancelled and failed purchases release their share)."""
    query = select(func.coalesce(func.sum(Project.total), 0)).where(
        Project.budget_line_id == line.id, Project.stage.not_in(ENDED))
    if exclude is not None and exclude.id is not None:
        query = query.where(Project.id != exclude.id)
    raw = db.session.scalar(query)
    return (Decimal(int(raw)) / 100).quantize(Decimal("0.01"))


def remaining(line: BudgetLine, exclude: Project | None = None) -> Decimal:
    return line.amount - committed(line, exclude)


def budget_lines_for(bureau: Organization, year: int | None = None) -> list[BudgetLine]:
    query = select(BudgetLine).where(BudgetLine.bureau_id == bureau.id)
    if year is not None:
        query = query.where(BudgetLine.fiscal_year == year)
    return db.session.execute(query.order_by(BudgetLine.fiscal_year.desc(), BudgetLine.name)).scalars().all()


BUDGET_FIELDS = ("fiscal_year", "funding_source", "name", "amount", "approval_ref", "approved_on", "note")


def save_budget_line(bureau: Organization, data: dict, actor: Actor, line: BudgetLine | None = None,
                     expected_version: int | None = None) -> BudgetLine:
    """Create or change a budget line.

    Raises:
        ConflictError: someone saved the line since it was loaded.
        DomainError: the name is taken for the year, or the amount is below what projects already commit.
    """
    _ensure(can_manage_budget(actor.user, bureau))
    if line is not None:
        _check_version(line, expected_version, _("Someone else saved this budget line while you were editing it."))
    taken = db.session.execute(select(BudgetLine).where(
        BudgetLine.bureau_id == bureau.id, BudgetLine.fiscal_year == data["fiscal_year"], BudgetLine.name == data["name"],
        BudgetLine.id != (line.id if line is not None else -1))).scalar_one_or_none()
    if taken is not None:
        raise DomainError(_("%(year)s already has a budget line named “%(name)s”.", year=data["fiscal_year"],
                            name=data["name"]), field="name")
    if line is not None:
        used = committed(line)
        if data["amount"] < used:
            raise DomainError(_("Projects already commit %(used)s of this line; the amount cannot be lower.",
                                used=f"¥{used:,.2f}"), field="amount", citation=stages.CITE_BUDGET)
        if data["fiscal_year"] != line.fiscal_year and db.session.scalar(
                select(func.count()).select_from(Project).where(Project.budget_line_id == line.id)):
            raise DomainError(_("The year of a budget line used by projects cannot change."), field="fiscal_year")
    before = None if line is None else {k: str(getattr(line, k)) for k in BUDGET_FIELDS}
    if line is None:
        line = BudgetLine(bureau=bureau, created_by_id=actor.user_id, created_at=utcnow())
        db.session.add(line)
    for key in BUDGET_FIELDS:
        setattr(line, key, data[key])
    line.updated_at = utcnow()
    db.session.flush()
    after = {k: str(getattr(line, k)) for k in BUDGET_FIELDS}
    append_audit(actor, "project.budget_create" if before is None else "project.budget_update", line,
                 detail={k: after[k] for k in BUDGET_FIELDS if before is None or before[k] != after[k]})
    return line


# --- projects -------------------------------------------------------------------------------

PROJECT_FIELDS = ("title", "fiscal_year", "budget_line", "description", "expected_beneficiaries", "service_start",
                  "service_end", "service_place")


def _next_code(bureau: Organization, year: int) -> str:
    prefix = f"{bureau.region.code}-{year}-"
    last = db.session.scalar(select(func.max(Project.code)).where(Project.code.startswith(prefix)))
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:03d}"


def _check_project_data(bureau: Organization, data: dict) -> None:
    line = data.get("budget_line")
    if line is not None:
        if line.bureau_id != bureau.id:
            raise DomainError(_("The budget line belongs to another bureau."), field="budget_line")
        if line.fiscal_year != data["fiscal_year"]:
            raise DomainError(_("The budget line is of %(year)s; the project is of another fiscal year.",
                                year=line.fiscal_year), field="budget_line")
    if data.get("service_start") and data.get("service_end") and data["service_end"] < data["service_start"]:
        raise DomainError(_("The service period must end on or after its start."), field="service_end")


def create_project(data: dict, actor: Actor) -> Project:
    """A new draft project of the actor's bureau.

    Raises:
        DomainError: the actor does not belong to a civil-affairs bureau, or the data is inconsistent.
    """
    bureau = actor.user.organization
    if not actor.user.may(Action.PROJECT_EDIT) or bureau.kind != OrgKind.BUREAU:
        raise AccessDenied(_("Only officers of a civil-affairs bureau create procurement projects."))
    _check_project_data(bureau, data)
    project = Project(bureau=bureau, code=_next_code(bureau, data["fiscal_year"]), stage=ProjectStage.DRAFT,
                      total=Decimal("0.00"), created_by_id=actor.user_id, created_at=utcnow(), stage_changed_at=utcnow())
    _apply_project(project, data)
    db.session.add(project)
    db.session.flush()
    append_audit(actor, "project.create", project, detail={"code": project.code, "title": project.title})
    return project


def _apply_project(project: Project, data: dict) -> None:
    for key in PROJECT_FIELDS:
        setattr(project, key, data[key])
    project.updated_at = utcnow()


def update_project(project: Project, data: dict, actor: Actor, expected_version: int | None = None) -> None:
    """Raises:
        ConflictError: someone saved the project since it was loaded.
        DomainError: the project is past draft, or the data is inconsistent.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    _check_version(project, expected_version, _("Someone else saved this project while you were editing it."))
    _check_project_data(project.bureau, data)
    before = {k: str(getattr(project, k)) for k in PROJECT_FIELDS}
    _apply_project(project, data)
    db.session.flush()
    after = {k: str(getattr(project, k)) for k in PROJECT_FIELDS}
    append_audit(actor, "project.update", project, detail={k: after[k] for k in PROJECT_FIELDS if before[k] != after[k]})


def adopted_items(project: Project) -> list[CatalogItem]:
    """Active items of the bureau's county list for the project's year: what the project may buy."""
    service_list = catalog.local_list(project.bureau.region, project.fiscal_year)
    return catalog.items_of(service_list) if service_list is not None else []


def _recompute_total(project: Project) -> None:
    db.session.flush()
    raw = db.session.scalar(select(func.coalesce(func.sum(ProjectLine.amount), 0)).where(
        ProjectLine.project_id == project.id, ProjectLine.removed.is_(False)))
    project.total = (Decimal(int(raw)) / 100).quantize(Decimal("0.01"))
    project.updated_at = utcnow()
    db.session.flush()
    db.session.expire(project, ["lines"])


def add_line(project: Project, item: CatalogItem, quantity: int, unit_price: Decimal, actor: Actor) -> ProjectLine:
    """Add a catalog item × quantity × unit price.

    Raises:
        DomainError: the item is not on the county's adopted list, is on the negative list, or the
            quantity or total is out of bounds.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    service_list = item.service_list
    if (service_list.kind != ListKind.LOCAL or service_list.region_id != project.bureau.region_id
            or service_list.year != project.fiscal_year or not item.active):
        raise DomainError(_("Only active items of the county's %(year)s service list can be purchased.",
                            year=project.fiscal_year), field="item", citation=stages.CITE_CATALOG)
    hits = negative_list_hits([item.name, item.content], catalog.negative_rules())
    if hits:
        raise DomainError(_("“%(keyword)s” is on the negative list (%(entry)s) and may not be purchased: %(clause)s.",
                            keyword=hits[0].keyword, entry=hits[0].rule.name, clause=hits[0].rule.clause),
                          field="item", citation=hits[0].rule.clause)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(_("The quantity must be between 1 and %(max)s.", max=f"{MAX_QUANTITY:,}"), field="quantity")
    if not Decimal("0.01") <= unit_price <= Decimal("1000000.00"):
        raise DomainError(_("The price must be more than 0 and at most 1,000,000.00 yuan."), field="unit_price")
    amount = (unit_price * quantity).quantize(Decimal("0.01"))
    if project.total + amount > MAX_TOTAL:
        raise DomainError(_("The project total would exceed %(max)s; split the need into separate budget decisions.",
                            max=f"¥{MAX_TOTAL:,.2f}"), field="quantity")
    position = db.session.scalar(select(func.coalesce(func.max(ProjectLine.position), 0)).where(
        ProjectLine.project_id == project.id)) + 1
    line = ProjectLine(project=project, item=item, quantity=quantity, unit_price=unit_price, amount=amount,
                       position=position, removed=False)
    db.session.add(line)
    _recompute_total(project)
    append_audit(actor, "project.line_add", project, detail={"item": item.code, "quantity": quantity,
                                                              "unit_price": str(unit_price), "amount": str(amount)})
    return line


def remove_line(line: ProjectLine, actor: Actor) -> None:
    """Take a line out of a draft (kept on record, no longer counted)."""
    project = line.project
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    if line.removed:
        return
    line.removed = True
    _recompute_total(project)
    append_audit(actor, "project.line_remove", project, detail={"item": line.item.code, "amount": str(line.amount)})


def add_target(project: Project, indicator: str, direction: TargetDirection, value: Decimal, unit: str,
               actor: Actor) -> PerformanceTarget:
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    position = db.session.scalar(select(func.coalesce(func.max(PerformanceTarget.position), 0)).where(
        PerformanceTarget.project_id == project.id)) + 1
    target = PerformanceTarget(project_id=project.id, indicator=indicator, direction=direction, target_value=value,
                               unit=unit, position=position, removed=False)
    db.session.add(target)
    db.session.flush()
    db.session.expire(project, ["targets"])
    append_audit(actor, "project.target_add", project, detail={"indicator": indicator, "direction": direction.value,
                                                                "value": str(value), "unit": unit})
    return target


def remove_target(target: PerformanceTarget, actor: Actor) -> None:
    project = db.session.get(Project, target.project_id)
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    target.removed = True
    db.session.flush()
    db.session.expire(project, ["targets"])
    append_audit(actor, "project.target_remove", project, detail={"indicator": target.indicator})


# --- method ---------------------------------------------------------------------------------

def set_method(project: Project, data: dict, actor: Actor) -> None:
    """Choose the procurement method, with the approval or single-source ground it needs.

    Raises:
        DomainError: the amount does not allow the method, or a required approval or ground is missing.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    method: Method = data["method"]
    option = method_option(project.total, thresholds(), method)
    if not option.allowed:
        raise DomainError(option.reason, field="method", citation=option.citation)
    today = data["today"]
    if option.needs_approval:
        missing = [f for f in ("method_approval_by", "method_approval_ref", "method_approval_on") if not data.get(f)]
        if missing:
            raise DomainError(_("Above the open-tender threshold this method needs the finance department's approval: "
                                "record who approved, the document number and the date."), field=missing[0],
                              citation=option.citation)
        if data["method_approval_on"] > today:
            raise DomainError(_("The approval date cannot be in the future."), field="method_approval_on")
    if method == Method.SINGLE_SOURCE:
        if not data.get("single_source_ground"):
            raise DomainError(_("Single source needs one of its statutory grounds."), field="single_source_ground",
                              citation=option.citation)
        if not (data.get("single_source_reason") or "").strip():
            raise DomainError(_("Explain why the ground applies."), field="single_source_reason")
    project.method = method
    keep_approval = option.needs_approval
    project.method_approval_by = data.get("method_approval_by") if keep_approval else None
    project.method_approval_ref = data.get("method_approval_ref") if keep_approval else None
    project.method_approval_on = data.get("method_approval_on") if keep_approval else None
    single = method == Method.SINGLE_SOURCE
    project.single_source_ground = SingleSourceGround(data["single_source_ground"]) if single else None
    project.single_source_reason = data.get("single_source_reason") if single else None
    project.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "project.method", project, detail={
        "method": method.value, "total": str(project.total), "approval_ref": project.method_approval_ref,
        "single_source_ground": project.single_source_ground.value if project.single_source_ground else None})


def record_split_approval(project: Project, ref: str, on: date, note: str, actor: Actor, today: date) -> None:
    """A budget adjustment or approval that allows purchases of one category to add up past the threshold."""
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    if on > today:
        raise DomainError(_("The approval date cannot be in the future."), field="split_approval_on")
    project.split_approval_ref, project.split_approval_on, project.split_approval_note = ref, on, note
    db.session.flush()
    append_audit(actor, "project.split_approval", project, detail={"ref": ref, "on": on.isoformat()})


def category_amounts(project: Project) -> dict[ServiceCategory, Decimal]:
    amounts: dict = {}
    for line in project.lines:
        amounts[line.item.category] = amounts.get(line.item.category, Decimal("0.00")) + line.amount
    return amounts


def split_results(project: Project):
    """For each category of the project, the other non-open purchases of the same year and budget line."""
    if project.budget_line_id is None or project.method == Method.OPEN_TENDER:
        return ()
    others = db.session.execute(
        select(Project).where(Project.budget_line_id == project.budget_line_id, Project.fiscal_year == project.fiscal_year,
                              Project.id != project.id, Project.stage.not_in(ENDED),
                              (Project.method.is_(None)) | (Project.method != Method.OPEN_TENDER))
        .options(selectinload(Project.lines))
    ).scalars().all()
    threshold = thresholds().open_tender_threshold
    results = []
    for category, amount in category_amounts(project).items():
        purchases = []
        for other in others:
            share = sum((line.amount for line in other.lines if line.item.category_id == category.id), Decimal("0.00"))
            if share > 0:
                purchases.append(Purchase(other.code, other.title, share))
        results.append(split_check(category.name, amount, purchases, threshold, bool(project.split_approval_ref)))
    return tuple(results)


# --- the purchase ---------------------------------------------------------------------------

def record_announcement(project: Project, issued_on: date, deadline: date | None, ref: str | None, actor: Actor) -> None:
    """The date the documents were issued and the response deadline, checked against the minimum period.

    Raises:
        DomainError: the deadline is before the issue date or earlier than the statutory minimum.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.APPROVED)
    key = RESPONSE_PERIOD.get(project.method)
    if key is not None and deadline is None:
        raise DomainError(_("Enter the response deadline."), field="response_deadline")
    if deadline is not None and deadline < issued_on:
        raise DomainError(_("The deadline cannot be before the documents are issued."), field="response_deadline")
    if key is not None:
        period = PERIODS[key]
        earliest = period.end(work_calendar(), issued_on)
        if deadline < earliest.day:
            raise DomainError(_("%(period)s: at least %(days)s %(kind)s days; the deadline can be %(day)s at the earliest.",
                                period=period.label, days=period.days,
                                kind=_("working") if period.kind.value == "working" else _("calendar"),
                                day=earliest.day.isoformat()), field="response_deadline", citation=period.citation)
    project.documents_issued_on, project.response_deadline, project.announcement_ref = issued_on, deadline, ref
    db.session.flush()
    append_audit(actor, "project.announcement", project, detail={
        "issued_on": issued_on.isoformat(), "deadline": deadline.isoformat() if deadline else None, "ref": ref})


def record_notice(project: Project, start: date, end: date, actor: Actor) -> None:
    """The single-source public notice (at least 5 working days above the open-tender threshold)."""
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.DRAFT, ProjectStage.APPROVED)
    if project.method != Method.SINGLE_SOURCE:
        raise DomainError(_("A public notice is recorded for single-source purchases."))
    if end < start:
        raise DomainError(_("The notice must end on or after its start."), field="notice_end")
    period = PERIODS["single_source_notice"]
    earliest = period.end(work_calendar(), start)
    if project.total >= thresholds().open_tender_threshold and end < earliest.day:
        raise DomainError(_("The notice must run at least 5 working days: until %(day)s at the earliest.",
                            day=earliest.day.isoformat()), field="notice_end", citation=period.citation)
    project.notice_start, project.notice_end = start, end
    db.session.flush()
    append_audit(actor, "project.notice", project, detail={"start": start.isoformat(), "end": end.isoformat()})


def _supplier_refusals(supplier: Organization, on: date) -> list[str]:
    return [p.message for p in orgs.supplier_eligibility(supplier, on) if p.severity == Severity.REFUSAL]


def invite_supplier(project: Project, supplier: Organization, invited_on: date, actor: Actor) -> Invitation:
    """Raises:
        DomainError: the supplier is not eligible, or already invited.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.APPROVED, ProjectStage.ANNOUNCED)
    if supplier.kind != OrgKind.SUPPLIER:
        raise DomainError(_("Choose a registered supplier."), field="supplier")
    refusals = _supplier_refusals(supplier, invited_on)
    if refusals:
        raise DomainError(_("%(name)s cannot be invited: %(why)s", name=supplier.name, why="；".join(refusals)),
                          field="supplier", citation=stages.CITE_AWARD)
    if any(i.supplier_id == supplier.id for i in project.invitations):
        raise DomainError(_("%(name)s is already invited.", name=supplier.name), field="supplier")
    invitation = Invitation(project=project, supplier=supplier, invited_on=invited_on)
    db.session.add(invitation)
    db.session.flush()
    append_audit(actor, "project.invite", project, detail={"supplier": supplier.id, "name": supplier.name,
                                                            "on": invited_on.isoformat()})
    return invitation


def record_bid(project: Project, data: dict, actor: Actor) -> Bid:
    """A bid or response received before the deadline, from an eligible supplier.

    Raises:
        DomainError: late, before the documents were issued, above the budget, from an ineligible or
            uninvited supplier, or recorded twice.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.ANNOUNCED)
    supplier: Organization = data["supplier"]
    submitted_on: date = data["submitted_on"]
    if supplier.kind != OrgKind.SUPPLIER:
        raise DomainError(_("Choose a registered supplier."), field="supplier")
    if any(b.supplier_id == supplier.id for b in project.bids):
        raise DomainError(_("A bid of %(name)s is already recorded.", name=supplier.name), field="supplier")
    if project.method == Method.INVITED_TENDER and not any(i.supplier_id == supplier.id for i in project.invitations):
        raise DomainError(_("%(name)s was not invited to this invited tender.", name=supplier.name), field="supplier",
                          citation="《政府采购法》第三十四条")
    refusals = _supplier_refusals(supplier, submitted_on)
    if refusals:
        raise DomainError(_("The bid of %(name)s cannot be accepted: %(why)s", name=supplier.name, why="；".join(refusals)),
                          field="supplier", citation=stages.CITE_AWARD)
    if project.documents_issued_on and submitted_on < project.documents_issued_on:
        raise DomainError(_("A bid cannot be submitted before the documents were issued (%(day)s).",
                            day=project.documents_issued_on.isoformat()), field="submitted_on")
    if project.response_deadline and submitted_on > project.response_deadline:
        raise DomainError(_("Submitted after the deadline of %(day)s: a late bid is refused.",
                            day=project.response_deadline.isoformat()), field="submitted_on", citation=CITE_LATE_BID)
    if data["price"] > project.total:
        raise DomainError(_("The price exceeds the project's budget of %(total)s: such a bid is invalid.",
                            total=f"¥{project.total:,.2f}"), field="price", citation=CITE_BID_BUDGET)
    bid = Bid(project=project, supplier=supplier, submitted_on=submitted_on, price=data["price"],
              technical_score=data.get("technical_score"), price_score=data.get("price_score"),
              total_score=data.get("total_score"), note=data.get("note"))
    db.session.add(bid)
    db.session.flush()
    append_audit(actor, "project.bid", project, detail={"supplier": supplier.id, "name": supplier.name,
                                                         "price": str(bid.price), "total_score": str(bid.total_score)})
    return bid


def score_bid(bid: Bid, data: dict, actor: Actor) -> None:
    """The evaluation committee's scores of one bid."""
    project = bid.project
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.ANNOUNCED, ProjectStage.EVALUATED)
    bid.technical_score, bid.price_score, bid.total_score = data["technical_score"], data["price_score"], data["total_score"]
    db.session.flush()
    append_audit(actor, "project.bid_score", project, detail={"supplier": bid.supplier_id, "total_score": str(bid.total_score)})


def record_evaluation(project: Project, evaluated_on: date, result: str, actor: Actor) -> None:
    """Raises:
        DomainError: the evaluation date is before the response deadline.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.ANNOUNCED)
    if project.response_deadline and evaluated_on < project.response_deadline:
        raise DomainError(_("The evaluation cannot take place before the response deadline of %(day)s.",
                            day=project.response_deadline.isoformat()), field="evaluated_on")
    project.evaluated_on, project.evaluation_result = evaluated_on, result
    db.session.flush()
    append_audit(actor, "project.evaluation", project, detail={"on": evaluated_on.isoformat()})


def record_award(project: Project, supplier: Organization, decided_on: date, notice_on: date, actor: Actor) -> None:
    """Raises:
        DomainError: the supplier did not bid, or the dates are out of order.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.EVALUATED)
    if not any(b.supplier_id == supplier.id for b in project.bids):
        raise DomainError(_("The award goes to one of the bidders."), field="supplier")
    if project.evaluated_on and decided_on < project.evaluated_on:
        raise DomainError(_("The award cannot be decided before the evaluation of %(day)s.",
                            day=project.evaluated_on.isoformat()), field="award_decided_on")
    if notice_on < decided_on:
        raise DomainError(_("The award notice cannot come before the decision."), field="award_notice_on")
    project.award_supplier_id, project.award_decided_on, project.award_notice_on = supplier.id, decided_on, notice_on
    db.session.flush()
    db.session.expire(project, ["award_supplier"])
    append_audit(actor, "project.award", project, detail={"supplier": supplier.id, "name": supplier.name,
                                                           "decided_on": decided_on.isoformat(),
                                                           "notice_on": notice_on.isoformat()})


# --- facts and transitions ------------------------------------------------------------------

def project_facts(project: Project, today: date) -> stages.ProjectFacts:
    """Everything the stage guards look at, read from the database."""
    calendar = work_calendar()
    on_list = {item.id for item in adopted_items(project)}
    rules = catalog.negative_rules()
    negative = []
    for line in project.lines:
        for hit in negative_list_hits([line.item.name, line.item.content], rules):
            negative.append(stages.NegativeFinding(line.item.code, hit.rule.name, hit.rule.clause))
    for hit in negative_list_hits([project.title, project.description or ""], rules):
        negative.append(stages.NegativeFinding("description", hit.rule.name, hit.rule.clause))
    bids = tuple(stages.BidFacts(b.supplier.name, b.supplier.legal_representative) for b in project.bids)
    award_problems, award_warnings = (), ()
    if project.award_supplier_id is not None:
        problems = orgs.supplier_eligibility(project.award_supplier, project.award_decided_on or today)
        award_problems = tuple(p.message for p in problems if p.severity == Severity.REFUSAL)
        award_warnings = tuple(p.message for p in problems if p.severity != Severity.REFUSAL)
    line = project.budget_line
    return stages.ProjectFacts(
        stage=project.stage, today=today, calendar=calendar, thresholds=thresholds(), total=project.total,
        lines=len(project.lines), budget_line=line is not None,
        budget_remaining=remaining(line, exclude=project) if line is not None else None,
        items_off_list=tuple(ln.item.code for ln in project.lines if ln.item_id not in on_list),
        negative=tuple(negative), targets=len(project.targets), expected_beneficiaries=project.expected_beneficiaries,
        service_start=project.service_start, service_end=project.service_end, service_place=project.service_place,
        method=project.method, method_approval=bool(project.method_approval_ref and project.method_approval_on),
        single_source_ground=project.single_source_ground.value if project.single_source_ground else None,
        notice_start=project.notice_start, notice_end=project.notice_end, splits=split_results(project),
        documents_issued_on=project.documents_issued_on, response_deadline=project.response_deadline,
        invitations=len(project.invitations), bids=bids, evaluated_on=project.evaluated_on,
        evaluation_result=project.evaluation_result,
        award_supplier=project.award_supplier.name if project.award_supplier_id else None,
        award_decided_on=project.award_decided_on, award_notice_on=project.award_notice_on,
        award_problems=award_problems, award_warnings=award_warnings,
    )


@dataclass
class TransitionOption:
    transition: stages.Transition
    checks: list[stages.Check]

    @property
    def ready(self) -> bool:
        return not stages.unmet(self.checks)


def readiness(project: Project, today: date) -> list[TransitionOption]:
    """Each transition open from the current stage with its checklist (for the project page)."""
    facts = project_facts(project, today)
    return [TransitionOption(t, stages.checklist(facts, t.target)) for t in stages.next_transitions(project.stage)]


class TransitionRefused(DomainError):
    def __init__(self, message: str, checks=()):
        super().__init__(message)
        self.checks = list(checks)


def change_stage(project: Project, target: ProjectStage, actor: Actor, today: date, reason: str | None = None,
                 expected_version: int | None = None) -> ProjectTransition:
    """Move the project to ``target`` if every precondition holds; record and audit the transition.

    Raises:
        TransitionRefused: with every unmet precondition and its citation.
        ConflictError: someone changed the project since it was loaded.
    """
    _ensure(can_edit_project(actor.user, project))
    _check_version(project, expected_version, _("Someone else changed this project; look at it again before you go on."))
    if target == ProjectStage.APPROVED and project.budget_line_id is not None:
        # Hold the budget line while its remaining amount is checked, so two projects cannot both take the last yuan.
        db.session.execute(select(BudgetLine).where(BudgetLine.id == project.budget_line_id).with_for_update()).first()
    facts = project_facts(project, today)
    refusal = stages.can_transition(facts, target, actor.user.role, reason)
    if refusal.not_allowed:
        raise TransitionRefused(_("A project cannot go from “%(a)s” to “%(b)s”.", a=project.stage.label, b=target.label))
    if refusal.role:
        raise AccessDenied(_("You may not change this project."))
    if refusal.reason_missing:
        raise DomainError(_("Give the reason; it is kept with the project's record."), field="reason",
                          citation=stages.CITE_REASON)
    if refusal.checks:
        raise TransitionRefused(_("Not yet: %(n)s preconditions are not met.", n=len(refusal.checks)), refusal.checks)
    source = project.stage
    now = utcnow()
    project.stage = target
    project.stage_changed_at = now
    if target in ENDED:
        project.stage_reason = reason.strip()
    record = ProjectTransition(project_id=project.id, from_stage=source, to_stage=target, at=now,
                               actor_id=actor.user_id, reason=(reason or "").strip() or None)
    db.session.add(record)
    db.session.flush()
    append_audit(actor, "project.stage", project, detail={"from": source.value, "to": target.value,
                                                           "reason": record.reason})
    return record



# --- deadlines ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeadlineRow:
    project_id: int
    code: str
    title: str
    bureau: str
    step: str
    citation: str
    start: date
    due: date
    estimated: bool
    done_on: date | None
    state: str  # done / done_late / due / overdue


#: Stages in which each maximum period is open (the step is not done yet) or done.
OPEN_STEPS = {
    "award_notice": (ProjectStage.EVALUATED,),
    "contract_signing": (ProjectStage.AWARDED,),
    "challenge": (ProjectStage.AWARDED,),
}


def deadline_rows(user, today: date, include_done: bool = False) -> list[DeadlineRow]:
    """Statutory deadlines of the projects in the user's region: what is due, overdue (and done)."""
    from procurement.rules.procurement import due_state

    calendar = work_calendar()
    query = (project_query(user).where(Project.stage.in_((ProjectStage.ANNOUNCED, ProjectStage.EVALUATED,
                                                           ProjectStage.AWARDED)))
             .with_only_columns(Project.id, Project.code, Project.title, Organization.name, Project.stage,
                                Project.response_deadline, Project.award_decided_on, Project.award_notice_on))
    rows = []
    for pid, code, title, bureau, stage, response_deadline, decided_on, notice_on in db.session.execute(query):
        items = []
        if stage == ProjectStage.EVALUATED and decided_on is not None:
            items.append(due_state(PERIODS["award_notice"], calendar, decided_on, None, today))
        if notice_on is not None:
            if decided_on is not None and include_done:
                items.append(due_state(PERIODS["award_notice"], calendar, decided_on, notice_on, today))
            if stage == ProjectStage.AWARDED:
                items.append(due_state(PERIODS["contract_signing"], calendar, notice_on, None, today))
                challenge = due_state(PERIODS["challenge"], calendar, notice_on, None, today)
                if challenge.state.value == "due":  # the window is open: suppliers may still challenge
                    items.append(challenge)
        if stage == ProjectStage.ANNOUNCED and response_deadline is not None and today <= response_deadline:
            # Not a statutory limit, but the day bids are opened: officers plan for it.
            rows.append(DeadlineRow(pid, code, title, bureau, _("Responses close; evaluation follows"),
                                    "《政府采购法》第四十二条", response_deadline, response_deadline,
                                    not calendar.knows(response_deadline), None, "due"))
        for item in items:
            if item.state.value in ("done", "done_late") and not include_done:
                continue
            rows.append(DeadlineRow(pid, code, title, bureau, item.period.label, item.period.citation, item.start,
                                    item.due.day, item.due.estimated, item.done_on, item.state.value))
    rows.sort(key=lambda r: (r.state not in ("overdue",), r.due, r.code))
    return rows
