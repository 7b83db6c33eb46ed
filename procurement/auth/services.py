"""Accounts: login with lockout and throttling, sessions, passwords, second factor.

Services never commit; the caller (a view or CLI command) commits once.
"""

import enum
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from procurement import crypto
from procurement.audit.services import Actor, append_audit
from procurement.auth.models import LoginAttempt, User, UserSession
from procurement.auth.roles import MFA_ROLES, Role
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.rules.passwords import PasswordPolicy, password_problems
from procurement.settings import get_setting

TOTP_ISSUER = "社会救助服务采购"
# Hash of a random password: checked when the user does not exist, so both cases take as long.
_DUMMY_HASH = None


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def password_policy() -> PasswordPolicy:
    return PasswordPolicy(min_length=get_setting("password.min_length"), min_classes=get_setting("password.min_classes"))


def check_new_password(password: str, username: str = "") -> None:
    """Raises:
        DomainError: the password breaks the policy (all reasons, one per line).
    """
    problems = password_problems(password, password_policy(), username)
    if problems:
        raise DomainError(" ".join(problems), field="new_password")


def demo_mode() -> bool:
    return bool(current_app.config.get("DEMO_MODE"))


def mfa_required(user: User) -> bool:
    """Officers, finance and administrators need TOTP unless a demo switched it off."""
    if user.role not in MFA_ROLES:
        return False
    return bool(get_setting("mfa.enforced")) or not demo_mode()


def password_expired(user: User, now: datetime) -> bool:
    max_age = get_setting("password.max_age_days")
    return bool(max_age) and not user.is_demo and now - user.password_changed_at > timedelta(days=max_age)


class LoginOutcome(enum.StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    THROTTLED = "throttled"
    DISABLED = "disabled"
    NO_ROLE = "no_role"
    DEMO_OFF = "demo_off"


@dataclass
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    message: str = ""
    locked_until: datetime | None = None


def _record_attempt(ip: str, username: str, success: bool, now: datetime) -> None:
    db.session.add(LoginAttempt(at=now, ip=ip or "-", username=username[:64], success=success))


def address_throttled(ip: str, now: datetime) -> bool:
    window = now - timedelta(minutes=get_setting("login.ip_window_minutes"))
    failures = db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.ip == (ip or "-"), LoginAttempt.at >= window, LoginAttempt.success.is_(False)
        )
    )
    return failures >= get_setting("login.ip_max_failures")


def _register_failure(user: User, now: datetime) -> None:
    if user.locked_until is not None and user.locked_until <= now:
        user.failed_logins = 0
        user.locked_until = None
    user.failed_logins += 1
    if user.failed_logins >= get_setting("login.max_failures"):
        user.locked_until = now + timedelta(minutes=get_setting("login.lockout_minutes"))


def check_password(username: str, password: str, ip: str, now: datetime) -> LoginResult:
    """First step of a login.  Every attempt is counted and audited.

    A wrong password counts towards the account's lockout; the address is
    throttled after too many failures from it, whatever the account.
    """
    global _DUMMY_HASH
    username = (username or "").strip()
    actor = Actor(None, ip)
    if address_throttled(ip, now):
        _record_attempt(ip, username, False, now)
        append_audit(actor, "auth.login", outcome="failure", username=username[:64], detail={"reason": "throttled"})
        return LoginResult(LoginOutcome.THROTTLED, message=_(
            "Too many failed logins from your address. Please wait %(n)s minutes and try again.",
            n=get_setting("login.ip_window_minutes")))
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _hash(secrets.token_urlsafe(16))
        check_password_hash(_DUMMY_HASH, password or "")
        _record_attempt(ip, username, False, now)
        append_audit(actor, "auth.login", outcome="failure", username=username[:64], detail={"reason": "unknown_user"})
        return LoginResult(LoginOutcome.BAD_CREDENTIALS, message=_("Wrong user name or password."))
    actor = Actor(user, ip)
    if user.locked_until is not None and user.locked_until > now:
        _record_attempt(ip, username, False, now)
        append_audit(actor, "auth.login", user, outcome="failure", detail={"reason": "locked"})
        return LoginResult(LoginOutcome.LOCKED, user, _locked_message(user, now), user.locked_until)
    if not check_password_hash(user.password_hash, password or ""):
        _register_failure(user, now)
        _record_attempt(ip, username, False, now)
        append_audit(actor, "auth.login", user, outcome="failure",
                     detail={"reason": "bad_password", "failures": user.failed_logins})
        if user.locked_until is not None and user.locked_until > now:
            return LoginResult(LoginOutcome.LOCKED, user, _locked_message(user, now), user.locked_until)
        left = get_setting("login.max_failures") - user.failed_logins
        return LoginResult(LoginOutcome.BAD_CREDENTIALS, message=_(
            "Wrong user name or password. %(n)s more failed attempts will lock the account.", n=left))
    # The password is right; the account may still not be usable.
    refusal = None
    if not user.active:
        refusal = LoginResult(LoginOutcome.DISABLED, user, _("This account has been disabled. Ask your system administrator."))
    elif user.role is None:
        refusal = LoginResult(LoginOutcome.NO_ROLE, user, _("This account has no role yet. Ask your security administrator to assign one."))
    elif user.is_demo and not demo_mode():
        refusal = LoginResult(LoginOutcome.DEMO_OFF, user, _("Demo accounts work only while demo mode is on."))
    if refusal is not None:
        _record_attempt(ip, username, False, now)
        append_audit(actor, "auth.login", user, outcome="failure", detail={"reason": refusal.outcome.value})
        return refusal
    return LoginResult(LoginOutcome.OK, user)


def _locked_message(user: User, now: datetime) -> str:
    minutes = max(1, math.ceil((user.locked_until - now).total_seconds() / 60))
    return _("The account is locked after too many failed logins. Try again in %(n)s minutes, or ask your security administrator to unlock it.", n=minutes)


def register_second_factor_failure(user: User, ip: str, now: datetime) -> LoginResult:
    """A wrong TOTP code counts like a wrong password."""
    _register_failure(user, now)
    _record_attempt(ip, user.username, False, now)
    append_audit(Actor(user, ip), "auth.login", user, outcome="failure",
                 detail={"reason": "bad_totp", "failures": user.failed_logins})
    if user.locked_until is not None and user.locked_until > now:
        return LoginResult(LoginOutcome.LOCKED, user, _locked_message(user, now), user.locked_until)
    return LoginResult(LoginOutcome.BAD_CREDENTIALS, user, _("The verification code is wrong or has expired."))


def start_session(user: User, ip: str, user_agent: str, now: datetime) -> UserSession:
    """Complete a login: reset the failure counter, open a server-side session, audit."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    sess = UserSession(id=secrets.token_urlsafe(32), user=user, created_at=now, last_seen_at=now,
                       ip=ip, user_agent=(user_agent or "")[:256])
    db.session.add(sess)
    _record_attempt(ip, user.username, True, now)
    append_audit(Actor(user, ip), "auth.login", user, detail={"session": sess.id[:8]})
    user.current_session = sess
    return sess


def session_problem(sess: UserSession, now: datetime) -> str | None:
    """Why a session may no longer be used, or None."""
    if sess.revoked_at is not None:
        return "revoked"
    if not sess.user.active:
        return "disabled"
    if now - sess.last_seen_at > timedelta(minutes=get_setting("session.idle_minutes")):
        return "idle"
    if now - sess.created_at > timedelta(hours=get_setting("session.absolute_hours")):
        return "absolute"
    return None


def end_session(sess: UserSession, reason: str, now: datetime, ip: str | None = None) -> None:
    if sess.revoked_at is None:
        sess.revoked_at = now
        sess.revoke_reason = reason
        action = "auth.logout" if reason == "logout" else "auth.session_end"
        append_audit(Actor(sess.user, ip), action, sess.user, detail={"reason": reason, "session": sess.id[:8]})


def revoke_sessions(user: User, reason: str, now: datetime, keep: UserSession | None = None) -> int:
    """End every open session of the user (except ``keep``); returns how many."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    result = db.session.execute(query.values(revoked_at=now, revoke_reason=reason))
    return result.rowcount


def change_password(user: User, old_password: str, new_password: str, actor: Actor, now: datetime) -> None:
    """The user changes their own password; every other session ends.

    Raises:
        DomainError: the old password is wrong, or the new one breaks the policy or repeats the old one.
    """
    if not check_password_hash(user.password_hash, old_password or ""):
        raise DomainError(_("The current password is wrong."), field="old_password")
    if old_password == new_password:
        raise DomainError(_("The new password must differ from the current one."), field="new_password")
    check_new_password(new_password, user.username)
    user.password_hash = _hash(new_password)
    user.password_changed_at = now
    user.must_change_password = False
    ended = revoke_sessions(user, "password_changed", now, keep=user.current_session)
    append_audit(actor, "user.password_change", user, detail={"other_sessions_ended": ended})


def reset_password(user: User, new_password: str, actor: Actor, now: datetime) -> None:
    """An administrator sets an initial password, which the user must change at the next login.

    Raises:
        DomainError: the password breaks the policy.
    """
    check_new_password(new_password, user.username)
    user.password_hash = _hash(new_password)
    user.password_changed_at = now
    user.must_change_password = True
    revoke_sessions(user, "password_reset", now)
    append_audit(actor, "user.password_reset", user)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def _accept_code(secret: str, code: str, last_step: int | None, now: datetime) -> int | None:
    """The time step the code belongs to (±1 step of clock drift), or None; a step is never used twice."""
    code = "".join((code or "").split())
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if totp.generate_otp(candidate) == code and (last_step is None or candidate > last_step):
            return candidate
    return None


def enrol_totp(user: User, secret: str, code: str, actor: Actor, now: datetime) -> bool:
    """Store the second factor once the user proves the authenticator app shows the right code."""
    step = _accept_code(secret, code, None, now)
    if step is None:
        return False
    user.totp_secret = crypto.encrypt(secret)
    user.totp_enabled = True
    user.totp_last_step = step
    append_audit(actor, "user.totp_enrol", user)
    return True


def verify_totp(user: User, code: str, now: datetime) -> bool:
    if not user.totp_enabled or not user.totp_secret:
        return False
    step = _accept_code(crypto.decrypt(user.totp_secret), code, user.totp_last_step, now)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def create_user(*, username: str, display_name: str, organization, role: Role | None, password: str,
                actor: Actor, must_change_password: bool = True, is_demo: bool = False,
                phone: str | None = None, email: str | None = None) -> User:
    """Raises:
        DomainError: the user name is taken or the password breaks the policy.
    """
    username = (username or "").strip()
    if db.session.scalar(select(func.count()).select_from(User).where(func.lower(User.username) == username.lower())):
        raise DomainError(_("The user name “%(name)s” is already taken.", name=username), field="username")
    check_new_password(password, username)
    user = User(username=username, display_name=display_name, organization=organization, role=role,
                password_hash=_hash(password), must_change_password=must_change_password, is_demo=is_demo,
                phone=phone, email=email, failed_logins=0, active=True)
    db.session.add(user)
    db.session.flush()
    append_audit(actor, "user.create", user, detail={"role": role.value if role else None,
                                                      "organization": organization.id})
    return user


def ensure_may(actor: Actor, allowed: bool) -> None:
    if not allowed:
        raise AccessDenied(_("You are not allowed to do this."))
