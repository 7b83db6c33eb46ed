"""Server-side sessions with Flask-Login: idle and absolute timeouts, revocation, forced password change."""

from datetime import timedelta

from flask import redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from procurement.auth.models import UserSession
from procurement.auth.services import end_session, password_expired, session_problem
from procurement.extensions import db, login_manager
from procurement.rules.clock import utcnow

# Endpoints a user who must change the password may still reach.
_ALLOWED_BEFORE_PASSWORD_CHANGE = {"auth.change_password", "auth.logout", "static", "bootstrap.static",
                                   "main.set_language", "main.healthz"}
_TOUCH_INTERVAL = timedelta(seconds=60)


def init_login(app):
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in first.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side session is the protection

    @login_manager.user_loader
    def load_user(session_id):
        sess = db.session.get(UserSession, session_id)
        if sess is None:
            return None
        now = utcnow()
        problem = session_problem(sess, now)
        if problem is not None:
            if sess.revoked_at is None:
                end_session(sess, problem, now, request.remote_addr)
                db.session.commit()
                session["session_ended"] = problem
            return None
        if now - sess.last_seen_at > _TOUCH_INTERVAL:
            sess.last_seen_at = now
            db.session.commit()
        user = sess.user
        user.current_session = sess
        return user

    @app.before_request
    def force_password_change():
        if request.endpoint in _ALLOWED_BEFORE_PASSWORD_CHANGE or not current_user.is_authenticated:
            return None
        if current_user.must_change_password or password_expired(current_user, utcnow()):
            return redirect(url_for("auth.change_password"))
        return None
