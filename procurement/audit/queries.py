"""Reading the audit log: the filter the audit administrator sets, and the queries built from it."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select

from procurement.audit.models import AuditRecord
from procurement.extensions import db
from procurement.rules.clock import BEIJING

#: Columns read for an export, as plain rows (no ORM objects: a million rows must not fill the identity map).
EXPORT_COLUMNS = ("seq", "at", "username", "ip", "action", "object_type", "object_id", "outcome", "detail", "hash")


@dataclass(frozen=True)
class AuditFilter:
    """What the audit administrator asked for; empty values do not filter."""

    date_from: date | None = None  # Beijing calendar dates, both inclusive
    date_to: date | None = None
    user: str = ""  # exact user name, or the exact display name of an account
    action: str = ""  # an action code, or an area prefix ending in "."
    outcome: str = ""
    object_type: str = ""
    object_id: str = ""
    ip: str = ""  # exact address, or a prefix ending in "*"

    def as_detail(self) -> dict:
        """The non-empty filters as plain JSON values (for the audit record of an export)."""
        values = {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "user": self.user, "action": self.action, "outcome": self.outcome,
            "object_type": self.object_type, "object_id": self.object_id, "ip": self.ip,
        }
        return {k: v for k, v in values.items() if v}


def utc_bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """The UTC instants [start, end) covering the Beijing calendar days from ``date_from`` to ``date_to``.

    A Beijing day runs from 16:00 UTC the day before: 2026-11-28T23:30Z is on 29 November in Beijing.
    """
    start = datetime.combine(date_from, time.min, tzinfo=BEIJING).astimezone(UTC) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=BEIJING).astimezone(UTC) if date_to else None
    return start, end


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def conditions(flt: AuditFilter) -> list:
    """The WHERE clauses of a filter."""
    where = []
    start, end = utc_bounds(flt.date_from, flt.date_to)
    if start is not None:
        where.append(AuditRecord.at >= start)
    if end is not None:
        where.append(AuditRecord.at < end)
    if flt.user:
        from procurement.auth.models import User

        by_name = select(User.id).where(User.display_name == flt.user).scalar_subquery()
        where.append(or_(AuditRecord.username == flt.user, AuditRecord.user_id.in_(by_name)))
    if flt.action:
        if flt.action.endswith("."):
            where.append(AuditRecord.action.like(_like_prefix(flt.action), escape="\\"))
        else:
            where.append(AuditRecord.action == flt.action)
    if flt.outcome:
        where.append(AuditRecord.outcome == flt.outcome)
    if flt.object_type:
        where.append(AuditRecord.object_type == flt.object_type)
    if flt.object_id:
        where.append(AuditRecord.object_id == flt.object_id)
    if flt.ip:
        if flt.ip.endswith("*"):
            where.append(AuditRecord.ip.like(_like_prefix(flt.ip.rstrip("*")), escape="\\"))
        else:
            where.append(AuditRecord.ip == flt.ip)
    return where


def record_query(flt: AuditFilter) -> Select:
    """Matching records, newest first."""
    return select(AuditRecord).where(*conditions(flt)).order_by(AuditRecord.seq.desc())


def count_records(flt: AuditFilter, up_to_seq: int | None = None) -> int:
    query = select(func.count()).select_from(AuditRecord).where(*conditions(flt))
    if up_to_seq is not None:
        query = query.where(AuditRecord.seq <= up_to_seq)
    return db.session.execute(query).scalar_one()


def last_seq() -> int:
    return db.session.execute(select(func.max(AuditRecord.seq))).scalar_one() or 0


def known_actions() -> list[str]:
    """Every action code that occurs in the log, sorted."""
    return list(db.session.execute(select(AuditRecord.action).distinct().order_by(AuditRecord.action)).scalars())


def display_names(user_ids) -> dict[int, str]:
    """Display names of the users behind a page of records."""
    from procurement.auth.models import User

    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def iter_rows(flt: AuditFilter, up_to_seq: int, batch_size: int = 2000) -> Iterator:
    """Matching records up to ``up_to_seq``, oldest first, as plain rows fetched in batches by seq."""
    columns = [getattr(AuditRecord, name) for name in EXPORT_COLUMNS]
    where = conditions(flt)
    after = 0
    while True:
        batch = db.session.execute(
            select(*columns).where(*where, AuditRecord.seq > after, AuditRecord.seq <= up_to_seq)
            .order_by(AuditRecord.seq).limit(batch_size)
        ).all()
        if not batch:
            return
        yield from batch
        after = batch[-1].seq
