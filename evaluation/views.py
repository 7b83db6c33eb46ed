"""Evaluation sheets: open, assign evaluators, declare, score, finalize, correct, download."""

from flask import Blueprint

bp = Blueprint("evaluation", __name__, url_prefix="/evaluation")
