from flask import Blueprint, render_template

from procurement.auth.permissions import require
from procurement.auth.roles import Action

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@require(Action.AUDIT_VIEW)
def index():
    return render_template("base.html")
