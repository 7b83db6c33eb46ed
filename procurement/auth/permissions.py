"""Coarse permission checks for views, and the actor of the current request."""

from functools import wraps

from flask import abort, request
from flask_login import current_user, login_required

from procurement.audit.services import Actor
from procurement.auth.roles import Action


def client_ip() -> str:
    # ProxyFix (configured by PROXY_FIX_X_FOR) has already replaced remote_addr when behind a proxy.
    return request.remote_addr or "-"


def current_actor() -> Actor:
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return Actor(user, client_ip())


def require(*actions: Action):
    """Log-in required, and the user's role must allow at least one of the actions."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not any(current_user.may(action) for action in actions):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_actions = actions
        return wrapped

    return decorator
