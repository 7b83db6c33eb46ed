"""Supervision of a contract in service (监督管理, DOMAIN §5): inspections with phone follow-ups of a random
sample of served beneficiaries, complaints, findings with their severity, and rectification notices
(整改通知) with a deadline in working days, the supplier's answer with evidence and the officer's closing.

These records are the evidence the performance evaluation scores from, so each carries its contract and
its day (queries per contract and period: :mod:`procurement.oversight.services` ``evidence``).
"""

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.auth.models import enum_column
from procurement.db_types import UTCDateTime, utcnow
from procurement.extensions import db
from procurement.i18n import N_
from procurement.i18n import gettext as _


class _Labelled(enum.StrEnum):
    @property
    def label(self) -> str:
        return _(LABELS[self])


class InspectionKind(_Labelled):
    ON_SITE = "on_site"  # 现场检查
    DOCUMENT_REVIEW = "document_review"  # 资料审查（台账、签到表）
    PHONE_FOLLOW_UP = "phone_follow_up"  # 电话回访 of a random sample of served beneficiaries


class Satisfaction(_Labelled):
    SATISFIED = "satisfied"
    BASICALLY = "basically"
    DISSATISFIED = "dissatisfied"


class Confirmation(_Labelled):
    """Did the beneficiary confirm the services the supplier reported?"""

    CONFIRMED = "confirmed"
    PARTLY = "partly"
    DENIED = "denied"


class ComplaintChannel(_Labelled):
    HOTLINE = "hotline"  # 12345 / 12349 热线
    LETTER = "letter"  # 来信
    VISIT = "visit"  # 来访
    ONLINE = "online"  # 网上
    OTHER = "other"


class Severity(_Labelled):
    MINOR = "minor"  # 一般
    MAJOR = "major"  # 较重
    SERIOUS = "serious"  # 严重


class NoticeState(_Labelled):
    ISSUED = "issued"  # waiting for the supplier's answer
    ANSWERED = "answered"  # the supplier answered with evidence; the officer re-inspects
    CLOSED = "closed"


class Outcome(_Labelled):
    FIXED = "fixed"
    PARTLY_FIXED = "partly_fixed"
    NOT_FIXED = "not_fixed"


LABELS = {
    InspectionKind.ON_SITE: N_("On-site inspection"),
    InspectionKind.DOCUMENT_REVIEW: N_("Document review"),
    InspectionKind.PHONE_FOLLOW_UP: N_("Phone follow-up"),
    Satisfaction.SATISFIED: N_("Satisfied"),
    Satisfaction.BASICALLY: N_("Basically satisfied"),
    Satisfaction.DISSATISFIED: N_("Dissatisfied"),
    Confirmation.CONFIRMED: N_("Confirmed the services"),
    Confirmation.PARTLY: N_("Confirmed part of the services"),
    Confirmation.DENIED: N_("Did not receive the services"),
    ComplaintChannel.HOTLINE: N_("Hotline"),
    ComplaintChannel.LETTER: N_("Letter"),
    ComplaintChannel.VISIT: N_("Visit"),
    ComplaintChannel.ONLINE: N_("Online"),
    ComplaintChannel.OTHER: N_("Other channel"),
    Severity.MINOR: N_("Minor"),
    Severity.MAJOR: N_("Major"),
    Severity.SERIOUS: N_("Serious"),
    NoticeState.ISSUED: N_("Awaiting the answer"),
    NoticeState.ANSWERED: N_("Answered, to re-inspect"),
    NoticeState.CLOSED: N_("Closed out"),
    Outcome.FIXED: N_("Fixed"),
    Outcome.PARTLY_FIXED: N_("Partly fixed"),
    Outcome.NOT_FIXED: N_("Not fixed"),
}


class Inspection(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    kind: Mapped[InspectionKind] = mapped_column(enum_column(InspectionKind, 24))
    inspected_on: Mapped[date] = mapped_column(Date)
    #: the period of service looked at (a follow-up's sample is drawn from the deliveries in it)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    inspectors: Mapped[str] = mapped_column(String(256))
    place: Mapped[str | None] = mapped_column(String(256))
    summary: Mapped[str | None] = mapped_column(Text)
    sample_size: Mapped[int | None] = mapped_column(Integer)  # a phone follow-up: how many were drawn
    population: Mapped[int | None] = mapped_column(Integer)  # … out of how many served beneficiaries
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    contract = relationship("Contract", lazy="joined", innerjoin=True)
    calls = relationship("FollowUpCall", order_by="FollowUpCall.id", back_populates="inspection")
    findings = relationship("Finding", order_by="Finding.id", back_populates="inspection")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_inspection_contract_day", "contract_id", "inspected_on"),
        CheckConstraint("period_end >= period_start", name="period"),
    )


class FollowUpCall(db.Model):
    """One beneficiary of a phone follow-up's random sample, and what they said."""

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"))
    called_on: Mapped[date | None] = mapped_column(Date)
    reached: Mapped[bool | None] = mapped_column(Boolean)  # None: not called yet
    confirmation: Mapped[Confirmation | None] = mapped_column(enum_column(Confirmation, 16))
    satisfaction: Mapped[Satisfaction | None] = mapped_column(enum_column(Satisfaction, 16))
    note: Mapped[str | None] = mapped_column(String(512))

    inspection = relationship("Inspection", back_populates="calls")
    beneficiary = relationship("Beneficiary", lazy="joined", innerjoin=True)

    __table_args__ = (
        UniqueConstraint("inspection_id", "beneficiary_id"),
        CheckConstraint("reached IS NOT NULL OR (confirmation IS NULL AND satisfaction IS NULL)", name="answers_need_call"),
        CheckConstraint("reached IS NOT TRUE OR (confirmation IS NOT NULL AND satisfaction IS NOT NULL)",
                        name="reached_has_answers"),
    )


class Complaint(db.Model):
    """A complaint about the service. The complainant is not named here: only how it came and what it says."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    received_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[ComplaintChannel] = mapped_column(enum_column(ComplaintChannel, 16))
    subject: Mapped[str] = mapped_column(Text)
    handling: Mapped[str | None] = mapped_column(Text)  # what was done and the reply given
    closed_on: Mapped[date | None] = mapped_column(Date)
    substantiated: Mapped[bool | None] = mapped_column(Boolean)  # set on closing
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    contract = relationship("Contract", lazy="joined", innerjoin=True)
    findings = relationship("Finding", order_by="Finding.id", back_populates="complaint")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_complaint_contract_day", "contract_id", "received_on"),
        CheckConstraint("closed_on IS NULL OR (handling IS NOT NULL AND substantiated IS NOT NULL)",
                        name="closed_has_handling"),
        CheckConstraint("closed_on IS NULL OR closed_on >= received_on", name="closed_after_received"),
    )


class Finding(db.Model):
    """A problem found by an inspection or a complaint, with its severity."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspection.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"), index=True)
    found_on: Mapped[date] = mapped_column(Date)
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, 16))
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    contract = relationship("Contract", lazy="joined", innerjoin=True)
    inspection = relationship("Inspection", back_populates="findings")
    complaint = relationship("Complaint", back_populates="findings")
    notice = relationship("RectificationNotice", uselist=False, back_populates="finding")

    __table_args__ = (
        Index("ix_finding_contract_day", "contract_id", "found_on"),
        CheckConstraint("inspection_id IS NULL OR complaint_id IS NULL", name="one_source"),
    )


class RectificationNotice(db.Model):
    """整改通知: issued on a finding with a deadline in working days; answered; re-inspected and closed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id"), unique=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    issued_on: Mapped[date] = mapped_column(Date)
    working_days: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False)  # a year without a holiday calendar
    requirement: Mapped[str] = mapped_column(Text)
    state: Mapped[NoticeState] = mapped_column(enum_column(NoticeState, 16), index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_on: Mapped[date | None] = mapped_column(Date)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reinspected_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome, 16))
    closing_note: Mapped[str | None] = mapped_column(Text)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    contract = relationship("Contract", lazy="joined", innerjoin=True)
    finding = relationship("Finding", lazy="joined", innerjoin=True, back_populates="notice")
    evidence = relationship("RectificationEvidence", order_by="RectificationEvidence.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_rectification_contract_due", "contract_id", "due_on"),
        CheckConstraint("working_days BETWEEN 1 AND 60", name="working_days"),
        CheckConstraint("due_on > issued_on", name="due_after_issue"),
        CheckConstraint("state = 'issued' OR answered_on IS NOT NULL OR outcome IS NOT NULL", name="answered_has_day"),
        CheckConstraint("state <> 'closed' OR (outcome IS NOT NULL AND reinspected_on IS NOT NULL)",
                        name="closed_has_outcome"),
    )

    def late(self, today: date) -> bool:
        """Answered after the deadline, or still unanswered after it."""
        if self.answered_on is not None:
            return self.answered_on > self.due_on
        return today > self.due_on

    def overdue(self, today: date) -> bool:
        return self.state == NoticeState.ISSUED and today > self.due_on


class RectificationEvidence(db.Model):
    """A photo, sign-in sheet or document the supplier sends with its answer (checked by content)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("rectification_notice.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    __table_args__ = (UniqueConstraint("notice_id", "sha256"),)
