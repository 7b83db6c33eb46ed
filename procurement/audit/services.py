"""Appending to and verifying the audit log."""

from dataclasses import dataclass

from sqlalchemy import select, update

from procurement.audit.models import AuditChainHead, AuditRecord, chain_fields
from procurement.extensions import db
from procurement.rules.clock import utcnow
from procurement.rules.hashchain import GENESIS_HASH, ChainRecord, record_hash, verify_chain


@dataclass(frozen=True)
class Actor:
    """Who does something, and from where: passed to every service."""

    user: object | None  # procurement.auth.models.User
    ip: str | None = None

    @property
    def user_id(self):
        return self.user.id if self.user is not None else None

    @property
    def username(self):
        return self.user.username if self.user is not None else None


SYSTEM = Actor(None, "cli")


def _describe(obj) -> tuple[str | None, str | None]:
    if obj is None:
        return None, None
    return obj.__tablename__, str(obj.id)


def ensure_chain_head() -> None:
    if db.session.get(AuditChainHead, 1) is None:
        db.session.add(AuditChainHead(id=1, seq=0, hash=GENESIS_HASH))
        db.session.flush()


def append_audit(actor: Actor, action: str, obj=None, *, outcome: str = "success", detail: dict | None = None,
                 object_type: str | None = None, object_id=None, username: str | None = None) -> AuditRecord:
    """Add one record to the chain, in the caller's transaction.

    The head row is updated first: that takes PostgreSQL's row lock (SQLite's
    write lock), so concurrent transactions append one after another and the
    chain never forks.
    """
    if obj is not None:
        object_type, object_id = _describe(obj)
    db.session.flush()
    row = db.session.execute(
        update(AuditChainHead).where(AuditChainHead.id == 1).values(seq=AuditChainHead.seq + 1)
        .returning(AuditChainHead.seq, AuditChainHead.hash)
    ).one_or_none()
    if row is None:
        ensure_chain_head()
        return append_audit(actor, action, outcome=outcome, detail=detail, object_type=object_type,
                            object_id=object_id, username=username)
    seq, prev_hash = row
    record = AuditRecord(
        seq=seq,
        at=utcnow().replace(microsecond=0),
        user_id=actor.user_id,
        username=username or actor.username,
        ip=actor.ip,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        outcome=outcome,
        detail=detail or {},
    )
    record.prev_hash = prev_hash
    record.hash = record_hash(prev_hash, record.chain_fields())
    db.session.add(record)
    db.session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(hash=record.hash))
    db.session.flush()
    return record


def verify_audit_chain(batch_size: int = 5000):
    """Every problem in the stored chain (empty list: intact)."""
    head = db.session.get(AuditChainHead, 1)

    columns = [getattr(AuditRecord, name) for name in AuditRecord.CHAINED] + [AuditRecord.prev_hash, AuditRecord.hash]

    def records():
        # Plain rows, not ORM objects: the identity map stays small for any log size.
        last = 0
        while True:
            batch = db.session.execute(
                select(*columns).where(AuditRecord.seq > last).order_by(AuditRecord.seq).limit(batch_size)
            ).all()
            if not batch:
                return
            for row in batch:
                yield ChainRecord(row.seq, row.prev_hash, row.hash, chain_fields(row))
            last = batch[-1].seq

    return verify_chain(records(), head.seq if head else 0, head.hash if head else GENESIS_HASH)
