"""Service-report pages (服务报告): the supplier writes the report of a period, the officer returns or accepts it."""

import io
from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from procurement import files
from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.forms import run_service
from procurement.forms import show_problems as show_form_problems
from procurement.rules.clock import beijing_today, utcnow
from procurement.supervision import imports, services
from procurement.supervision.forms import (
    AcceptForm,
    AttachmentForm,
    ExpenditureForm,
    ImportForm,
    NarrativeForm,
    OpenForm,
    ReturnForm,
    RowForm,
    SubmitForm,
)
from procurement.supervision.models import (
    DeliveryRow,
    Expenditure,
    ImportJob,
    ImportState,
    ReportAttachment,
    ServiceReport,
)
from procurement.web import stored_download

bp = Blueprint("supervision", __name__, url_prefix="/reports")

#: Delivery rows on one page of a report.
ROWS_PER_PAGE = 200
#: A service's field names where the form's differ.
FIELD_NAMES = {"beneficiary": "id_number"}
#: The most per-row reasons read from one return form (one page of rows).
MAX_ROW_REASONS = ROWS_PER_PAGE
#: Import jobs listed on a report page.
RECENT_IMPORTS = 10
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _int_arg(name, low=1, high=2**31 - 1):
    value = request.args.get(name, type=int)
    return value if value is not None and low <= value <= high else None


# --- loading and access ------------------------------------------------------------------------

def _viewable(report_id: int) -> ServiceReport:
    """The report, or 404 when the user may not see it (its existence is not revealed)."""
    report = db.get_or_404(ServiceReport, report_id)
    if not services.can_view_report(current_user, report):
        abort(404)
    return report


def _writable(report_id: int) -> ServiceReport:
    report = _viewable(report_id)
    if not services.can_write(current_user, report.contract):
        abort(403)
    return report


def _reviewable(report_id: int) -> ServiceReport:
    report = _viewable(report_id)
    if not services.can_review(current_user, report):
        abort(403)
    return report


def _to_report(report_id: int, message: str | None = None, anchor: str | None = None, category="success"):
    if message:
        flash(message, category)
    return redirect(url_for("supervision.report", report_id=report_id, _anchor=anchor))


def show_problems(form, exc: DomainError) -> None:
    """Every problem of a refusal next to its field, or at the top of the page when the form has no such field."""
    show_form_problems(form, exc, FIELD_NAMES)


def _save(form, report_id: int, change, done):
    """Run one service call: commit and return ``(done(result), None)``, or ``(None, status)`` with the refusal
    on the form: 409 after an edit conflict (the form then carries the new version), else 400."""
    result, status = run_service(form, change, lambda: db.session.get(ServiceReport, report_id).version,
                                 show=show_problems)
    return (done(result), None) if status is None else (None, status)


# --- the contract page's card ------------------------------------------------------------------

def contract_card(contract) -> dict | None:
    """The "Service reports" card of a contract page: None for a draft."""
    from contracts.models import ContractState

    if contract.state == ContractState.DRAFT:
        return None
    today = beijing_today()
    reports = services.reports_of(contract)
    periods = [{"period": period, "report": reports.get(period.start), "started": period.start <= today}
               for period in services.periods_of(contract)]
    delivered, trend = services.delivery_figures(contract, today)
    progress = [{"item": item, "rate": item.rate} for item in delivered]
    can_write = services.can_write(current_user, contract)
    return {"periods": periods, "progress": progress, "reached": services.beneficiaries_reached(contract),
            "can_write": can_write, "trend": _trend_chart(trend)}


def _month_label(day) -> str:
    return _("%(month)s (month)", month=day.month)


def _trend_chart(trend: list):
    """The monthly trend of the contract page: delivered quantity (accepted, awaiting review) and people served."""
    from procurement.charts import Series, trend_chart

    categories = [(entry.period.key, _month_label(entry.period.start)) for entry in trend]
    return trend_chart(_("Delivered quantity and beneficiaries served per period"), categories, [
        Series(_("Accepted"), [entry.accepted for entry in trend], "chart-bar-accepted"),
        Series(_("Awaiting review"), [entry.pending for entry in trend], "chart-bar-pending"),
    ], Series(_("Beneficiaries served"), [entry.served for entry in trend], "chart-line-served"))


# --- the report page ---------------------------------------------------------------------------

def _render_report(report: ServiceReport, status: int = 200, **sent):
    """The report page; ``sent`` are forms sent back with their errors (the others are fresh)."""
    contract = report.contract
    row_reasons = sent.pop("row_reasons", None) or {}
    can_write = services.can_write(current_user, report.contract) and report.state.supplier_may_edit
    can_review = services.can_review(current_user, report) and report.state.awaiting_review
    page = db.paginate(db.select(DeliveryRow).where(DeliveryRow.report_id == report.id)
                       .order_by(DeliveryRow.delivered_on, DeliveryRow.id),
                       page=_int_arg("page") or 1, per_page=ROWS_PER_PAGE, error_out=False)
    forms = {}
    if can_write:
        forms["row"] = sent.get("row") or RowForm(formdata=None, contract=contract)
        narrative = sent.get("narrative")
        if narrative is None:
            narrative = NarrativeForm(formdata=None)
            narrative.narrative.data = report.narrative
            narrative.version.data = str(report.version)
        forms["narrative"] = narrative
        forms["expenditure"] = sent.get("expenditure") or ExpenditureForm(formdata=None)
        forms["attachment"] = sent.get("attachment") or AttachmentForm(formdata=None)
        forms["upload"] = sent.get("upload") or ImportForm(formdata=None)
        forms["submit"] = sent.get("submit") or _versioned(SubmitForm, report)
    if can_review:
        forms["return"] = sent.get("return") or _versioned(ReturnForm, report)
        forms["accept"] = sent.get("accept") or _versioned(AcceptForm, report)
    problems = []
    for form in sent.values():
        problems.extend(message for message in form.form_errors if message not in problems)
    expenditures = list(report.expenditures)
    import_jobs = []
    if can_write:
        import_jobs = db.session.scalars(db.select(ImportJob).where(ImportJob.report_id == report.id)
                                         .order_by(ImportJob.id.desc()).limit(RECENT_IMPORTS)).all()
    return render_template(
        "supervision/report.html", report=report, contract=contract, page=page, forms=forms,
        can_write=can_write, can_review=can_review, problems=problems, expenditures=expenditures,
        expenditure_total=sum((e.amount for e in expenditures), Decimal("0.00")),
        row_reasons=row_reasons, import_jobs=import_jobs,
    ), status


def _versioned(form_class, report: ServiceReport):
    form = form_class(formdata=None)
    form.version.data = str(report.version)
    return form


@bp.route("/<int:report_id>")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def report(report_id):
    return _render_report(_viewable(report_id))


# --- opening a period ----------------------------------------------------------------------------

@bp.route("/open/<int:contract_id>", methods=["POST"])
@require(Action.REPORT_WRITE)
def open(contract_id):  # noqa: A001 - the endpoint's fixed name
    from contracts.models import Contract
    from contracts.services import can_view_contract

    contract = db.get_or_404(Contract, contract_id)
    if not can_view_contract(current_user, contract):
        abort(404)
    if not services.can_write(current_user, contract):
        abort(403)
    form = OpenForm()
    target = url_for("contracts.detail", contract_id=contract.id, _anchor="reports")
    if not form.validate_on_submit():
        flash(_("Choose a reporting period."), "danger")
        return redirect(target)
    try:
        period_start = date.fromisoformat((form.period.data or "").strip())
    except ValueError:
        flash(_("Choose a reporting period."), "danger")
        return redirect(target)
    try:
        record = services.open_report(contract, period_start, current_actor(), beijing_today())
    except AccessDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(target)
    db.session.commit()
    return redirect(url_for("supervision.report", report_id=record.id))


# --- delivery rows --------------------------------------------------------------------------------

@bp.route("/<int:report_id>/rows", methods=["POST"])
@require(Action.REPORT_WRITE)
def add_row(report_id):
    report = _writable(report_id)
    form = RowForm(contract=report.contract)
    if form.validate_on_submit():
        row = services.RowInput(id_number=(form.id_number.data or "").strip().upper(), item_code=form.item.data or "",
                                delivered_on=form.delivered_on.data, quantity=form.quantity.data,
                                worker=form.worker.data or "", note=form.note.data or "")
        response, status = _save(form, report_id, lambda: services.add_row(report, row, current_actor()),
                                 lambda _r: _to_report(report_id, _("The delivery has been added."), "rows"))
        if response is not None:
            return response
    else:
        status = 400
    return _render_report(db.session.get(ServiceReport, report_id), status, row=form)


@bp.route("/rows/<int:row_id>/remove", methods=["POST"])
@require(Action.REPORT_WRITE)
def remove_row(row_id):
    row = db.get_or_404(DeliveryRow, row_id)
    return _remove(_writable(row.report_id), lambda: services.remove_row(row, current_actor()),
                   _("The delivery has been removed."), "rows")


def _remove(report: ServiceReport, change, message: str, anchor: str):
    """A remove button (no form of its own): done and back to the report, or the refusal at the top of the page."""
    try:
        change()
    except AccessDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        return _render_report(db.session.get(ServiceReport, report.id), 400, refusal=_Refusal(exc.message))
    db.session.commit()
    return _to_report(report.id, message, anchor)


class _Refusal:
    """A refusal of a button with no form of its own, shown at the top of the page."""

    def __init__(self, message: str):
        self.form_errors = [message]


# --- narrative, expenditures, attachments ----------------------------------------------------------

@bp.route("/<int:report_id>/narrative", methods=["POST"])
@require(Action.REPORT_WRITE)
def narrative(report_id):
    report = _writable(report_id)
    form = NarrativeForm()
    status = 400
    if form.validate_on_submit():
        response, status = _save(form, report_id, lambda: services.save_narrative(
            report, form.narrative.data or "", current_actor(), expected_version=form.loaded_version()),
            lambda _r: _to_report(report_id, _("The narrative has been saved."), "narrative"))
        if response is not None:
            return response
    return _render_report(db.session.get(ServiceReport, report_id), status, narrative=form)


@bp.route("/<int:report_id>/expenditures", methods=["POST"])
@require(Action.REPORT_WRITE)
def add_expenditure(report_id):
    report = _writable(report_id)
    form = ExpenditureForm()
    status = 400
    if form.validate_on_submit():
        response, status = _save(form, report_id, lambda: services.add_expenditure(
            report, form.purpose.data or "", form.amount.data, form.note.data, current_actor()),
            lambda _r: _to_report(report_id, _("The expenditure has been added."), "expenditures"))
        if response is not None:
            return response
    return _render_report(db.session.get(ServiceReport, report_id), status, expenditure=form)


@bp.route("/expenditures/<int:expenditure_id>/remove", methods=["POST"])
@require(Action.REPORT_WRITE)
def remove_expenditure(expenditure_id):
    record = db.get_or_404(Expenditure, expenditure_id)
    return _remove(_writable(record.report_id), lambda: services.remove_expenditure(record, current_actor()),
                   _("The expenditure has been removed."), "expenditures")


@bp.route("/<int:report_id>/attachments", methods=["POST"])
@require(Action.REPORT_WRITE)
def attach(report_id):
    report = _writable(report_id)
    form = AttachmentForm()
    status = 400
    if form.validate_on_submit():
        upload = form.attachment.data
        if not upload:
            form.attachment.errors = [_("Choose a file.")]
        else:
            data, name = upload.read(), upload.filename or ""
            response, status = _save(form, report_id, lambda: services.add_attachment(
                report, data, name, current_actor()),
                lambda record: _to_report(report_id, _("%(name)s has been attached.", name=record.name),
                                          "attachments"))
            if response is not None:
                return response
    return _render_report(db.session.get(ServiceReport, report_id), status, attachment=form)


@bp.route("/attachments/<int:attachment_id>")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def attachment(attachment_id):
    record = db.get_or_404(ReportAttachment, attachment_id)
    _viewable(record.report_id)
    return stored_download(record)


# --- submission and review -------------------------------------------------------------------------

@bp.route("/<int:report_id>/submit", methods=["POST"])
@require(Action.REPORT_WRITE)
def submit(report_id):
    report = _writable(report_id)
    form = SubmitForm()
    status = 400
    if form.validate_on_submit():
        response, status = _save(form, report_id, lambda: services.submit_report(
            report, current_actor(), expected_version=form.loaded_version()),
            lambda changed: _to_report(report_id, _("The report has been submitted for review.") if changed
                                       else _("The report had already been submitted."),
                                       category="success" if changed else "info"))
        if response is not None:
            return response
    return _render_report(db.session.get(ServiceReport, report_id), status, submit=form)


def _row_reasons() -> dict[int, str]:
    """The per-row reasons of the return form (``row_<id>``), capped to one page of rows."""
    reasons = {}
    for key, value in request.form.items():
        if not key.startswith("row_") or not key[4:].isdigit() or len(key) > 16:
            continue
        reasons[int(key[4:])] = value or ""
        if len(reasons) >= MAX_ROW_REASONS:
            break
    return reasons


@bp.route("/<int:report_id>/return", methods=["POST"])
@require(Action.REPORT_REVIEW)
def return_report(report_id):
    report = _reviewable(report_id)
    form = ReturnForm()
    reasons = _row_reasons()
    status = 400
    if form.validate_on_submit():
        response, status = _save(form, report_id, lambda: services.return_report(
            report, form.reason.data, reasons, current_actor(), expected_version=form.loaded_version()),
            lambda _r: _to_report(report_id, _("The report has been returned to the supplier for correction.")))
        if response is not None:
            return response
    return _render_report(db.session.get(ServiceReport, report_id), status, row_reasons=reasons, **{"return": form})


@bp.route("/<int:report_id>/accept", methods=["POST"])
@require(Action.REPORT_REVIEW)
def accept(report_id):
    report = _reviewable(report_id)
    form = AcceptForm()
    status = 400
    if form.validate_on_submit():
        response, status = _save(form, report_id, lambda: services.accept_report(
            report, current_actor(), expected_version=form.loaded_version()),
            lambda _r: _to_report(report_id, _("The report has been accepted; its deliveries count.")))
        if response is not None:
            return response
    return _render_report(db.session.get(ServiceReport, report_id), status, accept=form)


# --- bulk import of delivery rows (Excel or CSV) ----------------------------------------------------

@bp.route("/import-template.xlsx")
@require(Action.REPORT_WRITE)
def import_template():
    return send_file(io.BytesIO(imports.template_workbook()), mimetype=XLSX, as_attachment=True,
                     download_name="服务记录导入模板.xlsx")


def _run_now(job: ImportJob) -> None:
    """Check and import a job in this request; an unexpected error leaves the job FAILED, nothing imported."""
    job_id = job.id
    try:
        imports.run_import(job)
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("import job %s failed", job_id)
        job = db.session.get(ImportJob, job_id)
        job.state, job.finished_at = ImportState.FAILED, utcnow()
        job.message = _("The import stopped on an unexpected error; nothing was imported.")
        db.session.commit()


def _start_import(report: ServiceReport, data: bytes, name: str) -> ImportJob:
    """Refuse at once a file whose name promises a workbook but whose content is text (a renamed .txt)."""
    if data and name.lower().endswith(".xlsx") and imports.kind_of(data) != "xlsx":
        raise imports.ImportRefused(_("“%(name)s” is named .xlsx but is not an Excel workbook; save it again as "
                                      ".xlsx or CSV.", name=name), field="file")
    return imports.start_import(report, data, name, current_actor())


@bp.route("/<int:report_id>/import", methods=["POST"])
@require(Action.REPORT_WRITE)
def import_rows(report_id):
    from procurement import tasks

    report = _writable(report_id)
    form = ImportForm()
    status = 400
    if form.validate_on_submit():
        upload = form.file.data
        if not upload:
            form.file.errors = [_("Choose a file.")]
        else:
            data, name = upload.stream.read(imports.MAX_BYTES + 1), upload.filename or ""
            job, status = _save(form, report_id, lambda: _start_import(report, data, name), lambda record: record)
            if job is not None:
                if len(data) <= imports.BACKGROUND_BYTES or current_app.config.get("HUEY_IMMEDIATE"):
                    _run_now(job)
                else:
                    tasks.import_delivery_rows(job.id)
                return redirect(url_for("supervision.import_job", job_id=job.id))
    return _render_report(db.session.get(ServiceReport, report_id), status, upload=form)


def _viewable_job(job_id: int) -> ImportJob:
    """The job, or 404 when the user may not see its report (the supplier's users and the contract's officers)."""
    job = db.get_or_404(ImportJob, job_id)
    _viewable(job.report_id)
    return job


@bp.route("/imports/<int:job_id>")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def import_job(job_id):
    job = _viewable_job(job_id)
    report = db.session.get(ServiceReport, job.report_id)
    return render_template("supervision/import_job.html", job=job, report=report, contract=report.contract)


@bp.route("/imports/<int:job_id>/errors.xlsx")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def import_errors(job_id):
    job = _viewable_job(job_id)
    data = files.load(job.error_file_sha256) if job.error_file_sha256 else None
    if data is None:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="错误报告.xlsx")
