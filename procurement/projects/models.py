"""Procurement-project models (DOMAIN §3). Nothing here is ever deleted (政府采购法 第四十二条)."""

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.auth.models import enum_column
from procurement.db_types import Money, UTCDateTime, utcnow
from procurement.extensions import db
from procurement.rules.procurement import Method, SingleSourceGround
from procurement.rules.stages import ProjectStage

#: Decimal with two places (scores, target values), stored like money as integer hundredths.
Decimal2 = Money


class FundingSource(enum.StrEnum):
    COUNTY_BUDGET = "county_budget"
    PROVINCIAL_FUND = "provincial_fund"
    CENTRAL_TRANSFER = "central_transfer"
    LOTTERY_FUND = "lottery_fund"
    OTHER = "other"

    @property
    def label(self):
        return {
            FundingSource.COUNTY_BUDGET: _l("County budget"),
            FundingSource.PROVINCIAL_FUND: _l("Provincial special fund"),
            FundingSource.CENTRAL_TRANSFER: _l("Central transfer payment"),
            FundingSource.LOTTERY_FUND: _l("Welfare lottery public-welfare fund"),
            FundingSource.OTHER: _l("Other funds"),
        }[self]


class BudgetLine(db.Model):
    """Money set aside in a bureau's budget for purchasing services (先有预算、后购买服务)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    bureau_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    funding_source: Mapped[FundingSource] = mapped_column(enum_column(FundingSource, 24))
    name: Mapped[str] = mapped_column(String(128))
    amount: Mapped[Decimal] = mapped_column(Money)
    approval_ref: Mapped[str] = mapped_column(String(128))
    approved_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    bureau = relationship("Organization", lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("bureau_id", "fiscal_year", "name"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name="fiscal_year"),
    )


class TargetDirection(enum.StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    EQUAL = "equal"

    @property
    def symbol(self) -> str:
        return {TargetDirection.AT_LEAST: "≥", TargetDirection.AT_MOST: "≤", TargetDirection.EQUAL: "="}[self]


class Project(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(128))
    bureau_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    budget_line_id: Mapped[int | None] = mapped_column(ForeignKey("budget_line.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    expected_beneficiaries: Mapped[int | None] = mapped_column(Integer)
    service_start: Mapped[date | None] = mapped_column(Date)
    service_end: Mapped[date | None] = mapped_column(Date)
    service_place: Mapped[str | None] = mapped_column(String(256))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    stage: Mapped[ProjectStage] = mapped_column(enum_column(ProjectStage, 24), index=True)
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stage_reason: Mapped[str | None] = mapped_column(Text)
    # method
    method: Mapped[Method | None] = mapped_column(enum_column(Method, 24))
    method_approval_by: Mapped[str | None] = mapped_column(String(128))
    method_approval_ref: Mapped[str | None] = mapped_column(String(128))
    method_approval_on: Mapped[date | None] = mapped_column(Date)
    single_source_ground: Mapped[SingleSourceGround | None] = mapped_column(enum_column(SingleSourceGround, 16))
    single_source_reason: Mapped[str | None] = mapped_column(Text)
    notice_start: Mapped[date | None] = mapped_column(Date)
    notice_end: Mapped[date | None] = mapped_column(Date)
    split_approval_ref: Mapped[str | None] = mapped_column(String(128))
    split_approval_on: Mapped[date | None] = mapped_column(Date)
    split_approval_note: Mapped[str | None] = mapped_column(Text)
    # the purchase
    announcement_ref: Mapped[str | None] = mapped_column(String(256))
    documents_issued_on: Mapped[date | None] = mapped_column(Date)
    response_deadline: Mapped[date | None] = mapped_column(Date)
    evaluated_on: Mapped[date | None] = mapped_column(Date)
    evaluation_result: Mapped[str | None] = mapped_column(Text)
    # the bid of this supplier is the winning one ((project, supplier) is unique among bids)
    award_supplier_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    award_decided_on: Mapped[date | None] = mapped_column(Date)
    award_notice_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    bureau = relationship("Organization", lazy="joined", innerjoin=True, foreign_keys=[bureau_id])
    award_supplier = relationship("Organization", foreign_keys=[award_supplier_id])
    budget_line = relationship(BudgetLine)
    lines = relationship("ProjectLine", back_populates="project", order_by="ProjectLine.position",
                         primaryjoin="and_(ProjectLine.project_id == Project.id, ProjectLine.removed.is_(False))",
                         viewonly=True)
    targets = relationship("PerformanceTarget", order_by="PerformanceTarget.position",
                           primaryjoin="and_(PerformanceTarget.project_id == Project.id, PerformanceTarget.removed.is_(False))",
                           viewonly=True)
    bids = relationship("Bid", back_populates="project", order_by="Bid.id")
    invitations = relationship("Invitation", back_populates="project", order_by="Invitation.id")
    transitions = relationship("ProjectTransition", order_by="ProjectTransition.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_project_bureau_year", "bureau_id", "fiscal_year"),
        CheckConstraint("total >= 0", name="total"),
        CheckConstraint("service_end IS NULL OR service_start IS NULL OR service_end >= service_start", name="service_period"),
        CheckConstraint("response_deadline IS NULL OR documents_issued_on IS NULL OR response_deadline >= documents_issued_on",
                        name="response_after_issue"),
        CheckConstraint("notice_end IS NULL OR notice_start IS NULL OR notice_end >= notice_start", name="notice_period"),
        CheckConstraint("award_notice_on IS NULL OR award_decided_on IS NULL OR award_notice_on >= award_decided_on",
                        name="award_dates"),
        CheckConstraint("expected_beneficiaries IS NULL OR expected_beneficiaries >= 0", name="beneficiaries"),
        # an awarded project (and every later stage) names its award and both dates
        CheckConstraint("stage NOT IN ('awarded', 'contracted', 'in_service', 'accepted', 'evaluated_final', 'closed') "
                        "OR (award_supplier_id IS NOT NULL AND award_decided_on IS NOT NULL AND award_notice_on IS NOT NULL)",
                        name="awarded_has_award"),
        CheckConstraint("stage NOT IN ('cancelled', 'failed') OR stage_reason IS NOT NULL", name="end_has_reason"),
        CheckConstraint("stage IN ('draft', 'cancelled') OR budget_line_id IS NOT NULL", name="budget_after_draft"),
    )


class ProjectLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_item.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    position: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)

    project = relationship(Project)
    item = relationship("CatalogItem", lazy="joined", innerjoin=True)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price > 0", name="unit_price"),
        CheckConstraint("amount = quantity * unit_price", name="amount"),
    )


class PerformanceTarget(db.Model):
    """绩效目标: later the evaluation sheet's targets."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    indicator: Mapped[str] = mapped_column(String(64))
    direction: Mapped[TargetDirection] = mapped_column(enum_column(TargetDirection, 16))
    target_value: Mapped[Decimal] = mapped_column(Decimal2)
    unit: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)


class ProjectTransition(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    from_stage: Mapped[ProjectStage] = mapped_column(enum_column(ProjectStage, 24))
    to_stage: Mapped[ProjectStage] = mapped_column(enum_column(ProjectStage, 24))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str | None] = mapped_column(Text)

    actor = relationship("User")


class Invitation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    invited_on: Mapped[date] = mapped_column(Date)

    project = relationship(Project, back_populates="invitations")
    supplier = relationship("Organization", lazy="joined", innerjoin=True)

    __table_args__ = (UniqueConstraint("project_id", "supplier_id"),)


class Bid(db.Model):
    """A bid or response (投标/响应文件) with the evaluation committee's scores."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    submitted_on: Mapped[date] = mapped_column(Date)
    price: Mapped[Decimal] = mapped_column(Money)
    technical_score: Mapped[Decimal | None] = mapped_column(Decimal2)
    price_score: Mapped[Decimal | None] = mapped_column(Decimal2)
    total_score: Mapped[Decimal | None] = mapped_column(Decimal2)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project = relationship(Project, back_populates="bids")
    supplier = relationship("Organization", lazy="joined", innerjoin=True)

    __table_args__ = (
        UniqueConstraint("project_id", "supplier_id"),
        CheckConstraint("price > 0", name="price"),
        # scores are stored in hundredths (Decimal2): 0–100 points is 0–10000
        CheckConstraint("technical_score IS NULL OR technical_score BETWEEN 0 AND 10000", name="technical_score"),
        CheckConstraint("price_score IS NULL OR price_score BETWEEN 0 AND 10000", name="price_score"),
        CheckConstraint("total_score IS NULL OR total_score BETWEEN 0 AND 10000", name="total_score"),
    )


class DayOff(enum.StrEnum):
    HOLIDAY = "holiday"  # a weekday off (放假)
    WORKDAY = "workday"  # a weekend day worked (调休上班)


class CalendarYear(db.Model):
    """A year whose State Council holiday schedule has been entered."""

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(128))  # e.g. 国办发明电〔2024〕12号
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class CalendarDay(db.Model):
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[DayOff] = mapped_column(enum_column(DayOff, 16))
    name: Mapped[str] = mapped_column(String(32))


def award_bid(project: Project) -> "Bid | None":
    return next((b for b in project.bids if b.supplier_id == project.award_supplier_id), None)
