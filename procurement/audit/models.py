"""Audit records and the chain head."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from procurement.db_types import UTCDateTime
from procurement.extensions import db


class AuditRecord(db.Model):
    """One audited event.  Rows are only ever inserted; triggers refuse updates and deletes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # success / failure / denied
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_record_object", "object_type", "object_id"),)

    CHAINED = ("seq", "at", "user_id", "username", "ip", "action", "object_type", "object_id", "outcome", "detail")

    def chain_fields(self) -> dict:
        return chain_fields(self)


def chain_fields(row) -> dict:
    """The fields the hash covers, as plain values, from a record or a result row."""
    fields = {name: getattr(row, name) for name in AuditRecord.CHAINED}
    fields["at"] = fields["at"].isoformat()
    return fields


class AuditChainHead(db.Model):
    """A single row: the last sequence number and hash.  Updating it serializes appends."""

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
