"""Contract templates (versioned), contracts with their lines and instalments, and issued documents (DOMAIN §4)."""

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from procurement.auth.models import enum_column
from procurement.db_types import Money, UTCDateTime, utcnow
from procurement.extensions import db
from procurement.i18n import N_
from procurement.i18n import gettext as _
from procurement.projects import models as _projects  # noqa: F401 - "Project", named below, known to the mapper

#: Percentages with two places, stored like money as integer hundredths (30.00 % is 3000).
Percent = Money


class TemplateState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # read-only; contracts are generated from the newest published version
    RETIRED = "retired"  # superseded by a newer published version; kept for the contracts made from it

    @property
    def label(self) -> str:
        return _({TemplateState.DRAFT: N_("Draft"), TemplateState.PUBLISHED: N_("Published"),
                  TemplateState.RETIRED: N_("Superseded")}[self])


class TemplateKind(enum.StrEnum):
    MAIN = "main"
    SUPPLEMENTARY = "supplementary"

    @property
    def label(self) -> str:
        return _({TemplateKind.MAIN: N_("Service contract"),
                  TemplateKind.SUPPLEMENTARY: N_("Supplementary contract")}[self])


class ContractTemplate(db.Model):
    """A template family; its content lives in numbered versions."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[TemplateKind] = mapped_column(enum_column(TemplateKind, 16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions = relationship("TemplateVersion", back_populates="template", order_by="TemplateVersion.number")


class TemplateVersion(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("contract_template.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[TemplateState] = mapped_column(enum_column(TemplateState, 16))
    body: Mapped[str] = mapped_column(Text)  # HTML with Jinja placeholders, rendered in a sandbox
    stylesheet: Mapped[str] = mapped_column(Text)  # print CSS
    schema: Mapped[list] = mapped_column(JSON)  # [{name, type, required, description, sample, fields?}]
    note: Mapped[str | None] = mapped_column(Text)  # what changed in this version
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    template = relationship(ContractTemplate, back_populates="versions", lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("template_id", "number"),
        CheckConstraint("state = 'draft' OR published_at IS NOT NULL", name="published_has_date"),
    )

    @property
    def read_only(self) -> bool:
        return self.state != TemplateState.DRAFT


class ContractState(enum.StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    PUBLISHED = "published"  # 合同公告, within 2 working days of signing
    FILED = "filed"  # copy filed with the finance bureau, within 7 working days
    IN_SERVICE = "in_service"

    @property
    def label(self) -> str:
        return _(CONTRACT_STATE_MSGIDS[self])

    @property
    def editable(self) -> bool:
        return self == ContractState.DRAFT


CONTRACT_STATE_MSGIDS = {
    ContractState.DRAFT: N_("Draft"),
    ContractState.SIGNED: N_("Signed"),
    ContractState.PUBLISHED: N_("Publicly announced"),
    ContractState.FILED: N_("Filed with finance"),
    ContractState.IN_SERVICE: N_("In service"),
}

CONTRACT_STATE_ORDER = list(ContractState)


class ReportFrequency(enum.StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"

    @property
    def label(self) -> str:
        return _({ReportFrequency.MONTHLY: N_("Monthly"), ReportFrequency.QUARTERLY: N_("Quarterly")}[self])


class InstalmentCondition(enum.StrEnum):
    ON_SIGNING = "on_signing"
    MID_TERM_EVALUATION = "mid_term"  # after a passed interim evaluation
    FINAL_ACCEPTANCE = "final"  # after acceptance and the final evaluation
    OTHER = "other"

    @property
    def label(self) -> str:
        return _(CONDITION_MSGIDS[self])

    @property
    def depends_on_evaluation(self) -> bool:
        return self in (InstalmentCondition.MID_TERM_EVALUATION, InstalmentCondition.FINAL_ACCEPTANCE)


CONDITION_MSGIDS = {
    InstalmentCondition.ON_SIGNING: N_("On signing the contract"),
    InstalmentCondition.MID_TERM_EVALUATION: N_("After a passed mid-term performance evaluation"),
    InstalmentCondition.FINAL_ACCEPTANCE: N_("After acceptance and the final performance evaluation"),
    InstalmentCondition.OTHER: N_("Other condition (described)"),
}


class Contract(db.Model):
    """A service contract generated from an awarded project, or a supplementary contract to one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"), index=True)  # supplementary contracts
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_version.id"))
    state: Mapped[ContractState] = mapped_column(enum_column(ContractState, 16), index=True)
    purchaser_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    title: Mapped[str] = mapped_column(String(128))
    amount: Mapped[Decimal] = mapped_column(Money)
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    long_term_justification: Mapped[str | None] = mapped_column(Text)  # needed above 12 months (102号令 第二十四条)
    service_place: Mapped[str | None] = mapped_column(String(256))
    bond_percent: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0.00"))
    payment_days: Mapped[int] = mapped_column(Integer, default=30)
    late_interest_per_day: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0.05"))  # % per day
    report_frequency: Mapped[ReportFrequency] = mapped_column(enum_column(ReportFrequency, 16))
    staff_requirements: Mapped[str | None] = mapped_column(Text)
    beneficiary_assignment: Mapped[str | None] = mapped_column(Text)
    special_terms: Mapped[str | None] = mapped_column(Text)
    change_reason: Mapped[str | None] = mapped_column(Text)  # supplementary contracts: why
    purchaser_signatory: Mapped[str | None] = mapped_column(String(64))
    supplier_signatory: Mapped[str | None] = mapped_column(String(64))
    signed_on: Mapped[date | None] = mapped_column(Date)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scan_sha256: Mapped[str | None] = mapped_column(String(64))  # the sealed paper copy, in the file store
    scan_name: Mapped[str | None] = mapped_column(String(128))
    scan_type: Mapped[str | None] = mapped_column(String(32))
    published_on: Mapped[date | None] = mapped_column(Date)
    publication_ref: Mapped[str | None] = mapped_column(String(256))
    filed_on: Mapped[date | None] = mapped_column(Date)
    filing_ref: Mapped[str | None] = mapped_column(String(128))
    service_started_on: Mapped[date | None] = mapped_column(Date)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("issued_document.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    project = relationship("Project", lazy="joined", innerjoin=True)
    parent = relationship("Contract", remote_side=[id], back_populates="supplements")
    supplements = relationship("Contract", back_populates="parent", order_by="Contract.id")
    purchaser = relationship("Organization", foreign_keys=[purchaser_id], lazy="joined", innerjoin=True)
    supplier = relationship("Organization", foreign_keys=[supplier_id], lazy="joined", innerjoin=True)
    template_version = relationship(TemplateVersion)
    lines = relationship("ContractLine", order_by="ContractLine.position", cascade="all, delete-orphan")
    instalments = relationship("Instalment", order_by="Instalment.position", cascade="all, delete-orphan")
    document = relationship("IssuedDocument", foreign_keys=[document_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("term_end >= term_start", name="term"),
        CheckConstraint("bond_percent BETWEEN 0 AND 1000", name="bond_at_most_10_percent"),
        CheckConstraint("payment_days BETWEEN 1 AND 60", name="payment_days"),
        CheckConstraint("late_interest_per_day >= 0", name="late_interest"),
        # signed (and every later state) ⇒ the signing is recorded and its PDF issued
        CheckConstraint("state = 'draft' OR (signed_on IS NOT NULL AND signed_at IS NOT NULL "
                        "AND purchaser_signatory IS NOT NULL AND supplier_signatory IS NOT NULL "
                        "AND document_id IS NOT NULL)", name="signed_has_document"),
        CheckConstraint("state IN ('draft', 'signed') OR published_on IS NOT NULL", name="published_has_date"),
        CheckConstraint("state IN ('draft', 'signed', 'published') OR filed_on IS NOT NULL", name="filed_has_date"),
        CheckConstraint("state <> 'in_service' OR service_started_on IS NOT NULL", name="in_service_has_date"),
        CheckConstraint("parent_id IS NULL OR change_reason IS NOT NULL", name="supplementary_has_reason"),
    )

    @property
    def is_supplementary(self) -> bool:
        return self.parent_id is not None


class ContractLine(db.Model):
    """A service item of the contract, copied from the project so later list changes do not touch it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_item.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    position: Mapped[int] = mapped_column(Integer, default=0)

    item = relationship("CatalogItem", lazy="joined", innerjoin=True)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price > 0", name="unit_price"),
        CheckConstraint("amount = quantity * unit_price", name="amount"),
    )


class Instalment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    percent: Mapped[Decimal] = mapped_column(Percent)
    amount: Mapped[Decimal] = mapped_column(Money)
    condition: Mapped[InstalmentCondition] = mapped_column(enum_column(InstalmentCondition, 16))
    condition_note: Mapped[str | None] = mapped_column(String(256))

    __table_args__ = (
        UniqueConstraint("contract_id", "position"),
        CheckConstraint("percent > 0 AND percent <= 10000", name="percent"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )


class IssuedDocument(db.Model):
    """A PDF as it was issued: its bytes, SHA-256, and what it was rendered from. Never changed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # "contract"; later "evaluation"
    reference: Mapped[str] = mapped_column(String(64))  # the contract number (or the sheet's)
    title: Mapped[str] = mapped_column(String(256))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    template_version_id: Mapped[int | None] = mapped_column(ForeignKey("template_version.id"))
    context: Mapped[dict] = deferred(mapped_column(JSON))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    template_version = relationship(TemplateVersion)

    __table_args__ = (
        Index("ix_issued_document_reference", "kind", "reference"),
        CheckConstraint("size > 0", name="size_positive"),
    )
