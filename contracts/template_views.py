"""Contract templates for the system administrator, and the public "verify a document" page."""

import json

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from contracts import services
from contracts.models import ContractTemplate, TemplateState, TemplateVersion
from contracts.rendering import FieldType
from contracts.template_forms import VerifyForm, VersionForm
from contracts.views import bp
from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.forms import show_domain_error

#: The preview is the administrator's own HTML: shown in a sandboxed frame that may run nothing and fetch nothing.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def _schema_rows(version: TemplateVersion) -> list[dict]:
    """The schema as table rows; the fields of a list's rows follow it, named ``list.field``."""
    try:
        placeholders = services.version_schema(version)
    except ValueError:
        return []

    def sample(value) -> str:
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    rows = []
    for p in placeholders:
        rows.append({"name": p.name, "type": p.type.value, "required": p.required, "description": p.description,
                     "sample": sample(p.sample), "sub": False})
        if p.type == FieldType.LIST:
            rows += [{"name": f"{p.name}.{f.name}", "type": f.type.value, "required": f.required,
                      "description": f.description, "sample": "", "sub": True} for f in p.fields]
    return rows


def _version_page(template: str, version: TemplateVersion, status: int = 200, **extra):
    return render_template(template, version=version, preview=services.preview_template(version),
                           schema_rows=_schema_rows(version), TemplateState=TemplateState, **extra), status


def _expected_version() -> int | None:
    try:
        value = int(request.form.get("version", ""))
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None


@bp.route("/templates")
@require(Action.TEMPLATE_EDIT)
def templates():
    return render_template("contracts/templates/index.html", templates=services.templates(),
                           TemplateState=TemplateState)


@bp.route("/templates/<int:template_id>/draft", methods=["POST"])
@require(Action.TEMPLATE_EDIT)
def template_draft(template_id):
    template = db.get_or_404(ContractTemplate, template_id)
    had_draft = any(v.state == TemplateState.DRAFT for v in template.versions)
    draft = services.start_draft(template, current_actor())
    db.session.commit()
    if had_draft:
        flash(_("Version %(n)s is already a draft; go on editing it.", n=draft.number), "info")
    else:
        flash(_("Version %(n)s has been started as a draft, copied from the latest version.", n=draft.number),
              "success")
    return redirect(url_for("contracts.version_edit", version_id=draft.id))


@bp.route("/templates/versions/<int:version_id>")
@require(Action.TEMPLATE_EDIT)
def version_view(version_id):
    return _version_page("contracts/templates/version.html", db.get_or_404(TemplateVersion, version_id))


def _draft_form(version: TemplateVersion) -> VersionForm:
    if request.method == "POST":
        return VersionForm()
    return VersionForm(formdata=None, data={
        "body": version.body, "stylesheet": version.stylesheet,
        "schema": json.dumps(version.schema, ensure_ascii=False, indent=1),
        "note": version.note or "", "version": str(version.version)})


@bp.route("/templates/versions/<int:version_id>/edit", methods=["GET", "POST"])
@require(Action.TEMPLATE_EDIT)
def version_edit(version_id):
    version = db.get_or_404(TemplateVersion, version_id)
    form = _draft_form(version)
    if version.read_only:
        if request.method == "GET":
            flash(_("Version %(n)s is %(state)s and cannot be changed; start a new draft to change the template.",
                    n=version.number, state=version.state.label), "warning")
            return redirect(url_for("contracts.version_view", version_id=version.id))
        try:  # the service refuses it, with its own message
            services.save_draft(version, form.body.data or "", form.stylesheet.data or "", form.schema.data or "",
                                form.note.data, current_actor(), form.loaded_version())
        except AccessDenied:
            raise
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
            return _version_page("contracts/templates/version.html", db.get_or_404(TemplateVersion, version_id),
                                 exc.status)
    if not form.is_submitted():
        return _version_page("contracts/templates/edit.html", version, form=form)
    if not form.validate():
        return _version_page("contracts/templates/edit.html", version, 400, form=form)
    try:
        services.save_draft(version, form.body.data, form.stylesheet.data or "", form.schema.data, form.note.data,
                            current_actor(), form.loaded_version())
    except ConflictError as exc:
        db.session.rollback()
        version = db.get_or_404(TemplateVersion, version_id)
        # The user's text stays in the form; saving again overwrites the other person's change knowingly.
        form.version.data = str(version.version)
        return _version_page("contracts/templates/edit.html", version, exc.status, form=form, conflict=exc.message)
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return _version_page("contracts/templates/edit.html", db.get_or_404(TemplateVersion, version_id),
                             exc.status, form=form)
    db.session.commit()
    flash(_("The draft has been saved. Check the preview and the report below before you publish it."), "success")
    return redirect(url_for("contracts.version_edit", version_id=version.id))


@bp.route("/templates/versions/<int:version_id>/publish", methods=["POST"])
@require(Action.TEMPLATE_EDIT)
def version_publish(version_id):
    version = db.get_or_404(TemplateVersion, version_id)
    try:
        services.publish_version(version, current_actor(), _expected_version())
    except AccessDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(_("Not published: %(message)s", message=exc.message), "danger")
        version = db.get_or_404(TemplateVersion, version_id)
        endpoint = "contracts.version_view" if version.read_only else "contracts.version_edit"
        return redirect(url_for(endpoint, version_id=version_id))
    db.session.commit()
    flash(_("Version %(n)s of “%(name)s” is published: new contracts are generated from it. Contracts made from "
            "earlier versions keep theirs.", n=version.number, name=version.template.name), "success")
    return redirect(url_for("contracts.version_view", version_id=version.id))


@bp.route("/templates/versions/<int:version_id>/preview.html")
@require(Action.TEMPLATE_EDIT)
def version_preview_frame(version_id):
    version = db.get_or_404(TemplateVersion, version_id)
    preview = services.preview_template(version)
    if preview.error:
        html = render_template("contracts/templates/preview_error.html", message=preview.error)
    else:
        html = preview.html
    response = make_response(html)
    response.mimetype = "text/html"
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


# --- the public page: is this PDF one we issued? -------------------------------------------------------

@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """Open to anyone (a bank, an auditor, the supplier): no log-in, nothing shown but the document's own facts."""
    form = VerifyForm()
    result, status = None, 200
    if form.validate_on_submit():
        limit = current_app.config["MAX_UPLOAD_BYTES"]
        data = form.document.data.stream.read(limit + 1)
        if not data:
            form.document.errors = [_("The file is empty.")]
        elif len(data) > limit:
            form.document.errors = [_("The file is larger than %(n)s MB.", n=max(1, limit // (1024 * 1024)))]
        else:
            result = services.verify_document(data)
            services.log_verification(result, current_actor())
            db.session.commit()
    if form.is_submitted() and form.errors:
        status = 400
    return render_template("contracts/verify.html", form=form, result=result), status
