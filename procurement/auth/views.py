"""Login (password, then second factor), logout, password change."""

import io
from datetime import timedelta

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from procurement import crypto
from procurement.auth import services
from procurement.auth.forms import ChangePasswordForm, LoginForm, TotpForm
from procurement.auth.models import User
from procurement.auth.permissions import client_ip, current_actor
from procurement.errors import DomainError
from procurement.extensions import db
from procurement.i18n import N_
from procurement.rules.clock import utcnow
from procurement.settings import get_setting
from procurement.web import is_safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")

PENDING_TTL = timedelta(minutes=5)
SESSION_END_MESSAGES = {
    "idle": N_("Your session ended after a period of inactivity. Please log in again."),
    "absolute": N_("Your session reached its maximum length. Please log in again."),
    "revoked": N_("Your session has ended. Please log in again."),
    "disabled": N_("Your account has been disabled."),
}


def _pending_user() -> User | None:
    """The user who gave the right password but has not passed the second factor yet."""
    pending = session.get("mfa_pending")
    if not pending:
        return None
    if utcnow().timestamp() - pending.get("at", 0) > PENDING_TTL.total_seconds():
        session.pop("mfa_pending", None)
        return None
    user = db.session.get(User, pending.get("uid"))
    if user is None or not user.active:
        return None
    return user


def _finish_login(user: User):
    next_url = session.get("next_url")
    lang = session.get("lang")
    session.clear()  # a new session for a new login: nothing carried over from before (fixation)
    if lang:
        session["lang"] = lang
    services.start_session(user, client_ip(), request.headers.get("User-Agent", ""), utcnow())
    db.session.commit()
    login_user(user)
    if user.must_change_password:
        flash(_("Please set a new password of your own before you continue."), "warning")
    return redirect(next_url if is_safe_next(next_url) else url_for("main.home"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    ended = session.pop("session_ended", None)
    if ended in SESSION_END_MESSAGES and request.method == "GET":
        flash(_(SESSION_END_MESSAGES[ended]), "warning")
    if request.method == "GET" and is_safe_next(request.args.get("next")):
        session["next_url"] = request.args["next"]
    form = LoginForm()
    if form.validate_on_submit():
        result = services.check_password(form.username.data, form.password.data, client_ip(), utcnow())
        db.session.commit()  # failures and lockouts are kept whatever happens next
        if result.outcome != services.LoginOutcome.OK:
            form.password.errors.append(result.message)
            status = 429 if result.outcome == services.LoginOutcome.THROTTLED else 200
            return render_template("auth/login.html", form=form), status
        user = result.user
        if services.mfa_required(user):
            session["mfa_pending"] = {"uid": user.id, "at": utcnow().timestamp()}
            if user.totp_enabled:
                return redirect(url_for("auth.second_factor"))
            return redirect(url_for("auth.enrol"))
        return _finish_login(user)
    return render_template("auth/login.html", form=form)


@bp.route("/second-factor", methods=["GET", "POST"])
def second_factor():
    user = _pending_user()
    if user is None or not user.totp_enabled:
        flash(_("Please log in again."), "warning")
        return redirect(url_for("auth.login"))
    form = TotpForm()
    if form.validate_on_submit():
        now = utcnow()
        if user.locked_until is not None and user.locked_until > now:
            session.pop("mfa_pending", None)
            flash(services._locked_message(user, now), "danger")
            return redirect(url_for("auth.login"))
        if services.address_throttled(client_ip(), now):  # codes are not tried from an address that is guessing
            form.code.errors.append(_("Too many failed logins from your address. Please wait %(n)s minutes and try "
                                      "again.", n=get_setting("login.ip_window_minutes")))
            return render_template("auth/second_factor.html", form=form, user=user), 429
        if services.verify_totp(user, form.code.data, now):
            return _finish_login(user)
        result = services.register_second_factor_failure(user, client_ip(), now)
        db.session.commit()
        if result.outcome == services.LoginOutcome.LOCKED:
            session.pop("mfa_pending", None)
            flash(result.message, "danger")
            return redirect(url_for("auth.login"))
        form.code.errors.append(result.message)
    return render_template("auth/second_factor.html", form=form, user=user)


@bp.route("/second-factor/enrol", methods=["GET", "POST"])
def enrol():
    user = _pending_user()
    if user is None or user.totp_enabled:
        flash(_("Please log in again."), "warning")
        return redirect(url_for("auth.login"))
    if not user.totp_secret:
        # A fresh secret, kept encrypted on the user row until a code proves the app has it.
        user.totp_secret = crypto.encrypt(services.new_totp_secret())
        db.session.commit()
    secret = crypto.decrypt(user.totp_secret)
    form = TotpForm()
    if form.validate_on_submit():
        if services.enrol_totp(user, secret, form.code.data, services.Actor(user, client_ip()), utcnow()):
            db.session.commit()
            flash(_("The authenticator app is set up. From now on you log in with a code from it."), "success")
            return _finish_login(user)
        form.code.errors.append(_("The verification code is wrong or has expired."))
    return render_template("auth/enrol.html", form=form, user=user, secret=secret)


@bp.route("/second-factor/qr.svg")
def enrol_qr():
    user = _pending_user()
    if user is None or user.totp_enabled or not user.totp_secret:
        abort(404)
    image = qrcode.make(services.totp_uri(user, crypto.decrypt(user.totp_secret)),
                        image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return Response(buffer.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.end_session(current_user.current_session, "logout", utcnow(), client_ip())
    db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    forced = current_user.must_change_password or services.password_expired(current_user, utcnow())
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.old_password.data, form.new_password.data,
                                     current_actor(), utcnow())
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "new_password").errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Your password has been changed. Your other sessions have been logged out."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form, forced=forced,
                           policy=services.password_policy())
