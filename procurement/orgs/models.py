"""Administrative regions and the organizations that act in them."""

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.auth.models import enum_column
from procurement.db_types import UTCDateTime, utcnow
from procurement.extensions import db


class RegionLevel(enum.StrEnum):
    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"

    @property
    def label(self):
        return {
            RegionLevel.PROVINCE: _l("Province"),
            RegionLevel.PREFECTURE: _l("Prefecture"),
            RegionLevel.COUNTY: _l("County"),
        }[self]


class Region(db.Model):
    """A node of the region tree; ``path`` ("/530000/530600/530626/") makes subtree queries one LIKE."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[RegionLevel] = mapped_column(enum_column(RegionLevel, 16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    path: Mapped[str] = mapped_column(String(64), index=True)

    parent = relationship("Region", remote_side=[id], lazy="joined", join_depth=2)

    def contains(self, other: "Region") -> bool:
        return other is not None and other.path.startswith(self.path)

    @property
    def depth(self) -> int:
        """0 for a province, 1 for a prefecture, 2 for a county."""
        return self.path.count("/") - 2

    @property
    def full_name(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class OrgKind(enum.StrEnum):
    BUREAU = "bureau"  # civil-affairs department: the purchaser
    FINANCE = "finance"  # finance bureau
    SUPPLIER = "supplier"  # 承接主体
    AGENCY = "agency"  # third-party evaluation agency

    @property
    def label(self):
        return ORG_KIND_LABELS[self]


ORG_KIND_LABELS = {
    OrgKind.BUREAU: _l("Civil-affairs bureau"),
    OrgKind.FINANCE: _l("Finance bureau"),
    OrgKind.SUPPLIER: _l("Supplier"),
    OrgKind.AGENCY: _l("Evaluation agency"),
}


class OrgType(enum.StrEnum):
    """Legal form (DOMAIN §3: who may supply)."""

    SOCIAL_GROUP = "social_group"
    SOCIAL_SERVICE = "social_service"
    FOUNDATION = "foundation"
    ENTERPRISE = "enterprise"
    PUBLIC_INSTITUTION_2 = "public_institution_2"
    VILLAGE_COLLECTIVE = "village_collective"
    INDIVIDUAL = "individual"
    PUBLIC_INSTITUTION_1 = "public_institution_1"
    GOVERNMENT = "government"

    @property
    def label(self):
        return ORG_TYPE_LABELS[self]


ORG_TYPE_LABELS = {
    OrgType.SOCIAL_GROUP: _l("Social group (社会团体)"),
    OrgType.SOCIAL_SERVICE: _l("Social service organization (社会服务机构/民办非企业单位)"),
    OrgType.FOUNDATION: _l("Foundation (基金会)"),
    OrgType.ENTERPRISE: _l("Enterprise (企业)"),
    OrgType.PUBLIC_INSTITUTION_2: _l("Public institution, class 2 (公益二类事业单位)"),
    OrgType.VILLAGE_COLLECTIVE: _l("Village collective (村集体经济组织)"),
    OrgType.INDIVIDUAL: _l("Individual business (个体工商户/个人)"),
    OrgType.PUBLIC_INSTITUTION_1: _l("Public institution, class 1 (公益一类事业单位)"),
    OrgType.GOVERNMENT: _l("Government agency (机关)"),
}

#: Legal forms that may supply services (102号令 第六–八条); 公益一类 and agencies may not.
SUPPLIER_TYPES = (
    OrgType.SOCIAL_GROUP,
    OrgType.SOCIAL_SERVICE,
    OrgType.FOUNDATION,
    OrgType.ENTERPRISE,
    OrgType.PUBLIC_INSTITUTION_2,
    OrgType.VILLAGE_COLLECTIVE,
    OrgType.INDIVIDUAL,
)


organization_service_region = Table(
    "organization_service_region",
    db.metadata,
    Column("organization_id", ForeignKey("organization.id"), primary_key=True),
    Column("region_id", ForeignKey("region.id"), primary_key=True),
    # "Suppliers serving this county" looks the table up from the region side.
    Index("ix_organization_service_region_region_id", "region_id"),
)


class Organization(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind, 16), index=True)
    name: Mapped[str] = mapped_column(String(128))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    org_type: Mapped[OrgType | None] = mapped_column(enum_column(OrgType, 24))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    legal_representative: Mapped[str | None] = mapped_column(String(64), index=True)
    address: Mapped[str | None] = mapped_column(String(256))
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(128))
    bank_account_name: Mapped[str | None] = mapped_column(String(128))
    bank_name: Mapped[str | None] = mapped_column(String(128))
    bank_account_no: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    region = relationship(Region, lazy="joined", innerjoin=True)
    service_regions = relationship(Region, secondary=organization_service_region, order_by=Region.code)
    qualifications = relationship("Qualification", back_populates="organization", order_by="Qualification.valid_until")
    bans = relationship("SupplierBan", back_populates="organization", order_by="SupplierBan.starts_on.desc()")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # A supplier always has its credit code and legal form, and never a barred one.
        CheckConstraint(
            "kind != 'supplier' OR (credit_code IS NOT NULL AND org_type IS NOT NULL "
            "AND org_type NOT IN ('public_institution_1', 'government'))",
            name="supplier_identity",
        ),
        # The supplier registry lists one kind sorted by name.
        Index("ix_organization_kind_name", "kind", "name"),
    )

    @property
    def is_supplier(self) -> bool:
        return self.kind == OrgKind.SUPPLIER

    def banned_on(self, day: date) -> "SupplierBan | None":
        for ban in self.bans:
            if ban.covers(day):
                return ban
        return None

    def __repr__(self) -> str:
        return f"<Organization {self.name}>"


class Qualification(db.Model):
    """A certificate with a validity period (登记证书, 资质, staff certificates)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    name: Mapped[str] = mapped_column(String(128))
    number: Mapped[str | None] = mapped_column(String(64))
    issuer: Mapped[str | None] = mapped_column(String(128))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)  # None: no expiry
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization = relationship(Organization, back_populates="qualifications")

    __table_args__ = (
        CheckConstraint("valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from", name="period"),
        # The registry's "nearest expiry" per supplier reads this index only.
        Index("ix_qualification_organization_id_valid_until", "organization_id", "valid_until"),
    )

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class SupplierBan(db.Model):
    """A procurement ban (不良行为记录, 政府采购法 第七十七条) from one date to another, inclusive."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    document_ref: Mapped[str | None] = mapped_column(String(128))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization = relationship(Organization, back_populates="bans")
    recorded_by = relationship("User")

    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period"),
        # "Banned today" per supplier: the bans of one organization that end today or later.
        Index("ix_supplier_ban_organization_id_ends_on", "organization_id", "ends_on"),
    )

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on
