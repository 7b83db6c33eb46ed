"""Organization services: region scoping, suppliers."""

from datetime import date

from sqlalchemy import select

from procurement.extensions import db
from procurement.orgs.models import Organization, OrgKind, Region, SupplierBan


def region_subtree(region: Region):
    """A subquery of the ids of the region and every region below it."""
    return select(Region.id).where(Region.path.startswith(region.path))


def supplier_query(user):
    """Suppliers the user may see: officers and finance see every supplier (a public registry)."""
    return select(Organization).where(Organization.kind == OrgKind.SUPPLIER)


def banned_suppliers(user, day: date) -> list[SupplierBan]:
    return db.session.execute(
        select(SupplierBan).join(Organization)
        .where(Organization.kind == OrgKind.SUPPLIER, SupplierBan.starts_on <= day, SupplierBan.ends_on >= day)
        .order_by(SupplierBan.ends_on)
    ).scalars().all()
