import pytest


@pytest.fixture(autouse=True)
def _app_context(app):
    """Every test here runs against a fresh database inside an app context."""
    yield
