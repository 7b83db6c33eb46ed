"""Assignment of beneficiaries to a contract by import: a .xlsx or .csv with one column 身份证号码 (and optionally
开始日期). Read with the delivery import's readers (recognised by content), every row checked, all or nothing.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from procurement import crypto
from procurement.audit.services import Actor, append_audit
from procurement.beneficiaries import services
from procurement.beneficiaries.models import Assignment, Beneficiary
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.rules.identifiers import check_citizen_id
from procurement.supervision.imports import (
    ImportRefused,
    RowError,
    cell_text,
    error_workbook,
    formula_column,
    parse_date,
    read_table,
    template_workbook,
)

COLUMNS = ("身份证号码", "开始日期")
MAX_ROWS = 10_000  # a county contract serves a few thousand people at most


class AssignmentImportInvalid(DomainError):
    """Some rows are bad: nothing was assigned. ``errors`` holds each bad row's line, column, value and reason."""

    def __init__(self, errors: list[RowError], total: int):
        super().__init__(_("%(n)s rows of the file have problems; nothing was assigned.", n=len({e.line for e in errors})),
                         field="file")
        self.errors = errors
        self.total = total

    def error_file(self) -> bytes:
        return error_workbook(self.errors, self.total, len(self.errors))


@dataclass
class _Row:
    line: int
    number: str  # as typed
    start: date
    start_text: str = ""
    problems: list = field(default_factory=list)  # (column, message)
    beneficiary: Beneficiary | None = None


def _masked(number: str) -> str:
    """The number as typed, masked like everywhere else (first 6 + last 4): the line tells which row it is."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else number


def template() -> bytes:
    return template_workbook(COLUMNS, "服务对象")


def _rows(data: bytes, contract, today: date) -> list[_Row]:
    default_start = max(today, contract.term_start)
    rows = []
    for line, cells in read_table(data, COLUMNS, optional=1):
        if len(rows) >= MAX_ROWS:
            raise ImportRefused(_("A file holds at most %(n)s rows; split it.", n=f"{MAX_ROWS:,}"), field="file")
        row = _Row(line, cell_text(cells[0]), default_start, cell_text(cells[1]))
        if formula_column(cells) is not None:
            row.problems.append((COLUMNS[formula_column(cells)], _("Formulas are not accepted; enter the value itself.")))
        if cells[1] not in (None, ""):
            start = parse_date(cells[1])
            if start is None:
                row.problems.append((COLUMNS[1], _("Write the date as 2026-05-01.")))
            elif not (contract.term_start <= start <= contract.term_end):
                row.problems.append((COLUMNS[1], _("The date is outside the contract's term.")))
            else:
                row.start = start
        rows.append(row)
    return rows


def import_assignments(contract, data: bytes, actor: Actor, today: date) -> list[Assignment]:
    """Assign every person of the file to the contract, or nobody.

    Raises:
        ImportRefused: the file cannot be read (kind, size, header) or has no rows.
        AssignmentImportInvalid: some rows are bad (invalid or unregistered number, outside the region, already
            assigned, twice in the file…); nothing was assigned.
        AccessDenied: the user may not assign beneficiaries to this contract.
    """
    from contracts.services import can_edit_contract

    if not can_edit_contract(actor.user, contract):
        raise AccessDenied(_("You may not assign beneficiaries to this contract."))
    if contract.term_end < today:
        raise DomainError(_("The contract's term has ended."), field="file")
    rows = _rows(data, contract, today)
    if not rows:
        raise ImportRefused(_("The file has no rows below the header."), field="file")
    digests = {}
    for row in rows:
        try:
            digests[row.line] = crypto.keyed_hash(check_citizen_id(row.number.upper()))
        except ValueError:
            row.problems.insert(0, (COLUMNS[0], _("This is not a valid 18-character citizen ID number.")))
    people = {}
    wanted = list(set(digests.values()))
    for start in range(0, len(wanted), 500):
        people.update({p.id_hash: p for p in db.session.execute(
            select(Beneficiary).where(Beneficiary.id_hash.in_(wanted[start:start + 500]))).scalars()})
    existing = {a.beneficiary_id: a for a in db.session.execute(
        select(Assignment).where(Assignment.contract_id == contract.id)).scalars()}
    first_line = {}
    for row in rows:
        digest = digests.get(row.line)
        if digest is None:
            continue
        person = people.get(digest)
        if digest in first_line:
            row.problems.insert(0, (COLUMNS[0], _("The same ID number is already on line %(line)s.",
                                                  line=first_line[digest])))
            continue
        first_line[digest] = row.line
        if person is None or not services.can_edit(actor.user, person):
            row.problems.insert(0, (COLUMNS[0], _("No beneficiary of your region has this ID number. Register the "
                                                  "person first.")))
        elif not contract.purchaser.region.contains(person.region):
            row.problems.insert(0, (COLUMNS[0], _("%(name)s lives outside the purchaser's region.", name=person.name)))
        elif not person.active:
            row.problems.insert(0, (COLUMNS[0], _("This person's record is inactive.")))
        elif (current := existing.get(person.id)) is not None and (current.ended_on is None
                                                                   or current.ended_on >= row.start):
            row.problems.insert(0, (COLUMNS[0], _("%(name)s is already assigned to this contract.", name=person.name)))
        else:
            row.beneficiary = person
    errors = [RowError(row.line, column, _masked(row.number) if column == COLUMNS[0] else row.start_text, message)
              for row in rows for column, message in row.problems]
    if errors:
        raise AssignmentImportInvalid(errors, len(rows))
    made = []
    for row in rows:
        record = existing.get(row.beneficiary.id)
        if record is not None:  # assigned again after an end: the same row, reopened
            record.assigned_on, record.ended_on, record.end_reason = row.start, None, None
        else:
            record = Assignment(contract_id=contract.id, beneficiary_id=row.beneficiary.id, assigned_on=row.start,
                                assigned_by_id=actor.user_id)
            db.session.add(record)
        made.append(record)
    db.session.flush()
    append_audit(actor, "beneficiary.assign_import", contract, detail={"contract": contract.number, "count": len(made)})
    return made
