"""Fixtures: a real database per test (SQLite file, or PostgreSQL when TEST_DATABASE_URL is set).

The schema is built once per session by running the Alembic migrations; each test
then gets a copy of that SQLite file, or a PostgreSQL database emptied by TRUNCATE.
"""

import os
import shutil
import threading

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from werkzeug.serving import make_server

from procurement import create_app
from procurement.extensions import db
from procurement.reference_data import load_reference_data
from tests.factories import login_as  # noqa: F401 - re-exported for tests

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-0123456789abcdef-0123456789",
    "WTF_CSRF_ENABLED": False,  # tests/web/test_security.py turns it on and checks every form
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; production uses scrypt
    "DEMO_MODE": False,
    "HUEY_IMMEDIATE": True,  # background jobs run at once, in the request (one test uses a real consumer)
}


class RequestClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    The ``app`` fixture keeps an app context open for factories and assertions;
    without this, requests would share its ``g`` and database session, and a
    test could pass only because of state left over from an earlier request.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _make_app(url: str, **overrides):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **overrides})
    app.test_client_class = RequestClient
    return app


def _pg_reset(engine, drop_schema=False):
    with engine.begin() as conn:
        if drop_schema:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
            return
        tables = [r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version'"))]
        # The audit table refuses TRUNCATE (append-only); a test database may be wiped all the same.
        conn.execute(sa.text("ALTER TABLE audit_record DISABLE TRIGGER USER"))
        conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        conn.execute(sa.text("ALTER TABLE audit_record ENABLE TRIGGER USER"))
        conn.execute(sa.text("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64})


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate an empty database once; return its URL (PostgreSQL) or file path (SQLite)."""
    if TEST_DATABASE_URL:
        engine = sa.create_engine(TEST_DATABASE_URL)
        _pg_reset(engine, drop_schema=True)
        engine.dispose()
        url = TEST_DATABASE_URL
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{path}"
    app = _make_app(url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        if not TEST_DATABASE_URL:
            load_reference_data()
            db.session.commit()
        db.engine.dispose()
    return url if TEST_DATABASE_URL else path


@pytest.fixture
def db_url(database_template, tmp_path):
    if TEST_DATABASE_URL:
        engine = sa.create_engine(TEST_DATABASE_URL)
        _pg_reset(engine)
        engine.dispose()
        return TEST_DATABASE_URL
    target = tmp_path / "test.db"
    shutil.copyfile(database_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app_config():
    """Override in a test module to change the configuration of ``app``."""
    return {}


@pytest.fixture
def app(db_url, app_config):
    app = _make_app(db_url, **app_config)
    with app.app_context():
        if TEST_DATABASE_URL:
            load_reference_data()
            db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def live_server(app):
    """The app served over real HTTP in a thread, for the browser tests."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # Keep track of the request threads so the teardown can wait for the ones still answering: a
    # request cut off mid-way would leave its database connection to the garbage collector.
    server.daemon_threads = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    for worker in list(getattr(server, "_threads", None) or ()):
        worker.join(10)
    server.socket.close()
    thread.join(5)
