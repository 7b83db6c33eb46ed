"""Bulk download of finalized evaluation sheets' PDFs as one zip, built by the worker with its progress shown.

Finance and officers choose finalized sheets of their region (by prefecture or county, stage, finalized
between two dates); :func:`start_bulk` checks every chosen sheet is one they may see and records a
:class:`~evaluation.models.BulkDownload`; :func:`run_bulk` (the huey task ``build_bulk_zip``) writes the
stored PDFs one by one into a zip on disk, committing its progress, and keeps the zip in the file store.
Only the user who asked downloads it.
"""

import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from contracts.models import Contract, IssuedDocument
from contracts.services import contract_query
from evaluation.models import BulkDownload, Sheet, SheetState, Stage
from procurement import files
from procurement.audit.services import Actor, append_audit
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.i18n import N_
from procurement.i18n import gettext as _
from procurement.orgs.models import Organization, Region
from procurement.rules.clock import utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
FINISHED = (DONE, FAILED)
STATE_LABELS = {QUEUED: N_("Waiting for the worker"), RUNNING: N_("Being made"), DONE: N_("Ready"),
                FAILED: N_("Failed")}
MAX_SHEETS = 2000
#: A finished zip is kept this many days (its PDFs stay in the issued documents), then removed.
KEEP_DAYS = 7
PROGRESS_EVERY = 10
BEIJING_OFFSET = timedelta(hours=8)


@dataclass
class SheetFilter:
    region: Region | None = None  # a prefecture or county in the user's subtree
    stage: Stage | None = None
    finalized_from: date | None = None  # Beijing dates, both included
    finalized_to: date | None = None


def visible_sheets(user):
    """A query of the finalized sheets with an issued PDF whose contract the user may see (their region's)."""
    contracts = contract_query(user).with_only_columns(Contract.id).scalar_subquery()
    return (select(Sheet).where(Sheet.state == SheetState.FINALIZED, Sheet.document_id.is_not(None),
                                Sheet.contract_id.in_(contracts)))


def _utc_start(day: date) -> datetime:
    """The UTC instant at which the Beijing date ``day`` begins."""
    return datetime.combine(day, time(0), tzinfo=UTC) - BEIJING_OFFSET


def filter_sheets(user, flt: SheetFilter, limit: int = MAX_SHEETS) -> list[Sheet]:
    query = visible_sheets(user)
    if flt.region is not None:
        query = (query.join(Contract, Sheet.contract_id == Contract.id)
                 .join(Organization, Contract.purchaser_id == Organization.id)
                 .join(Region, Organization.region_id == Region.id)
                 .where(Region.path.startswith(flt.region.path)))
    if flt.stage is not None:
        query = query.where(Sheet.stage == flt.stage)
    if flt.finalized_from is not None:
        query = query.where(Sheet.finalized_at >= _utc_start(flt.finalized_from))
    if flt.finalized_to is not None:
        query = query.where(Sheet.finalized_at < _utc_start(flt.finalized_to + timedelta(days=1)))
    return db.session.execute(query.order_by(Sheet.finalized_at.desc(), Sheet.id.desc()).limit(limit)).scalars().all()


def start_bulk(actor: Actor, sheet_ids) -> BulkDownload:
    """Record a bulk download of the chosen sheets (the worker builds the zip).

    Raises:
        DomainError: no sheet chosen, too many, or a sheet that is not a finalized sheet of the user's region
            (field ``sheets``).
    """
    user = actor.user
    try:
        ids = sorted({int(i) for i in sheet_ids})
    except (TypeError, ValueError):
        raise DomainError(_("Choose the sheets to download."), field="sheets") from None
    if not ids:
        raise DomainError(_("Choose the sheets to download."), field="sheets")
    if len(ids) > MAX_SHEETS:
        raise DomainError(_("At most %(n)s sheets at once.", n=MAX_SHEETS), field="sheets")
    found = set(db.session.execute(visible_sheets(user).where(Sheet.id.in_(ids))
                                   .with_only_columns(Sheet.id)).scalars())
    if found != set(ids):
        raise DomainError(_("Only finalized sheets of your region can be downloaded."), field="sheets")
    expire_bulks(utcnow())  # a new zip is a good moment to drop the old ones
    bulk = BulkDownload(sheet_ids=ids, state=QUEUED, total=len(ids), processed=0, created_at=utcnow(),
                        created_by_id=user.id)
    db.session.add(bulk)
    db.session.flush()
    append_audit(actor, "bulk.start", bulk, detail={"sheets": len(ids)})
    return bulk


def run_bulk(bulk: BulkDownload, commit_progress: Callable[[], None] | None = None) -> None:
    """Write the chosen sheets' stored PDFs into one zip, counting progress; keep it in the file store."""
    bulk.state, bulk.processed, bulk.message = RUNNING, 0, None
    if commit_progress:
        commit_progress()
    handle, path = tempfile.mkstemp(prefix="bulk-", suffix=".zip")
    os.close(handle)
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            ids = list(bulk.sheet_ids)
            for start in range(0, len(ids), PROGRESS_EVERY):
                chunk = ids[start:start + PROGRESS_EVERY]
                rows = db.session.execute(
                    select(Sheet.id, IssuedDocument.reference, IssuedDocument.pdf)
                    .join(IssuedDocument, Sheet.document_id == IssuedDocument.id)
                    .where(Sheet.id.in_(chunk))).all()
                for _sheet_id, reference, pdf in sorted(rows):
                    archive.writestr(f"{reference}.pdf".replace("/", "-"), pdf)
                bulk.processed = min(bulk.total, start + len(chunk))
                if commit_progress:
                    commit_progress()
        with open(path, "rb") as stream:
            bulk.file_sha256 = files.store(stream.read())
    finally:
        os.unlink(path)
    bulk.state, bulk.finished_at = DONE, utcnow()
    bulk.processed = bulk.total


def fail_bulk(bulk: BulkDownload, message: str) -> None:
    bulk.state, bulk.finished_at, bulk.message = FAILED, utcnow(), message


def state_label(bulk: BulkDownload) -> str:
    return _(STATE_LABELS.get(bulk.state, bulk.state))


def expire_bulks(now: datetime, days: int = KEEP_DAYS) -> int:
    """Mark the zips finished more than ``days`` ago as expired and remove their files; returns how many.

    A zip's file is removed only when no zip still kept has the same content.
    """
    old = list(db.session.execute(select(BulkDownload).where(
        BulkDownload.expired.is_(False), BulkDownload.finished_at.is_not(None),
        BulkDownload.finished_at < now - timedelta(days=days))).scalars())
    for bulk in old:
        bulk.expired = True
    db.session.flush()
    for sha256 in {b.file_sha256 for b in old if b.file_sha256}:
        if not db.session.scalar(select(func.count()).select_from(BulkDownload).where(
                BulkDownload.file_sha256 == sha256, BulkDownload.expired.is_(False))):
            files.discard(sha256)
    return len(old)


def can_download(user, bulk: BulkDownload) -> bool:
    return bulk.created_by_id == user.id


def bulk_zip(bulk: BulkDownload, actor: Actor) -> bytes:
    """The finished zip's bytes, for the user who asked for it only.

    Raises:
        AccessDenied: another user's download. DomainError: not finished, or no longer kept.
    """
    if not can_download(actor.user, bulk):
        raise AccessDenied(_("Only the person who asked for this download can fetch it."))
    data = files.load(bulk.file_sha256) if bulk.state == DONE and bulk.file_sha256 and not bulk.expired else None
    if data is None:
        raise DomainError(_("The zip is not ready."))
    append_audit(actor, "bulk.download", bulk, detail={"sheets": bulk.total, "sha256": bulk.file_sha256})
    return data


def recent_bulks(user, limit: int = 10) -> list[BulkDownload]:
    return db.session.execute(select(BulkDownload).where(BulkDownload.created_by_id == user.id)
                              .order_by(BulkDownload.id.desc()).limit(limit)).scalars().all()


def count_visible(user) -> int:
    return db.session.execute(select(func.count()).select_from(visible_sheets(user).subquery())).scalar_one()
