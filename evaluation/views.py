"""Evaluation sheets: open, assign evaluators, declare, score, finalize, correct, download (DOMAIN §6)."""


from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from contracts.models import Contract, IssuedDocument
from contracts.services import can_view_contract
from evaluation import services
from evaluation.forms import ActionForm, AssignForm, CorrectForm, DeclareForm, OpenSheetForm, OverrideForm, ScoreForm
from evaluation.models import ComputedScore, Indicator, Sheet, SheetEvaluator, SheetKind, SheetState, Stage
from procurement.audit.services import append_audit
from procurement.auth.models import User
from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action, Role
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.forms import choices, show_domain_error
from procurement.rules.clock import beijing_today
from procurement.web import download

bp = Blueprint("evaluation", __name__, url_prefix="/evaluation")

SEE = (Action.EVALUATION_VIEW, Action.SHEET_SCORE)


@bp.app_context_processor
def _home_helpers() -> dict:
    """``assigned_sheets(user)`` for the home page's evaluator card (the sheets being scored by the user)."""
    return {"assigned_sheets": services.sheets_assigned_to}


def _sheet_or_404(sheet_id: int) -> Sheet:
    sheet = db.get_or_404(Sheet, sheet_id)
    if not services.can_view_sheet(current_user, sheet):
        abort(404)  # URL tampering: a sheet one may not see does not exist
    return sheet


def _enum(enum_class, value):
    try:
        return enum_class(value) if value else None
    except ValueError:
        return None


@bp.route("/")
@require(*SEE)
def index():
    query = services.sheet_query(current_user)
    state, stage = _enum(SheetState, request.args.get("state")), _enum(Stage, request.args.get("stage"))
    if state is not None:
        query = query.where(Sheet.state == state)
    if stage is not None:
        query = query.where(Sheet.stage == stage)
    page = db.paginate(query.order_by(Sheet.id.desc()), per_page=50, error_out=False)
    return render_template("evaluation/index.html", page=page, state=state, stage=stage, states=list(SheetState),
                           stages=list(Stage))


def card(contract) -> dict | None:
    """The "Evaluation" card of a contract page: its sheets the user may see, and the open link for officers."""
    sheets = [s for s in services.sheets_of_contract(contract) if services.can_view_sheet(current_user, s)]
    can_open = services.can_manage_contract(current_user, contract) and contract.state.value in services.RUNNING
    if not sheets and not can_open:
        return None
    return {"sheets": sheets, "can_open": can_open}


@bp.route("/contract/<int:contract_id>/new", methods=["GET", "POST"])
@require(Action.EVALUATION_MANAGE)
def new(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    if not can_view_contract(current_user, contract):
        abort(404)
    if not services.can_manage_contract(current_user, contract):
        abort(403)
    form = OpenSheetForm()
    if request.method == "GET":
        form.period_start.data, form.period_end.data = contract.term_start, contract.term_end
    if form.validate_on_submit():
        try:
            sheet = services.open_sheet(contract, _enum(Stage, form.stage.data), _enum(SheetKind, form.kind.data),
                                        form.period_start.data, form.period_end.data, current_actor(),
                                        agency=form.agency.data)
        except services.SheetInvalid as exc:
            db.session.rollback()
            for message in _put_problems(form, exc).values():
                flash(message, "danger")
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The evaluation sheet is open: assign its evaluators."), "success")
            return redirect(url_for(".sheet", sheet_id=sheet.id))
    status = 400 if form.is_submitted() else 200
    return render_template("evaluation/new.html", contract=contract, form=form), status


def _put_problems(form, exc: services.SheetInvalid) -> dict:
    """Put each problem next to its field of ``form``; return those that belong to no field of it."""
    rest = {}
    for field, message in exc.problems:
        if field in form:
            form[field].errors = list(form[field].errors) + [message]
        else:
            rest.setdefault(field, message)
    return rest


def _candidates(sheet: Sheet) -> list[User]:
    contract = sheet.contract
    query = select(User).where(User.active.is_(True))
    if sheet.kind == SheetKind.SELF:
        query = query.where(User.organization_id == contract.supplier_id)
    elif sheet.kind == SheetKind.PURCHASER:
        query = query.where(User.role == Role.OFFICER)
    else:
        query = query.where(User.role == Role.EVALUATOR)
    taken = {e.user_id for e in sheet.evaluators}
    return [u for u in db.session.execute(query.order_by(User.display_name)).scalars()
            if u.id not in taken and services.eligible_evaluator_problem(sheet, u) is None]


def _render(sheet: Sheet, status: int = 200, assign_form=None, declare_form=None, correct_form=None,
            override_form=None, score_errors=None, score_values=None, problems=None):
    user = current_user
    manage = services.can_manage(user, sheet)
    me = services.evaluator_of(user, sheet)
    open_states = (SheetState.DRAFT, SheetState.SCORING)
    if manage and sheet.state in open_states and assign_form is None:
        assign_form = AssignForm(formdata=None)
    if assign_form is not None:
        assign_form.user.choices = choices([("", "")] + [(str(u.id), f"{u.display_name}（{u.username}）")
                                                         for u in _candidates(sheet)])
    if me is not None and me.declared_at is None and declare_form is None:
        declare_form = DeclareForm(formdata=None)
    if manage and sheet.state == SheetState.FINALIZED and correct_form is None:
        correct_form = CorrectForm(formdata=None)
    scores_of = {e.id: {s.indicator_id: s for s in e.scores} for e in services.visible_evaluators(user, sheet)}
    mine = {s.indicator_id: s for s in me.scores} if me is not None else {}
    return render_template(
        "evaluation/sheet.html", sheet=sheet, contract=sheet.contract, manage=manage, me=me,
        can_score=services.can_score(user, sheet) and me is not None and me.declared_at is not None
        and me.submitted_at is None,
        indicators=sheet.scheme.indicators, leaves={i.id for i in services.leaves(sheet.scheme)},
        computed={c.indicator_id: c for c in sheet.computed}, results={r.indicator_id: r for r in sheet.results},
        visible=services.visible_evaluators(user, sheet), scores_of=scores_of, mine=mine,
        progress=list(zip(sheet.evaluators, services.progress(sheet), strict=True))
        if (manage or user.may(Action.EVALUATION_VIEW)) else None,
        contract_link=can_view_contract(user, sheet.contract),
        all_submitted=services.all_submitted(sheet), declaration=services.declaration_text(sheet),
        assign_form=assign_form, declare_form=declare_form, correct_form=correct_form,
        override_form=override_form or OverrideForm(formdata=None), action_form=ActionForm(formdata=None),
        score_form=ScoreForm(formdata=None), score_errors=score_errors or {}, score_values=score_values or {},
        problems=problems or {}, not_computable=services.not_computable,
        corrections=list(db.session.execute(select(Sheet).where(Sheet.contract_id == sheet.contract_id,
                                                                Sheet.stage == sheet.stage, Sheet.kind == sheet.kind)
                                            .order_by(Sheet.number)).scalars()),
    ), status


@bp.route("/<int:sheet_id>")
@require(*SEE)
def sheet(sheet_id: int):
    return _render(_sheet_or_404(sheet_id))


@bp.route("/<int:sheet_id>/pdf")
@require(*SEE)
def pdf(sheet_id: int):
    """The finalized sheet's PDF as it was issued (the bytes whose SHA-256 the verify page knows); audited."""
    record = _sheet_or_404(sheet_id)
    document = db.session.get(IssuedDocument, record.document_id) if record.document_id else None
    if document is None:
        abort(404)
    append_audit(current_actor(), "sheet.download", record, detail={"sha256": document.sha256})
    db.session.commit()
    name = f"{document.reference}.pdf"
    return download(document.pdf, name)


def _manage_or_403(sheet: Sheet) -> None:
    if not services.can_manage(current_user, sheet):
        abort(403)


def _done(sheet: Sheet, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".sheet", sheet_id=sheet.id))


@bp.route("/<int:sheet_id>/assign", methods=["POST"])
@require(Action.EVALUATION_MANAGE)
def assign(sheet_id: int):
    sheet = _sheet_or_404(sheet_id)
    _manage_or_403(sheet)
    form = AssignForm()
    form.user.choices = None
    form.user.validate_choice = False
    if not form.validate_on_submit():
        return _render(sheet, 400, assign_form=form)
    user = db.session.get(User, int(form.user.data)) if (form.user.data or "").isdigit() else None
    if user is None:
        form.user.errors = [_("Choose the evaluator.")]
        return _render(sheet, 400, assign_form=form)
    return _attempt(sheet, form, "assign_form", lambda: services.assign_evaluator(sheet, user, current_actor()),
                    _("The evaluator is assigned."))


@bp.route("/<int:sheet_id>/evaluators/<int:evaluator_id>/remove", methods=["POST"])
@require(Action.EVALUATION_MANAGE)
def remove(sheet_id: int, evaluator_id: int):
    sheet = _sheet_or_404(sheet_id)
    _manage_or_403(sheet)
    evaluator = db.get_or_404(SheetEvaluator, evaluator_id)
    if evaluator.sheet_id != sheet.id or not ActionForm().validate_on_submit():
        abort(400 if evaluator.sheet_id == sheet.id else 404)
    return _simple(sheet, lambda: services.remove_evaluator(evaluator, current_actor()),
                   _("The evaluator is removed."))


def _attempt(sheet: Sheet, form, form_name: str, call, message: str):
    """Run one service call for ``form`` and commit, then back to the sheet with ``message``; a refusal is
    rolled back and the sheet shown again with every problem next to its field of the form (400)."""
    try:
        call()
    except AccessDenied:
        raise
    except services.SheetInvalid as exc:
        db.session.rollback()
        _put_problems(form, exc)
        return _render(sheet, 400, **{form_name: form})
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return _render(sheet, 400, **{form_name: form})
    return _done(sheet, message)


def _simple(sheet: Sheet, call, message: str):
    try:
        call()
    except AccessDenied:
        raise
    except services.SheetInvalid as exc:
        db.session.rollback()
        return _render(sheet, 400, problems=dict(exc.problems))
    except DomainError as exc:
        db.session.rollback()
        return _render(sheet, 400, problems={exc.field or "sheet": exc.message})
    return _done(sheet, message)


@bp.route("/<int:sheet_id>/start", methods=["POST"])
@require(Action.EVALUATION_MANAGE)
def start(sheet_id: int):
    sheet = _sheet_or_404(sheet_id)
    _manage_or_403(sheet)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _simple(sheet, lambda: services.start_scoring(sheet, current_actor(), beijing_today()),
                   _("Scoring has started; the evaluators can now declare and score."))


@bp.route("/<int:sheet_id>/declare", methods=["POST"])
@require(Action.SHEET_SCORE)
def declare(sheet_id: int):
    sheet = _sheet_or_404(sheet_id)
    me = services.evaluator_of(current_user, sheet)
    if me is None:
        abort(403)
    form = DeclareForm()
    if not form.validate_on_submit():
        return _render(sheet, 400, declare_form=form)
    return _attempt(sheet, form, "declare_form", lambda: services.declare(me, bool(form.accepted.data), current_actor()),
                    _("Your declaration is recorded; you can now score."))


@bp.route("/<int:sheet_id>/scores", methods=["POST"])
@require(Action.SHEET_SCORE)
def scores(sheet_id: int):
    sheet = _sheet_or_404(sheet_id)
    me = services.evaluator_of(current_user, sheet)
    if me is None:
        abort(403)
    if not ScoreForm().validate_on_submit():
        abort(400)
    entries, values = {}, {}
    for leaf in services.manual_leaves(sheet.scheme):
        points = request.form.get(f"points_{leaf.id}", "")[:32]
        comment = request.form.get(f"comment_{leaf.id}", "")[:4000]
        values[leaf.id] = (points, comment)
        if points.strip() or comment.strip():
            entries[leaf.id] = (points, comment)
    submit = "submit" in request.form
    try:
        services.save_scores(me, entries, current_actor())
        if submit:
            services.submit_scores(me, current_actor())
    except AccessDenied:
        raise
    except services.SheetInvalid as exc:
        db.session.rollback()
        return _render(sheet, 400, score_errors=dict(exc.problems), score_values=values)
    except DomainError as exc:
        db.session.rollback()
        return _render(sheet, 400, score_errors={exc.field or "scores": exc.message}, score_values=values)
    return _done(sheet, _("Your scores are submitted.") if submit else _("Your scores are saved."))


@bp.route("/<int:sheet_id>/override", methods=["POST"])
@require(Action.EVALUATION_MANAGE)
def override(sheet_id: int):
    sheet = _sheet_or_404(sheet_id)
    _manage_or_403(sheet)
    form = OverrideForm()
    if not form.validate_on_submit():
        abort(400)
    if not (form.indicator.data or "").isdigit():
        abort(400)
    computed = db.session.execute(select(ComputedScore).where(
        ComputedScore.sheet_id == sheet.id, ComputedScore.indicator_id == int(form.indicator.data))).scalar()
    if computed is None:
        abort(404)
    return _attempt(sheet, form, "override_form", lambda: services.override(computed, form.points.data, form.reason.data, current_actor()),
                    _("The override is recorded."))


@bp.route("/<int:sheet_id>/finalize", methods=["POST"])
@require(Action.EVALUATION_MANAGE)
def finalize(sheet_id: int):
    sheet = _sheet_or_404(sheet_id)
    _manage_or_403(sheet)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _simple(sheet, lambda: services.finalize(sheet, current_actor(), beijing_today()),
                   _("The sheet is finalized and its PDF issued."))


@bp.route("/<int:sheet_id>/correct", methods=["POST"])
@require(Action.EVALUATION_MANAGE)
def correct(sheet_id: int):
    sheet = _sheet_or_404(sheet_id)
    _manage_or_403(sheet)
    form = CorrectForm()
    if not form.validate_on_submit():
        return _render(sheet, 400, correct_form=form)
    try:
        new_sheet = services.correct(sheet, form.reason.data, current_actor())
    except AccessDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        if isinstance(exc, services.SheetInvalid):
            _put_problems(form, exc)
        else:
            show_domain_error(form, exc)
        return _render(sheet, 400, correct_form=form)
    db.session.commit()
    flash(_("A correction of the sheet is open; the evaluators' scores were copied as drafts."), "success")
    return redirect(url_for(".sheet", sheet_id=new_sheet.id))


__all__ = ["bp", "card", "Indicator"]
