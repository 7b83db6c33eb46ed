"""Administration split three ways (三员分立): accounts, roles and policies, settings.

Accounts are the system administrator's (Action.USER_MANAGE); roles, locks,
second factors and sessions the security administrator's (Action.ROLE_ASSIGN);
each settings group belongs to one of them.  No view here is open to business
roles, and no account is ever deleted.
"""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from procurement.admin import services
from procurement.admin.forms import (
    AccountCreateForm,
    AccountEditForm,
    AccountFilterForm,
    PasswordResetForm,
    RoleForm,
    field_name,
    organization_choices,
    role_choices,
    settings_form,
    settings_values,
)
from procurement.auth.models import User
from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import MFA_ROLES, Action, Role
from procurement.auth.services import password_policy
from procurement.errors import ConflictError, DomainError
from procurement.extensions import db
from procurement.forms import show_domain_error
from procurement.orgs.models import Organization
from procurement.rules.clock import utcnow
from procurement.settings import Setting, SettingGroup, all_settings, change_settings, demo_mode_on, settings_of

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _int_arg(name):
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value < 2**31 else None




def _account_list(template: str, endpoint: str, **extra):
    """The account list shared by both administrators, with search, filters and pages."""
    orgs = services.organizations()
    form = AccountFilterForm(request.args, orgs=orgs)
    now = utcnow()
    flt = services.AccountFilter(
        q=(request.args.get("q") or "").strip()[:64],
        organization_id=_int_arg("organization"),
        role=request.args.get("role", "") if request.args.get("role", "") in {"none", *(r.value for r in Role)} else "",
        status=request.args.get("status", "") if request.args.get("status") in ("active", "disabled") else "",
        locked=request.args.get("locked") in ("y", "1", "on"),
    )
    page = db.paginate(services.account_query(flt, now), page=_int_arg("page") or 1,
                       per_page=current_app.config["PAGE_SIZE"], error_out=False, count=True)
    return render_template(template, form=form, page=page, flt=flt, now=now, endpoint=endpoint,
                           is_locked=services.is_locked, MFA_ROLES=MFA_ROLES, **extra)


def _load_org(org_id) -> Organization | None:
    return db.session.get(Organization, org_id) if org_id else None


# --- the system administrator: accounts ----------------------------------------------------

@bp.route("/users")
@require(Action.USER_MANAGE)
def users():
    return _account_list("admin/users.html", "admin.users")


@bp.route("/users/new", methods=["GET", "POST"])
@require(Action.USER_MANAGE)
def user_new():
    form = AccountCreateForm()
    form.organization.choices = organization_choices([o for o in services.organizations() if o.active],
                                                     _("Choose an organization"))
    status = 200
    if form.validate_on_submit():
        try:
            user = services.create_account(
                username=form.username.data, display_name=form.display_name.data,
                organization=_load_org(form.organization.data), phone=form.phone.data, email=form.email.data,
                password=form.password.data, actor=current_actor())
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            status = exc.status
        else:
            db.session.commit()
            flash(_("The account %(name)s has been created. It has no role yet: the security administrator assigns one "
                    "before it can be used.", name=user.username), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    elif form.is_submitted():
        status = 400
    return render_template("admin/user_form.html", form=form, account=None, policy=password_policy()), status


def _edit_form(account: User) -> AccountEditForm:
    orgs = [o for o in services.organizations() if o.active or o.id == account.organization_id]
    if request.method == "POST":
        form = AccountEditForm()
    else:
        form = AccountEditForm(formdata=None, data={
            "display_name": account.display_name, "organization": account.organization_id,
            "phone": account.phone, "email": account.email,
            "version": str(account.version), "fingerprint": services.account_fingerprint(account)})
    form.organization.choices = organization_choices(orgs, _("Choose an organization"))
    return form


def _account_page(account: User, form, status=200, conflict=None):
    return render_template("admin/user_form.html", form=form, account=account, conflict=conflict,
                           now=utcnow(), is_locked=services.is_locked,
                           can_disable=services.can_disable(current_user, account),
                           can_reset_password=services.can_reset_password(current_user, account)), status


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@require(Action.USER_MANAGE)
def user_edit(user_id):
    account = db.get_or_404(User, user_id)
    form = _edit_form(account)
    if not form.is_submitted():
        return _account_page(account, form)
    if not form.validate():
        return _account_page(account, form, 400)
    org = _load_org(form.organization.data)
    mine = {"display_name": (form.display_name.data or "").strip(), "organization": org.name if org else None,
            "phone": (form.phone.data or "").strip() or None, "email": (form.email.data or "").strip() or None}
    try:
        changed = services.update_account(
            account, display_name=form.display_name.data, organization=org, phone=form.phone.data,
            email=form.email.data, actor=current_actor(), expected_version=form.loaded_version(),
            expected_fingerprint=form.fingerprint.data or None)
    except ConflictError as exc:
        db.session.rollback()
        account = db.session.get(User, user_id)
        current = services.account_values(account)
        record = services.last_change(account)
        conflict = {
            "message": exc.message,
            "by": record.username if record else "",
            "at": record.at if record else None,
            "fields": [(f, current[f], mine[f]) for f in services.ACCOUNT_FIELDS if current[f] != mine[f]],
        }
        # The user's input stays in the form; the next save is made against the current values.
        form.version.data = str(account.version)
        form.fingerprint.data = services.account_fingerprint(account)
        return _account_page(account, form, 409, conflict)
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return _account_page(db.session.get(User, user_id), form, exc.status)
    db.session.commit()
    flash(_("The account %(name)s has been saved.", name=account.username) if changed else _("Nothing was changed."),
          "success" if changed else "info")
    return redirect(url_for("admin.user_edit", user_id=account.id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@require(Action.USER_MANAGE)
def user_active(user_id):
    account = db.get_or_404(User, user_id)
    active = request.form.get("active") == "1"
    try:
        changed = services.set_account_active(account, active, current_actor(), utcnow())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        if changed:
            flash(_("The account %(name)s is enabled again.", name=account.username) if active else
                  _("The account %(name)s has been disabled; its sessions have ended.", name=account.username), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@require(Action.USER_MANAGE)
def user_password(user_id):
    account = db.get_or_404(User, user_id)
    form = PasswordResetForm()
    status = 200
    if not services.can_reset_password(current_user, account):
        flash(_("Change your own password with “Change password”; it asks for the current one."), "warning")
        return redirect(url_for("auth.change_password"))
    if form.validate_on_submit():
        try:
            services.reset_account_password(account, form.password.data, current_actor(), utcnow())
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            status = exc.status
        else:
            db.session.commit()
            flash(_("The password of %(name)s has been reset. The person must change it at the next login; "
                    "all of the account's sessions have ended.", name=account.username), "success")
            return redirect(url_for("admin.user_edit", user_id=account.id))
    elif form.is_submitted():
        status = 400
    return render_template("admin/user_password.html", form=form, account=account, policy=password_policy()), status


# --- the security administrator: roles, locks, second factors, sessions -------------------

@bp.route("/roles")
@require(Action.ROLE_ASSIGN)
def roles():
    return _account_list("admin/roles.html", "admin.roles", waiting=services.count_without_role())


def _role_page(account: User, form, status=200):
    now = utcnow()
    return render_template("admin/role_account.html", account=account, form=form, now=now,
                           locked=services.is_locked(account, now), is_locked=services.is_locked, MFA_ROLES=MFA_ROLES,
                           sessions=services.open_sessions(account, now),
                           allowed=services.allowed_roles(account.organization.kind),
                           may_act=services.can_administer_security(current_user, account)), status


@bp.route("/roles/<int:user_id>", methods=["GET", "POST"])
@require(Action.ROLE_ASSIGN)
def role_account(user_id):
    account = db.get_or_404(User, user_id)
    form = RoleForm() if request.method == "POST" else RoleForm(formdata=None, data={
        "role": account.role.value if account.role else ""})
    form.role.choices = role_choices(list(Role), _("No role (cannot log in)"))
    if not form.is_submitted():
        return _role_page(account, form)
    if not form.validate():
        return _role_page(account, form, 400)
    role = Role(form.role.data) if form.role.data else None
    try:
        changed = services.assign_role(account, role, current_actor(), utcnow())
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return _role_page(db.session.get(User, user_id), form, exc.status)
    db.session.commit()
    if changed:
        flash(_("%(name)s now has the role “%(role)s”; the account's sessions have ended.", name=account.username,
                role=role.label) if role else
              _("The role of %(name)s has been taken away; the account can no longer log in.", name=account.username),
              "success")
    else:
        flash(_("Nothing was changed."), "info")
    return redirect(url_for("admin.role_account", user_id=user_id))


def _security_action(user_id, service, success_message):
    account = db.get_or_404(User, user_id)
    try:
        result = service(account, current_actor(), utcnow())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(success_message(account, result), "success")
    return redirect(url_for("admin.role_account", user_id=user_id))


@bp.route("/roles/<int:user_id>/unlock", methods=["POST"])
@require(Action.ROLE_ASSIGN)
def role_unlock(user_id):
    return _security_action(user_id, services.unlock_account,
                            lambda a, _r: _("The account %(name)s is unlocked.", name=a.username))


@bp.route("/roles/<int:user_id>/second-factor-reset", methods=["POST"])
@require(Action.ROLE_ASSIGN)
def role_totp_reset(user_id):
    return _security_action(user_id, services.reset_second_factor,
                            lambda a, _r: _("The second factor of %(name)s has been reset: the person sets up the "
                                            "authenticator app again at the next login.", name=a.username))


@bp.route("/roles/<int:user_id>/sessions-revoke", methods=["POST"])
@require(Action.ROLE_ASSIGN)
def role_sessions_revoke(user_id):
    return _security_action(user_id, services.end_all_sessions,
                            lambda a, n: _("%(n)s sessions of %(name)s have ended.", n=n, name=a.username))


# --- settings ------------------------------------------------------------------------------

def _settings_page(group: SettingGroup, endpoint: str):
    definitions = settings_of(group)
    values = all_settings()
    submitted = request.method == "POST"
    form = settings_form(definitions, values, submitted)
    status = 200
    if submitted:
        if form.validate():
            try:
                changed = change_settings(settings_values(form, definitions), current_actor(), utcnow())
            except DomainError as exc:
                db.session.rollback()
                show_domain_error(form, exc, {d.key: field_name(d.key) for d in definitions})
                status = exc.status
            else:
                db.session.commit()
                flash(_("%(n)s settings changed.", n=len(changed)) if changed else _("Nothing was changed."),
                      "success" if changed else "info")
                return redirect(url_for(endpoint))
        else:
            status = 400
    rows = {row.key: row for row in db.session.execute(
        select(Setting).where(Setting.key.in_([d.key for d in definitions]))).scalars()}
    editors = {u.id: u for u in db.session.execute(
        select(User).where(User.id.in_({r.updated_by_id for r in rows.values() if r.updated_by_id}))).scalars()}
    return render_template("admin/settings.html", form=form, definitions=definitions, values=values, rows=rows,
                           editors=editors, group=group, endpoint=endpoint, field_name=field_name), status


@bp.route("/settings/system", methods=["GET", "POST"])
@require(Action.SETTINGS_SYSTEM)
def system_settings():
    return _settings_page(SettingGroup.SYSTEM, "admin.system_settings")


@bp.route("/settings/security", methods=["GET", "POST"])
@require(Action.SETTINGS_SECURITY)
def security_settings():
    if request.method == "GET" and not all_settings()["mfa.enforced"] and not demo_mode_on():
        flash(_("The second factor is switched off in the settings, but outside demo mode it is required all the same."),
              "warning")
    return _settings_page(SettingGroup.SECURITY, "admin.security_settings")
