"""Service reports: the supplier writes one per contract and period; the officer returns or accepts it (DOMAIN §5).

States: draft → submitted → returned (reasons overall or per row) → resubmitted → accepted (locked). Rows are
unique per (report, beneficiary, item, day, worker), so a repeated submission never duplicates a delivery.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from procurement import crypto, files
from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Action
from procurement.beneficiaries.models import Assignment, Beneficiary
from procurement.errors import AccessDenied, ConflictError, DomainError, InvalidInput
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.rules import reports as rules
from procurement.rules.clock import beijing_today, utcnow
from procurement.rules.identifiers import check_citizen_id
from procurement.supervision.models import DeliveryRow, Expenditure, ReportAttachment, ReportState, ServiceReport

NARRATIVE_MAX, REASON_MAX, PURPOSE_MAX = 8000, 256, 128
MAX_EXPENDITURE = Decimal("100000000.00")
RUNNING = ("signed", "published", "filed", "in_service")


class ReportInvalid(InvalidInput):
    """Every problem at once, each with its field."""


# --- who may do what ----------------------------------------------------------------------------------

def can_view_report(user, report: ServiceReport) -> bool:
    from contracts.services import can_view_contract

    return can_view_contract(user, report.contract)


def can_write(user, contract) -> bool:
    """The supplier's users write the reports of its running contracts."""
    return (user.may(Action.REPORT_WRITE) and contract.supplier_id == user.organization_id
            and contract.state.value in RUNNING)


def can_review(user, report: ServiceReport) -> bool:
    from contracts.services import can_edit_contract

    return user.may(Action.REPORT_REVIEW) and can_edit_contract(user, report.contract)


def _ensure_write(actor: Actor, report: ServiceReport) -> None:
    if not can_write(actor.user, report.contract):
        raise AccessDenied(_("You may not write this report."))
    if not report.state.supplier_may_edit:
        raise DomainError(_("The report is “%(state)s”; it cannot be changed now.", state=report.state.label))


def _check_version(report: ServiceReport, expected_version: int | None) -> None:
    if expected_version is not None and report.version != expected_version:
        raise ConflictError(_("Someone else changed this report; look at it again before you go on."))


# --- periods and reports ------------------------------------------------------------------------------

def periods_of(contract) -> list[rules.ReportPeriod]:
    from contracts.models import ReportFrequency

    return rules.report_periods(contract.term_start, contract.term_end,
                                contract.report_frequency == ReportFrequency.QUARTERLY)


def reports_of(contract) -> dict[date, ServiceReport]:
    return {r.period_start: r for r in db.session.execute(
        select(ServiceReport).where(ServiceReport.contract_id == contract.id)).scalars()}


def open_report(contract, period_start: date, actor: Actor, today: date) -> ServiceReport:
    """The report of the period starting on ``period_start``, made as a draft the first time.

    Raises:
        DomainError: not one of the contract's periods, or a period that has not started yet.
    """
    if not can_write(actor.user, contract):
        raise AccessDenied(_("You may not write this report."))
    period = next((p for p in periods_of(contract) if p.start == period_start), None)
    if period is None:
        raise DomainError(_("This is not one of the contract's reporting periods."))
    if period.start > today:
        raise DomainError(_("This period has not started yet."))
    report = reports_of(contract).get(period.start)
    if report is None:
        report = ServiceReport(contract_id=contract.id, period_start=period.start, period_end=period.end,
                               state=ReportState.DRAFT)
        db.session.add(report)
        db.session.flush()
        append_audit(actor, "report.create", report, detail={"contract": contract.number,
                                                             "period": period.start.isoformat()})
    return report


# --- delivery rows --------------------------------------------------------------------------------------

@dataclass
class RowInput:
    id_number: str
    item_code: str
    delivered_on: date | None
    quantity: Decimal | None
    worker: str = ""
    note: str = ""


@dataclass
class RowContext:
    """What checking rows of one report needs, looked up once (an import checks thousands of rows with it)."""

    report: ServiceReport
    items: dict  # item code → item id, of the contract's lines
    assigned: dict  # beneficiary id → [(from, until or None)]
    hashes: dict  # keyed hash → beneficiary id, filled as numbers are seen
    typed: dict = field(default_factory=dict)  # the number as typed → beneficiary id (or None)
    today: date = field(default_factory=lambda: beijing_today())  # no delivery after this day (Beijing time)

    @classmethod
    def of(cls, report: ServiceReport) -> "RowContext":
        contract = report.contract
        items = {line.item.code: line.item_id for line in contract.lines}
        if contract.parent_id is None:
            for supplement in contract.supplements:
                items.update({line.item.code: line.item_id for line in supplement.lines})
        assigned: dict = {}
        for beneficiary_id, start, end in db.session.execute(
                select(Assignment.beneficiary_id, Assignment.assigned_on, Assignment.ended_on)
                .where(Assignment.contract_id == contract.id)):
            assigned.setdefault(beneficiary_id, []).append((start, end))
        return cls(report, items, assigned, {})

    def preload_assigned(self) -> None:
        """The keyed hashes of everyone ever assigned to the contract, in one query (for an import)."""
        if self.assigned:
            self.hashes.update(db.session.execute(select(Beneficiary.id_hash, Beneficiary.id).where(
                Beneficiary.id.in_(list(self.assigned)))).all())

    def beneficiary_id(self, id_number: str) -> int | None:
        # an import names the same people thousands of times: remember each typed number's answer
        if id_number in self.typed:
            return self.typed[id_number]
        try:
            number = check_citizen_id(id_number)
        except ValueError:
            self.typed[id_number] = None
            return None
        digest = crypto.keyed_hash(number)
        if digest not in self.hashes:
            self.hashes[digest] = db.session.scalar(select(Beneficiary.id).where(Beneficiary.id_hash == digest))
        self.typed[id_number] = self.hashes[digest]
        return self.hashes[digest]

    def is_assigned(self, beneficiary_id: int, day: date | None) -> bool:
        spans = self.assigned.get(beneficiary_id, ())
        if day is None:
            return bool(spans)
        return any(start <= day and (end is None or day <= end) for start, end in spans)

    def check(self, row: RowInput) -> tuple[int | None, int | None, list[tuple[str, str]]]:
        """(beneficiary id, item id, problems) of one row."""
        beneficiary_id = self.beneficiary_id(row.id_number)
        item_id = self.items.get((row.item_code or "").strip())
        contract = self.report.contract
        facts = rules.RowFacts(beneficiary_known=beneficiary_id is not None,
                               beneficiary_assigned=beneficiary_id is not None and self.is_assigned(beneficiary_id,
                                                                                                   row.delivered_on),
                               item_in_contract=item_id is not None, delivered_on=row.delivered_on,
                               quantity=row.quantity, worker=row.worker or "", note=row.note or "")
        period = rules.ReportPeriod(self.report.period_start, self.report.period_end)
        return beneficiary_id, item_id, rules.row_problems(facts, period, contract.term_start, contract.term_end,
                                                          self.today)


def _exists(report: ServiceReport, beneficiary_id: int, item_id: int, day: date, worker: str) -> bool:
    return db.session.scalar(select(func.count()).select_from(DeliveryRow).where(
        DeliveryRow.report_id == report.id, DeliveryRow.beneficiary_id == beneficiary_id,
        DeliveryRow.item_id == item_id, DeliveryRow.delivered_on == day, DeliveryRow.worker == worker)) > 0


def add_row(report: ServiceReport, row: RowInput, actor: Actor) -> DeliveryRow:
    """Add one delivery to a draft or returned report.

    Raises:
        ReportInvalid: every problem of the row, by field (a row already in the report is one of them).
    """
    _ensure_write(actor, report)
    beneficiary_id, item_id, problems = RowContext.of(report).check(row)
    worker = (row.worker or "").strip()
    if not problems and _exists(report, beneficiary_id, item_id, row.delivered_on, worker):
        problems.append(("delivered_on", _("This delivery is already in the report.")))
    if problems:
        raise ReportInvalid(problems)
    record = DeliveryRow(report_id=report.id, beneficiary_id=beneficiary_id, item_id=item_id,
                         delivered_on=row.delivered_on, quantity=row.quantity, worker=worker,
                         note=(row.note or "").strip() or None)
    db.session.add(record)
    report.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "report.row_add", report, detail={"row": record.id, "item": row.item_code,
                                                          "on": row.delivered_on.isoformat()})
    return record


def remove_row(row: DeliveryRow, actor: Actor) -> None:
    report = db.session.get(ServiceReport, row.report_id)
    _ensure_write(actor, report)
    db.session.delete(row)
    report.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "report.row_remove", report, detail={"row": row.id})


def rows_of(report: ServiceReport, limit: int | None = None, offset: int = 0) -> list[DeliveryRow]:
    query = (select(DeliveryRow).where(DeliveryRow.report_id == report.id)
             .order_by(DeliveryRow.delivered_on, DeliveryRow.id).offset(offset))
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())


def row_count(report: ServiceReport) -> int:
    return db.session.scalar(select(func.count()).select_from(DeliveryRow).where(DeliveryRow.report_id == report.id))


# --- narrative, expenditures, attachments -------------------------------------------------------------

def save_narrative(report: ServiceReport, narrative: str, actor: Actor, expected_version: int | None = None) -> None:
    _ensure_write(actor, report)
    _check_version(report, expected_version)
    text = (narrative or "").strip()
    if len(text) > NARRATIVE_MAX:
        raise DomainError(_("At most %(n)s characters.", n=NARRATIVE_MAX), field="narrative")
    report.narrative = text or None
    report.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "report.narrative", report, detail={"length": len(text)})


def add_expenditure(report: ServiceReport, purpose: str, amount: Decimal | None, note: str | None,
                    actor: Actor) -> Expenditure:
    _ensure_write(actor, report)
    problems = []
    purpose = (purpose or "").strip()
    if not purpose:
        problems.append(("purpose", _("What was the money spent on?")))
    elif len(purpose) > PURPOSE_MAX:
        problems.append(("purpose", _("At most %(n)s characters.", n=PURPOSE_MAX)))
    if amount is None or amount <= 0 or amount > MAX_EXPENDITURE:
        problems.append(("amount", _("An amount above 0 and at most %(n)s yuan.", n=MAX_EXPENDITURE)))
    if note and len(note.strip()) > REASON_MAX:
        problems.append(("note", _("At most %(n)s characters.", n=REASON_MAX)))
    if problems:
        raise ReportInvalid(problems)
    record = Expenditure(report_id=report.id, purpose=purpose, amount=amount, note=(note or "").strip() or None)
    db.session.add(record)
    db.session.flush()
    append_audit(actor, "report.expenditure", report, detail={"purpose": purpose, "amount": str(amount)})
    return record


def remove_expenditure(record: Expenditure, actor: Actor) -> None:
    report = db.session.get(ServiceReport, record.report_id)
    _ensure_write(actor, report)
    db.session.delete(record)
    db.session.flush()
    append_audit(actor, "report.expenditure_remove", report, detail={"purpose": record.purpose})


def add_attachment(report: ServiceReport, data: bytes, name: str, actor: Actor) -> ReportAttachment:
    """A PDF, JPEG or PNG (checked by its content), stored outside the web root.

    Raises:
        DomainError: empty, too large, another kind of file, or already attached.
    """
    _ensure_write(actor, report)
    kind = files.check_upload(data, "attachment")
    sha256 = files.store(data)
    if db.session.scalar(select(func.count()).select_from(ReportAttachment).where(
            ReportAttachment.report_id == report.id, ReportAttachment.sha256 == sha256)):
        raise DomainError(_("This file is already attached."), field="attachment")
    record = ReportAttachment(report_id=report.id, sha256=sha256, name=(name or "attachment")[-128:],
                              media_type=kind, size=len(data), uploaded_by_id=actor.user_id)
    db.session.add(record)
    db.session.flush()
    append_audit(actor, "report.attachment", report, detail={"name": record.name, "sha256": sha256})
    return record


# --- submission and review ------------------------------------------------------------------------------

def submit_report(report: ServiceReport, actor: Actor, expected_version: int | None = None) -> bool:
    """Submit (or resubmit) the report; ``False`` when it was already submitted (a double click changes nothing).

    Raises:
        ReportInvalid: no delivery row or no narrative.
    """
    if not can_write(actor.user, report.contract):
        raise AccessDenied(_("You may not write this report."))
    if report.state.awaiting_review:
        return False  # a repeated submission: already done
    _ensure_write(actor, report)
    _check_version(report, expected_version)
    problems = []
    if not row_count(report):
        problems.append(("rows", _("The report has no delivery yet.")))
    if not (report.narrative or "").strip():
        problems.append(("narrative", _("Describe the period's work in the narrative.")))
    if problems:
        raise ReportInvalid(problems)
    source = report.state
    report.state = ReportState.RESUBMITTED if source == ReportState.RETURNED else ReportState.SUBMITTED
    report.submitted_at, report.submitted_by_id = utcnow(), actor.user_id
    if report.first_submitted_at is None:  # whether the report came on time is judged by its first submission
        report.first_submitted_at = report.submitted_at
    db.session.flush()
    append_audit(actor, "report.submit", report, detail={"from": source.value, "to": report.state.value,
                                                         "rows": row_count(report)})
    return True


def return_report(report: ServiceReport, reason: str | None, row_reasons: dict[int, str], actor: Actor,
                  expected_version: int | None = None) -> None:
    """Send the report back with a reason overall and/or per row.

    Raises:
        DomainError: no reason at all, or the report is not awaiting review.
    """
    if not can_review(actor.user, report):
        raise AccessDenied(_("You may not review this report."))
    if not report.state.awaiting_review:
        raise DomainError(_("The report is “%(state)s”; only a submitted report is reviewed.", state=report.state.label))
    _check_version(report, expected_version)
    reason = (reason or "").strip()
    row_reasons = {row_id: text.strip() for row_id, text in row_reasons.items() if (text or "").strip()}
    rows = {r.id: r for r in db.session.execute(select(DeliveryRow).where(DeliveryRow.report_id == report.id,
                                                                          DeliveryRow.id.in_(list(row_reasons))))
            .scalars()} if row_reasons else {}
    row_reasons = {row_id: text for row_id, text in row_reasons.items() if row_id in rows}  # this report's rows only
    if not reason and not row_reasons:
        raise DomainError(_("Say what is to be corrected: overall, or next to the rows."), field="reason")
    if len(reason) > NARRATIVE_MAX or any(len(t) > REASON_MAX for t in row_reasons.values()):
        raise DomainError(_("A reason is too long."), field="reason")
    for row in db.session.execute(select(DeliveryRow).where(DeliveryRow.report_id == report.id,
                                                            DeliveryRow.return_reason.is_not(None))).scalars():
        row.return_reason = None
    for row_id, text in row_reasons.items():
        rows[row_id].return_reason = text
    report.state = ReportState.RETURNED
    report.return_reason = reason or None
    report.reviewed_at, report.reviewed_by_id = utcnow(), actor.user_id
    db.session.flush()
    append_audit(actor, "report.return", report, detail={"reason": reason, "rows": sorted(rows)})


def accept_report(report: ServiceReport, actor: Actor, expected_version: int | None = None) -> None:
    """Accept the report: it is locked, and its deliveries count."""
    if not can_review(actor.user, report):
        raise AccessDenied(_("You may not review this report."))
    if not report.state.awaiting_review:
        raise DomainError(_("The report is “%(state)s”; only a submitted report is reviewed.", state=report.state.label))
    _check_version(report, expected_version)
    report.state = ReportState.ACCEPTED
    report.reviewed_at, report.reviewed_by_id = utcnow(), actor.user_id
    db.session.flush()
    append_audit(actor, "report.accept", report, detail={"rows": row_count(report)})


# --- what was delivered ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemProgress:
    code: str
    name: str
    unit: str
    contracted: int
    delivered: Decimal  # in accepted reports

    @property
    def rate(self) -> Decimal | None:
        if not self.contracted:
            return None
        return (self.delivered / self.contracted * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def delivered_by_item(contract) -> list[ItemProgress]:
    """Per item of the contract: contracted quantity and what accepted reports delivered."""
    sums = dict(db.session.execute(
        select(DeliveryRow.item_id, func.sum(DeliveryRow.quantity)).join(ServiceReport)
        .where(ServiceReport.contract_id == contract.id, ServiceReport.state == ReportState.ACCEPTED)
        .group_by(DeliveryRow.item_id)).all())
    return [ItemProgress(line.item.code, line.item.name, str(line.item.unit.label), line.quantity,
                         Decimal(sums.get(line.item_id) or 0)) for line in contract.lines]


def beneficiaries_reached(contract) -> int:
    return db.session.scalar(
        select(func.count(func.distinct(DeliveryRow.beneficiary_id))).join(ServiceReport)
        .where(ServiceReport.contract_id == contract.id, ServiceReport.state == ReportState.ACCEPTED)) or 0


@dataclass(frozen=True)
class PeriodTrend:
    period: rules.ReportPeriod
    accepted: Decimal  # quantity delivered in the accepted report of the period
    pending: Decimal  # …in a submitted or resubmitted report not yet accepted
    served: int  # distinct beneficiaries in those rows


def delivery_figures(contract, today: date) -> tuple[list[ItemProgress], list[PeriodTrend]]:
    """The contract page's figures, read in two grouped queries: per item, contracted vs delivered in accepted
    reports (as :func:`delivered_by_item`), and per reporting period up to today, the delivered quantity
    (accepted, or submitted/resubmitted and awaiting review) and the distinct beneficiaries served.

    Reports are per period (monthly or quarterly), so grouping on the report's period start is grouping by month
    on every database (no dialect's date function). Drafts and returned reports do not count.
    """
    counted = (ReportState.ACCEPTED, ReportState.SUBMITTED, ReportState.RESUBMITTED)

    def grouped(*columns):
        return (select(ServiceReport.period_start, ServiceReport.state, *columns)
                .join(DeliveryRow, DeliveryRow.report_id == ServiceReport.id)
                .where(ServiceReport.contract_id == contract.id, ServiceReport.state.in_(counted)))

    by_item: dict = {}
    quantities: dict = {}  # period start → [accepted, pending]
    for start, state, item_id, quantity in db.session.execute(
            grouped(DeliveryRow.item_id, func.sum(DeliveryRow.quantity))
            .group_by(ServiceReport.period_start, ServiceReport.state, DeliveryRow.item_id)):
        quantity = Decimal(quantity or 0)
        accepted = state == ReportState.ACCEPTED
        if accepted:
            by_item[item_id] = by_item.get(item_id, Decimal(0)) + quantity
        quantities.setdefault(start, [Decimal(0), Decimal(0)])[0 if accepted else 1] += quantity
    served: dict = {}
    for start, _state, people in db.session.execute(
            grouped(func.count(func.distinct(DeliveryRow.beneficiary_id)))
            .group_by(ServiceReport.period_start, ServiceReport.state)):
        served[start] = served.get(start, 0) + (people or 0)  # one report per period: no one counted twice
    progress = [ItemProgress(line.item.code, line.item.name, str(line.item.unit.label), line.quantity,
                             by_item.get(line.item_id, Decimal(0))) for line in contract.lines]
    trend = [PeriodTrend(period, *quantities.get(period.start, (Decimal(0), Decimal(0))), served.get(period.start, 0))
             for period in periods_of(contract) if period.start <= today]
    return progress, trend


def monthly_trend(contract, today: date) -> list[PeriodTrend]:
    """Per reporting period up to today: delivered quantities and beneficiaries served (see delivery_figures)."""
    return delivery_figures(contract, today)[1]
