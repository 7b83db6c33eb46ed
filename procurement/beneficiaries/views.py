"""Beneficiary pages (服务对象): the registry, one person's record, audited reveals, assignment to contracts.

Lists and pages show the masked ID number only. The full number and the health notes are shown once, in the
answer to a POST that leaves an audit record; they are never put in the session, a URL or an edit form.
"""

import io
import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import false, select

from procurement import crypto
from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.beneficiaries import imports, services
from procurement.beneficiaries.forms import (
    AssignForm,
    AssignImportForm,
    BeneficiaryFilterForm,
    BeneficiaryForm,
    EndAssignmentForm,
    IdSearchForm,
)
from procurement.beneficiaries.models import Assignment, Beneficiary, LegalBasis
from procurement.catalog.models import TargetGroup
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.forms import choices, form_status, show_domain_error
from procurement.orgs.forms import region_label
from procurement.projects.services import user_regions
from procurement.rules.clock import beijing_today
from procurement.rules.identifiers import check_citizen_id
from procurement.supervision import imports as supervision_imports
from procurement.web import date_filter

bp = Blueprint("beneficiaries", __name__, url_prefix="/beneficiaries")

#: The data fields of the form, as :class:`services.BeneficiaryData` names them.
TEXT_FIELDS = ("name", "address", "phone", "household", "needs_assessment", "guardian_name", "guardian_relation",
               "guardian_phone", "legal_basis_note")
REVEALABLE = ("id_number", "health_notes")


def _int_arg(name):
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value < 2**31 else None


def _categories() -> list[TargetGroup]:
    return list(db.session.execute(select(TargetGroup).order_by(TargetGroup.sort_order, TargetGroup.id)).scalars())


def _viewable(beneficiary_id: int) -> Beneficiary:
    """The record, or 404 when the user may not see it (its existence is not revealed)."""
    record = db.get_or_404(Beneficiary, beneficiary_id)
    if not services.can_view(current_user, record, beijing_today()):
        abort(404)
    return record


def _editable(beneficiary_id: int) -> Beneficiary:
    record = _viewable(beneficiary_id)
    if not services.can_edit(current_user, record):
        abort(403)
    return record


# --- the list ------------------------------------------------------------------------------------

#: A run of digits like an ID number's (region code, birth date…): never searched from a URL.
ID_LIKE = re.compile(r"\d{6,}")


def _render_index(condition=None, id_form: IdSearchForm | None = None, status: int = 200):
    today = beijing_today()
    categories = _categories()
    form = BeneficiaryFilterForm(request.args)
    form.category.choices = choices([("", _("All categories"))] + [(str(c.id), c.name) for c in categories])
    category_id = _int_arg("category")
    query = services.beneficiary_query(current_user, today)
    if condition is not None:
        query = query.where(condition)
    if category_id is not None:
        query = query.where(Beneficiary.category_id == category_id)
    page = db.paginate(query.order_by(Beneficiary.name, Beneficiary.id), page=_int_arg("page") or 1,
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    rows = [(record, services.age_on(record.birth_date, today)) for record in page.items]
    response = current_app.make_response((render_template(
        "beneficiaries/index.html", page=page, rows=rows, form=form, id_form=id_form or IdSearchForm(formdata=None),
        id_searched=id_form is not None and condition is not None,
        can_create=current_user.may(Action.BENEFICIARY_EDIT)), status))
    if id_form is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@require(Action.BENEFICIARY_VIEW, Action.ASSIGNED_BENEFICIARIES_VIEW)
def index():
    """The registry, searched by name; an ID number is searched by POST (:func:`search_id`), never from the URL."""
    q = (request.args.get("q") or "").strip()[:64]
    if q and ID_LIKE.search(q):
        # not searched, and not echoed anywhere: back to the list without it, with a word about the ID search
        flash(_("An ID number is not searched from the address bar (it would be kept in logs and the browser "
                "history): use the ID number search below."), "warning")
        return redirect(url_for("beneficiaries.index", category=_int_arg("category"), _anchor="id-search-form"))
    return _render_index(Beneficiary.name.contains(q, autoescape=True) if q else None)


@bp.route("/search", methods=["POST"])
@require(Action.BENEFICIARY_VIEW, Action.ASSIGNED_BENEFICIARIES_VIEW)
def search_id():
    """The exact ID number search: the answer is the list itself (no redirect carrying the number)."""
    form = IdSearchForm()
    if not form.validate_on_submit():
        return _render_index(false(), id_form=form, status=400)
    try:
        number = check_citizen_id((form.id_number.data or "").upper())
    except ValueError:
        form.id_number.errors = [_("This is not a valid 18-character citizen ID number.")]
        return _render_index(false(), id_form=form, status=400)
    form.id_number.data = ""  # searched: the number is not written back into the page
    return _render_index(Beneficiary.id_hash == crypto.keyed_hash(number), id_form=form)


# --- registering and editing -----------------------------------------------------------------------

def _form(record: Beneficiary | None = None) -> tuple[BeneficiaryForm, dict]:
    regions = user_regions(current_user)
    form = BeneficiaryForm(regions=regions, categories=_categories(), region_label=region_label)
    if not form.is_submitted():
        if record is None:
            form.legal_basis.data = LegalBasis.LEGAL_DUTY.value
            if len(regions) == 1:
                form.region.data = regions[0].code
        else:
            form.version.data = str(record.version)
            for name in TEXT_FIELDS:
                form[name].data = getattr(record, name)
            form.region.data = record.region.code
            form.category.data = str(record.category_id)
            form.legal_basis.data = record.legal_basis.value
            # id_number and health_notes stay empty: "leave empty to keep"; the stored values never reach the page
    return form, {r.code: r for r in regions}


def _data(form: BeneficiaryForm, regions: dict, id_number: str, health_notes: str | None) -> services.BeneficiaryData:
    try:
        category_id = int(form.category.data)
    except (TypeError, ValueError):
        category_id = None
    if category_id is not None and db.session.get(TargetGroup, category_id) is None:
        category_id = None
    basis = form.legal_basis.data
    return services.BeneficiaryData(
        id_number=id_number, category_id=category_id, region=regions.get(form.region.data),
        legal_basis=LegalBasis(basis) if basis in LegalBasis._value2member_map_ else None,
        health_notes=health_notes, **{name: form[name].data for name in TEXT_FIELDS})


def _show_problems(form: BeneficiaryForm, exc: DomainError) -> None:
    """Every problem of the record next to its field (the service names them as the form does)."""
    problems = getattr(exc, "problems", None)
    if not problems:
        show_domain_error(form, exc)
        return
    for name, message in problems.items():
        if name in form and name not in ("version", "csrf_token"):
            form[name].errors = list(form[name].errors) + [message]
        else:
            flash(message, "danger")


@bp.route("/new", methods=["GET", "POST"])
@require(Action.BENEFICIARY_EDIT)
def new():
    form, regions = _form()
    if form.validate_on_submit():
        data = _data(form, regions, form.id_number.data or "", form.health_notes.data)
        try:
            record = services.create_beneficiary(data, current_actor(), beijing_today())
        except DomainError as exc:
            db.session.rollback()
            _show_problems(form, exc)
        else:
            db.session.commit()
            flash(_("%(name)s (%(masked)s) has been registered.", name=record.name, masked=record.id_masked), "success")
            return redirect(url_for("beneficiaries.detail", beneficiary_id=record.id))
    return render_template("beneficiaries/form.html", form=form, record=None), form_status(form)


@bp.route("/<int:beneficiary_id>/edit", methods=["GET", "POST"])
@require(Action.BENEFICIARY_EDIT)
def edit(beneficiary_id):
    record = _editable(beneficiary_id)
    form, regions = _form(record)
    status = None
    if form.validate_on_submit():
        # Empty fields keep the stored values: decrypted here for the service, never shown, so no reveal is audited.
        id_number = form.id_number.data or crypto.decrypt(record.id_number_enc)
        if form.clear_health_notes.data:
            health_notes = None
        else:
            health_notes = form.health_notes.data or crypto.decrypt(record.health_notes_enc)
        data = _data(form, regions, id_number, health_notes)
        try:
            services.update_beneficiary(record, data, current_actor(), beijing_today(),
                                        expected_version=form.loaded_version())
        except ConflictError as exc:
            db.session.rollback()
            record = db.get_or_404(Beneficiary, beneficiary_id)
            form.form_errors.append(exc.message)
            form.form_errors.append(_("Your changes have not been saved and are still in the form. Look at the record "
                                      "again; saving once more overwrites the other change."))
            form.version.data = str(record.version)
            status = 409
        except DomainError as exc:
            db.session.rollback()
            _show_problems(form, exc)
        else:
            db.session.commit()
            flash(_("The record of %(name)s has been saved.", name=record.name), "success")
            return redirect(url_for("beneficiaries.detail", beneficiary_id=record.id))
    return render_template("beneficiaries/form.html", form=form, record=record), status or form_status(form)


# --- one person --------------------------------------------------------------------------------------

def _render_detail(record: Beneficiary, revealed: dict | None = None):
    today = beijing_today()
    assignments = db.session.execute(select(Assignment).where(Assignment.beneficiary_id == record.id)
                                     .order_by(Assignment.assigned_on, Assignment.id)).scalars().all()
    if not current_user.may(Action.BENEFICIARY_VIEW):  # a supplier: its own contracts only
        assignments = [a for a in assignments if a.contract.supplier_id == current_user.organization_id]
    return render_template(
        "beneficiaries/detail.html", record=record, age=services.age_on(record.birth_date, today),
        assignments=assignments, revealed=revealed or {}, can_reveal=services.can_reveal(current_user, record),
        can_edit=services.can_edit(current_user, record),
        under_guardian_age=services.age_on(record.birth_date, today) < services.GUARDIAN_AGE)


@bp.route("/<int:beneficiary_id>")
@require(Action.BENEFICIARY_VIEW, Action.ASSIGNED_BENEFICIARIES_VIEW)
def detail(beneficiary_id):
    return _render_detail(_viewable(beneficiary_id))


@bp.route("/<int:beneficiary_id>/reveal", methods=["POST"])
@require(Action.BENEFICIARY_REVEAL)
def reveal(beneficiary_id):
    record = _viewable(beneficiary_id)
    what = request.form.get("what", "")
    if what not in REVEALABLE:
        abort(400)
    try:
        value = services.reveal(record, what, current_actor())
    except AccessDenied:
        db.session.commit()  # the refused attempt stays in the audit log
        abort(403)
    db.session.commit()
    # Shown in this answer only: not in the session, not in a URL, and the browser is told not to keep it.
    response = current_app.make_response(_render_detail(record, {what: value}))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- assignment to contracts --------------------------------------------------------------------------

#: People per page of the contract page's card (a county contract may serve thousands).
CARD_PAGE_SIZE = 50


def contract_card(contract, assign_form: AssignForm | None = None) -> dict | None:
    """The "Assigned beneficiaries" card of a contract page, or None for users who see no beneficiaries."""
    from contracts.services import can_edit_contract

    if not (current_user.may(Action.BENEFICIARY_VIEW) or current_user.may(Action.ASSIGNED_BENEFICIARIES_VIEW)):
        return None
    today = beijing_today()
    page = request.args.get("people_page", 1, type=int) or 1
    page = page if 1 <= page <= 100_000 else 1
    rows, total = services.visible_assignments(contract, current_user, today, page, CARD_PAGE_SIZE)
    can_assign = current_user.may(Action.BENEFICIARY_EDIT) and can_edit_contract(current_user, contract)
    import_form = None
    if isinstance(assign_form, AssignImportForm):  # a refused import, sent back with its rows' problems
        import_form, assign_form = assign_form, None
    if can_assign and assign_form is None:
        assign_form = AssignForm(formdata=None)
    if can_assign and import_form is None:
        import_form = AssignImportForm(formdata=None)
    return {"rows": rows, "total": total, "page": page, "pages": max(1, -(-total // CARD_PAGE_SIZE)),
            "can_assign": can_assign, "assign_form": assign_form, "today": today, "import_form": import_form,
            "end_form": EndAssignmentForm(formdata=None) if can_assign else None}


def _contract(contract_id: int):
    from contracts.models import Contract
    from contracts.services import can_edit_contract, can_view_contract

    contract = db.get_or_404(Contract, contract_id)
    if not can_view_contract(current_user, contract):
        abort(404)
    if not can_edit_contract(current_user, contract):
        abort(403)
    return contract


def _to_card(contract_id: int):
    return redirect(url_for("contracts.detail", contract_id=contract_id, _anchor="beneficiaries"))


@bp.route("/assign/<int:contract_id>", methods=["POST"])
@require(Action.BENEFICIARY_EDIT)
def assign(contract_id):
    from contracts.views import _render_detail as render_contract

    contract = _contract(contract_id)
    form = AssignForm()
    if form.validate_on_submit():
        number = (form.id_number.data or "").upper()
        person = services.find_by_id_number(number) if len(number) == 18 else None
        if not number:
            form.id_number.errors = [_("Enter the ID number of the person.")]
        elif person is None or not services.can_view(current_user, person, beijing_today()):
            form.id_number.errors = [_("No beneficiary of your region has this ID number. Register the person first.")]
        else:
            try:
                services.assign(contract, person, current_actor(), beijing_today())
            except AccessDenied:
                raise
            except DomainError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
                return _to_card(contract_id)
            db.session.commit()
            flash(_("%(name)s (%(masked)s) has been assigned to %(number)s.", name=person.name,
                    masked=person.id_masked, number=contract.number), "success")
            return _to_card(contract_id)
    return render_contract(contract, 400, assign_form=form)


@bp.route("/assignments/<int:assignment_id>/end", methods=["POST"])
@require(Action.BENEFICIARY_EDIT)
def end_assignment(assignment_id):
    assignment = db.get_or_404(Assignment, assignment_id)
    contract = _contract(assignment.contract_id)
    form = EndAssignmentForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
        return _to_card(contract.id)
    name = assignment.beneficiary.name
    try:
        services.end_assignment(assignment, form.reason.data or "", current_actor(), beijing_today())
    except AccessDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _to_card(contract.id)
    db.session.commit()
    flash(_("The assignment of %(name)s to %(number)s ends on %(day)s.", name=name, number=contract.number,
            day=date_filter(assignment.ended_on)), "success")
    return _to_card(contract.id)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/assign/template.xlsx")
@require(Action.BENEFICIARY_EDIT)
def import_template():
    return send_file(io.BytesIO(imports.template()), mimetype=XLSX, as_attachment=True,
                     download_name="服务对象分配导入模板.xlsx")


@bp.route("/assign/<int:contract_id>/import", methods=["POST"])
@require(Action.BENEFICIARY_EDIT)
def import_assignments(contract_id):
    """Assign the people of a file (ID numbers) to the contract, all or nothing; the problems listed if any."""
    from contracts.views import _render_detail as render_contract

    contract = _contract(contract_id)
    form = AssignImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        if not upload:
            form.file.errors = [_("Choose a file.")]
        else:
            data, name = upload.stream.read(supervision_imports.MAX_BYTES + 1), upload.filename or ""
            try:
                if data and name.lower().endswith(".xlsx") and supervision_imports.kind_of(data) != "xlsx":
                    raise supervision_imports.ImportRefused(_(
                        "“%(name)s” is named .xlsx but is not an Excel workbook; save it again as .xlsx or CSV.",
                        name=name[-128:]), field="file")
                made = imports.import_assignments(contract, data, current_actor(), beijing_today())
            except AccessDenied:
                raise
            except imports.AssignmentImportInvalid as exc:
                db.session.rollback()
                form.file.errors = [exc.message]
                form.row_errors, form.rows_checked = exc.errors, exc.total
            except DomainError as exc:
                db.session.rollback()
                form.file.errors = [exc.message]
            else:
                db.session.commit()
                flash(_("%(n)s beneficiaries have been assigned to %(number)s.", n=len(made), number=contract.number),
                      "success")
                return _to_card(contract_id)
    return render_contract(contract, 400, assign_form=form)
