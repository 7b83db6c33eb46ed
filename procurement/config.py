"""Default configuration.

Every key can be overridden with a ``FLASK_``-prefixed environment variable
(``FLASK_SQLALCHEMY_DATABASE_URI``, ``FLASK_SECRET_KEY`` …); values are parsed as
JSON where possible, so ``FLASK_PRODUCTION=true`` gives a boolean.  Business
settings that administrators change at run time (lockout, timeouts, thresholds)
live in the settings table instead, see :mod:`procurement.settings`.
"""

from pathlib import Path

#: Secret key used when none is configured.  Production refuses to start with it.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"
#: Data-encryption key used when none is configured (development and demo only).
DEV_DATA_KEY = "ZGV2LWluc2VjdXJlLWRhdGEta2V5LWNoYW5nZS1tZSE="

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def defaults(instance_path: str) -> dict:
    """Return the default configuration for an app whose instance folder is given."""
    return {
        # Deployment
        "PRODUCTION": False,
        "DEMO_MODE": False,
        "SECRET_KEY": DEV_SECRET_KEY,
        "DATA_ENCRYPTION_KEY": DEV_DATA_KEY,
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(Path(instance_path) / "procurement.db"),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        # Uploads (scans of sealed contracts, attachments): outside the web root, checked by content
        "FILE_STORE": str(Path(instance_path) / "files"),
        "MAX_UPLOAD_BYTES": 10 * 1024 * 1024,
        # Background jobs (huey): run at once instead of queueing (tests; a machine without the worker)
        "HUEY_IMMEDIATE": False,
        # Prepare the PDF fonts and stylesheets when the app starts, so the first document is fast
        "PDF_WARM_UP": True,
        # Sessions: the cookie only carries a random session id; the session
        # itself (timeouts, revocation) is checked on the server every request.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_NAME": "sap_session",
        "REMEMBER_COOKIE_DURATION": 0,
        # Forms
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,  # bound to the session, which expires on its own
        "WTF_I18N_ENABLED": True,
        # Interface
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "procurement" / "translations"),
        "LANGUAGES": {"zh_CN": "简体中文", "en": "English"},
        "BOOTSTRAP_SERVE_LOCAL": True,
        "BOOTSTRAP_BTN_STYLE": "primary",
        "PAGE_SIZE": 50,
        "AUDIT_EXPORT_MAX_ROWS": 200_000,
        # Trust X-Forwarded-For from this many proxies (0 = use the socket address).
        "PROXY_FIX_X_FOR": 0,
    }
