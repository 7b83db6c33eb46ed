"""The acceptance record (验收) of a contract: one per contract, one result row per service standard."""

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.auth.models import enum_column
from procurement.db_types import Money, UTCDateTime, utcnow
from procurement.extensions import db
from procurement.i18n import N_
from procurement.i18n import gettext as _

#: Quantities with two places, stored as integer hundredths (like the delivery rows).
Quantity = Money


class AcceptanceState(enum.StrEnum):
    DRAFT = "draft"
    CONCLUDED = "concluded"  # locked
    PUBLISHED = "published"  # the result without personal data is public

    @property
    def label(self) -> str:
        return _(ACCEPTANCE_STATE_MSGIDS[self])


ACCEPTANCE_STATE_MSGIDS = {
    AcceptanceState.DRAFT: N_("Draft"),
    AcceptanceState.CONCLUDED: N_("Concluded"),
    AcceptanceState.PUBLISHED: N_("Result published"),
}


class StandardResult(enum.StrEnum):
    MET = "met"
    PARTLY_MET = "partly_met"
    NOT_MET = "not_met"

    @property
    def label(self) -> str:
        return _(STANDARD_RESULT_MSGIDS[self])


STANDARD_RESULT_MSGIDS = {
    StandardResult.MET: N_("Met"),
    StandardResult.PARTLY_MET: N_("Partly met"),
    StandardResult.NOT_MET: N_("Not met"),
}


class Conclusion(enum.StrEnum):
    PASSED = "passed"
    PASSED_WITH_CONDITIONS = "conditional"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return _(CONCLUSION_MSGIDS[self])


CONCLUSION_MSGIDS = {
    Conclusion.PASSED: N_("Passed"),
    Conclusion.PASSED_WITH_CONDITIONS: N_("Passed with conditions"),
    Conclusion.FAILED: N_("Failed"),
}


class Acceptance(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), unique=True)
    state: Mapped[AcceptanceState] = mapped_column(enum_column(AcceptanceState, 16), index=True)
    accepted_on: Mapped[date] = mapped_column(Date)
    team: Mapped[str | None] = mapped_column(Text)  # members, their roles and units (free text)
    method: Mapped[str | None] = mapped_column(Text)  # 现场查验、资料审查、服务对象回访…
    surveyed: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    basically_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    dissatisfied: Mapped[int] = mapped_column(Integer, default=0)
    opinion_summary: Mapped[str | None] = mapped_column(Text)  # no names, no ID numbers
    conclusion: Mapped[Conclusion | None] = mapped_column(enum_column(Conclusion, 16))
    explanation: Mapped[str | None] = mapped_column(Text)
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    concluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    contract = relationship("Contract", lazy="joined", innerjoin=True)
    concluded_by = relationship("User", foreign_keys=[concluded_by_id])
    results = relationship("AcceptanceResult", order_by="AcceptanceResult.position", cascade="all, delete-orphan",
                           back_populates="acceptance")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("surveyed >= 0 AND satisfied >= 0 AND basically_satisfied >= 0 AND dissatisfied >= 0",
                        name="counts_not_negative"),
        CheckConstraint("satisfied + basically_satisfied + dissatisfied = surveyed", name="counts_add_up"),
        CheckConstraint("state = 'draft' OR (conclusion IS NOT NULL AND concluded_at IS NOT NULL)",
                        name="concluded_has_conclusion"),
        CheckConstraint("state <> 'published' OR published_on IS NOT NULL", name="published_has_date"),
    )

    @property
    def locked(self) -> bool:
        return self.state != AcceptanceState.DRAFT


class AcceptanceResult(db.Model):
    """One service standard (a contract line's catalog item) and how far it was met."""

    id: Mapped[int] = mapped_column(primary_key=True)
    acceptance_id: Mapped[int] = mapped_column(ForeignKey("acceptance.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("contract_line.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_item.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    item_code: Mapped[str] = mapped_column(String(32))
    item_name: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(32))
    standard: Mapped[str] = mapped_column(Text)  # copied from the catalog item when the record is opened
    contracted: Mapped[Decimal] = mapped_column(Quantity)
    delivered: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))  # from accepted service reports
    result: Mapped[StandardResult | None] = mapped_column(enum_column(StandardResult, 16))
    note: Mapped[str | None] = mapped_column(Text)

    acceptance = relationship(Acceptance, back_populates="results")

    __table_args__ = (
        UniqueConstraint("acceptance_id", "line_id"),
        CheckConstraint("contracted >= 0 AND delivered >= 0", name="quantities"),
    )
