"""Supervision services: inspections and phone follow-ups, complaints, findings and rectification notices.

Officers of the contract's region (``SUPERVISION_EDIT``) record everything; officers and finance staff of the
region see it (``SUPERVISION_VIEW``). The supplier sees only the rectification notices about its own contracts
— with the finding they rest on — and answers them (``RECTIFICATION_ANSWER``): never the inspections, the
follow-up calls or the complaints, so that nobody who complained or answered a call can be singled out.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, select

from procurement import files
from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Action
from procurement.errors import AccessDenied, ConflictError, DomainError, InvalidInput
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.oversight.models import (
    Complaint,
    ComplaintChannel,
    Confirmation,
    Finding,
    FollowUpCall,
    Inspection,
    InspectionKind,
    NoticeState,
    Outcome,
    RectificationEvidence,
    RectificationNotice,
    Satisfaction,
    Severity,
)
from procurement.rules import oversight as rules

TEXT_MAX, SHORT_MAX, NOTE_MAX = 4000, 256, 512
#: Contract states in which the service runs and may be supervised.
SUPERVISED = ("signed", "published", "filed", "in_service")


class OversightInvalid(InvalidInput):
    """Every problem at once, each with its field."""


def _raise(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise OversightInvalid(problems)


def _text(problems: list, field: str, value, limit: int, required: bool, missing: str | None = None) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            problems.append((field, missing or _("This field is required.")))
        return None
    if len(text) > limit:
        problems.append((field, _("At most %(n)s characters.", n=limit)))
    return text


def _day(problems: list, field: str, value: date | None, today: date, not_before: date | None = None,
         before_message: str | None = None) -> date | None:
    if value is None:
        problems.append((field, _("Enter a date.")))
    elif value > today:
        problems.append((field, _("The date cannot be in the future.")))
    elif not_before is not None and value < not_before:
        problems.append((field, before_message or _("The date is too early.")))
    return value


def _check_version(record, expected_version: int | None) -> None:
    if expected_version is not None and record.version != expected_version:
        raise ConflictError(_("Someone else changed this record; look at it again before you go on."))


# --- who may do what --------------------------------------------------------------------------------

def _in_region(user, contract) -> bool:
    from procurement.orgs.services import in_user_subtree

    return in_user_subtree(user, contract.purchaser.region)


def can_view(user, contract) -> bool:
    """Inspections, complaints and findings: officers and finance staff of the contract's region."""
    return user.may(Action.SUPERVISION_VIEW) and _in_region(user, contract)


def can_edit(user, contract) -> bool:
    return user.may(Action.SUPERVISION_EDIT) and _in_region(user, contract)


def can_view_notice(user, notice: RectificationNotice) -> bool:
    if can_view(user, notice.contract):
        return True
    return (user.may(Action.RECTIFICATION_ANSWER) and notice.contract.supplier_id == user.organization_id
            and notice.contract.state.value != "draft")


def can_answer(user, notice: RectificationNotice) -> bool:
    return (user.may(Action.RECTIFICATION_ANSWER) and notice.contract.supplier_id == user.organization_id
            and notice.state == NoticeState.ISSUED)


def _ensure_edit(actor: Actor, contract) -> None:
    if not can_edit(actor.user, contract):
        raise AccessDenied(_("You may not supervise this contract."))


def _ensure_supervised(contract) -> None:
    if contract.state.value not in SUPERVISED:
        raise DomainError(_("Only a signed contract in service is supervised."))


def notice_query(user):
    """The notices a user may see: the region's for officers and finance, its own contracts' for a supplier."""
    from contracts.models import Contract
    from procurement.orgs.models import Organization, Region

    query = select(RectificationNotice).join(Contract, RectificationNotice.contract_id == Contract.id)
    if user.may(Action.SUPERVISION_VIEW):
        return (query.join(Organization, Contract.purchaser_id == Organization.id)
                .join(Region, Organization.region_id == Region.id)
                .where(Region.path.startswith(user.organization.region.path)))
    if user.may(Action.RECTIFICATION_ANSWER):
        return query.where(Contract.supplier_id == user.organization_id)
    return query.where(False)


# --- inspections and phone follow-ups ---------------------------------------------------------------

@dataclass
class InspectionData:
    kind: InspectionKind | None
    inspected_on: date | None
    period_start: date | None
    period_end: date | None
    inspectors: str | None
    place: str | None = None
    summary: str | None = None
    sample_size: int | None = None


def served_beneficiaries(contract, start: date, end: date) -> list[int]:
    """Who the supplier reports having served in ``start``–``end`` (reports it has submitted at least once)."""
    from procurement.supervision.models import DeliveryRow, ReportState, ServiceReport

    return list(db.session.execute(
        select(DeliveryRow.beneficiary_id).distinct()
        .join(ServiceReport, DeliveryRow.report_id == ServiceReport.id)
        .where(ServiceReport.contract_id == contract.id, ServiceReport.state != ReportState.DRAFT,
               DeliveryRow.delivered_on >= start, DeliveryRow.delivered_on <= end)).scalars())


def record_inspection(contract, data: InspectionData, actor: Actor, today: date) -> Inspection:
    """An inspection of the contract; a phone follow-up draws its random sample of served beneficiaries at once.

    Raises:
        OversightInvalid: every problem of the record, by field.
    """
    _ensure_edit(actor, contract)
    _ensure_supervised(contract)
    problems: list[tuple[str, str]] = []
    if data.kind is None:
        problems.append(("kind", _("Choose the kind of inspection.")))
    _day(problems, "inspected_on", data.inspected_on, today, contract.term_start,
         _("The inspection cannot be before the service term starts (%(day)s).", day=contract.term_start.isoformat()))
    start, end = data.period_start, data.period_end
    if start is None:
        problems.append(("period_start", _("Enter the first day of the period inspected.")))
    if end is None:
        problems.append(("period_end", _("Enter the last day of the period inspected.")))
    if start is not None and end is not None:
        if end < start:
            problems.append(("period_end", _("The period ends before it starts.")))
        elif start < contract.term_start or end > contract.term_end:
            problems.append(("period_start", _("The period must lie within the contract's term (%(start)s to %(end)s).",
                                               start=contract.term_start.isoformat(), end=contract.term_end.isoformat())))
        elif end > today:
            problems.append(("period_end", _("The period inspected cannot reach into the future.")))
    inspectors = _text(problems, "inspectors", data.inspectors, SHORT_MAX, True, _("Name the inspectors."))
    place = _text(problems, "place", data.place, SHORT_MAX, data.kind == InspectionKind.ON_SITE,
                  _("Where was the inspection held?"))
    summary = _text(problems, "summary", data.summary, TEXT_MAX, False)
    population: list[int] = []
    if data.kind == InspectionKind.PHONE_FOLLOW_UP:
        if data.sample_size is None or not (rules.MIN_SAMPLE <= data.sample_size <= rules.MAX_SAMPLE):
            problems.append(("sample_size", _("Call from %(low)s to %(high)s beneficiaries.", low=rules.MIN_SAMPLE,
                                              high=rules.MAX_SAMPLE)))
        elif start is not None and end is not None and not any(f.startswith("period") for f, _m in problems):
            population = served_beneficiaries(contract, start, end)
            if not population:
                problems.append(("period_start", _("The supplier has reported no service in this period: "
                                                   "there is nobody to call back.")))
    _raise(problems)
    inspection = Inspection(contract_id=contract.id, kind=data.kind, inspected_on=data.inspected_on,
                            period_start=start, period_end=end, inspectors=inspectors, place=place, summary=summary,
                            created_by_id=actor.user_id)
    if data.kind == InspectionKind.PHONE_FOLLOW_UP:
        sample = rules.draw_sample(population, data.sample_size)
        inspection.sample_size, inspection.population = len(sample), len(population)
    db.session.add(inspection)
    db.session.flush()
    if data.kind == InspectionKind.PHONE_FOLLOW_UP:
        inspection.calls.extend(FollowUpCall(beneficiary_id=b) for b in sample)
        db.session.flush()
    append_audit(actor, "inspection.create", inspection, detail={
        "contract": contract.number, "kind": data.kind.value, "sample": inspection.sample_size,
        "population": inspection.population})
    return inspection


def update_inspection_summary(inspection: Inspection, summary: str | None, actor: Actor,
                              expected_version: int | None = None) -> None:
    _ensure_edit(actor, inspection.contract)
    _check_version(inspection, expected_version)
    problems: list = []
    inspection.summary = _text(problems, "summary", summary, TEXT_MAX, False)
    _raise(problems)
    db.session.flush()
    append_audit(actor, "inspection.update", inspection)


def record_call(call: FollowUpCall, called_on: date | None, reached: bool | None, confirmation: Confirmation | None,
                satisfaction: Satisfaction | None, note: str | None, actor: Actor, today: date) -> None:
    """What a sampled beneficiary said on the phone (or that they could not be reached)."""
    inspection = call.inspection
    _ensure_edit(actor, inspection.contract)
    problems: list = []
    _day(problems, "called_on", called_on, today, inspection.period_start,
         _("The call cannot be before the period it asks about."))
    if reached is None:
        problems.append(("reached", _("Say whether the beneficiary was reached.")))
    elif reached:
        if confirmation is None:
            problems.append(("confirmation", _("Did the beneficiary confirm the services?")))
        if satisfaction is None:
            problems.append(("satisfaction", _("How satisfied is the beneficiary?")))
    note = _text(problems, "note", note, NOTE_MAX, False)
    _raise(problems)
    call.called_on, call.reached, call.note = called_on, reached, note
    call.confirmation = confirmation if reached else None
    call.satisfaction = satisfaction if reached else None
    db.session.flush()
    append_audit(actor, "inspection.call", inspection, detail={
        "call": call.id, "reached": reached, "confirmation": call.confirmation and call.confirmation.value,
        "satisfaction": call.satisfaction and call.satisfaction.value})


def delivered_to(inspection: Inspection) -> dict[int, list[tuple[str, str, int]]]:
    """For each sampled beneficiary: what the supplier reported in the period (item code, name, times), to ask about."""
    from procurement.catalog.models import CatalogItem
    from procurement.supervision.models import DeliveryRow, ReportState, ServiceReport

    ids = [c.beneficiary_id for c in inspection.calls]
    if not ids:
        return {}
    result: dict[int, list] = {}
    for beneficiary_id, code, name, times in db.session.execute(
            select(DeliveryRow.beneficiary_id, CatalogItem.code, CatalogItem.name, func.count())
            .join(ServiceReport, DeliveryRow.report_id == ServiceReport.id)
            .join(CatalogItem, DeliveryRow.item_id == CatalogItem.id)
            .where(ServiceReport.contract_id == inspection.contract_id, ServiceReport.state != ReportState.DRAFT,
                   DeliveryRow.beneficiary_id.in_(ids), DeliveryRow.delivered_on >= inspection.period_start,
                   DeliveryRow.delivered_on <= inspection.period_end)
            .group_by(DeliveryRow.beneficiary_id, CatalogItem.code, CatalogItem.name)
            .order_by(CatalogItem.code)):
        result.setdefault(beneficiary_id, []).append((code, name, times))
    return result


# --- complaints -------------------------------------------------------------------------------------

def record_complaint(contract, received_on: date | None, channel: ComplaintChannel | None, subject: str | None,
                     actor: Actor, today: date) -> Complaint:
    _ensure_edit(actor, contract)
    _ensure_supervised(contract)
    problems: list = []
    _day(problems, "received_on", received_on, today, contract.signed_on,
         _("The complaint cannot be older than the contract."))
    if channel is None:
        problems.append(("channel", _("Choose how the complaint came in.")))
    subject = _text(problems, "subject", subject, TEXT_MAX, True, _("What is the complaint about?"))
    _raise(problems)
    complaint = Complaint(contract_id=contract.id, received_on=received_on, channel=channel, subject=subject,
                          created_by_id=actor.user_id)
    db.session.add(complaint)
    db.session.flush()
    append_audit(actor, "complaint.create", complaint, detail={"contract": contract.number, "channel": channel.value})
    return complaint


def close_complaint(complaint: Complaint, closed_on: date | None, substantiated: bool | None, handling: str | None,
                    actor: Actor, today: date, expected_version: int | None = None) -> None:
    _ensure_edit(actor, complaint.contract)
    _check_version(complaint, expected_version)
    if complaint.closed_on is not None:
        raise DomainError(_("This complaint is already closed."))
    problems: list = []
    _day(problems, "closed_on", closed_on, today, complaint.received_on,
         _("The complaint cannot be closed before it was received."))
    if substantiated is None:
        problems.append(("substantiated", _("Say whether the complaint was substantiated.")))
    handling = _text(problems, "handling", handling, TEXT_MAX, True, _("Say how it was handled and what was replied."))
    _raise(problems)
    complaint.closed_on, complaint.substantiated, complaint.handling = closed_on, substantiated, handling
    db.session.flush()
    append_audit(actor, "complaint.close", complaint, detail={"substantiated": substantiated})


# --- findings and rectification notices -------------------------------------------------------------

def add_finding(contract, severity: Severity | None, description: str | None, found_on: date | None, actor: Actor,
                today: date, inspection: Inspection | None = None, complaint: Complaint | None = None) -> Finding:
    """A problem found by an inspection or a complaint (one of them, of this contract)."""
    _ensure_edit(actor, contract)
    source = inspection or complaint
    if source is None or source.contract_id != contract.id or (inspection is not None and complaint is not None):
        raise DomainError(_("A finding comes from one inspection or one complaint of this contract."))
    problems: list = []
    if inspection is not None:
        _day(problems, "found_on", found_on, today, inspection.inspected_on,
             _("The finding cannot be earlier than its inspection."))
    else:
        _day(problems, "found_on", found_on, today, complaint.received_on,
             _("The finding cannot be earlier than the complaint."))
    if severity is None:
        problems.append(("severity", _("Choose the severity.")))
    description = _text(problems, "description", description, TEXT_MAX, True, _("Describe what is wrong."))
    _raise(problems)
    finding = Finding(contract_id=contract.id, inspection_id=inspection and inspection.id,
                      complaint_id=complaint and complaint.id, found_on=found_on, severity=severity,
                      description=description, created_by_id=actor.user_id)
    db.session.add(finding)
    db.session.flush()
    append_audit(actor, "finding.create", finding, detail={"contract": contract.number, "severity": severity.value})
    return finding


def _next_notice_number(contract) -> str:
    count = db.session.scalar(select(func.count()).select_from(RectificationNotice)
                              .where(RectificationNotice.contract_id == contract.id)) or 0
    return f"ZG-{contract.number}-{count + 1:02d}"


def issue_notice(finding: Finding, issued_on: date | None, working_days: int | None, requirement: str | None,
                 actor: Actor, today: date) -> RectificationNotice:
    """A rectification notice on a finding, due ``working_days`` working days after issue.

    Raises:
        OversightInvalid: a bad date, number of days or requirement.
    """
    from procurement.projects.services import work_calendar

    contract = finding.contract
    _ensure_edit(actor, contract)
    if finding.notice is not None:
        raise DomainError(_("A rectification notice was already issued on this finding: %(number)s.",
                            number=finding.notice.number))
    problems: list = []
    _day(problems, "issued_on", issued_on, today, finding.found_on,
         _("The notice cannot be issued before the finding."))
    if working_days is None or not (rules.MIN_WORKING_DAYS <= working_days <= rules.MAX_WORKING_DAYS):
        problems.append(("working_days", _("Give from %(low)s to %(high)s working days.", low=rules.MIN_WORKING_DAYS,
                                           high=rules.MAX_WORKING_DAYS)))
    requirement = _text(problems, "requirement", requirement, TEXT_MAX, True,
                        _("Say what the supplier must put right."))
    _raise(problems)
    due = rules.notice_due(work_calendar(), issued_on, working_days)
    notice = RectificationNotice(number=_next_notice_number(contract), finding=finding, contract=contract,
                                 issued_on=issued_on, working_days=working_days, due_on=due.day,
                                 due_estimated=due.estimated, requirement=requirement, state=NoticeState.ISSUED,
                                 created_by_id=actor.user_id)
    db.session.add(notice)
    db.session.flush()
    append_audit(actor, "rectification.issue", notice, detail={"number": notice.number, "due": due.day.isoformat()})
    return notice


def add_evidence(notice: RectificationNotice, data: bytes, name: str, actor: Actor) -> RectificationEvidence:
    """A PDF, JPEG or PNG the supplier sends with its answer (checked by content, stored outside the web root)."""
    if not can_answer(actor.user, notice):
        raise AccessDenied(_("You may not answer this notice."))
    kind = files.check_upload(data, "evidence")
    sha256 = files.store(data)
    if db.session.scalar(select(func.count()).select_from(RectificationEvidence).where(
            RectificationEvidence.notice_id == notice.id, RectificationEvidence.sha256 == sha256)):
        raise DomainError(_("This file is already attached."), field="evidence")
    record = RectificationEvidence(sha256=sha256, name=(name or "evidence")[-128:], media_type=kind, size=len(data),
                                   uploaded_by_id=actor.user_id)
    notice.evidence.append(record)
    db.session.flush()
    append_audit(actor, "rectification.evidence", notice, detail={"name": record.name, "sha256": sha256})
    return record


def answer_notice(notice: RectificationNotice, answer: str | None, actor: Actor, today: date,
                  expected_version: int | None = None) -> bool:
    """The supplier's answer; ``False`` when it had already been sent (a double click changes nothing).

    Raises:
        OversightInvalid: no answer text or no evidence.
    """
    if notice.state != NoticeState.ISSUED and notice.contract.supplier_id == actor.user.organization_id:
        if notice.state == NoticeState.ANSWERED:
            return False
        raise DomainError(_("This notice is closed."))
    if not can_answer(actor.user, notice):
        raise AccessDenied(_("You may not answer this notice."))
    _check_version(notice, expected_version)
    problems: list = []
    answer = _text(problems, "answer", answer, TEXT_MAX, True, _("Say what was put right and how."))
    if not notice.evidence:
        problems.append(("evidence", _("Attach at least one file as evidence (photo, sign-in sheet, document).")))
    _raise(problems)
    notice.answer, notice.answered_on, notice.answered_by_id = answer, today, actor.user_id
    notice.state = NoticeState.ANSWERED
    db.session.flush()
    append_audit(actor, "rectification.answer", notice, detail={"late": notice.answered_on > notice.due_on})
    return True


def close_notice(notice: RectificationNotice, outcome: Outcome | None, reinspected_on: date | None, note: str | None,
                 actor: Actor, today: date, expected_version: int | None = None) -> None:
    """The officer re-inspects and closes: fixed, partly fixed or not fixed.

    An unanswered notice can be closed only once its deadline has passed (as the supplier let it lapse).
    """
    _ensure_edit(actor, notice.contract)
    _check_version(notice, expected_version)
    if notice.state == NoticeState.CLOSED:
        raise DomainError(_("This notice is already closed."))
    if notice.state == NoticeState.ISSUED and not notice.overdue(today):
        raise DomainError(_("The supplier has until %(day)s to answer; close the notice after its answer or after "
                            "that day.", day=notice.due_on.isoformat()))
    problems: list = []
    earliest = notice.answered_on or notice.issued_on
    _day(problems, "reinspected_on", reinspected_on, today, earliest,
         _("The re-inspection cannot be before the answer (or the notice)."))
    if outcome is None:
        problems.append(("outcome", _("Choose the outcome of the re-inspection.")))
    note = _text(problems, "closing_note", note, TEXT_MAX, outcome in (Outcome.PARTLY_FIXED, Outcome.NOT_FIXED),
                 _("Say what is still wrong."))
    _raise(problems)
    notice.outcome, notice.reinspected_on, notice.closing_note = outcome, reinspected_on, note
    notice.closed_by_id, notice.state = actor.user_id, NoticeState.CLOSED
    db.session.flush()
    append_audit(actor, "rectification.close", notice, detail={"outcome": outcome.value,
                                                               "late": notice.late(today)})


# --- what "my deadlines" and the home pages show ------------------------------------------------------

RECTIFICATION_STEP = "rectification"


def rectification_deadline_rows(user, today: date, include_done: bool = False) -> list:
    """Notices awaiting the supplier's answer (due / overdue), and answered ones (done / done late)."""
    from procurement.projects import services as projects

    if not user.may(Action.SUPERVISION_VIEW):
        return []
    states = (NoticeState.ISSUED, NoticeState.ANSWERED, NoticeState.CLOSED) if include_done else (NoticeState.ISSUED,)
    rows = []
    for notice in db.session.execute(notice_query(user).where(RectificationNotice.state.in_(states))).scalars():
        contract = notice.contract
        if notice.answered_on is None:
            if notice.state == NoticeState.CLOSED:
                state = "done_late"  # closed unanswered, after the deadline
            else:
                state = "overdue" if today > notice.due_on else "due"
        else:
            state = "done_late" if notice.answered_on > notice.due_on else "done"
        rows.append(projects.Deadline(contract.project_id, notice.number, contract.title, contract.purchaser.name,
                                      RECTIFICATION_STEP, notice.issued_on, notice.due_on, notice.due_estimated,
                                      notice.answered_on, state, contract.id, url_endpoint="oversight.notice",
                                      url_args=(("notice_id", notice.id),)))
    return rows


def open_notices(user, today: date, limit: int = 20) -> tuple[list[RectificationNotice], int]:
    """Notices still awaiting an answer, overdue first then by due day, and how many are overdue."""
    query = notice_query(user).where(RectificationNotice.state == NoticeState.ISSUED)
    rows = list(db.session.execute(query.order_by(RectificationNotice.due_on, RectificationNotice.id)
                                   .limit(limit)).scalars())
    overdue = db.session.scalar(select(func.count()).select_from(
        query.where(RectificationNotice.due_on < today).subquery())) or 0
    return rows, overdue


# --- the evidence the evaluation scores from ---------------------------------------------------------

def evidence(contract, start: date, end: date, today: date) -> rules.Evidence:
    """What supervision recorded about ``contract`` between ``start`` and ``end`` (both included)."""
    cid = contract.id
    inspections = db.session.scalar(select(func.count()).select_from(Inspection).where(
        Inspection.contract_id == cid, Inspection.inspected_on.between(start, end))) or 0
    reached_ok = and_(FollowUpCall.reached.is_(True))
    made, reached, satisfied, confirmed = db.session.execute(
        select(func.count(FollowUpCall.called_on),
               func.count(case((reached_ok, 1))),
               func.count(case((and_(reached_ok, FollowUpCall.satisfaction.in_(
                   (Satisfaction.SATISFIED, Satisfaction.BASICALLY))), 1))),
               func.count(case((and_(reached_ok, FollowUpCall.confirmation == Confirmation.CONFIRMED), 1))))
        .join(Inspection, FollowUpCall.inspection_id == Inspection.id)
        .where(Inspection.contract_id == cid, Inspection.inspected_on.between(start, end))).one()
    complaints, substantiated = db.session.execute(
        select(func.count(), func.count(case((Complaint.substantiated.is_(True), 1))))
        .where(Complaint.contract_id == cid, Complaint.received_on.between(start, end))).one()
    findings, serious = db.session.execute(
        select(func.count(), func.count(case((Finding.severity == Severity.SERIOUS, 1))))
        .where(Finding.contract_id == cid, Finding.found_on.between(start, end))).one()
    notices = list(db.session.execute(select(RectificationNotice).where(
        RectificationNotice.contract_id == cid, RectificationNotice.issued_on.between(start, end))).scalars())
    in_time = sum(1 for n in notices if n.outcome == Outcome.FIXED and not n.late(today))
    late = sum(1 for n in notices if n.late(today))
    not_fixed = sum(1 for n in notices if n.outcome == Outcome.NOT_FIXED)
    return rules.Evidence(inspections=inspections, calls_made=made, calls_reached=reached, satisfied=satisfied,
                          confirmed=confirmed, complaints=complaints, complaints_substantiated=substantiated,
                          findings=findings, serious_findings=serious, notices=len(notices),
                          notices_closed_fixed_in_time=in_time, notices_late=late, notices_not_fixed=not_fixed)


def contract_records(contract) -> dict:
    """Everything recorded about one contract, newest first, for its supervision page."""
    cid = contract.id
    return {
        "inspections": list(db.session.execute(select(Inspection).where(Inspection.contract_id == cid)
                                               .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())).scalars()),
        "complaints": list(db.session.execute(select(Complaint).where(Complaint.contract_id == cid)
                                              .order_by(Complaint.received_on.desc(), Complaint.id.desc())).scalars()),
        "findings": list(db.session.execute(select(Finding).where(Finding.contract_id == cid)
                                            .order_by(Finding.found_on.desc(), Finding.id.desc())).scalars()),
    }


def notices_of(contract) -> list[RectificationNotice]:
    return list(db.session.execute(select(RectificationNotice).where(RectificationNotice.contract_id == contract.id)
                                   .order_by(RectificationNotice.issued_on.desc(),
                                             RectificationNotice.id.desc())).scalars())


def counts(contract, today: date) -> dict:
    """The figures of the contract page's supervision card."""
    cid = contract.id

    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return {
        "inspections": count(Inspection, Inspection.contract_id == cid),
        "complaints": count(Complaint, Complaint.contract_id == cid),
        "findings": count(Finding, Finding.contract_id == cid),
        "open_notices": count(RectificationNotice, RectificationNotice.contract_id == cid,
                              RectificationNotice.state != NoticeState.CLOSED),
        "overdue_notices": count(RectificationNotice, RectificationNotice.contract_id == cid,
                                 RectificationNotice.state == NoticeState.ISSUED, RectificationNotice.due_on < today),
    }
