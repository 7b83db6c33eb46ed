"""The evaluation sheet's PDF (绩效评价表, DOMAIN §6): its data, its rendering, its issue as a verifiable document.

:func:`sheet_context` gathers plain values (strings, numbers as strings, lists, dicts) from a finalized sheet;
:func:`render_sheet` lays them out with our own Jinja template and print stylesheet through
:func:`contracts.pdf.html_to_pdf` (same fonts, PDF/A-3b with the data attached, A4, page numbers "— N —");
:func:`issue_sheet_document` stores the PDF as an :class:`contracts.models.IssuedDocument` of kind
``evaluation`` so it verifies on the contracts' verify page.
"""

from decimal import Decimal
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select

from contracts import pdf as pdfs
from contracts.models import InstalmentCondition, IssuedDocument
from evaluation import payment as payments
from evaluation.models import ComputedScore, Indicator, PaymentTerms, Sheet, SheetState, Stage
from procurement.audit.services import Actor, append_audit
from procurement.errors import DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.rules.clock import beijing_date
from procurement.rules.money import to_capital

TEMPLATES = Path(__file__).resolve().parent / "pdf_template"
DOCUMENT_KIND = "evaluation"
KIND_CODES = {"self": "ZP", "purchaser": "CG", "third_party": "DS"}
STAGE_CODES = {"mid_term": "ZQ", "final": "ZZ"}
#: The instalments an evaluation of each stage conditions.
STAGE_CONDITIONS = {Stage.MID_TERM: InstalmentCondition.MID_TERM_EVALUATION,
                    Stage.FINAL: InstalmentCondition.FINAL_ACCEPTANCE}
GRADE_WORDS = {"优": "优秀", "良": "良好", "中": "中等", "差": "差"}


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


@cache
def stylesheet() -> str:
    return (TEMPLATES / "sheet.css").read_text(encoding="utf-8")


def _points(value: Decimal | None) -> str:
    return "" if value is None else f"{Decimal(value):.2f}"


def _money(value: Decimal) -> str:
    return f"{Decimal(value):,.2f}"


def _date(value) -> str:
    return "" if value is None else f"{value.year}年{value.month}月{value.day}日"


def reference_of(sheet: Sheet) -> str:
    """``PJ-<contract number>-<stage>-<kind>-<number>``, e.g. ``PJ-HT2026-001-ZQ-CG-1``."""
    return (f"PJ-{sheet.contract.number}-{STAGE_CODES[sheet.stage.value]}-{KIND_CODES[sheet.kind.value]}"
            f"-{sheet.number}")[:64]


def title_of(sheet: Sheet) -> str:
    """The issued document's title (Chinese, as printed): the contract, the stage, who evaluated, the version."""
    return f"绩效评价表：{sheet.contract.title}（{sheet.stage.label}·{sheet.kind.label}·第{sheet.number}版）"


def _inputs_text(inputs: dict | None) -> str:
    if not inputs:
        return ""
    parts = []
    numerator, denominator = inputs.get("numerator"), inputs.get("denominator")
    if numerator is not None and denominator is not None:
        parts.append(f"{numerator} / {denominator}")
    if inputs.get("rate") is not None:
        parts.append(f"比率 {inputs['rate']}%")
    if inputs.get("note"):
        parts.append(str(inputs["note"]))
    if not parts:
        parts = [f"{key}: {value}" for key, value in sorted(inputs.items()) if not isinstance(value, (dict, list))]
    return "；".join(parts)


def payment_bands(contract_id: int) -> dict:
    terms = db.session.execute(select(PaymentTerms).where(PaymentTerms.contract_id == contract_id)).scalar()
    if terms is not None and not payments.validate_payment_bands(terms.bands):
        return dict(terms.bands)
    return dict(payments.DEFAULT_PAYMENT_BANDS)


def sheet_context(sheet: Sheet) -> dict:
    """Everything the sheet's PDF shows, as plain JSON values (attached to the PDF and stored with it)."""
    contract = sheet.contract
    scheme = sheet.scheme
    indicators = db.session.execute(select(Indicator).where(Indicator.scheme_id == scheme.id)
                                    .order_by(Indicator.position)).scalars().all()
    parents = {i.parent_id for i in indicators if i.parent_id is not None}
    evaluators = list(sheet.evaluators)
    names = [e.user.display_name for e in evaluators]
    by_evaluator = [{s.indicator_id: s for s in e.scores} for e in evaluators]
    computed = {c.indicator_id: c for c in db.session.execute(
        select(ComputedScore).where(ComputedScore.sheet_id == sheet.id)).scalars()}
    results = {r.indicator_id: r.points for r in sheet.results}
    rows = []
    for indicator in indicators:
        leaf = indicator.id not in parents
        row = {"code": indicator.code, "name": indicator.name, "level": indicator.level,
               "max_points": _points(indicator.max_points), "leaf": leaf,
               "rule": indicator.rule.value if indicator.rule is not None else None,
               "rule_label": indicator.rule.label if (leaf and indicator.rule is not None) else "",
               "evaluator_points": [], "points": "", "inputs": "", "computed_points": "",
               "override_points": "", "override_reason": "", "comments": []}
        if leaf:
            row["points"] = _points(results.get(indicator.id))
            if indicator.rule is not None and indicator.rule.computed:
                found = computed.get(indicator.id)
                if found is not None:
                    row["inputs"] = _inputs_text(found.inputs)
                    row["computed_points"] = _points(found.points)
                    if found.override_points is not None:
                        row["override_points"] = _points(found.override_points)
                        row["override_reason"] = found.override_reason or ""
            else:
                for name, scores in zip(names, by_evaluator, strict=True):
                    score = scores.get(indicator.id)
                    row["evaluator_points"].append(_points(score.points) if score is not None else "")
                    if score is not None and score.comment:
                        row["comments"].append(f"{name}：{score.comment}")
        rows.append(row)
    bands = payment_bands(contract.id)
    condition = STAGE_CONDITIONS.get(sheet.stage)
    instalments = []
    for instalment in contract.instalments:
        if instalment.condition != condition:
            continue
        paid, withheld = payments.payable(instalment.amount, sheet.grade, sheet.total, bands)
        instalments.append({
            "position": instalment.position, "percent": _points(instalment.percent),
            "condition": instalment.condition.label, "amount": _money(instalment.amount),
            "amount_capital": to_capital(instalment.amount),
            "payable": _money(paid), "payable_capital": to_capital(paid),
            "withheld": _money(withheld), "withheld_capital": to_capital(withheld),
        })
    effect = payments.effect_of(sheet.grade, bands) if sheet.grade else None
    finalized_on = beijing_date(sheet.finalized_at) if sheet.finalized_at else None
    return {
        "document": "evaluation_sheet",
        "reference": reference_of(sheet),
        "sheet_id": sheet.id,
        "sheet_number": sheet.number,
        "state": sheet.state.value,
        "correction_reason": sheet.correction_reason or "",
        "contract_number": contract.number,
        "contract_title": contract.title,
        "contract_amount": _money(contract.amount),
        "contract_amount_capital": to_capital(contract.amount),
        "term": f"{_date(contract.term_start)} — {_date(contract.term_end)}",
        "purchaser": {"name": contract.purchaser.name, "credit_code": contract.purchaser.credit_code or ""},
        "supplier": {"name": contract.supplier.name, "credit_code": contract.supplier.credit_code or ""},
        "stage": sheet.stage.value, "stage_label": sheet.stage.label,
        "kind": sheet.kind.value, "kind_label": sheet.kind.label,
        "agency": sheet.agency or "",
        "period_start": sheet.period_start.isoformat(), "period_end": sheet.period_end.isoformat(),
        "period": f"{_date(sheet.period_start)} — {_date(sheet.period_end)}",
        "scheme": {"code": scheme.code, "name": scheme.name, "version": scheme.number},
        "evaluator_names": names,
        "indicators": rows,
        "evaluators": [{"name": e.user.display_name, "total": _points(e.total),
                        "declared_at": _date(beijing_date(e.declared_at)) if e.declared_at else "",
                        "declaration": e.declaration or ""} for e in evaluators],
        "total": _points(sheet.total),
        "grade": sheet.grade or "",
        "grade_word": GRADE_WORDS.get(sheet.grade or "", ""),
        "payment_bands": [{"grade": g, "effect": bands[g], "label": _(payments.EFFECT_LABELS[bands[g]])}
                          for g in ("优", "良", "中", "差") if g in bands],
        "payment_effect": _(payments.EFFECT_LABELS[effect]) if effect else "",
        "instalments": instalments,
        "finalized_on": finalized_on.isoformat() if finalized_on else "",
        "finalized_date": _date(finalized_on),
    }


def sheet_html(context: dict) -> str:
    return _environment().get_template("sheet.html").render(c=context, _=_)


def render_context(context: dict) -> pdfs.RenderResult:
    return pdfs.html_to_pdf(sheet_html(context), stylesheet(), context, context["reference"])


def render_sheet(sheet: Sheet) -> pdfs.RenderResult:
    """The sheet's PDF rendered anew from its current rows (the issued one is ``sheet.document``)."""
    return render_context(sheet_context(sheet))


def issue_sheet_document(sheet: Sheet, actor: Actor) -> IssuedDocument:
    """Render a finalized sheet's PDF once, store it with its SHA-256 and data, link it to the sheet.

    Raises:
        DomainError: the sheet is not finalized, or the PDF could not be made cleanly.
    """
    from contracts.services import issue_document

    if sheet.state != SheetState.FINALIZED or sheet.total is None or sheet.grade is None:
        raise DomainError(_("Only a finalized sheet has a PDF."))
    context = sheet_context(sheet)
    result = render_context(context)
    if result.problems:
        raise DomainError(_("The PDF could not be made cleanly: %(problem)s", problem=result.problems[0]))
    document = issue_document(DOCUMENT_KIND, context["reference"], title_of(sheet), result, None, context, actor)
    sheet.document_id = document.id
    db.session.flush()
    append_audit(actor, "sheet.issue_pdf", sheet, detail={"reference": document.reference,
                                                          "sha256": document.sha256})
    return document


def sheet_pdf(sheet: Sheet) -> bytes:
    """The issued PDF's stored bytes, or (not finalized yet / none issued) a fresh rendering."""
    if sheet.document_id is not None:
        document = db.session.get(IssuedDocument, sheet.document_id)
        if document is not None:
            return document.pdf
    return render_sheet(sheet).pdf
