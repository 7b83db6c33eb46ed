"""Background jobs with huey: large uploads of delivery rows are checked and imported by a worker.

The queue is SQLite (``instance/huey.db``) by default and Redis when ``FLASK_REDIS_URL`` is set. Run the
worker next to the web server::

    .venv/bin/huey_consumer procurement.tasks.huey

Tests run the jobs at once, in the request (``HUEY_IMMEDIATE``), and once through a real consumer.
"""

import os

from huey import RedisHuey, SqliteHuey

from procurement.config import PROJECT_ROOT


def _make_huey():
    url = os.environ.get("FLASK_REDIS_URL", "").strip().strip('"')
    if url:
        return RedisHuey("procurement", url=url)
    filename = os.environ.get("FLASK_HUEY_FILE", "").strip().strip('"') or str(PROJECT_ROOT / "instance" / "huey.db")
    os.makedirs(os.path.dirname(filename), exist_ok=True)
    return SqliteHuey("procurement", filename=filename)


huey = _make_huey()
_app = None


def init_app(app) -> None:
    """Remember the web app (a worker in the same process uses it) and run jobs at once when configured so."""
    global _app
    _app = app
    huey.immediate = bool(app.config.get("HUEY_IMMEDIATE"))


def _application():
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app._get_current_object()
    if _app is None:
        from procurement import create_app

        init_app(create_app())
    return _app


@huey.task()
def import_delivery_rows(job_id: int) -> str:
    """Check and import an uploaded file of delivery rows; progress is committed as it goes."""
    from procurement.extensions import db
    from procurement.supervision.imports import run_import
    from procurement.supervision.models import ImportJob

    app = _application()
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        if job is None or job.state.finished:
            return "gone"
        run_import(job, commit_progress=db.session.commit)
        db.session.commit()
        return job.state.value


@huey.task()
def build_bulk_zip(bulk_id: int) -> str:
    """Zip the stored PDFs of a bulk download of evaluation sheets; progress is committed as it goes."""
    from evaluation.bulk import FINISHED, fail_bulk, run_bulk
    from evaluation.models import BulkDownload
    from procurement.extensions import db
    from procurement.i18n import gettext as _

    app = _application()
    with app.app_context():
        bulk = db.session.get(BulkDownload, bulk_id)
        if bulk is None or bulk.state in FINISHED:
            return "gone"
        try:
            run_bulk(bulk, commit_progress=db.session.commit)
            db.session.commit()
        except Exception:
            db.session.rollback()
            app.logger.exception("bulk download %s failed", bulk_id)
            bulk = db.session.get(BulkDownload, bulk_id)
            fail_bulk(bulk, _("The zip could not be made; ask for it again."))
            db.session.commit()
        return bulk.state
