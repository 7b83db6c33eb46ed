"""Fixtures: a real database per test (SQLite file, or PostgreSQL when TEST_DATABASE_URL is set).

The schema is built once per session by running the Alembic migrations and loading the reference
data; each test then gets a copy of that SQLite file, or the PostgreSQL database put back as it was
(see ``_pg_reset``).
"""

import os
import shutil
import sqlite3
import threading

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing.rules import Rule
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


@event.listens_for(Engine, "do_connect")
def _no_wait_for_disk(dialect, connection_record, cargs, cparams):
    """A test database need not survive a power cut: PostgreSQL commits without waiting for the WAL flush."""
    if dialect.name == "postgresql":
        cparams["options"] = (cparams.get("options", "") + " -c synchronous_commit=off").strip()


@event.listens_for(Engine, "connect")
def _sqlite_no_fsync(dbapi_connection, connection_record):
    """Nor SQLite: no fsync at each commit (runs after the app's own pragmas, procurement/__init__.py)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


def _cache_url_builders():
    """Every test builds an app; werkzeug compiles a Python function for each URL rule of each app (~40 ms
    of the app's ~50).  The function depends only on the rule, so it is compiled once per rule here."""
    compile_builder = Rule._compile_builder
    builders = {}

    def cached_builder(self, append_unknown=True):
        defaults = self.defaults or {}
        if any(is_dynamic and data in defaults for is_dynamic, data in self._trace):
            return compile_builder(self, append_unknown)  # defaults baked into the function: not shared
        key = (self.rule, tuple(self._trace), tuple(defaults), append_unknown)
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = cached_builder


_cache_url_builders()


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


SNAPSHOT = "test_snapshot"  # schema holding the reference rows and sequence values every test starts from
_reset_sql: dict[tuple[str, str], str] = {}  # (database URL, snapshot) -> the statements that restore it
_reset_engines: dict[str, sa.Engine] = {}


def _pg_snapshot(engine, snapshot=SNAPSHOT):
    """Keep a copy of every non-empty table and of every sequence (as migrated and loaded with reference data)."""
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {snapshot} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {snapshot}"))
        for table in _pg_tables(conn):
            if conn.execute(sa.text(f'SELECT EXISTS (SELECT 1 FROM public."{table}")')).scalar():
                conn.execute(sa.text(f'CREATE TABLE {snapshot}."{table}" AS SELECT * FROM public."{table}"'))
        conn.execute(sa.text(
            f"CREATE TABLE {snapshot}._sequences AS SELECT sequencename AS name, "
            "coalesce(last_value, start_value) AS value, last_value IS NOT NULL AS called "
            "FROM pg_sequences WHERE schemaname = 'public'"))


def _pg_tables(conn) -> list[str]:
    return [r[0] for r in conn.execute(sa.text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version' "
        "ORDER BY tablename"))]


def _pg_reset_statements(conn, snapshot) -> str:
    """One batch: empty every table, copy the snapshot back, set every sequence as it was.

    DELETE rather than TRUNCATE: on small tables it is much faster (TRUNCATE makes new files for every
    table and index).  ``session_replication_role = replica`` skips the foreign-key checks, so the order
    does not matter, and the audit table's append-only trigger, for this transaction only.
    """
    saved = {r[0] for r in conn.execute(sa.text(
        "SELECT tablename FROM pg_tables WHERE schemaname = :schema AND tablename != '_sequences'"),
        {"schema": snapshot})}
    statements = ["SET LOCAL session_replication_role = replica"]
    statements += [f'DELETE FROM public."{table}"' for table in _pg_tables(conn)]
    statements += [f'INSERT INTO public."{table}" SELECT * FROM {snapshot}."{table}"' for table in sorted(saved)]
    statements.append(f"SELECT setval(format('public.%I', name)::regclass, value, called) FROM {snapshot}._sequences")
    return ";\n".join(statements)


def _pg_reset(engine, drop_schema=False, snapshot=SNAPSHOT):
    """Bring the test database back to the migrated schema with its reference data (see ``_pg_snapshot``)."""
    if drop_schema:
        with engine.begin() as conn:
            for schema in [r[0] for r in conn.execute(sa.text(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE :prefix"), {"prefix": SNAPSHOT + "%"})]:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        _reset_sql.clear()
        return
    key = (str(engine.url), snapshot)
    if key not in _reset_sql:
        with engine.connect() as conn:
            _reset_sql[key] = _pg_reset_statements(conn, snapshot)
    connection = engine.raw_connection()  # psycopg runs a batch of statements without parameters in one go
    try:
        with connection.cursor() as cursor:
            cursor.execute(_reset_sql[key])
        connection.commit()
    finally:
        connection.close()


def _reset_engine(url: str) -> sa.Engine:
    if url not in _reset_engines:
        _reset_engines[url] = sa.create_engine(url, pool_size=1)
    return _reset_engines[url]


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate an empty database once; return its URL (PostgreSQL) or file path (SQLite)."""
    if TEST_DATABASE_URL:
        _pg_reset(_reset_engine(TEST_DATABASE_URL), drop_schema=True)
        url = TEST_DATABASE_URL
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{path}"
    app = _make_app(url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        load_reference_data()
        db.session.commit()
        db.engine.dispose()
    if TEST_DATABASE_URL:
        _pg_snapshot(_reset_engine(url))
        return url
    return path


@pytest.fixture
def db_url(database_template, tmp_path):
    if TEST_DATABASE_URL:
        _pg_reset(_reset_engine(TEST_DATABASE_URL))
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
