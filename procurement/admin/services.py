"""Account administration split three ways (三员分立, DOMAIN §1 and §9).

The system administrator manages accounts (create, edit, disable, reset the
password) but never permissions; the security administrator assigns roles,
unlocks accounts, resets second factors and ends sessions.  Every change is
audited.  Services flush but never commit; the caller commits once.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor, append_audit
from procurement.auth import services as auth_services
from procurement.auth.models import User, UserSession
from procurement.auth.roles import ADMIN_ROLES, Action, Role
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.orgs.models import Organization, OrgKind

USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{3,32}$")

#: Account fields the system administrator edits (also the order of the conflict comparison).
ACCOUNT_FIELDS = ("display_name", "organization", "phone", "email")

#: The organization kind each business role belongs to.  Administrators may sit in a
#: civil-affairs or finance bureau, never in a supplier or an evaluation agency.
ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind]] = {
    Role.OFFICER: frozenset({OrgKind.BUREAU}),
    Role.SUPPLIER: frozenset({OrgKind.SUPPLIER}),
    Role.FINANCE: frozenset({OrgKind.FINANCE}),
    Role.EVALUATOR: frozenset({OrgKind.AGENCY}),
    Role.SYSADMIN: frozenset({OrgKind.BUREAU, OrgKind.FINANCE}),
    Role.SECADMIN: frozenset({OrgKind.BUREAU, OrgKind.FINANCE}),
    Role.AUDITADMIN: frozenset({OrgKind.BUREAU, OrgKind.FINANCE}),
}


# --- pure rules ----------------------------------------------------------------------------

def check_username(username: str) -> str:
    """The user name, stripped.

    Raises:
        DomainError: not 3–32 letters, digits, dots, underscores or hyphens.
    """
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise DomainError(_("A user name has 3 to 32 characters: letters, digits, “.”, “_” or “-”."), field="username")
    return username


def role_refusal(role: Role | None, org_kind: OrgKind) -> str | None:
    """Why a user of an organization of ``org_kind`` may not hold ``role``, or None."""
    if role is None or org_kind in ROLE_ORG_KINDS[role]:
        return None
    if role.is_admin:
        return _("An administrator role may not be given to a user of a supplier or an evaluation agency "
                 "(三员分立: administrators belong to the bureau).")
    if org_kind == OrgKind.SUPPLIER:
        return _("A user of a supplier organization may only have the supplier role.")
    if role == Role.SUPPLIER:
        return _("The supplier role is only for users of a supplier organization.")
    if role == Role.FINANCE:
        return _("The finance role is only for users of a finance bureau.")
    if role == Role.OFFICER:
        return _("The procurement officer role is only for users of a civil-affairs bureau.")
    return _("The evaluator role is only for users of an evaluation agency.")


def allowed_roles(org_kind: OrgKind) -> list[Role]:
    return [role for role in Role if org_kind in ROLE_ORG_KINDS[role]]


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


# --- predicates ----------------------------------------------------------------------------

def can_manage_accounts(user) -> bool:
    return user.may(Action.USER_MANAGE)


def can_disable(user, account: User) -> bool:
    """A system administrator may disable any active account except his own."""
    return can_manage_accounts(user) and account.active and account.id != user.id


def can_reset_password(user, account: User) -> bool:
    """Not one's own: that goes through “change password”, which asks for the current one."""
    return can_manage_accounts(user) and account.id != user.id


def can_administer_security(user, account: User) -> bool:
    """The security administrator acts on other people's accounts only."""
    return user.may(Action.ROLE_ASSIGN) and account.id != user.id


def _ensure(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        raise AccessDenied(message or _("You are not allowed to do this."))


# --- queries -------------------------------------------------------------------------------

@dataclass
class AccountFilter:
    q: str = ""
    organization_id: int | None = None
    role: str = ""  # a Role value, "none" (no role yet) or "" (any)
    status: str = ""  # "active", "disabled" or ""
    locked: bool = False


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def account_query(flt: AccountFilter, now: datetime):
    query = select(User).join(User.organization)
    if flt.q:
        pattern = _like(flt.q)
        query = query.where(or_(User.username.ilike(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\")))
    if flt.organization_id:
        query = query.where(User.organization_id == flt.organization_id)
    if flt.role == "none":
        query = query.where(User.role.is_(None))
    elif flt.role in {r.value for r in Role}:
        query = query.where(User.role == Role(flt.role))
    if flt.status == "active":
        query = query.where(User.active.is_(True))
    elif flt.status == "disabled":
        query = query.where(User.active.is_(False))
    if flt.locked:
        query = query.where(User.locked_until > now)
    return query.order_by(User.username)


def organizations() -> list[Organization]:
    """Every organization, grouped by kind, then by region and name."""
    order = {kind: i for i, kind in enumerate(OrgKind)}
    orgs = db.session.execute(select(Organization)).scalars().all()
    return sorted(orgs, key=lambda o: (order[o.kind], o.region.code, o.name))


def count_without_role() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.role.is_(None), User.active.is_(True)))


def open_sessions(user: User, now: datetime) -> list[UserSession]:
    """The user's sessions that still work (not revoked, not timed out)."""
    sessions = db.session.execute(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())
    ).scalars().all()
    return [s for s in sessions if auth_services.session_problem(s, now) is None]


def last_change(user: User) -> AuditRecord | None:
    """The last account edit, for the conflict message (who changed it, when)."""
    return db.session.execute(
        select(AuditRecord).where(AuditRecord.object_type == "user", AuditRecord.object_id == str(user.id),
                                  AuditRecord.action == "user.update")
        .order_by(AuditRecord.seq.desc()).limit(1)
    ).scalar_one_or_none()


# --- the system administrator: accounts ----------------------------------------------------

def account_values(user: User) -> dict:
    """The editable values of an account as plain data (conflicts and audit)."""
    return {"display_name": user.display_name, "organization": user.organization.name if user.organization else None,
            "phone": user.phone, "email": user.email}


def account_fingerprint(user: User) -> str:
    """A short hash of the editable values the form was loaded with.

    The version column also moves when the user logs in or is locked; a save is a
    conflict only if the editable values themselves changed since the form was loaded.
    """
    raw = json.dumps([user.display_name, user.organization_id, user.phone, user.email], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _organization(org: Organization | None, current: Organization | None = None) -> Organization:
    if org is None:
        raise DomainError(_("Choose an organization."), field="organization")
    if not org.active and org is not current:
        raise DomainError(_("The organization “%(name)s” is no longer active.", name=org.name), field="organization")
    return org


def create_account(*, username: str, display_name: str, organization: Organization | None, phone: str | None,
                   email: str | None, password: str, actor: Actor) -> User:
    """A new account with an initial password and no role: the security administrator assigns it.

    Raises:
        DomainError: bad or taken user name, no usable organization, or the password breaks the policy.
    """
    _ensure(can_manage_accounts(actor.user))
    username = check_username(username)
    display_name = (display_name or "").strip()
    if not display_name:
        raise DomainError(_("Enter the person's name."), field="display_name")
    org = _organization(organization)
    try:
        return auth_services.create_user(username=username, display_name=display_name, organization=org, role=None,
                                         password=password, actor=actor, must_change_password=True,
                                         phone=_clean(phone), email=_clean(email))
    except DomainError as exc:
        if exc.field == "new_password":
            exc.field = "password"
        raise


def update_account(user: User, *, display_name: str, organization: Organization | None, phone: str | None,
                   email: str | None, actor: Actor, expected_version: int | None = None,
                   expected_fingerprint: str | None = None) -> bool:
    """Save the account's details; returns whether anything changed.

    If the organization changes to a kind the user's role does not fit, the
    change is refused: the security administrator changes the role first.

    Raises:
        ConflictError: someone changed these details since the form was loaded.
        DomainError: missing name or organization, or the role does not fit the new organization.
    """
    _ensure(can_manage_accounts(actor.user))
    if expected_version is not None and user.version != expected_version and (
            expected_fingerprint is None or expected_fingerprint != account_fingerprint(user)):
        raise ConflictError(_("Someone else changed this account while you were editing it."))
    display_name = (display_name or "").strip()
    if not display_name:
        raise DomainError(_("Enter the person's name."), field="display_name")
    org = _organization(organization, user.organization)
    refusal = role_refusal(user.role, org.kind)
    if refusal:
        raise DomainError(
            _("%(reason)s Ask the security administrator to change the role first.", reason=refusal), field="organization")
    before = account_values(user)
    user.display_name = display_name
    user.organization = org
    user.phone = _clean(phone)
    user.email = _clean(email)
    after = account_values(user)
    changed = {k: [before[k], after[k]] for k in ACCOUNT_FIELDS if before[k] != after[k]}
    if not changed:
        return False
    db.session.flush()
    append_audit(actor, "user.update", user, detail={"changed": changed})
    return True


def _active_holders(role: Role) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.role == role, User.active.is_(True)))


def _ensure_not_last_admin(user: User, disabling: bool) -> None:
    """Each of the three administrator roles must stay with at least one active account."""
    if user.active and user.role in ADMIN_ROLES and _active_holders(user.role) <= 1:
        if disabling:
            raise DomainError(_("This is the last active account of the %(role)s; it cannot be disabled.",
                                role=user.role.label))
        raise DomainError(_("This is the last active account of the %(role)s; give the role to someone else first.",
                            role=user.role.label), field="role")


def set_account_active(user: User, active: bool, actor: Actor, now: datetime) -> bool:
    """Disable an account (ending all its sessions at once) or enable it again; returns whether it changed.

    Raises:
        DomainError: a system administrator disabling himself, or the last active holder of an administrator role.
    """
    _ensure(can_manage_accounts(actor.user))
    if user.active == active:
        return False
    if not active:
        if user.id == actor.user_id:
            raise DomainError(_("You cannot disable your own account."))
        _ensure_not_last_admin(user, disabling=True)
        user.active = False
        ended = auth_services.revoke_sessions(user, "disabled", now)
        db.session.flush()
        append_audit(actor, "user.disable", user, detail={"sessions_ended": ended})
    else:
        user.active = True
        db.session.flush()
        append_audit(actor, "user.enable", user)
    return True


def reset_account_password(user: User, new_password: str, actor: Actor, now: datetime) -> None:
    """A new initial password that must be changed at the next login; every session ends.

    Raises:
        DomainError: the password breaks the policy, or it is the administrator's own account.
    """
    _ensure(can_manage_accounts(actor.user))
    if user.id == actor.user_id:
        raise DomainError(_("Change your own password with “Change password”; it asks for the current one."))
    try:
        auth_services.reset_password(user, new_password, actor, now)
    except DomainError as exc:
        exc.field = "password"
        raise


# --- the security administrator: roles, locks, second factors, sessions -------------------

def assign_role(user: User, role: Role | None, actor: Actor, now: datetime) -> bool:
    """Give the user a role (None takes it away); returns whether it changed.

    The user's sessions end, so the new permissions and the second-factor
    requirement apply from the next login.

    Raises:
        DomainError: one's own role, a role that does not fit the user's organization,
            or the last active holder of an administrator role.
    """
    _ensure(actor.user is not None and actor.user.may(Action.ROLE_ASSIGN))
    if user.id == actor.user_id:
        raise DomainError(_("Nobody may change his own role; ask another security administrator."), field="role")
    if user.role == role:
        return False
    refusal = role_refusal(role, user.organization.kind)
    if refusal:
        raise DomainError(refusal, field="role")
    _ensure_not_last_admin(user, disabling=False)
    old = user.role
    user.role = role
    ended = auth_services.revoke_sessions(user, "role_changed", now)
    db.session.flush()
    append_audit(actor, "user.role_assign", user, detail={"old": old.value if old else None,
                                                          "new": role.value if role else None,
                                                          "sessions_ended": ended})
    return True


def _ensure_security_admin(user: User, actor: Actor) -> None:
    _ensure(actor.user is not None and actor.user.may(Action.ROLE_ASSIGN))
    if user.id == actor.user_id:
        raise DomainError(_("You cannot do this to your own account; ask another security administrator."))


def unlock_account(user: User, actor: Actor, now: datetime) -> None:
    """Lift a lockout after failed logins and reset the failure counter.

    Raises:
        DomainError: the account is neither locked nor has failed logins counted, or it is one's own.
    """
    _ensure_security_admin(user, actor)
    if not is_locked(user, now) and not user.failed_logins:
        raise DomainError(_("The account is not locked."))
    detail = {"locked_until": user.locked_until.isoformat() if user.locked_until else None,
              "failed_logins": user.failed_logins}
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()
    append_audit(actor, "user.unlock", user, detail=detail)


def reset_second_factor(user: User, actor: Actor, now: datetime) -> None:
    """Forget the user's authenticator so that he enrols again at the next login; every session ends.

    Raises:
        DomainError: it is one's own account.
    """
    _ensure_security_admin(user, actor)
    was_enabled = bool(user.totp_enabled)
    user.totp_secret = None
    user.totp_enabled = False
    user.totp_last_step = None
    ended = auth_services.revoke_sessions(user, "totp_reset", now)
    db.session.flush()
    append_audit(actor, "user.totp_reset", user, detail={"was_enabled": was_enabled, "sessions_ended": ended})


def end_all_sessions(user: User, actor: Actor, now: datetime) -> int:
    """Log the user out everywhere; returns how many sessions ended.

    Raises:
        DomainError: it is one's own account.
    """
    _ensure_security_admin(user, actor)
    ended = auth_services.revoke_sessions(user, "admin_revoked", now)
    db.session.flush()
    append_audit(actor, "user.sessions_revoke", user, detail={"sessions_ended": ended})
    return ended
