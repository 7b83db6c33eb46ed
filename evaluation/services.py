"""Evaluation sheets (DOMAIN §6): open, assign evaluators, declare, score, compute, finalize, correct.

Independence: an evaluator sees only their own scores until they have submitted; officers see who declared
and submitted but no points until every evaluator has submitted. Computed leaves come from the records the
app holds (accepted service reports, assignments, follow-up calls, rectification notices) and keep their
inputs; a leaf that cannot be computed earns 0 and blocks finalizing until an officer overrides it.

Timeliness: a report counts as on time when it was first submitted within :data:`REPORT_DUE_DAYS` days
(Beijing dates) after its period ended. No setting exists for it yet.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation, localcontext

from sqlalchemy import func, or_, select

from evaluation import scoring
from evaluation.models import (
    ComputedScore,
    Indicator,
    Rule,
    Scheme,
    SchemeState,
    Score,
    Sheet,
    SheetEvaluator,
    SheetKind,
    SheetResult,
    SheetState,
    Stage,
)
from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Action, Role
from procurement.errors import AccessDenied, DomainError, InvalidInput
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.orgs import services as orgs
from procurement.rules.clock import beijing_date, beijing_today, utcnow

#: Days after a reporting period's end within which its report must first be submitted (timeliness).
REPORT_DUE_DAYS = 10
RUNNING = ("signed", "published", "filed", "in_service")
REASON_MAX, COMMENT_MAX, AGENCY_MAX = 2000, 2000, 128
CENT = Decimal("0.01")


class SheetInvalid(InvalidInput):
    """Every problem at once, each with its field."""


def _raise(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise SheetInvalid(problems)


# --- who may do what ----------------------------------------------------------------------------------

def can_manage_contract(user, contract) -> bool:
    return user.may(Action.EVALUATION_MANAGE) and orgs.in_user_subtree(user, contract.purchaser.region)


def can_manage(user, sheet: Sheet) -> bool:
    return can_manage_contract(user, sheet.contract)


def evaluator_of(user, sheet: Sheet) -> SheetEvaluator | None:
    return next((e for e in sheet.evaluators if e.user_id == user.id), None)


def can_view_sheet(user, sheet: Sheet) -> bool:
    contract = sheet.contract
    if user.may(Action.EVALUATION_VIEW) and orgs.in_user_subtree(user, contract.purchaser.region):
        return True
    if user.may(Action.SHEET_SCORE) and evaluator_of(user, sheet) is not None:
        return True
    if user.may(Action.OWN_CONTRACTS_VIEW) and contract.supplier_id == user.organization_id:
        return sheet.kind == SheetKind.SELF or sheet.state in (SheetState.FINALIZED, SheetState.SUPERSEDED)
    return False


def can_score(user, sheet: Sheet) -> bool:
    return (user.may(Action.SHEET_SCORE) and sheet.state == SheetState.SCORING
            and evaluator_of(user, sheet) is not None)


def _ensure_manage(actor: Actor, sheet_or_contract) -> None:
    contract = sheet_or_contract.contract if isinstance(sheet_or_contract, Sheet) else sheet_or_contract
    if not can_manage_contract(actor.user, contract):
        raise AccessDenied(_("You may not manage the evaluation of this contract."))


def _ensure_own(actor: Actor, evaluator: SheetEvaluator) -> None:
    if not actor.user.may(Action.SHEET_SCORE) or evaluator.user_id != actor.user.id:
        raise AccessDenied(_("You may only score as yourself."))


def _ensure_state(sheet: Sheet, *states: SheetState) -> None:
    if sheet.state not in states:
        raise DomainError(_("This cannot be done while the sheet is “%(state)s”.", state=sheet.state.label))


# --- queries ------------------------------------------------------------------------------------------

def sheet_query(user):
    """The sheets a user may see (see :func:`can_view_sheet`)."""
    from contracts.models import Contract
    from procurement.orgs.models import Organization, Region

    query = select(Sheet).join(Contract, Sheet.contract_id == Contract.id)
    if user.may(Action.EVALUATION_VIEW):
        return (query.join(Organization, Contract.purchaser_id == Organization.id)
                .join(Region, Organization.region_id == Region.id)
                .where(Region.path.startswith(user.organization.region.path)))
    conditions = []
    if user.may(Action.SHEET_SCORE):
        conditions.append(Sheet.id.in_(select(SheetEvaluator.sheet_id).where(SheetEvaluator.user_id == user.id)))
    if user.may(Action.OWN_CONTRACTS_VIEW):
        conditions.append((Contract.supplier_id == user.organization_id) & or_(
            Sheet.kind == SheetKind.SELF, Sheet.state.in_((SheetState.FINALIZED, SheetState.SUPERSEDED))))
    if not conditions:
        return query.where(False)
    return query.where(or_(*conditions))


def sheets_assigned_to(user) -> list[Sheet]:
    return list(db.session.execute(
        select(Sheet).join(SheetEvaluator, SheetEvaluator.sheet_id == Sheet.id)
        .where(SheetEvaluator.user_id == user.id, Sheet.state.in_((SheetState.DRAFT, SheetState.SCORING)))
        .order_by(Sheet.id.desc())).scalars().unique())


def sheets_of_contract(contract) -> list[Sheet]:
    return list(db.session.execute(select(Sheet).where(Sheet.contract_id == contract.id)
                                   .order_by(Sheet.stage, Sheet.kind, Sheet.number)).scalars())


def effective_sheet(contract, stage: Stage) -> Sheet | None:
    """The finalized, not superseded sheet that counts for payment: third-party, else purchaser; never self."""
    for kind in (SheetKind.THIRD_PARTY, SheetKind.PURCHASER):
        sheet = db.session.execute(
            select(Sheet).where(Sheet.contract_id == contract.id, Sheet.stage == stage, Sheet.kind == kind,
                                Sheet.state == SheetState.FINALIZED)
            .order_by(Sheet.number.desc())).scalars().first()
        if sheet is not None:
            return sheet
    return None


def last_final_result(supplier_id: int, before: date) -> tuple[str | None, date | None]:
    """Grade and finalization day (Beijing) of the supplier's most recent effective final sheet finalized before
    ``before``; ``(None, None)`` when it has none."""
    from contracts.models import Contract

    candidates = db.session.execute(
        select(Sheet).join(Contract, Sheet.contract_id == Contract.id)
        .where(Contract.supplier_id == supplier_id, Sheet.stage == Stage.FINAL,
               Sheet.kind != SheetKind.SELF, Sheet.state == SheetState.FINALIZED)
        .order_by(Sheet.finalized_at.desc())).scalars()
    for sheet in candidates:
        day = beijing_date(sheet.finalized_at)
        if day >= before:
            continue
        if effective_sheet(sheet.contract, Stage.FINAL) is sheet:
            return sheet.grade, day
    return None, None


def last_final_grade(supplier_id: int, before: date) -> str | None:
    """The grade of the supplier's most recent effective final sheet finalized before ``before`` (Beijing date)."""
    return last_final_result(supplier_id, before)[0]


def newest_scheme() -> Scheme | None:
    return db.session.execute(select(Scheme).where(Scheme.state == SchemeState.PUBLISHED)
                              .order_by(Scheme.published_at.desc(), Scheme.id.desc())).scalars().first()


def leaves(scheme: Scheme) -> list[Indicator]:
    parents = {i.parent_id for i in scheme.indicators if i.parent_id is not None}
    return [i for i in scheme.indicators if i.id not in parents]


def manual_leaves(scheme: Scheme) -> list[Indicator]:
    return [i for i in leaves(scheme) if (i.rule or Rule.MANUAL) == Rule.MANUAL]


def computed_leaves(scheme: Scheme) -> list[Indicator]:
    return [i for i in leaves(scheme) if i.rule is not None and i.rule != Rule.MANUAL]


def all_submitted(sheet: Sheet) -> bool:
    return bool(sheet.evaluators) and all(e.submitted_at is not None for e in sheet.evaluators)


def visible_evaluators(user, sheet: Sheet) -> list[SheetEvaluator]:
    """Whose points ``user`` may see: their own; others' submitted ones once they submitted; officers and
    finance everyone's once every evaluator has submitted."""
    mine = evaluator_of(user, sheet)
    if sheet.state in (SheetState.FINALIZED, SheetState.SUPERSEDED) or (
            user.may(Action.EVALUATION_VIEW) and all_submitted(sheet)):
        return list(sheet.evaluators)
    if mine is None:
        return []
    if mine.submitted_at is None:
        return [mine]
    return [e for e in sheet.evaluators if e is mine or e.submitted_at is not None]


# --- opening and assigning --------------------------------------------------------------------------------

def open_sheet(contract, stage: Stage, kind: SheetKind, period_start: date | None, period_end: date | None,
               actor: Actor, agency: str | None = None) -> Sheet:
    _ensure_manage(actor, contract)
    problems = []
    if contract.state.value not in RUNNING:
        problems.append(("contract", _("Only a signed contract or one in service can be evaluated.")))
    scheme = newest_scheme()
    if scheme is None:
        problems.append(("scheme", _("No evaluation scheme is published yet.")))
    if not isinstance(stage, Stage):
        problems.append(("stage", _("Choose the stage.")))
    if not isinstance(kind, SheetKind):
        problems.append(("kind", _("Choose the kind of evaluation.")))
    if period_start is None:
        problems.append(("period_start", _("Enter the first day of the evaluated period.")))
    elif not contract.term_start <= period_start <= contract.term_end:
        problems.append(("period_start", _("The period must lie within the contract's term.")))
    if period_end is None:
        problems.append(("period_end", _("Enter the last day of the evaluated period.")))
    elif not contract.term_start <= period_end <= contract.term_end:
        problems.append(("period_end", _("The period must lie within the contract's term.")))
    elif period_start is not None and period_end < period_start:
        problems.append(("period_end", _("The period cannot end before it starts.")))
    agency = (agency or "").strip() or None
    if agency is not None and len(agency) > AGENCY_MAX:
        problems.append(("agency", _("At most %(n)s characters.", n=AGENCY_MAX)))
    if isinstance(stage, Stage) and isinstance(kind, SheetKind) and db.session.scalar(
            select(func.count()).select_from(Sheet).where(Sheet.contract_id == contract.id, Sheet.stage == stage,
                                                          Sheet.kind == kind)):
        problems.append(("kind", _("This contract already has such a sheet; correct it instead.")))
    _raise(problems)
    sheet = Sheet(contract_id=contract.id, scheme_id=scheme.id, stage=stage, kind=kind, period_start=period_start,
                  period_end=period_end, state=SheetState.DRAFT, number=1, agency=agency,
                  created_by_id=actor.user_id)
    db.session.add(sheet)
    db.session.flush()
    append_audit(actor, "sheet.open", sheet, detail={"contract": contract.number, "stage": stage.value,
                                                     "kind": kind.value, "period": [period_start.isoformat(),
                                                                                    period_end.isoformat()]})
    return sheet


def eligible_evaluator_problem(sheet: Sheet, user) -> str | None:
    contract = sheet.contract
    if user is None or not user.active:
        return _("Choose an active user.")
    if sheet.kind == SheetKind.SELF:
        ok = user.organization_id == contract.supplier_id and user.may(Action.SHEET_SCORE)
        return None if ok else _("A self-evaluation is scored by users of the supplier.")
    if sheet.kind == SheetKind.PURCHASER:
        ok = user.role == Role.OFFICER and orgs.in_user_subtree(user, contract.purchaser.region)
        return None if ok else _("A purchaser's evaluation is scored by officers of the purchaser's region.")
    return None if user.role == Role.EVALUATOR else _("A third-party evaluation is scored by evaluators.")


def assign_evaluator(sheet: Sheet, user, actor: Actor) -> SheetEvaluator:
    _ensure_manage(actor, sheet)
    _ensure_state(sheet, SheetState.DRAFT, SheetState.SCORING)
    problem = eligible_evaluator_problem(sheet, user)
    if problem is None and evaluator_of(user, sheet) is not None:
        problem = _("This person is already an evaluator of the sheet.")
    if problem:
        raise SheetInvalid([("user", problem)])
    evaluator = SheetEvaluator(sheet_id=sheet.id, user_id=user.id, assigned_at=utcnow())
    db.session.add(evaluator)
    db.session.flush()
    db.session.refresh(sheet, ["evaluators"])
    append_audit(actor, "sheet.assign", sheet, detail={"user": user.username, "evaluator": evaluator.id})
    return evaluator


def remove_evaluator(evaluator: SheetEvaluator, actor: Actor) -> None:
    sheet = evaluator.sheet
    _ensure_manage(actor, sheet)
    _ensure_state(sheet, SheetState.DRAFT, SheetState.SCORING)
    if evaluator.submitted_at is not None:
        raise DomainError(_("This evaluator has submitted; they cannot be removed."))
    username = evaluator.user.username
    for score in list(evaluator.scores):
        db.session.delete(score)
    db.session.delete(evaluator)
    db.session.flush()
    db.session.refresh(sheet, ["evaluators"])
    append_audit(actor, "sheet.unassign", sheet, detail={"user": username})


def start_scoring(sheet: Sheet, actor: Actor, today: date | None = None) -> None:
    _ensure_manage(actor, sheet)
    today = today or beijing_today()
    _ensure_state(sheet, SheetState.DRAFT)
    if not sheet.evaluators:
        raise SheetInvalid([("user", _("Assign at least one evaluator first."))])
    sheet.state = SheetState.SCORING
    compute(sheet, today)
    db.session.flush()
    append_audit(actor, "sheet.start", sheet, detail={"evaluators": len(sheet.evaluators)})


# --- the declaration --------------------------------------------------------------------------------------

def declaration_text(sheet: Sheet) -> str:
    contract = sheet.contract
    return (f"本人郑重声明：本人与被评价服务机构“{contract.supplier.name}”及合同“{contract.number} {contract.title}”不存在利害关系，"
            "未在该机构任职或领取报酬，与其负责人无近亲属关系，不存在其他可能影响公正评价的利益冲突；"
            "本人将依据评价指标独立、客观、公正地评分，对评价中知悉的信息予以保密。如有不实，愿承担相应责任。"
            )


def declare(evaluator: SheetEvaluator, accepted: bool, actor: Actor) -> None:
    _ensure_own(actor, evaluator)
    _ensure_state(evaluator.sheet, SheetState.SCORING)
    if evaluator.declared_at is not None:
        return
    if not accepted:
        raise SheetInvalid([("accepted", _("Accept the declaration to score this sheet."))])
    evaluator.declaration = declaration_text(evaluator.sheet)
    evaluator.declared_at = utcnow()
    db.session.flush()
    append_audit(actor, "sheet.declare", evaluator.sheet, detail={"evaluator": evaluator.id})


# --- scoring ----------------------------------------------------------------------------------------------

def parse_points(text) -> Decimal | None:
    """Points typed by a person: a number with at most two decimals, or None when it is not one."""
    if isinstance(text, Decimal):
        value = text
    else:
        try:
            value = Decimal(str(text).strip())
        except (InvalidOperation, ValueError):
            return None
    if not value.is_finite() or value.as_tuple().exponent < -2:
        return None
    return value


def _ensure_scoring(actor: Actor, evaluator: SheetEvaluator) -> None:
    _ensure_own(actor, evaluator)
    _ensure_state(evaluator.sheet, SheetState.SCORING)
    if evaluator.declared_at is None:
        raise DomainError(_("Accept the declaration of no conflict of interest first."), field="accepted")
    if evaluator.submitted_at is not None:
        raise DomainError(_("Your scores are submitted and locked."))


def save_scores(evaluator: SheetEvaluator, entries: dict, actor: Actor) -> None:
    """Save ``{indicator_id: (points, comment)}`` on manual leaves; every problem at once (``points_<id>``,
    ``comment_<id>``). An entry with empty points and comment clears nothing and is skipped."""
    _ensure_scoring(actor, evaluator)
    manual = {i.id: i for i in manual_leaves(evaluator.sheet.scheme)}
    existing = {s.indicator_id: s for s in evaluator.scores}
    problems, accepted = [], []
    for indicator_id, (raw_points, raw_comment) in entries.items():
        indicator = manual.get(indicator_id)
        if indicator is None:
            problems.append((f"points_{indicator_id}", _("This indicator is not scored by hand.")))
            continue
        comment = (raw_comment or "").strip() or None
        if raw_points is None or str(raw_points).strip() == "":
            if comment is not None:
                problems.append((f"points_{indicator_id}", _("Enter the points.")))
            continue
        points = parse_points(raw_points)
        if points is None:
            problems.append((f"points_{indicator_id}", _("Enter a number with at most two decimals.")))
            continue
        if points < 0 or points > indicator.max_points:
            problems.append((f"points_{indicator_id}", _("Between 0 and %(max)s points.",
                                                         max=_fmt(indicator.max_points))))
            continue
        if points < indicator.max_points and comment is None:
            problems.append((f"comment_{indicator_id}", _("Explain why the points are below full marks.")))
            continue
        if comment is not None and len(comment) > COMMENT_MAX:
            problems.append((f"comment_{indicator_id}", _("At most %(n)s characters.", n=COMMENT_MAX)))
            continue
        accepted.append((indicator_id, points, comment))
    _raise(problems)
    for indicator_id, points, comment in accepted:
        score = existing.get(indicator_id)
        if score is None:
            db.session.add(Score(evaluator_id=evaluator.id, indicator_id=indicator_id, points=points,
                                 comment=comment))
        else:
            score.points, score.comment = points, comment
    db.session.flush()
    db.session.refresh(evaluator, ["scores"])
    if accepted:
        append_audit(actor, "sheet.score", evaluator.sheet, detail={
            "evaluator": evaluator.id, "scores": {str(i): str(p) for i, p, _c in accepted}})


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def computed_points(sheet: Sheet) -> dict[int, Decimal]:
    return {c.indicator_id: (c.override_points if c.override_points is not None else c.points)
            for c in sheet.computed}


def submit_scores(evaluator: SheetEvaluator, actor: Actor) -> None:
    _ensure_scoring(actor, evaluator)
    sheet = evaluator.sheet
    scored = {s.indicator_id: s.points for s in evaluator.scores}
    missing = [(f"points_{i.id}", _("Enter the points.")) for i in manual_leaves(sheet.scheme) if i.id not in scored]
    _raise(missing)
    points = {str(k): v for k, v in scored.items()}
    points.update({f"c{k}": v for k, v in computed_points(sheet).items()})
    evaluator.total = scoring.total_of(points)
    evaluator.submitted_at = utcnow()
    db.session.flush()
    append_audit(actor, "sheet.submit", sheet, detail={"evaluator": evaluator.id, "total": str(evaluator.total)})


# --- computed leaves --------------------------------------------------------------------------------------

def _s(value: Decimal | None, places: Decimal = CENT) -> str | None:
    return None if value is None else str(scoring.round_points(value) if places == CENT else value.quantize(places))


def _overlap_days(a_start: date, a_end: date, b_start: date, b_end: date) -> int:
    return max(0, (min(a_end, b_end) - max(a_start, b_start)).days + 1)


def _completion(sheet: Sheet) -> dict:
    from procurement.supervision.models import DeliveryRow, ReportState, ServiceReport

    contract = sheet.contract
    term_days = (contract.term_end - contract.term_start).days + 1
    days = _overlap_days(sheet.period_start, sheet.period_end, contract.term_start, contract.term_end)
    delivered = dict(db.session.execute(
        select(DeliveryRow.item_id, func.sum(DeliveryRow.quantity)).join(ServiceReport)
        .where(ServiceReport.contract_id == contract.id, ServiceReport.state == ReportState.ACCEPTED,
               DeliveryRow.delivered_on.between(sheet.period_start, sheet.period_end))
        .group_by(DeliveryRow.item_id)).all())
    numerator = denominator = Decimal(0)
    items = []
    with localcontext() as context:
        context.prec = 40
        for line in contract.lines:
            expected = Decimal(line.quantity) * days / term_days
            got = Decimal(delivered.get(line.item_id) or 0)
            numerator += min(got, expected) * line.unit_price
            denominator += expected * line.unit_price
            items.append({"item": line.item.code, "name": line.item.name, "contracted": line.quantity,
                          "expected": _s(expected), "delivered": str(got), "unit_price": str(line.unit_price)})
    return {"numerator": numerator, "denominator": denominator, "items": items, "days": days,
            "term_days": term_days}


def _coverage(sheet: Sheet) -> dict:
    from procurement.beneficiaries.models import Assignment
    from procurement.supervision.models import DeliveryRow, ReportState, ServiceReport

    contract = sheet.contract
    assigned = set(db.session.execute(select(Assignment.beneficiary_id).where(
        Assignment.contract_id == contract.id, Assignment.assigned_on <= sheet.period_end,
        or_(Assignment.ended_on.is_(None), Assignment.ended_on >= sheet.period_start))).scalars())
    served = set(db.session.execute(
        select(DeliveryRow.beneficiary_id).join(ServiceReport)
        .where(ServiceReport.contract_id == contract.id, ServiceReport.state == ReportState.ACCEPTED,
               DeliveryRow.delivered_on.between(sheet.period_start, sheet.period_end))).scalars())
    return {"numerator": Decimal(len(served & assigned)), "denominator": Decimal(len(assigned))}


def _timeliness(sheet: Sheet, today: date) -> dict:
    from datetime import timedelta

    from procurement.supervision import services as reports

    contract = sheet.contract
    ended = [p for p in reports.periods_of(contract)
             if sheet.period_start <= p.end <= sheet.period_end and p.end < today]
    by_start = reports.reports_of(contract)
    on_time, rows = 0, []
    for period in ended:
        report = by_start.get(period.start)
        first = None
        if report is not None and report.first_submitted_at is not None:
            first = beijing_date(report.first_submitted_at)
        due = period.end + timedelta(days=REPORT_DUE_DAYS)
        ok = first is not None and first <= due
        on_time += ok
        rows.append({"period": period.start.isoformat(), "due": due.isoformat(),
                     "first_submitted": first.isoformat() if first else None, "on_time": ok})
    return {"numerator": Decimal(on_time), "denominator": Decimal(len(ended)), "periods": rows,
            "due_days": REPORT_DUE_DAYS}


def _supervision(sheet: Sheet, today: date):
    from procurement.oversight import services as oversight

    return oversight.evidence(sheet.contract, sheet.period_start, sheet.period_end, today)


def compute_leaf(sheet: Sheet, indicator: Indicator, today: date, evidence=None) -> tuple[dict, Decimal]:
    """The inputs and the points of one computed leaf."""
    rule = indicator.rule
    extra: dict = {}
    if rule == Rule.COMPLETION:
        extra = _completion(sheet)
    elif rule == Rule.COVERAGE:
        extra = _coverage(sheet)
    elif rule == Rule.TIMELINESS:
        extra = _timeliness(sheet, today)
    elif rule == Rule.SATISFACTION:
        ev = evidence or _supervision(sheet, today)
        extra = {"numerator": Decimal(ev.satisfied), "denominator": Decimal(ev.calls_reached),
                 "calls_made": ev.calls_made}
    elif rule == Rule.RECTIFICATION:
        ev = evidence or _supervision(sheet, today)
        extra = {"numerator": Decimal(ev.notices_closed_fixed_in_time), "denominator": Decimal(ev.notices),
                 "late": ev.notices_late, "not_fixed": ev.notices_not_fixed}
    numerator, denominator = extra.pop("numerator"), extra.pop("denominator")
    inputs = {"rule": rule.value, "numerator": _s(numerator), "denominator": _s(denominator),
              "period": [sheet.period_start.isoformat(), sheet.period_end.isoformat()], **extra}
    rate = scoring.rate_percent(numerator, denominator)
    if rate is None and rule == Rule.RECTIFICATION:
        inputs.update({"computable": True, "rate": None, "nothing_to_rectify": True, "share": "1"})
        return inputs, scoring.round_points(indicator.max_points)
    if rate is None:
        inputs.update({"computable": False, "rate": None})
        return inputs, Decimal("0.00")
    share = scoring.band_share(rate, indicator.bands)
    inputs.update({"computable": True, "rate": _s(rate), "share": str(share.quantize(Decimal("0.0001"))),
                   "bands": indicator.bands or scoring.bands_to_json()})
    return inputs, scoring.band_points(indicator.max_points, rate, indicator.bands)


def compute(sheet: Sheet, today: date) -> list[ComputedScore]:
    """(Re)compute the computed leaves; overrides are kept."""
    existing = {c.indicator_id: c for c in sheet.computed}
    evidence = None
    rows = []
    for indicator in computed_leaves(sheet.scheme):
        if indicator.rule in (Rule.SATISFACTION, Rule.RECTIFICATION) and evidence is None:
            evidence = _supervision(sheet, today)
        inputs, points = compute_leaf(sheet, indicator, today, evidence)
        row = existing.get(indicator.id)
        if row is None:
            row = ComputedScore(sheet_id=sheet.id, indicator_id=indicator.id, inputs=inputs, points=points,
                                computed_at=utcnow())
            db.session.add(row)
        else:
            row.inputs, row.points, row.computed_at = inputs, points, utcnow()
        rows.append(row)
    db.session.flush()
    db.session.refresh(sheet, ["computed"])
    return rows


def not_computable(computed: ComputedScore) -> bool:
    return not (computed.inputs or {}).get("computable", True)


def override(computed: ComputedScore, points, reason: str | None, actor: Actor) -> None:
    sheet = computed.sheet
    _ensure_manage(actor, sheet)
    _ensure_state(sheet, SheetState.DRAFT, SheetState.SCORING)
    indicator = db.session.get(Indicator, computed.indicator_id)
    problems = []
    value = parse_points(points) if points not in (None, "") else None
    if value is None:
        problems.append(("points", _("Enter a number with at most two decimals.")))
    elif value < 0 or value > indicator.max_points:
        problems.append(("points", _("Between 0 and %(max)s points.", max=_fmt(indicator.max_points))))
    reason = (reason or "").strip()
    if not reason:
        problems.append(("reason", _("Give the reason for the override.")))
    elif len(reason) > REASON_MAX:
        problems.append(("reason", _("At most %(n)s characters.", n=REASON_MAX)))
    _raise(problems)
    if any(e.submitted_at is not None for e in sheet.evaluators):
        raise DomainError(_("An evaluator has already submitted a total with the computed points."),
                          field="points")
    computed.override_points, computed.override_reason = value, reason
    db.session.flush()
    append_audit(actor, "sheet.override", sheet, detail={"indicator": indicator.code, "points": str(value),
                                                         "computed": str(computed.points), "reason": reason})


# --- finalizing and correcting -------------------------------------------------------------------------------

def finalize(sheet: Sheet, actor: Actor, today: date) -> None:
    _ensure_manage(actor, sheet)
    _ensure_state(sheet, SheetState.SCORING)
    problems = []
    if not all_submitted(sheet):
        problems.append(("evaluators", _("Every evaluator must submit before the sheet is finalized.")))
    blocked = [c for c in sheet.computed if not_computable(c) and c.override_points is None]
    for c in blocked:
        problems.append((f"override_{c.indicator_id}",
                         _("This indicator could not be computed: enter the points with a reason.")))
    _raise(problems)
    computed = computed_points(sheet)
    for indicator in leaves(sheet.scheme):
        if indicator.id in computed:
            points = scoring.round_points(computed[indicator.id])
        else:
            points = scoring.consolidate_points(
                [next(s.points for s in e.scores if s.indicator_id == indicator.id) for e in sheet.evaluators])
        db.session.add(SheetResult(sheet_id=sheet.id, indicator_id=indicator.id, points=points))
    sheet.total = scoring.consolidate([e.total for e in sheet.evaluators])
    sheet.grade = scoring.grade(sheet.total)
    sheet.state = SheetState.FINALIZED
    sheet.finalized_at, sheet.finalized_by_id = utcnow(), actor.user_id
    if sheet.previous_id is not None:
        previous = db.session.get(Sheet, sheet.previous_id)
        if previous is not None and previous.state == SheetState.FINALIZED:
            previous.state = SheetState.SUPERSEDED
    db.session.flush()
    db.session.refresh(sheet, ["results"])
    append_audit(actor, "sheet.finalize", sheet, detail={"total": str(sheet.total), "grade": sheet.grade,
                                                         "evaluators": len(sheet.evaluators)})
    from evaluation.documents import issue_sheet_document

    issue_sheet_document(sheet, actor)


def correct(sheet: Sheet, reason: str | None, actor: Actor) -> Sheet:
    _ensure_manage(actor, sheet)
    _ensure_state(sheet, SheetState.FINALIZED)
    reason = (reason or "").strip()
    if not reason:
        raise SheetInvalid([("reason", _("Give the reason for the correction."))])
    if len(reason) > REASON_MAX:
        raise SheetInvalid([("reason", _("At most %(n)s characters.", n=REASON_MAX))])
    if db.session.scalar(select(func.count()).select_from(Sheet).where(Sheet.previous_id == sheet.id)):
        raise DomainError(_("A correction of this sheet is already under way."), field="reason")
    new = Sheet(contract_id=sheet.contract_id, scheme_id=sheet.scheme_id, stage=sheet.stage, kind=sheet.kind,
                period_start=sheet.period_start, period_end=sheet.period_end, state=SheetState.SCORING,
                number=sheet.number + 1, previous_id=sheet.id, correction_reason=reason, agency=sheet.agency,
                created_by_id=actor.user_id)
    db.session.add(new)
    db.session.flush()
    for old in sheet.evaluators:
        copy = SheetEvaluator(sheet_id=new.id, user_id=old.user_id, assigned_at=utcnow(),
                              declared_at=old.declared_at, declaration=old.declaration)
        db.session.add(copy)
        db.session.flush()
        for score in old.scores:
            db.session.add(Score(evaluator_id=copy.id, indicator_id=score.indicator_id, points=score.points,
                                 comment=score.comment))
    for old in sheet.computed:
        db.session.add(ComputedScore(sheet_id=new.id, indicator_id=old.indicator_id, inputs=old.inputs,
                                     points=old.points, override_points=old.override_points,
                                     override_reason=old.override_reason, computed_at=old.computed_at))
    db.session.flush()
    db.session.refresh(new, ["evaluators", "computed"])
    append_audit(actor, "sheet.correct", new, detail={"previous": sheet.id, "number": new.number,
                                                      "reason": reason})
    return new


@dataclass(frozen=True)
class Progress:
    name: str
    declared: bool
    submitted: bool


def progress(sheet: Sheet) -> list[Progress]:
    return [Progress(e.user.display_name, e.declared_at is not None, e.submitted_at is not None)
            for e in sheet.evaluators]
