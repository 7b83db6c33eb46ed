"""Exporting the audit log to Excel and CSV (DOMAIN §9: exportable, formula injection neutralized).

Rows are read in batches and written as they come: CSV is streamed to the client, the
workbook is written by openpyxl's write-only mode into a temporary file, so memory does
not grow with the size of the log.
"""

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from procurement.audit.queries import AuditFilter
from procurement.audit.services import Actor, append_audit
from procurement.rules.clock import BEIJING
from procurement.rules.spreadsheet import neutralize

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"
#: An export holds at most this many records (``AUDIT_EXPORT_MAX_ROWS`` overrides it).
MAX_ROWS = 200_000
CSV_FLUSH_ROWS = 500

#: (header, column width in the workbook)
COLUMNS = (
    (_l("Seq"), 10),
    (_l("Time (UTC, ISO 8601)"), 22),
    (_l("Time (Beijing)"), 20),
    (_l("User"), 16),
    (_l("IP address"), 16),
    (_l("Action"), 24),
    (_l("Object type"), 16),
    (_l("Object ID"), 12),
    (_l("Outcome"), 10),
    (_l("Detail (JSON)"), 60),
    (_l("Hash (SHA-256)"), 66),
)


def headers() -> list[str]:
    return [str(title) for title, _width in COLUMNS]


def row_cells(row) -> list:
    """One record as cells in :data:`COLUMNS` order; every text cell neutralized against formula injection."""
    at = row.at
    texts = [
        at.isoformat().replace("+00:00", "Z"),
        at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        row.username or "",
        row.ip or "",
        row.action,
        row.object_type or "",
        row.object_id or "",
        row.outcome,
        json.dumps(row.detail or {}, ensure_ascii=False, sort_keys=True),
        row.hash,
    ]
    return [row.seq] + [neutralize(text) for text in texts]


def stream_csv(rows: Iterable) -> Iterator[str]:
    """CSV text in chunks, starting with a byte-order mark so Excel reads the Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(headers())
    for count, row in enumerate(rows, start=1):
        writer.writerow(row_cells(row))
        if count % CSV_FLUSH_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_text(value):
    # Control characters (a typed user name may hold them) are illegal in the file format: show them escaped.
    if isinstance(value, str):
        return neutralize(ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", value))
    return value


def write_xlsx(rows: Iterable, info_lines: Iterable[str]):
    """The records as a workbook in a temporary file, positioned at its start."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Audit log"))
    for index, (_title, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")
    header = []
    for title in headers():
        cell = WriteOnlyCell(sheet, value=title)
        cell.font, cell.fill = bold, fill
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_text(v) for v in row_cells(row)])
    info = workbook.create_sheet(_("About this export"))
    info.column_dimensions["A"].width = 100
    for line in info_lines:
        info.append([_xlsx_text(line)])
    output = tempfile.TemporaryFile()
    workbook.save(output)
    output.seek(0)
    return output


def file_chunks(fileobj, size: int = 64 * 1024) -> Iterator[bytes]:
    """Send a temporary file in pieces; it is closed (and so removed) however the download ends."""
    try:
        while chunk := fileobj.read(size):
            yield chunk
    finally:
        fileobj.close()


def record_export(actor: Actor, flt: AuditFilter, fmt: str, rows: int, up_to_seq: int, refused: bool = False):
    """Audit an export of the log (or a refused one: too many records)."""
    detail = {"format": fmt, "filters": flt.as_detail(), "rows": rows, "up_to_seq": up_to_seq}
    if refused:
        detail["reason"] = "too_many_rows"
    return append_audit(actor, "audit.export", outcome="failure" if refused else "success", detail=detail)
