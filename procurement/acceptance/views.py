"""Acceptance pages (验收): the record of a contract, its card on the contract page, the publishable result."""

from functools import cache

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from contracts.models import Contract, ContractState
from contracts.services import can_view_contract
from procurement.acceptance import services
from procurement.acceptance.forms import RESULT_CHOICES, AcceptanceForm, ConcludeForm, OpenForm, PublishForm
from procurement.acceptance.models import Acceptance, AcceptanceState
from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.forms import run_service
from procurement.rules.clock import beijing_today
from procurement.web import download

bp = Blueprint("acceptance", __name__, url_prefix="/acceptance")

#: Extra print rules of the result on top of the contracts' GB/T 9704 stylesheet.
RESULT_CSS = """
table.results td:nth-child(1) { white-space: nowrap; }
.conclusion { font-family: "Noto Sans CJK SC", sans-serif; font-weight: bold; }
"""


@cache
def _print_css() -> str:
    from contracts.pdf import ASSETS

    return (ASSETS / "print.css").read_text(encoding="utf-8") + RESULT_CSS


# --- loading and access ----------------------------------------------------------------------------

def _viewable(acceptance_id: int) -> Acceptance:
    """The record, or 404 when the user may not see its contract (its existence is not revealed)."""
    acceptance = db.get_or_404(Acceptance, acceptance_id)
    if not services.can_view_acceptance(current_user, acceptance):
        abort(404)
    return acceptance


def _editable(acceptance_id: int) -> Acceptance:
    acceptance = _viewable(acceptance_id)
    if not services.can_edit_acceptance(current_user, acceptance.contract):
        abort(403)
    return acceptance


def _to_record(acceptance_id: int, message: str | None = None, category="success"):
    if message:
        flash(message, category)
    return redirect(url_for("acceptance.record", acceptance_id=acceptance_id))


def _show_problems(form, exc: DomainError) -> None:
    """Every problem next to its field (``result_<id>``/``note_<id>`` are collected for the standards' table)."""
    if isinstance(exc, AccessDenied):
        raise exc
    problems = getattr(exc, "problems", None) or [(exc.field or "", exc.message)]
    for field, message in problems:
        if field and field in form and field not in ("version", "csrf_token"):
            form[field].errors = list(form[field].errors) + [message]
        elif field.startswith(("result_", "note_")):
            form.row_errors.setdefault(field, []).append(message)
        elif message not in form.form_errors:
            form.form_errors.append(message)


def _save(form, acceptance_id: int, change, done):
    result, status = run_service(form, change, lambda: db.session.get(Acceptance, acceptance_id).version,
                                 show=_show_problems)
    return (done(result), None) if status is None else (None, status)


def _with_rows(form):
    form.row_errors = getattr(form, "row_errors", None) or {}
    return form


# --- the contract page's card ------------------------------------------------------------------

def acceptance_card(contract) -> dict | None:
    """The "Acceptance" card of a contract page: None before the contract is in service and without a record."""
    acceptance = services.acceptance_of(contract)
    if acceptance is None and contract.state != ContractState.IN_SERVICE:
        return None
    can_open = acceptance is None and services.can_edit_acceptance(current_user, contract)
    form = None
    if can_open:
        form = OpenForm(formdata=None)
        form.accepted_on.data = beijing_today()
    if acceptance is None and not can_open:
        return {"acceptance": None, "can_open": False, "form": None}
    return {"acceptance": acceptance, "can_open": can_open, "form": form}


# --- the record page --------------------------------------------------------------------------------

def _edit_form(acceptance: Acceptance) -> AcceptanceForm:
    form = AcceptanceForm(formdata=None)
    for name in ("accepted_on", "team", "method", "surveyed", "satisfied", "basically_satisfied", "dissatisfied",
                 "opinion_summary", "explanation"):
        form[name].data = getattr(acceptance, name)
    form.conclusion.data = acceptance.conclusion.value if acceptance.conclusion else ""
    form.version.data = str(acceptance.version)
    return _with_rows(form)


def _versioned(form_class, acceptance: Acceptance):
    form = form_class(formdata=None)
    form.version.data = str(acceptance.version)
    return _with_rows(form)


def _render_record(acceptance: Acceptance, status: int = 200, **sent):
    can_edit = services.can_edit_acceptance(current_user, acceptance.contract)
    forms = {}
    row_values = sent.pop("row_values", None)
    if can_edit and acceptance.state == AcceptanceState.DRAFT:
        forms["edit"] = sent.get("edit") or _edit_form(acceptance)
        forms["conclude"] = sent.get("conclude") or _versioned(ConcludeForm, acceptance)
    if can_edit and acceptance.state == AcceptanceState.CONCLUDED:
        form = sent.get("publish")
        if form is None:
            form = _versioned(PublishForm, acceptance)
            form.published_on.data = beijing_today()
        forms["publish"] = form
    row_errors = {}
    problems = []
    for form in sent.values():
        for key, messages in getattr(form, "row_errors", {}).items():
            row_errors.setdefault(key, []).extend(messages)
        problems.extend(message for message in form.form_errors if message not in problems)
    if row_values is None:
        row_values = {row.id: (row.result.value if row.result else "", row.note or "") for row in acceptance.results}
    waiting = services.reports_awaiting_review(acceptance.contract) if acceptance.state == AcceptanceState.DRAFT else 0
    return render_template(
        "acceptance/record.html", acceptance=acceptance, contract=acceptance.contract, forms=forms,
        can_edit=can_edit, problems=problems, row_errors=row_errors, row_values=row_values,
        result_choices=[(value, _(msgid)) for value, msgid in RESULT_CHOICES], waiting=waiting,
    ), status


@bp.route("/<int:acceptance_id>")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def record(acceptance_id):
    return _render_record(_viewable(acceptance_id))


@bp.route("/open/<int:contract_id>", methods=["POST"])
@require(Action.ACCEPTANCE_EDIT)
def open(contract_id):  # noqa: A001 - the endpoint's fixed name
    contract = db.get_or_404(Contract, contract_id)
    if not can_view_contract(current_user, contract):
        abort(404)
    if not services.can_edit_acceptance(current_user, contract):
        abort(403)
    form = OpenForm()
    target = url_for("contracts.detail", contract_id=contract.id, _anchor="acceptance")
    if not form.validate_on_submit() or form.accepted_on.data is None:
        flash(_("Enter the date of the acceptance."), "danger")
        return redirect(target)
    try:
        acceptance = services.open_acceptance(contract, form.accepted_on.data, current_actor())
    except AccessDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(target)
    db.session.commit()
    return redirect(url_for("acceptance.record", acceptance_id=acceptance.id))


def _row_values(acceptance: Acceptance) -> dict[int, tuple[str, str]]:
    values = {}
    for row in acceptance.results:
        values[row.id] = ((request.form.get(f"result_{row.id}") or "").strip()[:32],
                          (request.form.get(f"note_{row.id}") or "")[:services.NOTE_MAX + 1])
    return values


@bp.route("/<int:acceptance_id>/edit", methods=["POST"])
@require(Action.ACCEPTANCE_EDIT)
def edit(acceptance_id):
    acceptance = _editable(acceptance_id)
    form = _with_rows(AcceptanceForm())
    values = _row_values(acceptance)
    status = 400
    if form.validate_on_submit():
        data = services.AcceptanceData(
            accepted_on=form.accepted_on.data, team=form.team.data, method=form.method.data,
            surveyed=form.surveyed.data, satisfied=form.satisfied.data,
            basically_satisfied=form.basically_satisfied.data, dissatisfied=form.dissatisfied.data,
            opinion_summary=form.opinion_summary.data, conclusion=form.conclusion.data,
            explanation=form.explanation.data, results={key: (v or None, n) for key, (v, n) in values.items()})
        response, status = _save(form, acceptance_id, lambda: services.update_acceptance(
            acceptance, data, current_actor(), expected_version=form.loaded_version()),
            lambda _r: _to_record(acceptance_id, _("The acceptance record has been saved.")))
        if response is not None:
            return response
    return _render_record(db.session.get(Acceptance, acceptance_id), status, edit=form, row_values=values)


@bp.route("/<int:acceptance_id>/conclude", methods=["POST"])
@require(Action.ACCEPTANCE_EDIT)
def conclude(acceptance_id):
    acceptance = _editable(acceptance_id)
    form = _with_rows(ConcludeForm())
    if not form.validate_on_submit():
        return _render_record(acceptance, 400, conclude=form)
    try:
        services.conclude_acceptance(acceptance, current_actor(), expected_version=form.loaded_version())
    except ConflictError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        acceptance = db.session.get(Acceptance, acceptance_id)
        form.version.data = str(acceptance.version)
        return _render_record(acceptance, 409, conclude=form)
    except DomainError as exc:
        db.session.rollback()
        acceptance = db.session.get(Acceptance, acceptance_id)
        # the refusals belong to the record's fields: shown next to them in the edit form
        edit_form = _edit_form(acceptance) if acceptance.state == AcceptanceState.DRAFT else None
        _show_problems(edit_form or form, exc)
        sent = {"conclude": form}
        if edit_form is not None:
            sent["edit"] = edit_form
        return _render_record(acceptance, 400, **sent)
    db.session.commit()
    return _to_record(acceptance_id, _("The acceptance has been concluded; the record is now locked."))


@bp.route("/<int:acceptance_id>/publish", methods=["POST"])
@require(Action.ACCEPTANCE_EDIT)
def publish(acceptance_id):
    acceptance = _editable(acceptance_id)
    form = _with_rows(PublishForm())
    status = 400
    if form.validate_on_submit():
        response, status = _save(form, acceptance_id, lambda: services.publish_acceptance(
            acceptance, form.published_on.data, current_actor(), expected_version=form.loaded_version()),
            lambda _r: _to_record(acceptance_id, _("The acceptance result has been published.")))
        if response is not None:
            return response
    return _render_record(db.session.get(Acceptance, acceptance_id), status, publish=form)


# --- the publishable result (no personal data) ------------------------------------------------------

def _result_body(acceptance: Acceptance) -> Markup:
    return Markup(render_template("acceptance/_result_body.html", acceptance=acceptance, contract=acceptance.contract,
                           result=services.public_result(acceptance)))


def _pdf_response(acceptance: Acceptance):
    from contracts.pdf import html_to_pdf
    from contracts.rendering import page_html

    title = _("Acceptance result of contract %(number)s", number=acceptance.contract.number)
    rendered = html_to_pdf(page_html(_result_body(acceptance), title), _print_css(),
                           services.public_result(acceptance), title)
    name = f"{acceptance.contract.number}-acceptance.pdf"
    return download(rendered.pdf, name)


@bp.route("/<int:acceptance_id>/result")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def result(acceptance_id):
    acceptance = _viewable(acceptance_id)
    return render_template("acceptance/result.html", acceptance=acceptance, body=_result_body(acceptance),
                           public=False)


@bp.route("/<int:acceptance_id>/result.pdf")
@require(Action.CONTRACT_VIEW, Action.OWN_CONTRACTS_VIEW)
def result_pdf(acceptance_id):
    acceptance = _viewable(acceptance_id)
    if acceptance.state == AcceptanceState.DRAFT:
        abort(404)  # nothing to publish before the conclusion
    return _pdf_response(acceptance)


def _published(acceptance_id: int) -> Acceptance:
    acceptance = db.session.get(Acceptance, acceptance_id)
    if acceptance is None or acceptance.state != AcceptanceState.PUBLISHED:
        abort(404)
    return acceptance


@bp.route("/public/<int:acceptance_id>")
def public(acceptance_id):
    """Open to anyone, like /contracts/verify: only a published result, and only what the result shows."""
    acceptance = _published(acceptance_id)
    return render_template("acceptance/result.html", acceptance=acceptance, body=_result_body(acceptance),
                           public=True)


@bp.route("/public/<int:acceptance_id>.pdf")
def public_pdf(acceptance_id):
    return _pdf_response(_published(acceptance_id))
