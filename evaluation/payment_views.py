"""Payments: what each instalment pays after the evaluation, what is due, overdue and withheld; finance records."""

from flask import Blueprint

bp = Blueprint("payments", __name__, url_prefix="/payments")
