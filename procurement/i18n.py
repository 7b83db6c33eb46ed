"""Translation that works with and without a Flask app.

Pure rule modules must not depend on Flask, yet their messages reach users.  They
call :func:`gettext` from here: inside an app context it is Flask-Babel's (the
user's language); outside (CLI scripts, unit tests, other programs) it uses the
default Simplified-Chinese catalog.  Message ids are English; ``%(name)s``
placeholders are filled from keyword arguments, as Flask-Babel does.
"""

from functools import lru_cache
from pathlib import Path

from babel.support import Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
# Babel parses "zh_CN" as zh_Hans_CN, and looks for the catalog under that name.
DEFAULT_LOCALE = "zh_Hans_CN"


@lru_cache(maxsize=4)
def _catalog(locale: str):
    return Translations.load(str(TRANSLATIONS_DIR), [locale])


def gettext(msgid: str, **variables) -> str:
    try:
        from flask import has_app_context

        if has_app_context():
            from flask_babel import gettext as flask_gettext

            return flask_gettext(msgid, **variables)
    except ImportError:  # pragma: no cover - Flask is a hard dependency
        pass
    text = _catalog(DEFAULT_LOCALE).gettext(msgid)
    return text % variables if variables else text


_ = gettext


def N_(msgid: str) -> str:
    """Mark a msgid for extraction where it is translated later (in tables of labels)."""
    return msgid
