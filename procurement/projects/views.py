"""Project pages: list, create and edit, content, method, stage transitions, budget lines."""

from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from procurement.audit.labels import ACTION_LABELS
from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.catalog.models import CatalogItem
from procurement.errors import ConflictError, DomainError
from procurement.extensions import db
from procurement.forms import form_status, show_domain_error
from procurement.orgs.forms import region_label
from procurement.orgs.models import OrgKind
from procurement.projects import services
from procurement.projects.forms import (
    BudgetFilterForm,
    BudgetLineForm,
    LineForm,
    MethodForm,
    ProjectFilterForm,
    ProjectForm,
    SplitApprovalForm,
    TargetForm,
    TransitionForm,
    parse_id,
)
from procurement.projects.models import BudgetLine, FundingSource, PerformanceTarget, Project, ProjectLine, TargetDirection
from procurement.rules.clock import beijing_today
from procurement.rules.procurement import Method, SingleSourceGround, method_options
from procurement.rules.stages import STAGE_ORDER, ProjectStage

bp = Blueprint("projects", __name__, url_prefix="/projects")

#: What each audited change of a project is called on its timeline: the audit log's own labels.
TIMELINE_LABELS = ACTION_LABELS

#: Names of the keys of audit details shown on the timeline.
DETAIL_LABELS = {
    "code": _l("Code"), "title": _l("Title"), "fiscal_year": _l("Fiscal year"), "budget_line": _l("Budget line"),
    "description": _l("Description"), "expected_beneficiaries": _l("Expected beneficiaries"),
    "service_start": _l("Service starts on"), "service_end": _l("Service ends on"),
    "service_place": _l("Place of service"), "item": _l("Service item"), "quantity": _l("Quantity"),
    "unit_price": _l("Unit price"), "amount": _l("Amount"), "indicator": _l("Indicator"),
    "direction": _l("Direction"), "value": _l("Target value"), "unit": _l("Unit"), "method": _l("Method"),
    "total": _l("Total"), "approval_ref": _l("Approval document number"),
    "single_source_ground": _l("Single-source ground"), "ref": _l("Document number"), "on": _l("Date"),
    "name": _l("Name"), "price": _l("Price"), "total_score": _l("Total score"), "issued_on": _l("Documents issued on"),
    "deadline": _l("Response deadline"), "start": _l("From"), "end": _l("To"), "decided_on": _l("Decided on"),
    "notice_on": _l("Notice on"),
}
HIDDEN_DETAIL_KEYS = {"supplier"}  # ids; the name is shown next to them
MONEY_KEYS = {"unit_price", "amount", "total", "price"}


def _detail_value(key: str, value) -> str:
    """An audited value as a person reads it: labels for codes, yuan for amounts."""
    try:
        if key == "method":
            return Method(value).label
        if key == "direction":
            return TargetDirection(value).symbol
        if key == "single_source_ground":
            return SingleSourceGround(value).label
        if key in MONEY_KEYS:
            return f"¥{Decimal(str(value)):,.2f}"
    except (ValueError, ArithmeticError):
        pass
    return str(value)


def _timeline_rows(entries) -> list[tuple[services.TimelineEntry, list[tuple[str, str]]]]:
    rows = []
    for entry in entries:
        details = [(str(DETAIL_LABELS.get(key, key)), _detail_value(key, value)) for key, value in entry.detail.items()
                   if key not in HIDDEN_DETAIL_KEYS and value not in (None, "", "None")]
        rows.append((entry, details))
    return rows


def _int_arg(name, low=1, high=2**31 - 1):
    value = request.args.get(name, type=int)
    return value if value is not None and low <= value <= high else None


# --- loading and access ---------------------------------------------------------------------

def _viewable(project_id) -> Project:
    project = db.get_or_404(Project, project_id)
    if not services.can_view_project(current_user, project):
        abort(403)
    return project


def _editable(project_id) -> Project:
    project = _viewable(project_id)
    if not services.can_edit_project(current_user, project):
        abort(403)
    return project


def _not_draft(project: Project):
    """A redirect to the project page when its content can no longer change, else None."""
    if project.stage in services.EDITABLE:
        return None
    flash(_("This cannot be changed while the project is “%(stage)s”.", stage=project.stage.label), "warning")
    return redirect(url_for("projects.detail", project_id=project.id))


# --- the list -------------------------------------------------------------------------------

@bp.route("/")
@require(Action.PROJECT_VIEW)
def index():
    regions = services.user_regions(current_user)
    by_code = {r.code: r for r in regions}
    years = services.project_years(current_user)
    form = ProjectFilterForm(request.args, years=years, regions=regions[1:], region_label=region_label)
    args = request.args
    stage, method, sort = args.get("stage", ""), args.get("method", ""), args.get("sort", "")
    flt = services.ProjectFilter(
        q=(args.get("q") or "").strip()[:64],
        stage=ProjectStage(stage) if stage in ProjectStage._value2member_map_ else None,
        year=_int_arg("year", 2000, 2100),
        method=Method(method) if method in Method._value2member_map_ else None,
        region=by_code.get(args.get("region", "")),
        sort=sort if sort in services.PROJECT_SORTS else "-changed",
    )
    page = services.project_page(current_user, flt, _int_arg("page") or 1, current_app.config["PAGE_SIZE"])
    return render_template("projects/index.html", page=page, form=form, flt=flt, can_create=_can_create())


def _can_create() -> bool:
    return current_user.may(Action.PROJECT_EDIT) and current_user.organization.kind == OrgKind.BUREAU


# --- create and edit ------------------------------------------------------------------------

def _budget_choices(bureau) -> list[tuple[str, str, int]]:
    """The bureau's budget lines with what is still free on each, newest year first."""
    lines = services.budget_lines_for(bureau)
    usage = services.budget_usage(line.id for line in lines)
    return [(str(line.id), _("%(name)s · remaining %(remaining)s of %(amount)s", name=line.name,
                             remaining=f"¥{line.amount - usage[line.id].committed:,.2f}", amount=f"¥{line.amount:,.2f}"),
             line.fiscal_year)
            for line in lines]


def _project_form(bureau, project: Project | None = None) -> ProjectForm:
    form = ProjectForm(budget_lines=_budget_choices(bureau))
    if not form.is_submitted():
        if project is None:
            form.fiscal_year.data = beijing_today().year
        else:
            form.version.data = str(project.version)
            for key in ("title", "fiscal_year", "description", "expected_beneficiaries", "service_start",
                        "service_end", "service_place"):
                getattr(form, key).data = getattr(project, key)
            form.budget_line.data = str(project.budget_line_id) if project.budget_line_id else ""
    return form


def _project_data(form: ProjectForm) -> dict | None:
    """The form as the service wants it; None (with the error on the field) for a budget line that does not exist."""
    line = None
    if form.budget_line.data:
        line = db.session.get(BudgetLine, parse_id(form.budget_line.data))
        if line is None:
            form.budget_line.errors = list(form.budget_line.errors) + [_("Choose one of the budget lines.")]
            return None
    return {
        "title": form.title.data.strip(), "fiscal_year": form.fiscal_year.data, "budget_line": line,
        "description": (form.description.data or "").strip() or None,
        "expected_beneficiaries": form.expected_beneficiaries.data, "service_start": form.service_start.data,
        "service_end": form.service_end.data, "service_place": (form.service_place.data or "").strip() or None,
    }


@bp.route("/new", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def new():
    if not _can_create():
        abort(403)
    form = _project_form(current_user.organization)
    if form.validate_on_submit():
        data = _project_data(form)
        if data is not None:
            try:
                project = services.create_project(data, current_actor())
            except DomainError as exc:
                db.session.rollback()
                show_domain_error(form, exc)
            else:
                db.session.commit()
                flash(_("The project %(code)s has been created. Add its service items and targets.", code=project.code),
                      "success")
                return redirect(url_for("projects.detail", project_id=project.id))
    return render_template("projects/form.html", form=form, project=None), form_status(form)


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def edit(project_id):
    project = _editable(project_id)
    if (response := _not_draft(project)) is not None:
        return response
    form = _project_form(project.bureau, project)
    conflict = None
    if form.validate_on_submit():
        data = _project_data(form)
        if data is not None:
            try:
                services.update_project(project, data, current_actor(), expected_version=form.loaded_version())
            except ConflictError as exc:
                db.session.rollback()
                project = db.session.get(Project, project_id)
                conflict = _conflict(exc, project, services.project_values(project), services.project_data_values(data),
                                     services.PROJECT_FIELDS, form)
            except DomainError as exc:
                db.session.rollback()
                show_domain_error(form, exc)
            else:
                db.session.commit()
                flash(_("The project %(code)s has been saved.", code=project.code), "success")
                return redirect(url_for("projects.detail", project_id=project.id))
    status = 409 if conflict else form_status(form)
    return render_template("projects/form.html", form=form, project=project, conflict=conflict), status


def _conflict(exc: ConflictError, obj, current: dict, mine: dict, fields, form) -> dict:
    """What the other person saved next to what the user typed; the form keeps the user's input."""
    change = services.last_change(obj)
    who = ""
    if change is not None and change.user_id:
        from procurement.audit.queries import display_names

        who = display_names([change.user_id]).get(change.user_id, change.username or "")
    # The next save is made against the version now stored.
    form.version.data = str(obj.version)
    return {
        "message": exc.message, "by": who, "at": obj.updated_at,
        "fields": [(form[f].label.text if f in form else f, current[f], mine[f]) for f in fields if current[f] != mine[f]],
    }


def _shown(value) -> str:
    """A saved or typed value of a step form as a person compares it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(getattr(value, "label", value))


def stale_save(exc: ConflictError, project_id: int, form, saved: dict, typed: dict | None = None):
    """Roll back a save made against an old version of the project; returns the project as now saved and the conflict.

    ``saved`` maps each form field to a function reading its saved value from the project; ``typed``
    overrides how the user's value of a field is shown (e.g. a supplier id as its name).  The form keeps
    what the user typed and now carries the stored version, so saving again knowingly overwrites.
    """
    db.session.rollback()
    project = db.session.get(Project, project_id)
    typed = typed or {}
    current = {f: _shown(read(project)) for f, read in saved.items()}
    mine = {f: _shown(typed[f]() if f in typed else form[f].data) for f in saved}
    return project, _conflict(exc, project, current, mine, list(saved), form)


# --- the project page -----------------------------------------------------------------------

def _progress(project: Project) -> tuple[int, ProjectStage | None]:
    """How far along STAGE_ORDER the project got, and where an ended purchase stopped."""
    if project.stage in STAGE_ORDER:
        return STAGE_ORDER.index(project.stage), None
    stopped = services.ended_from(project) or ProjectStage.DRAFT
    return STAGE_ORDER.index(stopped) if stopped in STAGE_ORDER else 0, stopped


def _render_detail(project: Project, status: int = 200, refusal=None, reason_errors=None, reasons=None,
                   open_target=None):
    today = beijing_today()
    can_edit = services.can_edit_project(current_user, project)
    line = project.budget_line
    budget = None
    if line is not None:
        used = services.committed(line)
        budget = {"line": line, "committed": used, "remaining": line.amount - used}
    reached, stopped = _progress(project)
    contract = None
    if project.stage in STAGE_ORDER[STAGE_ORDER.index(ProjectStage.AWARDED):]:
        from contracts.services import main_contract  # the contracts area builds on projects, not the reverse

        contract = {"main": main_contract(project), "may_generate": project.stage == ProjectStage.AWARDED
                    and can_edit and current_user.may(Action.CONTRACT_EDIT)}
    return render_template(
        "projects/detail.html", project=project, today=today, can_edit=can_edit, contract=contract,
        draft=project.stage in services.EDITABLE, budget=budget, stage_order=STAGE_ORDER, reached=reached,
        stopped=stopped, options=services.readiness(project, today), refusal=refusal,
        reason_errors=reason_errors or {}, reasons=reasons or {}, open_target=open_target,
        timeline=_timeline_rows(services.timeline(project)), timeline_labels=TIMELINE_LABELS, award_bid=next(
            (b for b in project.bids if b.supplier_id == project.award_supplier_id), None),
        Method=Method, ProjectStage=ProjectStage,
    ), status


@bp.route("/<int:project_id>")
@require(Action.PROJECT_VIEW)
def detail(project_id):
    return _render_detail(_viewable(project_id))


@bp.route("/<int:project_id>/stage", methods=["POST"])
@require(Action.PROJECT_EDIT)
def transition(project_id):
    project = _editable(project_id)
    form = TransitionForm()
    raw_target = (form.target.data or "").strip()
    target = ProjectStage(raw_target) if raw_target in ProjectStage._value2member_map_ else None
    reason = (form.reason.data or "").strip()
    key = target.value if target else raw_target
    if not form.validate_on_submit():
        return _render_detail(project, 400, reason_errors={key: form.reason.errors}, reasons={key: reason},
                              open_target=key)
    if target is None:
        flash(_("Choose one of the steps offered on the project page."), "danger")
        return _render_detail(project, 400)
    try:
        services.change_stage(project, target, current_actor(), beijing_today(), reason=reason,
                              expected_version=form.loaded_version())
    except services.TransitionRefused as exc:
        db.session.rollback()
        return _render_detail(db.session.get(Project, project_id), 400, refusal=exc, reasons={key: reason},
                              open_target=key)
    except ConflictError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return _render_detail(db.session.get(Project, project_id), 409, reasons={key: reason}, open_target=key)
    except DomainError as exc:
        db.session.rollback()
        project = db.session.get(Project, project_id)
        if exc.field == "reason":
            return _render_detail(project, 400, reason_errors={key: [exc.message]}, reasons={key: reason},
                                  open_target=key)
        flash(exc.message, "danger")
        return _render_detail(project, 400)
    db.session.commit()
    flash(_("The project is now “%(stage)s”.", stage=target.label), "success")
    return redirect(url_for("projects.detail", project_id=project.id))


# --- content: service items and performance targets ------------------------------------------

@bp.route("/<int:project_id>/lines/new", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def line_add(project_id):
    project = _editable(project_id)
    if (response := _not_draft(project)) is not None:
        return response
    items = services.adopted_items(project)
    form = LineForm(items=items)
    if form.validate_on_submit():
        item = db.session.get(CatalogItem, parse_id(form.item.data))
        if item is None:
            form.item.errors = list(form.item.errors) + [_("Choose a service item of the county's list.")]
        else:
            price = form.unit_price.data if form.unit_price.data is not None else item.reference_price
            try:
                services.add_line(project, item, form.quantity.data, price, current_actor())
            except DomainError as exc:
                db.session.rollback()
                show_domain_error(form, exc)
            else:
                db.session.commit()
                flash(_("%(code)s %(name)s has been added.", code=item.code, name=item.name), "success")
                return redirect(url_for("projects.detail", project_id=project.id, _anchor="content"))
    return render_template("projects/line_form.html", form=form, project=project, items=items), form_status(form)


def _remove_from_project(project_id: int, model, row_id: int, remove, done_message, anchor: str):
    """Take a line or target out of a draft: it stays on record, the service audits it."""
    project = _editable(project_id)
    row = db.get_or_404(model, row_id)
    if row.project_id != project.id:
        abort(404)
    try:
        remove(row, current_actor())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(done_message(row), "success")
    return redirect(url_for("projects.detail", project_id=project_id, _anchor=anchor))


@bp.route("/<int:project_id>/lines/<int:line_id>/remove", methods=["POST"])
@require(Action.PROJECT_EDIT)
def line_remove(project_id, line_id):
    return _remove_from_project(
        project_id, ProjectLine, line_id, services.remove_line,
        lambda line: _("%(code)s has been removed from the project; it stays on record.", code=line.item.code),
        "content")


@bp.route("/<int:project_id>/targets/new", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def target_add(project_id):
    project = _editable(project_id)
    if (response := _not_draft(project)) is not None:
        return response
    form = TargetForm()
    if form.validate_on_submit():
        try:
            services.add_target(project, form.indicator.data, TargetDirection(form.direction.data),
                                form.target_value.data, form.unit.data, current_actor())
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The target “%(indicator)s” has been added.", indicator=form.indicator.data.strip()), "success")
            return redirect(url_for("projects.detail", project_id=project.id, _anchor="targets"))
    return render_template("projects/target_form.html", form=form, project=project,
                           suggestions=services.indicator_suggestions(project)), form_status(form)


@bp.route("/<int:project_id>/targets/<int:target_id>/remove", methods=["POST"])
@require(Action.PROJECT_EDIT)
def target_remove(project_id, target_id):
    return _remove_from_project(
        project_id, PerformanceTarget, target_id, services.remove_target,
        lambda target: _("The target “%(indicator)s” has been removed; it stays on record.", indicator=target.indicator),
        "targets")


# --- the procurement method -----------------------------------------------------------------

@bp.route("/<int:project_id>/method", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def method(project_id):
    project = _editable(project_id)
    if (response := _not_draft(project)) is not None:
        return response
    form = MethodForm()
    conflict = None
    if not form.is_submitted():
        form.version.data = str(project.version)
        form.method.data = (project.method or Method.SIMPLIFIED).value
        form.method_approval_by.data = project.method_approval_by
        form.method_approval_ref.data = project.method_approval_ref
        form.method_approval_on.data = project.method_approval_on
        form.single_source_ground.data = project.single_source_ground.value if project.single_source_ground else ""
        form.single_source_reason.data = project.single_source_reason
    if form.validate_on_submit():
        data = {
            "method": Method(form.method.data), "today": beijing_today(),
            "method_approval_by": (form.method_approval_by.data or "").strip() or None,
            "method_approval_ref": (form.method_approval_ref.data or "").strip() or None,
            "method_approval_on": form.method_approval_on.data,
            "single_source_ground": SingleSourceGround(form.single_source_ground.data)
            if form.single_source_ground.data else None,
            "single_source_reason": (form.single_source_reason.data or "").strip() or None,
        }
        try:
            services.set_method(project, data, current_actor(), expected_version=form.loaded_version())
        except ConflictError as exc:
            project, conflict = stale_save(exc, project_id, form, METHOD_SAVED, typed={
                "method": lambda: data["method"], "single_source_ground": lambda: data["single_source_ground"]})
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The procurement method is now “%(method)s”.", method=data["method"].label), "success")
            return redirect(url_for("projects.detail", project_id=project.id, _anchor="method"))
    return render_template("projects/method.html", form=form, project=project, conflict=conflict,
                           options=method_options(project.total, services.thresholds()),
                           thresholds=services.thresholds(), splits=services.split_results(project)), \
        409 if conflict else form_status(form)


#: the method form's fields and how to read each from the saved project (for a conflict)
METHOD_SAVED = {
    "method": lambda p: p.method,
    "method_approval_by": lambda p: p.method_approval_by,
    "method_approval_ref": lambda p: p.method_approval_ref,
    "method_approval_on": lambda p: p.method_approval_on,
    "single_source_ground": lambda p: p.single_source_ground,
    "single_source_reason": lambda p: p.single_source_reason,
}
SPLIT_SAVED = {
    "split_approval_ref": lambda p: p.split_approval_ref,
    "split_approval_on": lambda p: p.split_approval_on,
    "split_approval_note": lambda p: p.split_approval_note,
}


@bp.route("/<int:project_id>/split-approval", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def split_approval(project_id):
    project = _editable(project_id)
    if (response := _not_draft(project)) is not None:
        return response
    form = SplitApprovalForm()
    conflict = None
    if not form.is_submitted():
        form.version.data = str(project.version)
        form.split_approval_ref.data = project.split_approval_ref
        form.split_approval_on.data = project.split_approval_on
        form.split_approval_note.data = project.split_approval_note
    if form.validate_on_submit():
        try:
            services.record_split_approval(project, form.split_approval_ref.data, form.split_approval_on.data,
                                           (form.split_approval_note.data or "").strip() or None, current_actor(),
                                           beijing_today(), expected_version=form.loaded_version())
        except ConflictError as exc:
            project, conflict = stale_save(exc, project_id, form, SPLIT_SAVED)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The budget adjustment or approval has been recorded."), "success")
            return redirect(url_for("projects.method", project_id=project.id))
    return render_template("projects/split_approval.html", form=form, project=project, conflict=conflict,
                           splits=services.split_results(project)), 409 if conflict else form_status(form)


# --- budget lines ---------------------------------------------------------------------------

@bp.route("/budgets")
@require(Action.BUDGET_VIEW)
def budgets():
    years = services.budget_years(current_user)
    year = _int_arg("year", 2000, 2100)
    form = BudgetFilterForm(request.args, years=years)
    page = db.paginate(services.budget_line_query(current_user, year), page=_int_arg("page") or 1,
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    usage = services.budget_usage(line.id for line in page.items)
    rows = [{"line": line, "usage": usage[line.id], "remaining": line.amount - usage[line.id].committed,
             "can_edit": services.can_manage_budget(current_user, line.bureau)} for line in page.items]
    return render_template("projects/budgets.html", page=page, rows=rows, form=form, year=year,
                           can_create=_can_create_budget())


def _can_create_budget() -> bool:
    bureau = current_user.organization
    return bureau.kind == OrgKind.BUREAU and services.can_manage_budget(current_user, bureau)


def _budget_data(form: BudgetLineForm) -> dict:
    return {
        "fiscal_year": form.fiscal_year.data, "funding_source": FundingSource(form.funding_source.data),
        "name": form.name.data.strip(), "amount": form.amount.data, "approval_ref": form.approval_ref.data.strip(),
        "approved_on": form.approved_on.data, "note": (form.note.data or "").strip() or None,
    }


@bp.route("/budgets/new", methods=["GET", "POST"])
@require(Action.BUDGET_EDIT)
def budget_new():
    if not _can_create_budget():
        abort(403)
    form = BudgetLineForm()
    if not form.is_submitted():
        form.fiscal_year.data = beijing_today().year
    if form.validate_on_submit():
        try:
            line = services.save_budget_line(current_user.organization, _budget_data(form), current_actor())
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The budget line “%(name)s” has been saved.", name=line.name), "success")
            return redirect(url_for("projects.budgets", year=line.fiscal_year))
    return render_template("projects/budget_form.html", form=form, line=None), form_status(form)


@bp.route("/budgets/<int:line_id>/edit", methods=["GET", "POST"])
@require(Action.BUDGET_EDIT)
def budget_edit(line_id):
    line = db.get_or_404(BudgetLine, line_id)
    if not services.can_manage_budget(current_user, line.bureau):
        abort(403)
    form = BudgetLineForm()
    if not form.is_submitted():
        form.version.data = str(line.version)
        for key in services.BUDGET_FIELDS:
            value = getattr(line, key)
            getattr(form, key).data = value.value if key == "funding_source" else value
    conflict = None
    if form.validate_on_submit():
        data = _budget_data(form)
        try:
            services.save_budget_line(line.bureau, data, current_actor(), line=line,
                                      expected_version=form.loaded_version())
        except ConflictError as exc:
            db.session.rollback()
            line = db.session.get(BudgetLine, line_id)
            conflict = _conflict(exc, line, services.budget_values(line), services.budget_data_values(data),
                                 services.BUDGET_FIELDS, form)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The budget line “%(name)s” has been saved.", name=line.name), "success")
            return redirect(url_for("projects.budgets", year=line.fiscal_year))
    usage = services.budget_usage([line.id])[line.id]
    status = 409 if conflict else form_status(form)
    return render_template("projects/budget_form.html", form=form, line=line, usage=usage, conflict=conflict), status


from procurement.projects import calendar_views, steps  # noqa: E402,F401 - routes on the same blueprint
