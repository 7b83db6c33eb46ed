"""Performance evaluation (绩效评价, DOMAIN §6): schemes of indicators, sheets scored by evaluators, payments.

A **scheme** is a versioned tree of indicators (level 1 → 2 → 3) whose leaves carry the points and a
scoring rule; a published version is read-only. A **sheet** evaluates one contract at mid-term or at the
end, by the supplier itself, the purchaser or a third-party panel; its evaluators declare no conflict of
interest and score the manual leaves independently; computed leaves are filled from the records the app
holds (reports, follow-up calls, rectifications) and can be overridden only with a reason. Finalizing
consolidates (mean, trimmed with five evaluators or more), grades and locks the sheet and issues its PDF; a
correction is a new version that keeps the old one. **Payments** are recorded by finance against the
contract's instalments, never above what the grade makes payable.
"""

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.auth.models import enum_column
from procurement.db_types import Money, UTCDateTime, utcnow
from procurement.extensions import db
from procurement.i18n import N_
from procurement.i18n import gettext as _

#: Points with two places, stored as integer hundredths like money.
Points = Money


class _Labelled(enum.StrEnum):
    @property
    def label(self) -> str:
        return _(LABELS[self])


class SchemeState(_Labelled):
    DRAFT = "draft"
    PUBLISHED = "published"  # read-only; sheets are made from it
    SUPERSEDED = "superseded"  # a later version of the scheme was published


class Rule(_Labelled):
    """How a leaf indicator is scored."""

    MANUAL = "manual"  # the evaluator enters points ≤ max, with a comment below full marks
    COMPLETION = "completion"  # delivered ÷ contracted quantities, from accepted service reports
    COVERAGE = "coverage"  # beneficiaries served ÷ beneficiaries assigned
    TIMELINESS = "timeliness"  # reports of elapsed periods submitted by their deadline
    SATISFACTION = "satisfaction"  # follow-up calls reached: satisfied or basically satisfied
    RECTIFICATION = "rectification"  # rectification notices fixed in time ÷ notices issued

    @property
    def computed(self) -> bool:
        return self != Rule.MANUAL


class Stage(_Labelled):
    MID_TERM = "mid_term"
    FINAL = "final"


class SheetKind(_Labelled):
    SELF = "self"  # the supplier's self-evaluation
    PURCHASER = "purchaser"
    THIRD_PARTY = "third_party"  # an evaluation agency's panel (财综〔2018〕42号)


class SheetState(_Labelled):
    DRAFT = "draft"  # the officer assigns evaluators
    SCORING = "scoring"  # evaluators declare and score
    FINALIZED = "finalized"  # consolidated, graded, locked, PDF issued
    SUPERSEDED = "superseded"  # corrected by a later version


LABELS = {
    SchemeState.DRAFT: N_("Draft"),
    SchemeState.PUBLISHED: N_("Published"),
    SchemeState.SUPERSEDED: N_("Superseded"),
    Rule.MANUAL: N_("Scored by the evaluators"),
    Rule.COMPLETION: N_("Completion of contracted quantities (accepted reports)"),
    Rule.COVERAGE: N_("Coverage of assigned beneficiaries"),
    Rule.TIMELINESS: N_("Reports submitted on time"),
    Rule.SATISFACTION: N_("Satisfied beneficiaries in follow-up calls"),
    Rule.RECTIFICATION: N_("Rectifications fixed in time"),
    Stage.MID_TERM: N_("Mid-term"),
    Stage.FINAL: N_("Final"),
    SheetKind.SELF: N_("Self-evaluation"),
    SheetKind.PURCHASER: N_("Purchaser's evaluation"),
    SheetKind.THIRD_PARTY: N_("Third-party evaluation"),
    SheetState.DRAFT: N_("Draft"),
    SheetState.SCORING: N_("Being scored"),
    SheetState.FINALIZED: N_("Finalized"),
    SheetState.SUPERSEDED: N_("Superseded"),
}


class Scheme(db.Model):
    """One version of an evaluation scheme (评价指标体系)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))  # the same for every version of one scheme
    name: Mapped[str] = mapped_column(String(128))
    number: Mapped[int] = mapped_column(Integer)  # version number within the code
    state: Mapped[SchemeState] = mapped_column(enum_column(SchemeState, 16))
    description: Mapped[str | None] = mapped_column(Text)
    cloned_from_id: Mapped[int | None] = mapped_column(ForeignKey("scheme.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    indicators = relationship("Indicator", order_by="Indicator.position", back_populates="scheme",
                              cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("code", "number"),
        CheckConstraint("state = 'draft' OR published_at IS NOT NULL", name="published_has_time"),
    )


class Indicator(db.Model):
    """A node of a scheme's tree. Leaves (level 3, or any node without children) carry the scoring rule."""

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id"))
    level: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)  # the order in the whole tree (depth first)
    code: Mapped[str] = mapped_column(String(16))  # 1, 1.2, 1.2.3
    name: Mapped[str] = mapped_column(String(128))
    max_points: Mapped[Decimal] = mapped_column(Points)
    rule: Mapped[Rule | None] = mapped_column(enum_column(Rule, 16))  # leaves only
    evidence: Mapped[str | None] = mapped_column(Text)  # 评分要点: what is looked at and how points are given
    #: a computed rule's bands, e.g. [["100", "1"], ["80", "0.6667"], ["60", "0.3333"]]: at least the rate → share
    bands: Mapped[list | None] = mapped_column(JSON)

    scheme = relationship("Scheme", back_populates="indicators")
    parent = relationship("Indicator", remote_side="Indicator.id")

    __table_args__ = (
        UniqueConstraint("scheme_id", "code"),
        CheckConstraint("level BETWEEN 1 AND 3", name="level"),
        CheckConstraint("max_points > 0", name="max_points"),
    )


class Sheet(db.Model):
    """A performance-evaluation sheet (绩效评价表) of one contract."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    stage: Mapped[Stage] = mapped_column(enum_column(Stage, 16))
    kind: Mapped[SheetKind] = mapped_column(enum_column(SheetKind, 16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    state: Mapped[SheetState] = mapped_column(enum_column(SheetState, 16), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)  # 1; a correction is 2, 3, …
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("sheet.id"))
    correction_reason: Mapped[str | None] = mapped_column(Text)
    agency: Mapped[str | None] = mapped_column(String(128))  # the third-party evaluation agency, if any
    total: Mapped[Decimal | None] = mapped_column(Points)
    grade: Mapped[str | None] = mapped_column(String(2))  # 优 / 良 / 中 / 差
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalized_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("issued_document.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    contract = relationship("Contract", lazy="joined", innerjoin=True)
    scheme = relationship("Scheme", lazy="joined", innerjoin=True)
    evaluators = relationship("SheetEvaluator", order_by="SheetEvaluator.id", back_populates="sheet")
    computed = relationship("ComputedScore", order_by="ComputedScore.indicator_id", back_populates="sheet")
    results = relationship("SheetResult", order_by="SheetResult.indicator_id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("contract_id", "stage", "kind", "number"),
        Index("ix_sheet_contract", "contract_id", "stage"),
        CheckConstraint("period_end >= period_start", name="period"),
        CheckConstraint("state NOT IN ('finalized', 'superseded') OR (total IS NOT NULL AND grade IS NOT NULL "
                        "AND finalized_at IS NOT NULL)", name="finalized_has_result"),
        CheckConstraint("number = 1 OR (previous_id IS NOT NULL AND correction_reason IS NOT NULL)",
                        name="correction_has_reason"),
        CheckConstraint("total IS NULL OR (total >= 0 AND total <= 10000)", name="total"),
    )


class SheetEvaluator(db.Model):
    """An evaluator assigned to a sheet: declares no conflict of interest, then scores independently."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheet.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 无利益冲突声明
    declaration: Mapped[str | None] = mapped_column(Text)  # the statement as the evaluator accepted it
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total: Mapped[Decimal | None] = mapped_column(Points)  # this evaluator's total, on submission

    sheet = relationship("Sheet", back_populates="evaluators")
    user = relationship("User", lazy="joined", innerjoin=True)
    scores = relationship("Score", order_by="Score.indicator_id", back_populates="evaluator")

    __table_args__ = (
        UniqueConstraint("sheet_id", "user_id"),
        CheckConstraint("submitted_at IS NULL OR (declared_at IS NOT NULL AND total IS NOT NULL)",
                        name="submitted_after_declaring"),
    )


class Score(db.Model):
    """An evaluator's points on one manual leaf."""

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("sheet_evaluator.id"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    points: Mapped[Decimal] = mapped_column(Points)
    comment: Mapped[str | None] = mapped_column(Text)

    evaluator = relationship("SheetEvaluator", back_populates="scores")

    __table_args__ = (
        UniqueConstraint("evaluator_id", "indicator_id"),
        CheckConstraint("points >= 0", name="points"),
    )


class ComputedScore(db.Model):
    """A computed leaf of a sheet: the inputs, the rate, the points by the bands, and any override with its reason."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheet.id"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    inputs: Mapped[dict] = mapped_column(JSON)  # {"numerator": …, "denominator": …, "rate": "…", …}
    points: Mapped[Decimal] = mapped_column(Points)
    override_points: Mapped[Decimal | None] = mapped_column(Points)
    override_reason: Mapped[str | None] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sheet = relationship("Sheet", back_populates="computed")

    __table_args__ = (
        UniqueConstraint("sheet_id", "indicator_id"),
        CheckConstraint("override_points IS NULL OR override_reason IS NOT NULL", name="override_has_reason"),
        CheckConstraint("points >= 0", name="points"),
    )


class SheetResult(db.Model):
    """The consolidated points of one leaf of a finalized sheet."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheet.id"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    points: Mapped[Decimal] = mapped_column(Points)

    __table_args__ = (UniqueConstraint("sheet_id", "indicator_id"),)


class PaymentTerms(db.Model):
    """How a contract's evaluation grade sets what an instalment pays (DOMAIN §6, configurable per contract)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), unique=True)
    #: grade → "full" | "pro_rata" | "withhold", e.g. {"优": "full", "良": "full", "中": "pro_rata", "差": "withhold"}
    bands: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(256))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Payment(db.Model):
    """A payment finance made on an instalment (never more than payable, nor in total the contract amount)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("instalment.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    voucher: Mapped[str] = mapped_column(String(64))  # 凭证号
    note: Mapped[str | None] = mapped_column(String(256))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    __table_args__ = (
        UniqueConstraint("contract_id", "voucher"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )


class BulkDownload(db.Model):
    """A zip of finalized sheets' PDFs built by the worker; the page shows its progress and can be left."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_ids: Mapped[list] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))  # queued / running / done / failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    file_sha256: Mapped[str | None] = mapped_column(String(64))  # the zip, in the file store
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired: Mapped[bool] = mapped_column(Boolean, default=False)
