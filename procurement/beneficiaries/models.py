"""Beneficiaries and their assignment to contracts. Personal data (ID number, health notes) is encrypted at rest."""

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.auth.models import enum_column
from procurement.db_types import UTCDateTime, utcnow
from procurement.extensions import db
from procurement.i18n import N_
from procurement.i18n import gettext as _


class LegalBasis(enum.StrEnum):
    """Why the bureau may process the person's data (个人信息保护法 第十三条)."""

    LEGAL_DUTY = "legal_duty"  # 为履行法定职责所必需 (第十三条第一款第三项): the usual case for social assistance
    CONSENT = "consent"  # 取得个人的同意 (第十三条第一款第一项)
    GUARDIAN_CONSENT = "guardian_consent"  # a child under 14: the guardian's consent (第三十一条)

    @property
    def label(self) -> str:
        return _(LEGAL_BASIS_MSGIDS[self])


LEGAL_BASIS_MSGIDS = {
    LegalBasis.LEGAL_DUTY: N_("Performing a statutory duty (PIPL art. 13 (3))"),
    LegalBasis.CONSENT: N_("Consent of the person (PIPL art. 13 (1))"),
    LegalBasis.GUARDIAN_CONSENT: N_("Consent of the guardian, under 14 (PIPL art. 31)"),
}

#: Children below this age need a guardian on record (个人信息保护法 第三十一条; DOMAIN §5).
GUARDIAN_AGE = 14


class Beneficiary(db.Model):
    """A person the bureau assigns to services. The supplier never chooses them (DOMAIN §5)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    bureau_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number_enc: Mapped[str] = mapped_column(Text)  # Fernet token; the key is in the configuration only
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)  # keyed hash: exact lookup and de-duplication
    id_masked: Mapped[str] = mapped_column(String(18))  # 530626********123X, for lists
    birth_date: Mapped[date] = mapped_column(Date)
    category_id: Mapped[int] = mapped_column(ForeignKey("target_group.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(256))
    phone: Mapped[str | None] = mapped_column(String(32))
    household: Mapped[str | None] = mapped_column(Text)  # members and situation of the household
    needs_assessment: Mapped[str | None] = mapped_column(Text)
    health_notes_enc: Mapped[str | None] = mapped_column(Text)  # sensitive (第二十八条): encrypted
    guardian_name: Mapped[str | None] = mapped_column(String(64))
    guardian_relation: Mapped[str | None] = mapped_column(String(32))
    guardian_phone: Mapped[str | None] = mapped_column(String(32))
    legal_basis: Mapped[LegalBasis] = mapped_column(enum_column(LegalBasis, 24))
    legal_basis_note: Mapped[str | None] = mapped_column(String(256))  # the consent form, the decision number…
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    bureau = relationship("Organization", lazy="joined", innerjoin=True)
    region = relationship("Region", lazy="joined", innerjoin=True)
    category = relationship("TargetGroup", lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_beneficiary_bureau_name", "bureau_id", "name"),
        CheckConstraint("length(id_hash) = 64", name="id_hash"),
    )


class Assignment(db.Model):
    """A beneficiary assigned to a contract by the bureau, from a day until (possibly) another."""

    __tablename__ = "beneficiary_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    assigned_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(256))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    beneficiary = relationship(Beneficiary, lazy="joined", innerjoin=True)
    contract = relationship("Contract")

    __table_args__ = (
        UniqueConstraint("contract_id", "beneficiary_id"),
        CheckConstraint("ended_on IS NULL OR ended_on >= assigned_on", name="period"),
    )
