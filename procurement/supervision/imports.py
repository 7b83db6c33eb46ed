"""Bulk upload of delivery rows from Excel (.xlsx) or CSV: every row checked, all or nothing, an error file in Chinese.

The normal path at county scale: up to 100,000 rows in one file. The file is recognised by its content (an
.xlsx is a ZIP archive; anything else must decode as CSV text), read as a stream, and checked row by row
with the lookups of :class:`~procurement.supervision.services.RowContext` loaded once. Nothing is written
unless every row is good; then the rows go in with bulk inserts.
"""

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from openpyxl import Workbook, load_workbook
from sqlalchemy import insert, select

from procurement import files
from procurement.audit.services import Actor, append_audit
from procurement.errors import DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.rules.clock import utcnow
from procurement.supervision import services
from procurement.supervision.models import DeliveryRow, ImportJob, ImportState, ServiceReport

#: The columns of the upload, in order (the header row must name them).
COLUMNS = ("身份证号码", "服务项目编码", "服务日期", "数量", "服务人员", "备注")
MAX_ROWS = 100_000
MAX_BYTES = 20 * 1024 * 1024  # the app's MAX_CONTENT_LENGTH: a 100,000-row workbook is about 4 MB
#: Above this many bytes an upload is checked by the background worker, with a progress bar.
BACKGROUND_BYTES = 256 * 1024
INSERT_CHUNK = 5_000
PROGRESS_EVERY = 2_000
MAX_ERRORS_KEPT = 10_000
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


class ImportRefused(DomainError):
    """The file as a whole cannot be read (wrong kind, empty, too large, no header)."""


@dataclass
class RowError:
    line: int
    column: str
    value: str
    message: str


@dataclass
class CheckResult:
    total: int = 0
    rows: list = field(default_factory=list)  # dicts ready for the insert
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0


def kind_of(data: bytes) -> str:
    """"xlsx" or "csv", by content.

    Raises:
        ImportRefused: empty, too large, or neither an Excel workbook nor text.
    """
    if not data:
        raise ImportRefused(_("The file is empty."), field="file")
    if len(data) > MAX_BYTES:
        raise ImportRefused(_("The file is larger than %(n)s MB.", n=MAX_BYTES // (1024 * 1024)), field="file")
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "[Content_Types].xml" in archive.namelist():
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        raise ImportRefused(_("This is not an Excel workbook (.xlsx); save it as .xlsx or CSV."), field="file")
    if b"\x00" in data[:4096] or files.sniff(data) is not None:
        raise ImportRefused(_("Only Excel (.xlsx) or CSV files can be imported (checked by their content)."),
                            field="file")
    return "csv"


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(_("The CSV file is neither UTF-8 nor GB18030 text."), field="file")


def read_table(data: bytes, columns: tuple, optional: int = 0) -> Iterator[tuple[int, tuple]]:
    """(line number, cells) of every non-empty row after the header, padded to ``columns`` — the reader every
    import shares (delivery rows, beneficiaries assigned to a contract).

    The header must name ``columns`` in order; the last ``optional`` of them may be left out.

    Raises:
        ImportRefused: the file cannot be read, or its header is not the template's.
    """
    kind = kind_of(data)
    if kind == "xlsx":
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many kinds on a damaged archive
            raise ImportRefused(_("The workbook cannot be read: %(error)s", error=type(exc).__name__),
                                field="file") from None
        rows = workbook.worksheets[0].iter_rows(values_only=True)
    else:
        rows = csv.reader(io.StringIO(_text(data)))
    header = next(rows, None)
    names = [str(c).strip() if c is not None else "" for c in (header or ())[:len(columns)]]
    while names and not names[-1]:
        names.pop()
    if tuple(names) != columns[:len(names)] or len(names) < len(columns) - optional:
        raise ImportRefused(_("The first row must be the template's header: %(columns)s.", columns="、".join(columns)),
                            field="file")
    for line, cells in enumerate(rows, 2):
        cells = tuple(cells)[:len(columns)]
        if not any(c not in (None, "") and str(c).strip() for c in cells):
            continue
        yield line, cells + (None,) * (len(columns) - len(cells))


def read_rows(data: bytes) -> Iterator[tuple[int, tuple]]:
    """(line number, cells) of every non-empty delivery row after the header.

    Raises:
        ImportRefused: the file cannot be read, or its header is not the template's.
    """
    return read_table(data, COLUMNS)


def formula_column(cells: tuple) -> int | None:
    """The first cell holding a spreadsheet formula (refused: the value itself must be entered)."""
    return next((i for i, c in enumerate(cells) if isinstance(c, str) and c.lstrip().startswith("=")), None)


def parse_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.match(str(value or ""))
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _parse_quantity(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        quantity = Decimal(str(value).strip()) if value is not None else None
    except InvalidOperation:
        return None
    return quantity if quantity is not None and quantity.is_finite() else None


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


FIELD_COLUMNS = {"beneficiary": 0, "item": 1, "delivered_on": 2, "quantity": 3, "worker": 4, "note": 5}


def check_rows(report: ServiceReport, rows, progress: Callable[[int], None] | None = None) -> CheckResult:
    """Check every row; the good ones come back ready to insert, the bad ones as errors with their reason."""
    context = services.RowContext.of(report)
    context.preload_assigned()
    seen = set(db.session.execute(select(DeliveryRow.beneficiary_id, DeliveryRow.item_id, DeliveryRow.delivered_on,
                                         DeliveryRow.worker).where(DeliveryRow.report_id == report.id)).all())
    result = CheckResult()
    for line, cells in rows:
        result.total += 1
        if result.total > MAX_ROWS:
            raise ImportRefused(_("A file holds at most %(n)s rows; split it.", n=f"{MAX_ROWS:,}"), field="file")
        if progress is not None and result.total % PROGRESS_EVERY == 0:
            progress(result.total)
        problems = []
        formula = formula_column(cells)
        if formula is not None:
            problems.append((formula, _("Formulas are not accepted; enter the value itself.")))
        row = services.RowInput(id_number=cell_text(cells[0]), item_code=cell_text(cells[1]),
                                delivered_on=parse_date(cells[2]), quantity=_parse_quantity(cells[3]),
                                worker=cell_text(cells[4]), note=cell_text(cells[5]))
        beneficiary_id, item_id, row_problems = context.check(row)
        problems += [(FIELD_COLUMNS[f], m) for f, m in row_problems]
        if not problems:
            key = (beneficiary_id, item_id, row.delivered_on, row.worker)
            if key in seen:
                problems.append((2, _("The same delivery appears twice (or is already in the report).")))
            else:
                seen.add(key)
        if problems:
            result.error_count += len(problems)
            for column, message in problems:
                if len(result.errors) < MAX_ERRORS_KEPT:
                    result.errors.append(RowError(line, COLUMNS[column], cell_text(cells[column]), message))
            continue
        result.rows.append({"report_id": report.id, "beneficiary_id": beneficiary_id, "item_id": item_id,
                            "delivered_on": row.delivered_on, "quantity": row.quantity, "worker": row.worker,
                            "note": row.note or None})
    return result


def error_workbook(errors: list[RowError], total: int, error_count: int) -> bytes:
    """The downloadable error file: each bad row's line, column, value and reason, in Chinese."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误")
    sheet.append(["行号", "列", "内容", "原因"])
    for error in errors:
        # a value that looks like a formula is written as text, never evaluated by the user's spreadsheet
        value = "'" + error.value if error.value[:1] in ("=", "+", "-", "@") else error.value
        sheet.append([error.line, error.column, value, error.message])
    if error_count > len(errors):
        sheet.append(["", "", "", _("…and %(n)s more problems.", n=error_count - len(errors))])
    summary = workbook.create_sheet("说明")
    summary.append([_("Rows checked"), total])
    summary.append([_("Problems found"), error_count])
    summary.append([_("Nothing was imported: correct the rows and upload the whole file again.")])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_workbook(columns: tuple = COLUMNS, title: str = "服务记录") -> bytes:
    """An empty workbook with the header row of an import."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(list(columns))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- jobs --------------------------------------------------------------------------------------------

def start_import(report: ServiceReport, data: bytes, name: str, actor: Actor) -> ImportJob:
    """Store the upload and make its job; the caller runs it now or queues it (:func:`run_import`).

    Raises:
        ImportRefused: the file cannot be imported at all (kind, size).
        DomainError: the report cannot be changed now.
    """
    services._ensure_write(actor, report)
    kind_of(data)
    job = ImportJob(report_id=report.id, file_sha256=files.store(data), file_name=(name or "upload")[-128:],
                    state=ImportState.QUEUED, created_by_id=actor.user_id)
    db.session.add(job)
    db.session.flush()
    append_audit(actor, "report.import", report, detail={"job": job.id, "file": job.file_name, "bytes": len(data)})
    return job


def run_import(job: ImportJob, commit_progress: Callable[[], None] | None = None) -> ImportJob:
    """Check the job's file and import it if every row is good. ``commit_progress`` makes progress visible."""
    report = db.session.get(ServiceReport, job.report_id)
    job.state = ImportState.RUNNING
    if commit_progress:
        commit_progress()

    def progress(n: int) -> None:
        job.processed = n
        if commit_progress:
            commit_progress()

    try:
        if not report.state.supplier_may_edit:
            raise ImportRefused(_("The report is “%(state)s”; it cannot be changed now.", state=report.state.label))
        result = check_rows(report, read_rows(files.load(job.file_sha256) or b""), progress)
    except ImportRefused as exc:
        job.state, job.message, job.finished_at = ImportState.FAILED, exc.message, utcnow()
        return job
    job.total = job.processed = result.total
    job.error_count = result.error_count
    if result.error_count or not result.total:
        job.state = ImportState.REFUSED if result.error_count else ImportState.FAILED
        job.message = None if result.error_count else _("The file has no rows below the header.")
        if result.error_count:
            job.error_file_sha256 = files.store(error_workbook(result.errors, result.total, result.error_count))
        job.finished_at = utcnow()
        return job
    for start in range(0, len(result.rows), INSERT_CHUNK):
        db.session.execute(insert(DeliveryRow), result.rows[start:start + INSERT_CHUNK])
    report.updated_at = utcnow()
    job.imported, job.state, job.finished_at = len(result.rows), ImportState.DONE, utcnow()
    db.session.flush()
    return job
