"""Domain errors and the central error handlers.

Services raise :class:`DomainError` subclasses with a message for the user; views
that expect them catch and re-render the form, and anything that escapes is
rolled back and shown on an error page by the handlers below.
"""

from flask import render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from procurement.extensions import db


class DomainError(Exception):
    """A rule refused the change.  ``field`` names the form field it belongs to, if any."""

    status = 400

    def __init__(self, message: str, field: str | None = None, citation: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.citation = citation


class AccessDenied(DomainError):
    status = 403


class InvalidInput(DomainError):
    """Every problem of an input at once: ``problems`` is a list of ``(field, message)``; the first is the message."""

    def __init__(self, problems: list[tuple[str, str]]):
        field, message = problems[0]
        super().__init__(message, field=field or None)
        self.problems = problems


class ConflictError(DomainError):
    """Someone else saved the record since the user loaded it."""

    status = 409


def register_error_handlers(app):
    def _page(status, title, message):
        db.session.rollback()
        if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
            return {"error": title, "message": message}, status
        return render_template("errors/error.html", status=status, title=title, message=message), status

    @app.errorhandler(DomainError)
    def domain_error(exc):
        return _page(exc.status, _("The request was refused"), exc.message)

    @app.errorhandler(StaleDataError)
    def stale(exc):
        return _page(409, _("Edit conflict"), _("Someone else saved this record just now. Reload the page and apply your change again."))

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _page(400, _("The form has expired"),
                     _("The form was open too long or was sent from elsewhere. Go back, reload the page and submit again."))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        messages = {
            400: (_("Bad request"), _("The request could not be understood. Please check what you entered.")),
            403: (_("Access denied"), _("Your account is not allowed to open this page. If you need it, ask your administrator.")),
            404: (_("Page not found"), _("The page or record does not exist, or it has been moved.")),
            405: (_("Not allowed"), _("This page cannot be used that way.")),
            413: (_("File too large"), _("The uploaded file is larger than allowed.")),
            429: (_("Too many attempts"), _("Too many requests. Please wait a few minutes and try again.")),
        }
        title, message = messages.get(exc.code, (exc.name, exc.description))
        return _page(exc.code, title, message)

    @app.errorhandler(Exception)
    def server_error(exc):
        if isinstance(exc, HTTPException):  # pragma: no cover - handled above
            return http_error(exc)
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _page(500, _("Server error"),
                     _("Something went wrong on our side. Nothing was saved. Please try again; if it happens again, tell your administrator."))
