"""Contract templates for the system administrator, and the public "verify a document" page."""

from contracts.views import bp  # noqa: F401
