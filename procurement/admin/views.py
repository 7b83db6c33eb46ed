from flask import Blueprint, render_template

from procurement.auth.permissions import require
from procurement.auth.roles import Action

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@require(Action.USER_MANAGE)
def users():
    return render_template("base.html")


@bp.route("/roles")
@require(Action.ROLE_ASSIGN)
def roles():
    return render_template("base.html")


@bp.route("/settings/system")
@require(Action.SETTINGS_SYSTEM)
def system_settings():
    return render_template("base.html")


@bp.route("/settings/security")
@require(Action.SETTINGS_SECURITY)
def security_settings():
    return render_template("base.html")
