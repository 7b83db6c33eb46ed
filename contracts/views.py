"""Contract pages: list, generate from an award, edit a draft, preview, sign, publish, file, start, download."""

import hashlib
import io
from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import or_

from contracts import rules, services
from contracts.forms import (
    MAX_ROWS,
    ContractFilterForm,
    ContractForm,
    FileForm,
    InstalmentsForm,
    PublishForm,
    SignForm,
    StartForm,
    lines_form,
    supplement_form,
)
from contracts.models import Contract, ContractState, InstalmentCondition, ReportFrequency
from contracts.rendering import page_html
from evaluation.payment_views import contract_card as payment_card
from evaluation.views import card as evaluation_card
from procurement import files
from procurement.acceptance.views import acceptance_card
from procurement.audit.services import append_audit
from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.beneficiaries.views import contract_card as beneficiary_card
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.forms import form_status
from procurement.forms import show_problems as show_form_problems
from procurement.oversight.views import contract_card as supervision_card
from procurement.projects.models import Project, award_bid
from procurement.rules.clock import beijing_today
from procurement.rules.money import to_capital
from procurement.supervision.views import contract_card as report_card
from procurement.web import date_filter, download

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

#: The frame that shows a contract document: its own styles only, no script, no requests, a sandbox.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
#: Where each field of the pre-signing checklist is put right.
FIX_ENDPOINTS = {"lines": "contracts.lines", "amount": "contracts.lines", "instalments": "contracts.instalments",
                 "placeholder": "contracts.preview", "template": "contracts.preview",
                 **{name: "contracts.edit" for name in services.CONTRACT_FIELDS}}
#: The date field of each step form on the contract page (today by default).
STEP_DATES = {"publish": "published_on", "file": "filed_on", "start": "started_on"}


def _int_arg(name, low=1, high=2**31 - 1):
    value = request.args.get(name, type=int)
    return value if value is not None and low <= value <= high else None


# --- loading, access and refusals ------------------------------------------------------------

def _viewable(contract_id) -> Contract:
    """The contract, or 404 when the user may not see it (its existence is not revealed)."""
    contract = db.get_or_404(Contract, contract_id)
    if not services.can_view_contract(current_user, contract):
        abort(404)
    return contract


def _editable(contract_id) -> Contract:
    contract = _viewable(contract_id)
    if not services.can_edit_contract(current_user, contract):
        abort(403)
    return contract


def _draft_only(contract: Contract):
    """A redirect to the contract page when the contract is no longer a draft, else None."""
    if contract.state.editable:
        return None
    flash(_("The contract is “%(state)s”; a signed contract can no longer be changed.", state=contract.state.label),
          "warning")
    return redirect(url_for("contracts.detail", contract_id=contract.id))


def cited(problem: rules.Problem) -> str:
    if problem.citation:
        return _("%(message)s (legal basis: %(citation)s)", message=problem.message, citation=problem.citation)
    return problem.message


def show_problems(form, exc: DomainError) -> None:
    """Every problem of a refusal next to its field with its legal basis, or at the top of the form."""
    show_form_problems(form, exc, describe=cited)


def _conflict(form, exc: ConflictError, contract_id: int) -> Contract:
    """After a stale save: the message at the top, the user's input kept, the next save made against the new version."""
    db.session.rollback()
    contract = db.session.get(Contract, contract_id)
    form.form_errors.append(exc.message)
    form.form_errors.append(_("Your changes have not been saved and are still in the form. Look at the contract "
                              "again; saving once more overwrites the other change."))
    form.version.data = str(contract.version)
    return contract


def _save(form, contract_id: int, change, done):
    """Run one service call for a submitted form: commit and return ``done(result)`` (a flash and a redirect).

    A refusal goes on the form and the answer is ``None`` with the status to re-render with: 409 after an
    edit conflict (the contract reloaded, see :func:`_conflict`), else ``None`` (the form's own status).
    """
    try:
        result = change()
    except ConflictError as exc:
        _conflict(form, exc, contract_id)
        return None, 409
    except DomainError as exc:
        db.session.rollback()
        show_problems(form, exc)
        return None, None
    db.session.commit()
    return done(result), None


def _to_contract(contract_id: int, message: str, anchor: str | None = None):
    flash(message, "success")
    return redirect(url_for("contracts.detail", contract_id=contract_id, _anchor=anchor))


def _state_refusal(form, contract: Contract, *states: ContractState) -> bool:
    if contract.state in states:
        return False
    form.form_errors.append(_("This cannot be done while the contract is “%(state)s”.", state=contract.state.label))
    return True


# --- the list ---------------------------------------------------------------------------------

def deadline_badge(contract: Contract, today: date) -> dict | None:
    """The next statutory deadline of the contract, for a badge: signing, publication or filing."""
    if contract.state == ContractState.DRAFT:
        window = services.signing_window(contract, today)
        if window is None:
            return None
        return {"step": "signing", "label": _("Sign by %(day)s", day=_day(window.due)), "state": window.state,
                "estimated": window.estimated}
    step = {ContractState.SIGNED: "contract_publication", ContractState.PUBLISHED: "contract_filing"}.get(contract.state)
    if step is None:
        return None
    deadline, state = services.deadline_state(contract, step, today)
    label = (_("Publish by %(day)s", day=_day(deadline.day)) if step == "contract_publication"
             else _("File by %(day)s", day=_day(deadline.day)))
    return {"step": step, "label": label, "state": state, "estimated": deadline.estimated}


def _day(day: date) -> str:
    return date_filter(day)


@bp.route("/")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def index():
    form = ContractFilterForm(request.args)
    raw_state = request.args.get("state", "")
    state = ContractState(raw_state) if raw_state in ContractState._value2member_map_ else None
    q = (request.args.get("q") or "").strip()[:64]
    query = services.contract_query(current_user)
    if state is not None:
        query = query.where(Contract.state == state)
    if q:
        query = query.where(or_(Contract.number.contains(q, autoescape=True), Contract.title.contains(q, autoescape=True)))
    page = db.paginate(query.order_by(Contract.id.desc()), page=_int_arg("page") or 1,
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    today = beijing_today()
    rows = [(contract, deadline_badge(contract, today)) for contract in page.items]
    return render_template("contracts/index.html", page=page, rows=rows, form=form)


# --- generating ---------------------------------------------------------------------------------

@bp.route("/generate/<int:project_id>", methods=["POST"])
@require(Action.CONTRACT_EDIT)
def generate(project_id):
    project = db.get_or_404(Project, project_id)
    try:
        contract = services.generate_contract(project, current_actor(), beijing_today())
    except AccessDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("projects.detail", project_id=project_id))
    db.session.commit()
    flash(_("The draft contract %(number)s has been generated from the award. Check its terms, prices and "
            "instalments before signing.", number=contract.number), "success")
    return redirect(url_for("contracts.detail", contract_id=contract.id))


# --- the contract page ----------------------------------------------------------------------------

def _render_detail(contract: Contract, status: int = 200, step_form=None, assign_form=None):
    today = beijing_today()
    can_edit = services.can_edit_contract(current_user, contract)
    draft = contract.state == ContractState.DRAFT
    deadlines = []
    if contract.signed_on is not None:
        for step, label in (("contract_publication", _("Publication of the contract")),
                            ("contract_filing", _("Filing with the finance bureau"))):
            deadline, state = services.deadline_state(contract, step, today)
            done = contract.published_on if step == "contract_publication" else contract.filed_on
            deadlines.append({"step": step, "label": label, "due": deadline.day, "estimated": deadline.estimated,
                              "state": state, "done": done})
    forms = {}
    if can_edit:
        step_forms = {ContractState.SIGNED: ("publish", PublishForm), ContractState.PUBLISHED: ("file", FileForm),
                      ContractState.FILED: ("start", StartForm)}
        if contract.state in step_forms:
            key, form_class = step_forms[contract.state]
            if isinstance(step_form, form_class):
                form = step_form  # sent back with its errors
            else:
                form = form_class(formdata=None)
                form.version.data = str(contract.version)
                form[STEP_DATES[key]].data = today
            forms[key] = form
    bid = award_bid(contract.project) if contract.parent_id is None else None
    return render_template(
        "contracts/detail.html", contract=contract, can_edit=can_edit, draft=draft, today=today,
        amount_capital=to_capital(contract.amount), term_months=rules.term_months(contract.term_start, contract.term_end),
        bond_amount=rules.bond_amount(contract.amount, contract.bond_percent) if contract.bond_percent else None,
        window=services.signing_window(contract, today) if draft else None, deadlines=deadlines,
        problems=services.contract_problems(contract) if draft else [], fix_endpoints=FIX_ENDPOINTS,
        forms=forms, step_errors=step_form.form_errors if step_form is not None else [], award_bid=bid,
        can_supplement=can_edit and contract.parent_id is None and not draft, cited=cited,
        beneficiaries=beneficiary_card(contract, assign_form), reports=report_card(contract),
        acceptance=acceptance_card(contract), supervision=supervision_card(contract),
        payments=payment_card(contract), evaluation=evaluation_card(contract),
    ), status


@bp.route("/<int:contract_id>")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def detail(contract_id):
    return _render_detail(_viewable(contract_id))


# --- editing a draft ----------------------------------------------------------------------------

def _display(name: str, value) -> str:
    if value is None or value == "":
        return "—"
    if name == "report_frequency":
        try:
            return str(ReportFrequency(value).label)
        except ValueError:
            return str(value)
    if isinstance(value, date):
        return _day(value)
    return str(value)


@bp.route("/<int:contract_id>/edit", methods=["GET", "POST"])
@require(Action.CONTRACT_EDIT)
def edit(contract_id):
    contract = _editable(contract_id)
    if (response := _draft_only(contract)) is not None:
        return response
    form = ContractForm()
    if not form.is_submitted():
        form.version.data = str(contract.version)
        for name, value in services.contract_values(contract).items():
            form[name].data = value.value if name == "report_frequency" else value
    conflict = None
    if form.validate_on_submit():
        data = {name: form[name].data for name in services.CONTRACT_FIELDS}
        number = contract.number
        response, status = _save(form, contract_id, lambda: services.update_contract(
            contract, data, current_actor(), expected_version=form.loaded_version()),
            lambda _r: _to_contract(contract_id, _("The terms of %(number)s have been saved.", number=number)))
        if response is not None:
            return response
        if status == 409:
            current = services.contract_values(contract)
            conflict = [(form[name].label.text, _display(name, current[name]), _display(name, data[name]))
                        for name in services.CONTRACT_FIELDS if _display(name, current[name]) != _display(name, data[name])]
    status = 409 if conflict is not None else form_status(form)
    return render_template("contracts/form.html", form=form, contract=contract, conflict=conflict), status


@bp.route("/<int:contract_id>/lines", methods=["GET", "POST"])
@require(Action.CONTRACT_EDIT)
def lines(contract_id):
    contract = _editable(contract_id)
    if (response := _draft_only(contract)) is not None:
        return response
    form = lines_form(contract)()
    if not form.is_submitted():
        form.version.data = str(contract.version)
        for line in contract.lines:
            form[f"quantity_{line.id}"].data = line.quantity
            form[f"price_{line.id}"].data = line.unit_price
    status = None
    if form.validate_on_submit():
        prices = {line.id: (form[f"quantity_{line.id}"].data, form[f"price_{line.id}"].data) for line in contract.lines}
        response, status = _save(form, contract_id, lambda: services.set_line_prices(
            contract, prices, current_actor(), expected_version=form.loaded_version()),
            lambda _r: _to_contract(contract_id, _(
                "The quantities and prices of %(number)s have been saved; the amount is now %(amount)s.",
                number=contract.number, amount=f"¥{contract.amount:,.2f}"), "lines"))
        if response is not None:
            return response
    return render_template("contracts/lines.html", form=form, contract=contract, award_bid=award_bid(contract.project)
                           if contract.parent_id is None else None,
                           supplement_limit=_supplement_limit(contract)), status or form_status(form)


def _supplement_limit(contract: Contract) -> Decimal | None:
    """What a supplementary contract may add at most (10 percent of the original, less what others added)."""
    parent = contract.parent
    if parent is None:
        return None
    limit = (parent.amount * rules.MAX_SUPPLEMENTARY_PERCENT / 100).quantize(Decimal("0.01"))
    return limit - services._supplemented(parent, contract)


@bp.route("/<int:contract_id>/instalments", methods=["GET", "POST"])
@require(Action.CONTRACT_EDIT)
def instalments(contract_id):
    contract = _editable(contract_id)
    if (response := _draft_only(contract)) is not None:
        return response
    form = InstalmentsForm()
    if not form.is_submitted():
        form.version.data = str(contract.version)
        for n, instalment in enumerate(contract.instalments[:MAX_ROWS], 1):
            form[f"percent_{n}"].data = instalment.percent
            form[f"condition_{n}"].data = instalment.condition.value
            form[f"note_{n}"].data = instalment.condition_note
    status = None
    if form.validate_on_submit():
        plan = []
        for n in range(1, MAX_ROWS + 1):
            percent, note = form[f"percent_{n}"].data, (form[f"note_{n}"].data or "").strip()
            if percent is None and not note:
                continue  # an empty row
            if percent is None:
                form[f"percent_{n}"].errors = [_("Enter the percentage, or clear the row.")]
                continue
            plan.append((percent, InstalmentCondition(form[f"condition_{n}"].data), note or None))
        if not form.errors:
            response, status = _save(form, contract_id, lambda: services.set_instalments(
                contract, plan, current_actor(), expected_version=form.loaded_version()),
                lambda _r: _to_contract(contract_id, _("The payment instalments of %(number)s have been saved.",
                                                       number=contract.number), "instalments"))
            if response is not None:
                return response
    return render_template("contracts/instalments.html", form=form, contract=contract, rows=range(1, MAX_ROWS + 1),
                           saved=contract.instalments), status or form_status(form)


# --- preview --------------------------------------------------------------------------------------

@bp.route("/<int:contract_id>/preview")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def preview(contract_id):
    contract = _viewable(contract_id)
    result = services.preview_contract(contract)
    return render_template("contracts/preview.html", contract=contract, preview=result,
                           can_edit=services.can_edit_contract(current_user, contract))


@bp.route("/<int:contract_id>/preview.html")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def preview_frame(contract_id):
    contract = _viewable(contract_id)
    result = services.preview_contract(contract)
    html = result.html or page_html(str(escape(result.error or "")), contract.title)
    response = make_response(html)
    response.mimetype = "text/html"
    # Set here, so the app's default policy (set with setdefault) does not replace them.
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


# --- signing and after ------------------------------------------------------------------------------

@bp.route("/<int:contract_id>/sign", methods=["GET", "POST"])
@require(Action.CONTRACT_EDIT)
def sign(contract_id):
    contract = _editable(contract_id)
    if (response := _draft_only(contract)) is not None:
        return response
    today = beijing_today()
    form = SignForm()
    if not form.is_submitted():
        form.version.data = str(contract.version)
        form.signed_on.data = today
        form.purchaser_signatory.data = contract.purchaser_signatory or contract.purchaser.legal_representative
        form.supplier_signatory.data = contract.supplier_signatory or contract.supplier.legal_representative
    status = None
    if form.validate_on_submit():
        upload = form.scan.data
        scan = (upload.read(), upload.filename or "") if upload else None
        response, status = _save(form, contract_id, lambda: services.sign_contract(
            contract, form.signed_on.data, form.purchaser_signatory.data, form.supplier_signatory.data, scan,
            current_actor(), today, expected_version=form.loaded_version()),
            lambda document: _to_contract(contract_id, _(
                "%(number)s has been signed and its PDF issued (SHA-256 %(sha)s). Publish the contract and file it "
                "with the finance bureau within the deadlines shown.", number=contract.number,
                sha=document.sha256[:16] + "…")))
        if response is not None:
            return response
    return render_template("contracts/sign.html", form=form, contract=contract, problems=services.contract_problems(
        contract), window=services.signing_window(contract, today), fix_endpoints=FIX_ENDPOINTS,
        cited=cited), status or form_status(form)


def _step(contract_id: int, form_class, state: ContractState, call, done_message):
    """Publish, file or start: a small form on the contract page; errors re-render that page (400)."""
    contract = _editable(contract_id)
    form = form_class()
    if _state_refusal(form, contract, state):
        return _render_detail(contract, 400, form)
    status = None
    if form.validate_on_submit():
        response, status = _save(form, contract_id, lambda: call(contract, form),
                                 lambda _r: _to_contract(contract_id, done_message(contract)))
        if response is not None:
            return response
    return _render_detail(db.session.get(Contract, contract_id), status or 400, form)


@bp.route("/<int:contract_id>/publish", methods=["POST"])
@require(Action.CONTRACT_EDIT)
def publish(contract_id):
    return _step(contract_id, PublishForm, ContractState.SIGNED, lambda c, f: services.publish_contract(
        c, f.published_on.data, f.publication_ref.data, current_actor(), beijing_today(),
        expected_version=f.loaded_version()),
        lambda c: _("The publication of %(number)s has been recorded.", number=c.number))


@bp.route("/<int:contract_id>/file", methods=["POST"])
@require(Action.CONTRACT_EDIT)
def file(contract_id):
    return _step(contract_id, FileForm, ContractState.PUBLISHED, lambda c, f: services.file_contract(
        c, f.filed_on.data, f.filing_ref.data, current_actor(), beijing_today(), expected_version=f.loaded_version()),
        lambda c: _("The filing of %(number)s with the finance bureau has been recorded.", number=c.number))


@bp.route("/<int:contract_id>/start", methods=["POST"])
@require(Action.CONTRACT_EDIT)
def start(contract_id):
    return _step(contract_id, StartForm, ContractState.FILED, lambda c, f: services.start_service(
        c, f.started_on.data, current_actor(), beijing_today(), expected_version=f.loaded_version()),
        lambda c: _("%(number)s is in service.", number=c.number))


# --- supplementary contracts ------------------------------------------------------------------------

@bp.route("/<int:contract_id>/supplement", methods=["GET", "POST"])
@require(Action.CONTRACT_EDIT)
def supplement(contract_id):
    parent = _editable(contract_id)
    if parent.parent_id is not None or parent.state == ContractState.DRAFT:
        flash(_("A supplementary contract belongs to a signed original contract."), "warning")
        return redirect(url_for("contracts.detail", contract_id=parent.id))
    form = supplement_form(parent)()
    if form.validate_on_submit():
        quantities = {line.id: form[f"qty_{line.id}"].data or 0 for line in parent.lines}
        response, _status = _save(form, contract_id, lambda: services.create_supplementary(
            parent, form.change_reason.data, quantities, current_actor(), beijing_today()),
            lambda contract: _to_contract(contract.id, _(
                "The draft supplementary contract %(number)s has been made. Check it before signing.",
                number=contract.number)))
        if response is not None:
            return response
    limit = (parent.amount * rules.MAX_SUPPLEMENTARY_PERCENT / 100).quantize(Decimal("0.01"))
    return render_template("contracts/supplement.html", form=form, parent=parent, limit=limit,
                           added=services._supplemented(parent)), form_status(form)


# --- downloads ----------------------------------------------------------------------------------------

@bp.route("/<int:contract_id>/pdf")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def pdf(contract_id):
    contract = _viewable(contract_id)
    if contract.document_id is None and not services.can_edit_contract(current_user, contract):
        abort(404)  # a draft's PDF is a working copy for the officers who prepare it
    try:
        data = services.contract_pdf(contract)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("contracts.detail", contract_id=contract.id))
    sha256 = hashlib.sha256(data).hexdigest()
    append_audit(current_actor(), "contract.download", contract, detail={"sha256": sha256,
                                                                        "draft": contract.document_id is None})
    db.session.commit()
    name = f"{contract.number}.pdf"
    return download(data, name)


@bp.route("/<int:contract_id>/scan")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def scan(contract_id):
    contract = _viewable(contract_id)
    data = files.load(contract.scan_sha256) if contract.scan_sha256 else None
    if data is None:
        abort(404)
    extension = files.EXTENSIONS.get(contract.scan_type or "", "bin")
    return send_file(io.BytesIO(data), mimetype=contract.scan_type or "application/octet-stream",
                     download_name=f"{contract.number}-scan.{extension}")
