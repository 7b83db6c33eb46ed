"""Service-list models (DOMAIN §2)."""

import enum
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.auth.models import enum_column
from procurement.db_types import Money, UTCDateTime, utcnow
from procurement.extensions import db
from procurement.rules.catalog import FrequencyPeriod, Unit, format_frequency


class ServiceClass(enum.StrEnum):
    SERVICE = "service"  # 服务性工作
    ADMINISTRATIVE = "administrative"  # 事务性工作

    @property
    def label(self):
        return {ServiceClass.SERVICE: _l("Service work"), ServiceClass.ADMINISTRATIVE: _l("Administrative support work")}[self]


class ServiceCategory(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    service_class: Mapped[ServiceClass] = mapped_column(enum_column(ServiceClass, 16))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class TargetGroup(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class NegativeListEntry(db.Model):
    """Work the government must do itself and may never buy (102号令 第十条; 民发〔2017〕153号)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    clause: Mapped[str] = mapped_column(String(128))
    keywords: Mapped[list] = mapped_column(JSON)  # phrases that put an item on this entry
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class ListKind(enum.StrEnum):
    REFERENCE = "reference"  # the province's reference list, versioned per year
    LOCAL = "local"  # a county's adopted list for a year

    @property
    def label(self):
        return {ListKind.REFERENCE: _l("Provincial reference list"), ListKind.LOCAL: _l("County service list")}[self]


class ListStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # read-only
    IN_USE = "in_use"  # a county list: edited in place, with conflict detection

    @property
    def label(self):
        return {
            ListStatus.DRAFT: _l("Draft"),
            ListStatus.PUBLISHED: _l("Published"),
            ListStatus.IN_USE: _l("In use"),
        }[self]


class ServiceList(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ListKind] = mapped_column(enum_column(ListKind, 16))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    version_no: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[ListStatus] = mapped_column(enum_column(ListStatus, 16))
    title: Mapped[str] = mapped_column(String(128))
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("service_list.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    region = relationship("Region", lazy="joined", innerjoin=True)
    based_on = relationship("ServiceList", remote_side=[id])
    published_by = relationship("User", foreign_keys=[published_by_id])

    __table_args__ = (
        UniqueConstraint("kind", "region_id", "year", "version_no"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
        CheckConstraint("version_no >= 1", name="version_no"),
        # A published list records when and by whom; a county list is never "published".
        CheckConstraint("status != 'published' OR (published_at IS NOT NULL AND kind = 'reference')", name="published"),
        CheckConstraint("kind != 'local' OR status = 'in_use'", name="local_in_use"),
    )

    @property
    def read_only(self) -> bool:
        return self.status == ListStatus.PUBLISHED


catalog_item_target_group = Table(
    "catalog_item_target_group",
    db.metadata,
    Column("item_id", ForeignKey("catalog_item.id"), primary_key=True),
    Column("target_group_id", ForeignKey("target_group.id"), primary_key=True, index=True),
)


class CatalogItem(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("service_list.id"))
    code: Mapped[str] = mapped_column(String(32))
    category_id: Mapped[int] = mapped_column(ForeignKey("service_category.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    standard: Mapped[str] = mapped_column(Text)
    frequency_times: Mapped[int | None] = mapped_column(Integer)
    frequency_period: Mapped[FrequencyPeriod] = mapped_column(enum_column(FrequencyPeriod, 16))
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[Unit] = mapped_column(enum_column(Unit, 16))
    reference_price: Mapped[Decimal] = mapped_column(Money)
    qualifications: Mapped[list] = mapped_column(JSON, default=list)
    indicators: Mapped[list] = mapped_column(JSON, default=list)
    source_item_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_item.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    service_list = relationship(ServiceList)
    category = relationship(ServiceCategory, lazy="joined", innerjoin=True)
    target_groups = relationship(TargetGroup, secondary=catalog_item_target_group, order_by=TargetGroup.sort_order)
    source_item = relationship("CatalogItem", remote_side=[id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("list_id", "code"),
        Index("ix_catalog_item_list_category", "list_id", "category_id"),
        Index("ix_catalog_item_list_name", "list_id", "name"),
        CheckConstraint("reference_price > 0", name="price_positive"),
        CheckConstraint(
            "(frequency_period = 'on_demand' AND frequency_times IS NULL) OR "
            "(frequency_period != 'on_demand' AND frequency_times >= 1)",
            name="frequency",
        ),
        CheckConstraint("duration_minutes IS NULL OR duration_minutes BETWEEN 1 AND 1440", name="duration"),
    )

    @property
    def frequency(self) -> str:
        return format_frequency(self.frequency_times, self.frequency_period)

    @property
    def is_local(self) -> bool:
        return self.source_item_id is None and self.service_list.kind == ListKind.LOCAL
