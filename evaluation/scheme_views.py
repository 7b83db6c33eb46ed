"""Evaluation schemes: browse the published ones; the system admin clones, edits and publishes."""

from flask import Blueprint

bp = Blueprint("schemes", __name__, url_prefix="/evaluation/schemes")
