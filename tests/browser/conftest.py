"""Browser fixtures: Debian's Chromium driven by Playwright, against the app served over HTTP."""

import os
import shutil
from pathlib import Path

import pytest

from procurement.demo.seed import seed_demo
from procurement.extensions import db
from tests.conftest import SNAPSHOT, TEST_DATABASE_URL, _make_app, _pg_reset, _pg_snapshot, _reset_engine

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            # Werkzeug's development server (the test's live server, never production's gunicorn) leaves a
            # static file open when the browser drops the connection mid-download, e.g. on navigating on.
            item.add_marker(pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning"))
            item.add_marker(pytest.mark.filterwarnings(
                "ignore:Exception ignored in. <_io.(FileIO|BufferedReader):pytest.PytestUnraisableExceptionWarning"))


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def app_config():
    return {"DEMO_MODE": True}


DEMO_SNAPSHOT = SNAPSHOT + "_demo"


@pytest.fixture(scope="session")
def demo_template(database_template, tmp_path_factory):
    """The demo seeded once (it takes seconds); every browser test starts from a copy of it."""
    if TEST_DATABASE_URL:
        _pg_reset(_reset_engine(TEST_DATABASE_URL))
        url = TEST_DATABASE_URL
    else:
        path = tmp_path_factory.mktemp("demo") / "demo.db"
        shutil.copyfile(database_template, path)
        url = f"sqlite:///{path}"
    app = _make_app(url, DEMO_MODE=True)
    with app.app_context():
        seed_demo()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    if TEST_DATABASE_URL:
        _pg_snapshot(_reset_engine(url), DEMO_SNAPSHOT)
        return url
    return path


@pytest.fixture
def db_url(demo_template, tmp_path):
    """The seeded demo, as ``db_url`` in tests/conftest.py gives the empty database."""
    if TEST_DATABASE_URL:
        _pg_reset(_reset_engine(TEST_DATABASE_URL), snapshot=DEMO_SNAPSHOT)
        return TEST_DATABASE_URL
    target = tmp_path / "test.db"
    shutil.copyfile(demo_template, target)
    return f"sqlite:///{target}"


@pytest.fixture(autouse=True)
def _app_context(app):
    yield


def _form_status(text: str) -> bool:
    """A form sent back with its errors answers 400 (or 409 on an edit conflict), which Chromium logs."""
    return text.startswith("Failed to load resource: the server responded with a status of 4") and (
        "status of 400" in text or "status of 409" in text)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1366, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and not _form_status(msg.text) else None)
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert errors == [], f"browser errors: {errors}"  # CSP violations and script errors show up here


@pytest.fixture
def shot(tmp_path):
    """Save a screenshot; into docs/screenshots when UPDATE_SCREENSHOTS=1 (for the README)."""
    target = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path

    def save(page, name, full_page=True):
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save
