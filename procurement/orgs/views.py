"""Regions, organizations and suppliers (placeholder pages until the supplier registry lands)."""

from flask import Blueprint, render_template

from procurement.auth.permissions import require
from procurement.auth.roles import Action

bp = Blueprint("orgs", __name__, url_prefix="/orgs")


@bp.route("/suppliers")
@require(Action.SUPPLIER_VIEW)
def suppliers():
    return render_template("base.html")


@bp.route("/own")
@require(Action.OWN_ORG_VIEW)
def own():
    return render_template("base.html")


@bp.route("/organizations")
@require(Action.ORG_VIEW)
def organizations():
    return render_template("base.html")


@bp.route("/regions")
@require(Action.REGION_VIEW)
def regions():
    return render_template("base.html")


@bp.route("/suppliers/<int:org_id>")
@require(Action.SUPPLIER_VIEW)
def supplier_detail(org_id):
    return render_template("base.html")
