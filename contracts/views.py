"""Contract pages: list, generate from an award, edit a draft, preview, sign, publish, file, start, download."""

from flask import Blueprint

bp = Blueprint("contracts", __name__, url_prefix="/contracts")
