"""Supervision pages (监督管理): inspections and phone follow-ups, complaints, findings, rectification notices."""


from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.extensions import db
from procurement.forms import choices, run_service
from procurement.oversight import services
from procurement.oversight.forms import (
    AnswerForm,
    CallForm,
    CloseComplaintForm,
    CloseNoticeForm,
    ComplaintForm,
    EvidenceForm,
    FindingForm,
    InspectionForm,
    NoticeFilterForm,
    NoticeForm,
    SummaryForm,
)
from procurement.oversight.models import (
    Complaint,
    Finding,
    FollowUpCall,
    Inspection,
    InspectionKind,
    NoticeState,
    RectificationEvidence,
    RectificationNotice,
)
from procurement.rules import oversight as rules
from procurement.rules.clock import beijing_today
from procurement.web import stored_download

bp = Blueprint("oversight", __name__, url_prefix="/supervision")

NOTICES_PER_PAGE = 50


# --- loading and access ------------------------------------------------------------------------

def _contract(contract_id: int):
    from contracts.models import Contract

    contract = db.get_or_404(Contract, contract_id)
    if not services.can_view(current_user, contract):
        abort(404)
    return contract


def _editable_contract(contract_id: int):
    contract = _contract(contract_id)
    if not services.can_edit(current_user, contract):
        abort(403)
    return contract


def _record(model, record_id: int, edit: bool = False):
    """An inspection, complaint or finding, or 404 when its contract is not the user's to see."""
    record = db.get_or_404(model, record_id)
    if not services.can_view(current_user, record.contract):
        abort(404)
    if edit and not services.can_edit(current_user, record.contract):
        abort(403)
    return record


def _notice(notice_id: int) -> RectificationNotice:
    notice = db.get_or_404(RectificationNotice, notice_id)
    if not services.can_view_notice(current_user, notice):
        abort(404)
    return notice


def _save(form, change, record=None):
    """Run one service call and commit; on a refusal put it on the form and return the status (409 / 400)."""
    def current_version():
        db.session.refresh(record)
        return record.version

    return run_service(form, change, current_version if record is not None else None)


def _back(endpoint: str, message: str, anchor: str | None = None, **values):
    flash(message, "success")
    return redirect(url_for(endpoint, _anchor=anchor, **values))


def _versioned(form, record):
    form.version.data = str(record.version)
    return form


# --- a contract's supervision page ------------------------------------------------------------------

@bp.route("/contracts/<int:contract_id>")
@require(Action.SUPERVISION_VIEW)
def contract(contract_id):
    record = _contract(contract_id)
    today = beijing_today()
    return render_template("oversight/contract.html", contract=record, today=today,
                           records=services.contract_records(record), notices=services.notices_of(record),
                           evidence=services.evidence(record, record.term_start, record.term_end, today),
                           can_edit=services.can_edit(current_user, record))


def _render_new_inspection(contract, form, status=200):
    return render_template("oversight/inspection_form.html", contract=contract, form=form,
                           min_sample=rules.MIN_SAMPLE, max_sample=rules.MAX_SAMPLE), status


@bp.route("/contracts/<int:contract_id>/inspections/new", methods=["GET", "POST"])
@require(Action.SUPERVISION_EDIT)
def new_inspection(contract_id):
    contract = _editable_contract(contract_id)
    today = beijing_today()
    form = InspectionForm()
    if not form.is_submitted():
        form.inspected_on.data = today
        form.period_end.data = min(today, contract.term_end)
        form.period_start.data = max(contract.term_start, form.period_end.data.replace(day=1))
        form.sample_size.data = 10
        kind = InspectionKind._value2member_map_.get(request.args.get("kind", ""))
        if kind is not None:
            form.kind.data = kind.value
        return _render_new_inspection(contract, form)
    status = 400
    if form.validate():
        data = services.InspectionData(
            kind=form.kind.member(), inspected_on=form.inspected_on.data, period_start=form.period_start.data,
            period_end=form.period_end.data, inspectors=form.inspectors.data, place=form.place.data,
            summary=form.summary.data,
            sample_size=form.sample_size.data if form.kind.member() == InspectionKind.PHONE_FOLLOW_UP else None)
        inspection, status = _save(form, lambda: services.record_inspection(contract, data, current_actor(), today))
        if inspection is not None:
            return _back("oversight.inspection", _("The inspection has been recorded."), inspection_id=inspection.id)
    return _render_new_inspection(contract, form, status)


# --- an inspection and its follow-up calls ----------------------------------------------------------

def _render_inspection(inspection: Inspection, status=200, summary_form=None, call_form=None, call_id=None,
                       finding_form=None):
    can_edit = services.can_edit(current_user, inspection.contract)
    today = beijing_today()
    call_forms = {}
    if can_edit:
        for call in inspection.calls:
            if call_form is not None and call.id == call_id:
                call_forms[call.id] = call_form
                continue
            form = CallForm(formdata=None, prefix=f"c{call.id}")
            form.called_on.data = call.called_on or today
            form.reached.data = {True: "yes", False: "no"}.get(call.reached)
            form.confirmation.data = call.confirmation and call.confirmation.value
            form.satisfaction.data = call.satisfaction and call.satisfaction.value
            form.note.data = call.note
            call_forms[call.id] = form
        if summary_form is None:
            summary_form = _versioned(SummaryForm(formdata=None), inspection)
            summary_form.summary.data = inspection.summary
        if finding_form is None:
            finding_form = FindingForm(formdata=None)
            finding_form.found_on.data = inspection.inspected_on
    return render_template("oversight/inspection.html", inspection=inspection, contract=inspection.contract,
                           can_edit=can_edit, call_forms=call_forms, summary_form=summary_form,
                           finding_form=finding_form, delivered=services.delivered_to(inspection)), status


@bp.route("/inspections/<int:inspection_id>")
@require(Action.SUPERVISION_VIEW)
def inspection(inspection_id):
    return _render_inspection(_record(Inspection, inspection_id))


@bp.route("/inspections/<int:inspection_id>/summary", methods=["POST"])
@require(Action.SUPERVISION_EDIT)
def inspection_summary(inspection_id):
    record = _record(Inspection, inspection_id, edit=True)
    form = SummaryForm()
    status = 400
    if form.validate():
        done, status = _save(form, lambda: services.update_inspection_summary(
            record, form.summary.data, current_actor(), expected_version=form.loaded_version()) or True, record)
        if done:
            return _back("oversight.inspection", _("The summary has been saved."), inspection_id=inspection_id)
    return _render_inspection(record, status, summary_form=form)


@bp.route("/calls/<int:call_id>", methods=["POST"])
@require(Action.SUPERVISION_EDIT)
def call(call_id):
    record = db.get_or_404(FollowUpCall, call_id)
    inspection = _record(Inspection, record.inspection_id, edit=True)
    form = CallForm(prefix=f"c{call_id}")
    status = 400
    if form.validate():
        done, status = _save(form, lambda: services.record_call(
            record, form.called_on.data, form.reached_value(), form.confirmation.member(), form.satisfaction.member(),
            form.note.data, current_actor(), beijing_today()) or True)
        if done:
            return _back("oversight.inspection", _("The call has been recorded."), anchor=f"call-{call_id}",
                         inspection_id=inspection.id)
    return _render_inspection(inspection, status, call_form=form, call_id=call_id)


@bp.route("/inspections/<int:inspection_id>/findings", methods=["POST"])
@require(Action.SUPERVISION_EDIT)
def inspection_finding(inspection_id):
    record = _record(Inspection, inspection_id, edit=True)
    form = FindingForm()
    status = 400
    if form.validate():
        finding, status = _save(form, lambda: services.add_finding(
            record.contract, form.severity.member(), form.description.data, form.found_on.data, current_actor(),
            beijing_today(), inspection=record))
        if finding is not None:
            return _back("oversight.finding", _("The finding has been recorded."), finding_id=finding.id)
    return _render_inspection(record, status, finding_form=form)


# --- complaints ----------------------------------------------------------------------------------------

@bp.route("/contracts/<int:contract_id>/complaints/new", methods=["GET", "POST"])
@require(Action.SUPERVISION_EDIT)
def new_complaint(contract_id):
    contract = _editable_contract(contract_id)
    form = ComplaintForm()
    status = 200
    if not form.is_submitted():
        form.received_on.data = beijing_today()
    elif form.validate():
        complaint, status = _save(form, lambda: services.record_complaint(
            contract, form.received_on.data, form.channel.member(), form.subject.data, current_actor(),
            beijing_today()))
        if complaint is not None:
            return _back("oversight.complaint", _("The complaint has been recorded."), complaint_id=complaint.id)
    else:
        status = 400
    return render_template("oversight/complaint_form.html", contract=contract, form=form), status


def _render_complaint(complaint: Complaint, status=200, close_form=None, finding_form=None):
    can_edit = services.can_edit(current_user, complaint.contract)
    if can_edit and complaint.closed_on is None and close_form is None:
        close_form = _versioned(CloseComplaintForm(formdata=None), complaint)
        close_form.closed_on.data = beijing_today()
    if can_edit and finding_form is None:
        finding_form = FindingForm(formdata=None)
        finding_form.found_on.data = beijing_today()
    return render_template("oversight/complaint.html", complaint=complaint, contract=complaint.contract,
                           can_edit=can_edit, close_form=close_form, finding_form=finding_form), status


@bp.route("/complaints/<int:complaint_id>")
@require(Action.SUPERVISION_VIEW)
def complaint(complaint_id):
    return _render_complaint(_record(Complaint, complaint_id))


@bp.route("/complaints/<int:complaint_id>/close", methods=["POST"])
@require(Action.SUPERVISION_EDIT)
def close_complaint(complaint_id):
    record = _record(Complaint, complaint_id, edit=True)
    form = CloseComplaintForm()
    status = 400
    if form.validate():
        done, status = _save(form, lambda: services.close_complaint(
            record, form.closed_on.data, form.substantiated_value(), form.handling.data, current_actor(),
            beijing_today(), expected_version=form.loaded_version()) or True, record)
        if done:
            return _back("oversight.complaint", _("The complaint has been closed."), complaint_id=complaint_id)
    return _render_complaint(record, status, close_form=form)


@bp.route("/complaints/<int:complaint_id>/findings", methods=["POST"])
@require(Action.SUPERVISION_EDIT)
def complaint_finding(complaint_id):
    record = _record(Complaint, complaint_id, edit=True)
    form = FindingForm()
    status = 400
    if form.validate():
        finding, status = _save(form, lambda: services.add_finding(
            record.contract, form.severity.member(), form.description.data, form.found_on.data, current_actor(),
            beijing_today(), complaint=record))
        if finding is not None:
            return _back("oversight.finding", _("The finding has been recorded."), finding_id=finding.id)
    return _render_complaint(record, status, finding_form=form)


# --- findings and their rectification notice ----------------------------------------------------

def _render_finding(finding: Finding, status=200, form=None):
    can_edit = services.can_edit(current_user, finding.contract)
    if can_edit and finding.notice is None and form is None:
        form = NoticeForm(formdata=None)
        form.issued_on.data = beijing_today()
        form.working_days.data = 10
    return render_template("oversight/finding.html", finding=finding, contract=finding.contract, can_edit=can_edit,
                           form=form), status


@bp.route("/findings/<int:finding_id>")
@require(Action.SUPERVISION_VIEW)
def finding(finding_id):
    return _render_finding(_record(Finding, finding_id))


@bp.route("/findings/<int:finding_id>/notice", methods=["POST"])
@require(Action.SUPERVISION_EDIT)
def issue_notice(finding_id):
    record = _record(Finding, finding_id, edit=True)
    form = NoticeForm()
    status = 400
    if form.validate():
        notice, status = _save(form, lambda: services.issue_notice(
            record, form.issued_on.data, form.working_days.data, form.requirement.data, current_actor(),
            beijing_today()))
        if notice is not None:
            return _back("oversight.notice", _("Rectification notice %(number)s has been issued; it is due on "
                                               "%(day)s.", number=notice.number, day=notice.due_on.isoformat()),
                         notice_id=notice.id)
    return _render_finding(record, status, form)


# --- rectification notices ------------------------------------------------------------------------

NOTICE_FILTERS = {"open": (NoticeState.ISSUED, NoticeState.ANSWERED), "issued": (NoticeState.ISSUED,),
                  "answered": (NoticeState.ANSWERED,), "closed": (NoticeState.CLOSED,), "all": tuple(NoticeState)}


@bp.route("/rectifications")
@require(Action.SUPERVISION_VIEW, Action.RECTIFICATION_ANSWER)
def notices():
    state = request.args.get("state", "open")
    if state not in NOTICE_FILTERS:
        state = "open"
    form = NoticeFilterForm(request.args)
    form.state.choices = choices([("open", _("Not yet closed out")), ("issued", NoticeState.ISSUED.label),
                                  ("answered", NoticeState.ANSWERED.label), ("closed", NoticeState.CLOSED.label),
                                  ("all", _("All"))])
    form.state.data = state
    page_number = request.args.get("page", type=int)
    query = (services.notice_query(current_user).where(RectificationNotice.state.in_(NOTICE_FILTERS[state]))
             .order_by(RectificationNotice.due_on, RectificationNotice.id))
    page = db.paginate(query, page=page_number if page_number and 0 < page_number < 100_000 else 1,
                       per_page=NOTICES_PER_PAGE, error_out=False)
    return render_template("oversight/notices.html", page=page, form=form, today=beijing_today(), state=state)


def _render_notice(notice: RectificationNotice, status=200, evidence_form=None, answer_form=None, close_form=None):
    today = beijing_today()
    can_answer = services.can_answer(current_user, notice)
    can_close = services.can_edit(current_user, notice.contract) and (
        notice.state == NoticeState.ANSWERED or notice.overdue(today))
    if can_answer:
        evidence_form = evidence_form or EvidenceForm(formdata=None)
        if answer_form is None:
            answer_form = _versioned(AnswerForm(formdata=None), notice)
    if can_close and close_form is None:
        close_form = _versioned(CloseNoticeForm(formdata=None), notice)
        close_form.reinspected_on.data = today
    return render_template("oversight/notice.html", notice=notice, contract=notice.contract, today=today,
                           finding=notice.finding, can_answer=can_answer, can_close=can_close,
                           can_view_source=services.can_view(current_user, notice.contract),
                           evidence_form=evidence_form, answer_form=answer_form, close_form=close_form), status


@bp.route("/rectifications/<int:notice_id>")
@require(Action.SUPERVISION_VIEW, Action.RECTIFICATION_ANSWER)
def notice(notice_id):
    return _render_notice(_notice(notice_id))


def _answerable(notice_id: int) -> RectificationNotice:
    record = _notice(notice_id)
    if record.contract.supplier_id != current_user.organization_id:
        abort(403)
    return record


@bp.route("/rectifications/<int:notice_id>/evidence", methods=["POST"])
@require(Action.RECTIFICATION_ANSWER)
def notice_evidence(notice_id):
    record = _answerable(notice_id)
    form = EvidenceForm()
    status = 400
    if form.validate():
        upload = form.evidence.data
        if upload is None or not getattr(upload, "filename", None):
            form.evidence.errors = [_("Choose a file.")]
        else:
            data = upload.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
            done, status = _save(form, lambda: services.add_evidence(record, data, upload.filename, current_actor()))
            if done is not None:
                return _back("oversight.notice", _("The file has been attached."), anchor="answer", notice_id=notice_id)
    return _render_notice(record, status, evidence_form=form)


@bp.route("/rectifications/<int:notice_id>/answer", methods=["POST"])
@require(Action.RECTIFICATION_ANSWER)
def answer_notice(notice_id):
    record = _answerable(notice_id)
    form = AnswerForm()
    status = 400
    if form.validate():
        sent, status = _save(form, lambda: services.answer_notice(
            record, form.answer.data, current_actor(), beijing_today(), expected_version=form.loaded_version()),
            record)
        if sent is not None:
            message = _("Your answer has been sent.") if sent else _("Your answer had already been sent.")
            return _back("oversight.notice", message, notice_id=notice_id)
    return _render_notice(record, status, answer_form=form)


@bp.route("/rectifications/<int:notice_id>/close", methods=["POST"])
@require(Action.SUPERVISION_EDIT)
def close_notice(notice_id):
    record = _notice(notice_id)
    if not services.can_edit(current_user, record.contract):
        abort(403)
    form = CloseNoticeForm()
    status = 400
    if form.validate():
        done, status = _save(form, lambda: services.close_notice(
            record, form.outcome.member(), form.reinspected_on.data, form.closing_note.data, current_actor(),
            beijing_today(), expected_version=form.loaded_version()) or True, record)
        if done:
            return _back("oversight.notice", _("The notice has been closed."), notice_id=notice_id)
    return _render_notice(record, status, close_form=form)


@bp.route("/rectifications/evidence/<int:evidence_id>")
@require(Action.SUPERVISION_VIEW, Action.RECTIFICATION_ANSWER)
def evidence_file(evidence_id):
    record = db.get_or_404(RectificationEvidence, evidence_id)
    _notice(record.notice_id)
    return stored_download(record)


# --- the contract page's card ------------------------------------------------------------------

def contract_card(contract) -> dict | None:
    """Supervision on the contract page: the figures for officers and finance, the open notices for its supplier."""
    if contract.state.value not in services.SUPERVISED:
        return None
    today = beijing_today()
    if services.can_view(current_user, contract):
        return {"counts": services.counts(contract, today), "can_edit": services.can_edit(current_user, contract),
                "notices": None, "today": today}
    if current_user.may(Action.RECTIFICATION_ANSWER) and contract.supplier_id == current_user.organization_id:
        notices = list(db.session.execute(select(RectificationNotice).where(
            RectificationNotice.contract_id == contract.id).order_by(RectificationNotice.issued_on.desc())).scalars())
        return {"counts": None, "can_edit": False, "notices": notices, "today": today}
    return None
