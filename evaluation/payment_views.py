"""Payments: what each instalment pays after the evaluation, what is due, overdue and withheld; finance records."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from contracts.models import Contract, ContractState
from evaluation import payments as services
from evaluation.payment import EFFECT_LABELS
from evaluation.payment_forms import GRADE_FIELDS, PaymentForm, TermsForm
from evaluation.scoring import GRADES
from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.extensions import db
from procurement.forms import run_service, show_problems
from procurement.rules.clock import beijing_today

bp = Blueprint("payments", __name__, url_prefix="/payments")


def _int_arg(name):
    value = request.args.get(name, type=int)
    return value if value is not None and 1 <= value <= 2**31 - 1 else None


def _viewable(contract_id: int) -> Contract:
    contract = db.get_or_404(Contract, contract_id)
    if not services.can_view_payments(current_user, contract):
        abort(404)
    return contract


@bp.route("")
@require(Action.PAYMENT_VIEW)
def index():
    """Instalments due, overdue or withheld across the user's region, with totals."""
    today = beijing_today()
    state = request.args.get("state") or None
    if state not in (services.DUE, services.OVERDUE, services.WITHHELD):
        state = None
    purchaser_id = _int_arg("purchaser")
    rows, totals = services.overview(current_user, today, state, purchaser_id)
    return render_template("payments/index.html", rows=rows, totals=totals, today=today, state=state,
                           purchaser_id=purchaser_id, purchasers=services.purchasers(current_user),
                           states=[(s, services.state_label(s)) for s in
                                   (services.DUE, services.OVERDUE, services.WITHHELD)])


def _payment_form(contract, lines, form=None):
    if form is None:
        form = PaymentForm(formdata=None)
        form.paid_on.data = beijing_today()
    form.instalment.choices = [(str(line.instalment.id), f"{line.instalment.position} · {line.condition_label}")
                               for line in lines if line.state in (services.DUE, services.OVERDUE)]
    return form


def _terms_form(contract, form=None):
    if form is None:
        form = TermsForm(formdata=None)
        terms = services.terms_of(contract)
        form.version.data = str(terms.version) if terms is not None else ""
        for grade, effect in services.bands_of(contract).items():
            if grade in GRADE_FIELDS:
                form[GRADE_FIELDS[grade]].data = effect
        form.note.data = terms.note if terms is not None else None
    return form


def _render(contract, payment_form=None, terms_form=None, status=200):
    today = beijing_today()
    lines = services.instalment_lines(contract, today)
    can_record = services.can_record_payment(current_user, contract) and contract.state != ContractState.DRAFT
    can_terms = services.can_edit_terms(current_user, contract) and not services.terms_locked(contract)
    bands = services.bands_of(contract)
    return render_template(
        "payments/contract.html", contract=contract, lines=lines, today=today,
        payments=services.payments_of(contract), positions={i.id: i.position for i in contract.instalments},
        paid_total=services.paid_on_contract(contract),
        form=_payment_form(contract, lines, payment_form) if can_record else None,
        terms_form=_terms_form(contract, terms_form) if can_terms else None,
        bands=[(grade, _(EFFECT_LABELS[bands[grade]])) for grade in GRADES if grade in bands],
    ), status


@bp.route("/contracts/<int:contract_id>", methods=["GET", "POST"])
@require(Action.PAYMENT_VIEW)
def contract(contract_id):
    contract = _viewable(contract_id)
    if request.method == "GET":
        return _render(contract)
    if not services.can_record_payment(current_user, contract):
        abort(403)
    today = beijing_today()
    form = _payment_form(contract, services.instalment_lines(contract, today), PaymentForm())
    if not form.validate_on_submit():
        return _render(contract, payment_form=form, status=400)
    instalment = next((i for i in contract.instalments if str(i.id) == (form.instalment.data or "")), None)
    if instalment is None:
        form.instalment.errors = list(form.instalment.errors) + [_("Choose an instalment that is due.")]
        return _render(contract, payment_form=form, status=400)
    _result, status = run_service(form, lambda: services.record_payment(
        instalment, form.paid_on.data, form.amount.data, form.voucher.data, form.note.data, current_actor(), today))
    if status is not None:
        return _render(db.get_or_404(Contract, contract_id), payment_form=form, status=status)
    flash(_("The payment has been recorded."), "success")
    return redirect(url_for("payments.contract", contract_id=contract_id, _anchor="payments"))


@bp.route("/contracts/<int:contract_id>/terms", methods=["POST"])
@require(Action.PAYMENT_VIEW)
def terms(contract_id):
    contract = _viewable(contract_id)
    if not services.can_edit_terms(current_user, contract):
        abort(403)
    form = TermsForm()
    if not form.validate_on_submit():
        return _render(contract, terms_form=form, status=400)
    _result, status = run_service(
        form, lambda: services.set_payment_terms(contract, form.bands(), form.note.data, current_actor(),
                                                 expected_version=form.loaded_version()),
        current_version=lambda: _terms_version(contract_id),
        show=lambda f, exc: show_problems(f, exc, GRADE_FIELDS))
    if status is not None:
        return _render(db.get_or_404(Contract, contract_id), terms_form=form, status=status)
    flash(_("The payment rule has been saved."), "success")
    return redirect(url_for("payments.contract", contract_id=contract_id, _anchor="terms"))


def _terms_version(contract_id: int) -> str:
    terms = services.terms_of(db.get_or_404(Contract, contract_id))
    return str(terms.version) if terms is not None else ""


def contract_card(contract) -> dict | None:
    """The "Payments" card of a contract page: None for a draft or a user who may not see payments."""
    if contract.state == ContractState.DRAFT or not services.can_view_payments(current_user, contract):
        return None
    today = beijing_today()
    return {"lines": services.instalment_lines(contract, today), "today": today}
