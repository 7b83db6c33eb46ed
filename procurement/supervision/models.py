"""Service reports (服务报告): one per contract and period, with delivery rows, expenditures and attachments."""

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.auth.models import enum_column
from procurement.db_types import Money, UTCDateTime, utcnow
from procurement.extensions import db
from procurement.i18n import N_
from procurement.i18n import gettext as _

#: Quantities (hours, visits) with two places, stored as integer hundredths like money.
Quantity = Money


class ReportState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # with the officer's reasons, per row or overall
    RESUBMITTED = "resubmitted"
    ACCEPTED = "accepted"  # locked

    @property
    def label(self) -> str:
        return _(REPORT_STATE_MSGIDS[self])

    @property
    def supplier_may_edit(self) -> bool:
        return self in (ReportState.DRAFT, ReportState.RETURNED)

    @property
    def awaiting_review(self) -> bool:
        return self in (ReportState.SUBMITTED, ReportState.RESUBMITTED)


REPORT_STATE_MSGIDS = {
    ReportState.DRAFT: N_("Draft"),
    ReportState.SUBMITTED: N_("Submitted"),
    ReportState.RETURNED: N_("Returned for correction"),
    ReportState.RESUBMITTED: N_("Resubmitted"),
    ReportState.ACCEPTED: N_("Report accepted"),
}


class ServiceReport(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    state: Mapped[ReportState] = mapped_column(enum_column(ReportState, 16), index=True)
    narrative: Mapped[str | None] = mapped_column(Text)
    return_reason: Mapped[str | None] = mapped_column(Text)  # the officer's overall reason, when returned
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest (re)submission
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # never changes: timeliness
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    contract = relationship("Contract", lazy="joined", innerjoin=True)
    expenditures = relationship("Expenditure", order_by="Expenditure.id", cascade="all, delete-orphan")
    attachments = relationship("ReportAttachment", order_by="ReportAttachment.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("contract_id", "period_start"),
        CheckConstraint("period_end >= period_start", name="period"),
        CheckConstraint("state = 'draft' OR submitted_at IS NOT NULL", name="submitted_has_time"),
        CheckConstraint("state <> 'returned' OR return_reason IS NOT NULL OR reviewed_at IS NOT NULL",
                        name="returned_is_reviewed"),
        CheckConstraint("state <> 'accepted' OR reviewed_at IS NOT NULL", name="accepted_is_reviewed"),
    )


class DeliveryRow(db.Model):
    """One delivery: a beneficiary received a service item of the contract on a day."""

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("service_report.id"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_item.id"))
    delivered_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    worker: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(256))
    return_reason: Mapped[str | None] = mapped_column(String(256))  # the officer's reason for this row

    beneficiary = relationship("Beneficiary", lazy="joined", innerjoin=True)
    item = relationship("CatalogItem", lazy="joined", innerjoin=True)

    __table_args__ = (
        # the same delivery twice (a double click, a file uploaded again) is one row
        UniqueConstraint("report_id", "beneficiary_id", "item_id", "delivered_on", "worker", name="uq_delivery"),
        Index("ix_delivery_row_report_item", "report_id", "item_id"),
        CheckConstraint("quantity > 0", name="quantity"),
    )


class Expenditure(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("service_report.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(128))  # 人员工资、交通、耗材…
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(String(256))

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


class ReportAttachment(db.Model):
    """A sign-in sheet, photo or receipt: checked by content, stored outside the web root (procurement.files)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("service_report.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    __table_args__ = (UniqueConstraint("report_id", "sha256"),)


class ImportState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # every row imported
    REFUSED = "refused"  # the file had bad rows: nothing imported, an error file to download
    FAILED = "failed"  # the file could not be read at all

    @property
    def label(self) -> str:
        return _(IMPORT_STATE_MSGIDS[self])

    @property
    def finished(self) -> bool:
        return self in (ImportState.DONE, ImportState.REFUSED, ImportState.FAILED)


IMPORT_STATE_MSGIDS = {
    ImportState.QUEUED: N_("Waiting"),
    ImportState.RUNNING: N_("Checking the rows"),
    ImportState.DONE: N_("Imported"),
    ImportState.REFUSED: N_("Refused: bad rows"),
    ImportState.FAILED: N_("The file could not be read"),
}


class ImportJob(db.Model):
    """An upload of delivery rows into a report, checked and imported all or nothing (in the background if large)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("service_report.id"), index=True)
    file_sha256: Mapped[str] = mapped_column(String(64))  # the upload, in the file store
    file_name: Mapped[str] = mapped_column(String(128))
    state: Mapped[ImportState] = mapped_column(enum_column(ImportState, 16))
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    error_file_sha256: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("processed >= 0 AND processed <= total OR total = 0", name="progress"),)
