"""Toolkit for buying social-assistance services and scoring their delivery.

``flask --app procurement …`` finds :func:`create_app` here.
"""

import os
import sqlite3

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from procurement.config import DEV_DATA_KEY, DEV_SECRET_KEY, PROJECT_ROOT, defaults


class ConfigurationError(RuntimeError):
    pass


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: defaults, then ``FLASK_*`` environment, then test overrides."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_mapping(defaults(app.instance_path))
    app.config.from_prefixed_env()
    if test_config:
        app.config.from_mapping(test_config)
    _check_configuration(app)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)

    from procurement import extensions
    from procurement.models import import_models
    from procurement.web import IdConverter

    app.url_map.converters["int"] = IdConverter

    import_models()
    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    extensions.csrf.init_app(app)
    extensions.bootstrap.init_app(app)

    from procurement import web

    extensions.babel.init_app(app, locale_selector=web.select_locale, timezone_selector=lambda: "Asia/Shanghai")
    web.init_app(app)

    from procurement.auth.sessions import init_login

    init_login(app)

    from procurement.errors import register_error_handlers

    register_error_handlers(app)

    from procurement.admin.views import bp as admin_bp
    from procurement.audit.views import bp as audit_bp
    from procurement.auth.views import bp as auth_bp
    from procurement.beneficiaries.views import bp as beneficiaries_bp
    from procurement.catalog.views import bp as catalog_bp
    from procurement.orgs.views import bp as orgs_bp
    from procurement.projects.views import bp as projects_bp
    from procurement.supervision.views import bp as supervision_bp

    for bp in (auth_bp, catalog_bp, orgs_bp, projects_bp, admin_bp, audit_bp, beneficiaries_bp, supervision_bp):
        app.register_blueprint(bp)

    from procurement.acceptance.views import bp as acceptance_bp

    app.register_blueprint(acceptance_bp)

    from contracts.setup import init_app as init_contracts

    init_contracts(app)

    from procurement.oversight.setup import init_app as init_oversight

    init_oversight(app)

    from evaluation.setup import init_app as init_evaluation

    init_evaluation(app)

    from procurement import tasks

    tasks.init_app(app)

    from procurement.cli import register_cli

    register_cli(app)
    return app


def _check_configuration(app: Flask) -> None:
    """Refuse to run in production with development secrets or demo mode."""
    if not app.config["PRODUCTION"]:
        return
    if app.config["SECRET_KEY"] in (None, "", DEV_SECRET_KEY) or len(str(app.config["SECRET_KEY"])) < 32:
        raise ConfigurationError(
            "Refusing to start in production with the development SECRET_KEY: "
            "set FLASK_SECRET_KEY to a random value of at least 32 characters."
        )
    if app.config["DATA_ENCRYPTION_KEY"] == DEV_DATA_KEY:
        raise ConfigurationError(
            "Refusing to start in production with the development DATA_ENCRYPTION_KEY: "
            "set FLASK_DATA_ENCRYPTION_KEY (generate one with `flask --app procurement gen-key`)."
        )
    if app.config["DEMO_MODE"]:
        raise ConfigurationError("Refusing to start in production with FLASK_DEMO_MODE on.")
    app.config["SESSION_COOKIE_SECURE"] = True


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
