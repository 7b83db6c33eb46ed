"""Self-checks for ``flask check`` and ``GET /healthz``: database, CJK fonts, HarfBuzz subsetting."""

import logging
import time

from sqlalchemy import text

from procurement.extensions import db

REQUIRED_FONTS = ("Noto-Sans-CJK-SC", "Noto-Serif-CJK-SC")
_render_cache: dict = {}


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def check_database() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory
        from flask import current_app

        with db.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        script = ScriptDirectory(current_app.extensions["migrate"].directory)
        head = script.get_current_head()
        ok = current == head
        return {"ok": ok, "dialect": db.engine.dialect.name, "revision": current, "head": head,
                **({} if ok else {"error": "database schema is not at the latest migration; run `flask db upgrade`"})}
    except Exception as exc:  # any failure is the answer of the check
        db.session.rollback()
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def check_pdf_stack() -> dict:
    """Render a small Chinese PDF and check the fonts were embedded and subset by HarfBuzz."""
    try:
        from weasyprint import HTML
        from weasyprint.text.ffi import harfbuzz_subset
    except Exception as exc:  # missing Pango or WeasyPrint: exactly what the check reports
        return {"fonts": {"ok": False, "error": str(exc)}, "harfbuzz_subset": {"ok": False, "error": str(exc)}}
    capture = _Capture()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(capture)
    started = time.perf_counter()
    try:
        pdf = HTML(string=(
            '<html lang="zh-CN"><body>'
            '<p style="font-family: \'Noto Sans CJK SC\'">政府购买社会救助服务</p>'
            '<p style="font-family: \'Noto Serif CJK SC\'">绩效评价表 人民币壹仟叁佰伍拾元整</p>'
            "</body></html>")).write_pdf(uncompressed_pdf=True)
    finally:
        logger.removeHandler(capture)
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    missing = [name for name in REQUIRED_FONTS if name.encode() not in pdf]
    fell_back = [m for m in capture.messages if "fontTools instead of HarfBuzz" in m]
    return {
        "fonts": {"ok": not missing, "missing": missing,
                  **({"error": "install fonts-noto-cjk"} if missing else {})},
        "harfbuzz_subset": {"ok": harfbuzz_subset is not None and not fell_back, "render_ms": elapsed_ms,
                            **({"error": "install libharfbuzz-subset0"} if harfbuzz_subset is None or fell_back else {})},
    }


def run_checks(cache_seconds: int = 300) -> dict:
    checks = {"database": check_database()}
    cached = _render_cache.get("pdf")
    if cached is None or time.monotonic() - cached[0] > cache_seconds:
        cached = (time.monotonic(), check_pdf_stack())
        _render_cache["pdf"] = cached
    checks.update(cached[1])
    return {"status": "ok" if all(c["ok"] for c in checks.values()) else "fail", "checks": checks}
