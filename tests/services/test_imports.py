"""Bulk upload of delivery rows (.xlsx and .csv): all or nothing, an error file in Chinese, a background worker."""
# ruff: noqa: F811 - the `world` fixture of test_reports is imported and requested by name

import io
import os
import signal
import time
from datetime import date

import pytest
import redis
from huey.consumer import Consumer
from huey.storage import RedisStorage, SqliteStorage
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from procurement import files, tasks
from procurement.extensions import db
from procurement.supervision import imports, services
from procurement.supervision.imports import COLUMNS, ImportRefused
from procurement.supervision.models import DeliveryRow, ImportJob, ImportState
from tests.project_factories import actor
from tests.services.test_reports import ANNA, BO, CHEN, World, open_, world  # noqa: F401 - the fixture

DAY = date(2026, 5, 12)


@pytest.fixture
def app_config(tmp_path):
    return {"FILE_STORE": str(tmp_path / "files")}


def xlsx(rows, header=COLUMNS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for r in rows:
        sheet.append(list(r))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    lines = [",".join(COLUMNS)] + [",".join("" if c is None else str(c) for c in r) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def good_rows(w: World, n=3):
    return [(ANNA if i % 2 == 0 else BO, w.item.code, date(2026, 5, 1 + i), 1, f"社工{i}", "") for i in range(n)]


def run(w: World, data: bytes, name="rows.xlsx") -> ImportJob:
    report = open_(w)
    job = imports.start_import(report, data, name, actor(w.writer))
    imports.run_import(job)
    db.session.flush()
    return job


def rows_in_db() -> int:
    return db.session.scalar(select(func.count()).select_from(DeliveryRow))


def error_sheet(job) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(files.load(job.error_file_sha256)), read_only=True)
    return list(workbook["错误"].iter_rows(values_only=True))


def test_a_good_workbook_imports_every_row(world):
    job = run(world, xlsx(good_rows(world, 5)))
    assert job.state == ImportState.DONE and job.imported == 5 and job.total == 5 and job.error_count == 0
    assert rows_in_db() == 5


def test_a_good_csv_imports_in_utf8_and_gb18030_with_chinese_dates(world):
    rows = [(ANNA, world.item.code, "2026年5月3日", "1.5", "社工甲", "上门"),
            (BO, world.item.code, "2026/5/4", "2", "社工乙", "")]
    assert run(world, csv_bytes(rows), "rows.csv").state == ImportState.DONE
    assert run(world, csv_bytes([(ANNA, world.item.code, "2026-05-05", "1", "社工丙", "")], "gb18030"),
               "rows.csv").imported == 1
    assert rows_in_db() == 3


def test_one_bad_row_imports_nothing_and_the_error_file_says_where_and_why(world):
    rows = good_rows(world, 3) + [(CHEN, world.item.code, DAY, 1, "社工丁", "")]  # CHEN is not assigned
    job = run(world, xlsx(rows))
    assert job.state == ImportState.REFUSED and job.imported == 0 and job.error_count == 1
    assert rows_in_db() == 0
    header, *errors = error_sheet(job)
    assert header == ("行号", "列", "内容", "原因")
    assert errors == [(5, "身份证号码", CHEN, "该服务对象在当日未分派到本合同。")]


def test_every_kind_of_bad_row_is_reported(world):
    rows = [("123", world.item.code, DAY, 1, "社工", ""),  # not an ID number
            (ANNA, "NOPE-01", DAY, 1, "社工", ""),  # not in the contract
            (ANNA, world.item.code, "2026-07-01", 1, "社工", ""),  # outside the May report
            (ANNA, world.item.code, DAY, 0, "社工", ""),  # quantity
            (ANNA, world.item.code, DAY, 1, "", ""),  # no worker
            (ANNA, world.item.code, DAY, 1, "社工", ""),
            (ANNA, world.item.code, DAY, 1, "社工", "")]  # the same delivery twice
    job = run(world, xlsx(rows))
    columns = [(line, column) for line, column, _value, _reason in error_sheet(job)[1:]]
    assert columns == [(2, "身份证号码"), (3, "服务项目编码"), (4, "服务日期"), (5, "数量"), (6, "服务人员"),
                       (8, "服务日期")]
    assert rows_in_db() == 0


def test_a_formula_in_a_cell_is_refused_and_written_back_as_text(world):
    rows = good_rows(world, 1) + [(ANNA, world.item.code, DAY, "=1+1", "社工", "")]
    job = run(world, xlsx(rows))
    assert job.state == ImportState.REFUSED
    (line, column, value, reason), *_ = error_sheet(job)[1:]
    assert (line, column) == (3, "数量") and value == "'=1+1" and "公式" in reason


def test_files_that_cannot_be_imported_are_refused_before_anything(world):
    report = open_(world)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    text_as_xlsx = b"PK\x03\x04 this is not a zip archive at all"
    for data in (b"", png, text_as_xlsx, b"\x00\x01binary"):
        with pytest.raises(ImportRefused):
            imports.start_import(report, data, "rows.xlsx", actor(world.writer))
    with pytest.raises(ImportRefused):  # too large
        imports.kind_of(b"a" * (imports.MAX_BYTES + 1))
    wrong_header = xlsx(good_rows(world, 1), header=("姓名", "项目", "日期", "数量", "人员", "备注"))
    job = run(world, wrong_header)
    assert job.state == ImportState.FAILED and "第一行" in job.message
    assert run(world, xlsx([])).state == ImportState.FAILED  # a header and no rows
    assert rows_in_db() == 0


def test_the_same_file_twice_adds_nothing_the_second_time(world):
    data = xlsx(good_rows(world, 4))
    assert run(world, data).state == ImportState.DONE
    second = run(world, data)
    assert second.state == ImportState.REFUSED and second.error_count == 4
    assert rows_in_db() == 4


def test_more_rows_than_allowed_are_refused(world, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    job = run(world, xlsx(good_rows(world, 4)))
    assert job.state == ImportState.FAILED and rows_in_db() == 0


def _through_a_worker(world, app, storage) -> ImportJob:
    """Enqueue an import on ``storage`` and let a huey consumer (one worker thread) run it."""
    report = open_(world)
    job = imports.start_import(report, xlsx(good_rows(world, 6)), "rows.xlsx", actor(world.writer))
    db.session.commit()
    job_id = job.id
    tasks.init_app(app)
    tasks.huey.immediate = False
    configured = tasks.huey.storage
    tasks.huey.storage = storage
    consumer = Consumer(tasks.huey, workers=1, periodic=False, check_worker_health=False)
    started = False
    try:
        tasks.huey.flush()
        tasks.import_delivery_rows(job_id)  # enqueued, not run
        assert tasks.huey.pending_count() == 1
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        consumer.start()  # the scheduler and one worker thread; it also sets signal handlers, put back below
        started = True
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            db.session.expire_all()
            if db.session.get(ImportJob, job_id).state.finished:
                break
            time.sleep(0.1)
        return db.session.get(ImportJob, job_id)
    finally:
        if started:
            consumer.stop(graceful=True)
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        tasks.huey.storage = configured
        tasks.huey.immediate = True


def test_a_real_worker_runs_the_job_from_a_sqlite_queue(world, tmp_path, app):
    finished = _through_a_worker(world, app, SqliteStorage("procurement-test", filename=str(tmp_path / "queue.db")))
    assert finished.state == ImportState.DONE and finished.imported == 6
    assert rows_in_db() == 6


def test_a_real_worker_runs_the_job_from_redis(world, app):
    """RedisHuey, the production queue when FLASK_REDIS_URL is set (Redis at 127.0.0.1:6379 on the CI machine)."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        pytest.skip(f"no Redis at {url}")
    finished = _through_a_worker(world, app, RedisStorage("procurement-test", url=url))
    assert finished.state == ImportState.DONE and finished.imported == 6
    assert rows_in_db() == 6


def test_an_import_refuses_rows_dated_after_today(world, monkeypatch):
    monkeypatch.setattr(services, "beijing_today", lambda: date(2026, 5, 3))
    job = run(world, xlsx(good_rows(world, 3)))  # 1, 2 and 3 May are fine; then 4 May is tomorrow
    assert job.state == ImportState.DONE
    job = run(world, xlsx([(ANNA, world.item.code, date(2026, 5, 4), 1, "社工9", "")]))
    assert job.state == ImportState.REFUSED and job.error_count == 1
    line, column, _value, _reason = error_sheet(job)[1]
    assert line == 2 and column == "服务日期"
    assert rows_in_db() == 3
