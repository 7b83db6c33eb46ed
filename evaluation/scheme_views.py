"""Evaluation schemes: browse the published ones; the system admin clones, edits and publishes."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evaluation import scheme_services as services
from evaluation.models import Rule, Scheme, SchemeState
from evaluation.scheme_forms import EMPTY_ROWS, CloneForm, DraftForm, bands_text, read_rows
from evaluation.schemes import validate, walk
from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.forms import show_domain_error

bp = Blueprint("schemes", __name__, url_prefix="/evaluation/schemes")


def _visible(scheme: Scheme) -> bool:
    return scheme.state != SchemeState.DRAFT or current_user.may(Action.SCHEME_EDIT)


def _load(scheme_id: int) -> Scheme:
    scheme = db.get_or_404(Scheme, scheme_id)
    if not _visible(scheme):
        abort(404)
    return scheme


def _expected_version() -> int | None:
    try:
        value = int(request.form.get("version", ""))
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None


def _table(scheme: Scheme) -> list[dict]:
    """The tree as rows for the read-only table."""
    rows = []
    for node, level, _parent in walk(services.tree(scheme)):
        rows.append({"code": node.code, "name": node.name, "level": level, "max_points": node.max_points,
                     "rule": Rule(node.rule).label if node.rule else "", "computed": bool(node.rule)
                     and node.rule != Rule.MANUAL, "evidence": node.evidence or "", "bands": bands_text(node.bands),
                     "leaf": node.is_leaf})
    return rows


def _problems_by_row(form: DraftForm, problems: list[tuple[str, str]]) -> tuple[dict[int, list[str]], list[str]]:
    """``validate``'s ``(code, message)`` put on the first editor row with that code; the rest are the scheme's."""
    index_of: dict[str, int] = {}
    for index, entry in enumerate(form.rows):
        code = (entry.form.code.data or "").strip()
        if code and not entry.form.delete.data:
            index_of.setdefault(code, index)
    by_row: dict[int, list[str]] = {}
    general: list[str] = []
    for code, message in problems:
        if code and code in index_of:
            by_row.setdefault(index_of[code], []).append(message)
        else:
            general.append(message)
    return by_row, general


def _draft_form(scheme: Scheme) -> DraftForm:
    if request.method == "POST":
        form = DraftForm()
    else:
        rows = [{"code": i.code, "name": i.name, "max_points": str(i.max_points), "rule": i.rule.value if i.rule else "",
                 "evidence": i.evidence or "", "bands": bands_text(i.bands), "delete": False}
                for i in scheme.indicators]
        form = DraftForm(formdata=None, data={"name": scheme.name, "description": scheme.description or "",
                                              "version": str(scheme.version), "rows": rows})
    for _index in range(EMPTY_ROWS):
        if len(form.rows) < form.rows.max_entries:
            form.rows.append_entry()
    return form


def _edit_page(scheme: Scheme, form: DraftForm, problems, status: int = 200, conflict: str | None = None,
               fields_invalid: bool = False):
    by_row, general = _problems_by_row(form, problems)
    if fields_invalid:
        general.insert(0, _("Please correct the fields marked in red."))
    return render_template("schemes/edit.html", scheme=scheme, form=form, row_problems=by_row,
                           general_problems=general, publishable=not validate(services.tree(scheme)),
                           conflict=conflict), status


@bp.route("/")
@require(Action.SCHEME_VIEW)
def index():
    shown = [s for s in services.schemes() if _visible(s)]
    codes: dict[str, list[Scheme]] = {}
    for scheme in shown:
        codes.setdefault(scheme.code, []).append(scheme)
    return render_template("schemes/index.html", codes=codes, SchemeState=SchemeState,
                           drafts={code: services.draft_of(code) for code in codes})


@bp.route("/<int:scheme_id>")
@require(Action.SCHEME_VIEW)
def detail(scheme_id):
    return _detail_page(_load(scheme_id))


def _detail_page(scheme: Scheme, status: int = 200):
    problems = validate(services.tree(scheme)) if scheme.state == SchemeState.DRAFT else []
    return render_template("schemes/detail.html", scheme=scheme, rows=_table(scheme), problems=problems,
                           SchemeState=SchemeState, clone_form=CloneForm(formdata=None),
                           draft=services.draft_of(scheme.code)), status


@bp.route("/<int:scheme_id>/clone", methods=["POST"])
@require(Action.SCHEME_EDIT)
def clone(scheme_id):
    scheme = _load(scheme_id)
    form = CloneForm()
    if not form.validate():
        for errors in form.errors.values():
            for error in errors if isinstance(errors, list) else [errors]:
                flash(str(error), "danger")
        return _detail_page(scheme, 400)
    had_draft = services.draft_of((form.code.data or "").strip() or scheme.code) is not None
    try:
        draft = services.clone_scheme(scheme, current_actor(), name=form.name.data, code=form.code.data)
    except AccessDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _detail_page(db.get_or_404(Scheme, scheme_id), exc.status)
    db.session.commit()
    if had_draft and draft.code == scheme.code:
        flash(_("Version %(n)s is already a draft; go on editing it.", n=draft.number), "info")
    else:
        flash(_("Version %(n)s of “%(name)s” has been started as a draft.", n=draft.number, name=draft.name),
              "success")
    return redirect(url_for("schemes.edit", draft_id=draft.id))


@bp.route("/<int:draft_id>/edit", methods=["GET", "POST"])
@require(Action.SCHEME_EDIT)
def edit(draft_id):
    scheme = db.get_or_404(Scheme, draft_id)
    if scheme.state != SchemeState.DRAFT:
        message = _("Version %(n)s of this scheme is %(state)s and cannot be changed; clone it to make a new draft.",
                    n=scheme.number, state=scheme.state.label)
        flash(message, "warning" if request.method == "GET" else "danger")
        if request.method == "GET":
            return redirect(url_for("schemes.detail", scheme_id=scheme.id))
        return _detail_page(scheme, 400)
    form = _draft_form(scheme)
    if not form.is_submitted():
        return _edit_page(scheme, form, validate(services.tree(scheme)))
    form_ok = form.validate()
    nodes, rows_ok = read_rows(form)
    if not form_ok or not rows_ok:
        return _edit_page(scheme, form, validate(nodes) if rows_ok else [], 400, fields_invalid=True)
    try:
        problems = services.save_draft(scheme, nodes, form.name.data, form.description.data, current_actor(),
                                       form.loaded_version())
    except ConflictError as exc:
        db.session.rollback()
        scheme = db.get_or_404(Scheme, draft_id)
        form.version.data = str(scheme.version)  # saving again replaces the other person's draft knowingly
        return _edit_page(scheme, form, [], exc.status, conflict=exc.message)
    except services.SchemeProblems as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _edit_page(db.get_or_404(Scheme, draft_id), form, exc.problems, 400)
    except AccessDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return _edit_page(db.get_or_404(Scheme, draft_id), form, [], exc.status)
    db.session.commit()
    if problems:
        flash(_("The draft has been saved. Correct the problems shown before publishing it."), "warning")
    else:
        flash(_("The draft has been saved; it can be published."), "success")
    return redirect(url_for("schemes.edit", draft_id=scheme.id))


@bp.route("/<int:draft_id>/publish", methods=["POST"])
@require(Action.SCHEME_EDIT)
def publish(draft_id):
    scheme = db.get_or_404(Scheme, draft_id)
    try:
        services.publish(scheme, current_actor(), _expected_version())
    except AccessDenied:
        raise
    except services.SchemeProblems as exc:
        db.session.rollback()
        flash(_("Not published: %(message)s", message=exc.message), "danger")
        for code, message in exc.problems:
            flash(f"{code} {message}".strip(), "danger")
        return redirect(url_for("schemes.edit", draft_id=draft_id))
    except DomainError as exc:
        db.session.rollback()
        flash(_("Not published: %(message)s", message=exc.message), "danger")
        scheme = db.get_or_404(Scheme, draft_id)
        endpoint = "schemes.edit" if scheme.state == SchemeState.DRAFT else "schemes.detail"
        return redirect(url_for(endpoint, **({"draft_id": draft_id} if endpoint == "schemes.edit"
                                             else {"scheme_id": draft_id})))
    db.session.commit()
    flash(_("Version %(n)s of “%(name)s” is published; new evaluation sheets use it. Sheets made from earlier "
            "versions keep theirs.", n=scheme.number, name=scheme.name), "success")
    return redirect(url_for("schemes.detail", scheme_id=scheme.id))
