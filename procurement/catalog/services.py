"""Service-list services: lists and versions, items, adoption, negative-list checks.

Services flush but never commit; the caller commits once.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Action
from procurement.catalog.models import (
    CatalogItem,
    ListKind,
    ListStatus,
    NegativeListEntry,
    ServiceCategory,
    ServiceList,
    TargetGroup,
    catalog_item_target_group,
)
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.orgs.models import Region, RegionLevel
from procurement.rules.catalog import NegativeRule, negative_list_hits
from procurement.rules.clock import utcnow

#: Item fields an edit may change (also the order of the conflict comparison).
ITEM_FIELDS = ("code", "category", "name", "content", "target_groups", "standard", "frequency_times",
               "frequency_period", "duration_minutes", "unit", "reference_price", "qualifications", "indicators")

SORTS = {
    "code": (CatalogItem.code,),
    "name": (CatalogItem.name, CatalogItem.code),
    "price": (CatalogItem.reference_price, CatalogItem.code),
    "-price": (CatalogItem.reference_price.desc(), CatalogItem.code),
    "category": (ServiceCategory.sort_order, CatalogItem.code),
}


# --- lookups -----------------------------------------------------------------------------

def categories() -> list[ServiceCategory]:
    return db.session.execute(select(ServiceCategory).order_by(ServiceCategory.sort_order)).scalars().all()


def target_groups() -> list[TargetGroup]:
    return db.session.execute(select(TargetGroup).order_by(TargetGroup.sort_order)).scalars().all()


def negative_rules() -> list[NegativeRule]:
    entries = db.session.execute(select(NegativeListEntry).order_by(NegativeListEntry.sort_order)).scalars()
    return [NegativeRule(e.code, e.name, e.clause, tuple(e.keywords or ())) for e in entries]


# --- lists -------------------------------------------------------------------------------

def province() -> Region | None:
    return db.session.execute(select(Region).where(Region.level == RegionLevel.PROVINCE).order_by(Region.code)).scalars().first()


def reference_lists(year: int | None = None) -> list[ServiceList]:
    query = select(ServiceList).where(ServiceList.kind == ListKind.REFERENCE)
    if year is not None:
        query = query.where(ServiceList.year == year)
    return db.session.execute(query.order_by(ServiceList.year.desc(), ServiceList.version_no.desc())).scalars().all()


def current_reference_list(year: int) -> ServiceList | None:
    """The newest published reference version of the year."""
    return db.session.execute(
        select(ServiceList).where(ServiceList.kind == ListKind.REFERENCE, ServiceList.year == year,
                                  ServiceList.status == ListStatus.PUBLISHED)
        .order_by(ServiceList.version_no.desc()).limit(1)
    ).scalar_one_or_none()


def local_list(region: Region, year: int) -> ServiceList | None:
    return db.session.execute(
        select(ServiceList).where(ServiceList.kind == ListKind.LOCAL, ServiceList.region_id == region.id,
                                  ServiceList.year == year)
    ).scalar_one_or_none()


def visible_lists(user) -> list[ServiceList]:
    """Lists are public documents: every reference version and every county list."""
    return db.session.execute(
        select(ServiceList).join(Region).order_by(ServiceList.year.desc(), ServiceList.kind.desc(), Region.code,
                                                  ServiceList.version_no.desc())
    ).scalars().all()


def default_list_for(user, year: int) -> ServiceList | None:
    """A county officer starts on the county's list; everyone else on the reference list."""
    region = user.organization.region
    if region.level == RegionLevel.COUNTY:
        own = local_list(region, year)
        if own is not None:
            return own
    return current_reference_list(year) or next(iter(reference_lists(year)), None) or next(iter(reference_lists()), None)


def can_edit_list(user, service_list: ServiceList) -> bool:
    """County lists by their county's officers; draft reference versions by provincial officers."""
    if not user.may(Action.CATALOG_EDIT) or service_list.read_only:
        return False
    region = user.organization.region
    if service_list.kind == ListKind.LOCAL:
        return region.id == service_list.region_id
    return region.level == RegionLevel.PROVINCE and region.contains(service_list.region)


def can_manage_reference(user) -> bool:
    return user.may(Action.CATALOG_EDIT) and user.organization.region.level == RegionLevel.PROVINCE


def _ensure_editable(user, service_list: ServiceList) -> None:
    if service_list.read_only:
        raise DomainError(_("This list version is published and read-only. Create a new draft version to change it."))
    if not can_edit_list(user, service_list):
        raise AccessDenied(_("You may not change this list."))


def create_local_list(region: Region, year: int, actor: Actor) -> ServiceList:
    """Raises:
        DomainError: the region is not a county, or its list of that year exists.
    """
    if region.level != RegionLevel.COUNTY:
        raise DomainError(_("Only a county keeps its own service list."))
    if not actor.user.may(Action.CATALOG_EDIT) or actor.user.organization.region_id != region.id:
        raise AccessDenied(_("You may not change this list."))
    if local_list(region, year) is not None:
        raise DomainError(_("%(region)s already has a service list for %(year)s.", region=region.name, year=year), field="year")
    service_list = ServiceList(kind=ListKind.LOCAL, region=region, year=year, version_no=1, status=ListStatus.IN_USE,
                               title=_("%(region)s service list %(year)s", region=region.name, year=year),
                               created_by_id=actor.user_id, created_at=utcnow())
    db.session.add(service_list)
    db.session.flush()
    append_audit(actor, "catalog.list_create", service_list, detail={"year": year, "region": region.code})
    return service_list


def create_reference_version(year: int, actor: Actor, based_on: ServiceList | None = None) -> ServiceList:
    """A new draft reference version of the year, copying the items of ``based_on`` (if any).

    Raises:
        DomainError: a draft of that year already exists.
    """
    if not can_manage_reference(actor.user):
        raise AccessDenied(_("Only provincial officers maintain the reference list."))
    existing = reference_lists(year)
    if any(lst.status == ListStatus.DRAFT for lst in existing):
        raise DomainError(_("A draft version of the %(year)s reference list already exists; edit or publish it first.", year=year))
    prov = province()
    version_no = max((lst.version_no for lst in existing), default=0) + 1
    service_list = ServiceList(kind=ListKind.REFERENCE, region=prov, year=year, version_no=version_no,
                               status=ListStatus.DRAFT, based_on=based_on, created_by_id=actor.user_id,
                               created_at=utcnow(),
                               title=_("%(region)s reference service list %(year)s", region=prov.name, year=year))
    db.session.add(service_list)
    db.session.flush()
    copied = 0
    if based_on is not None:
        for item in items_of(based_on, include_inactive=True):
            db.session.add(_copy_item(item, service_list, actor, source=item.source_item))
            copied += 1
    db.session.flush()
    append_audit(actor, "catalog.version_create", service_list,
                 detail={"year": year, "version": version_no, "copied": copied,
                         "based_on": based_on.id if based_on else None})
    return service_list


def publish_list(service_list: ServiceList, actor: Actor) -> None:
    """Publish a draft reference version; from then on it is read-only.

    Raises:
        DomainError: not a draft reference list, or it has no active item.
    """
    if service_list.kind != ListKind.REFERENCE or service_list.status != ListStatus.DRAFT:
        raise DomainError(_("Only a draft reference version can be published."))
    if not can_manage_reference(actor.user):
        raise AccessDenied(_("Only provincial officers maintain the reference list."))
    if count_items(service_list) == 0:
        raise DomainError(_("An empty list cannot be published."))
    service_list.status = ListStatus.PUBLISHED
    service_list.published_at = utcnow()
    service_list.published_by_id = actor.user_id
    db.session.flush()
    append_audit(actor, "catalog.list_publish", service_list, detail={"year": service_list.year,
                                                                     "version": service_list.version_no})


# --- items -------------------------------------------------------------------------------

@dataclass
class ItemFilter:
    q: str = ""
    category_id: int | None = None
    target_group_id: int | None = None
    include_inactive: bool = False
    sort: str = "code"


def item_query(service_list: ServiceList, flt: ItemFilter):
    query = select(CatalogItem).join(ServiceCategory).where(CatalogItem.list_id == service_list.id)
    if not flt.include_inactive:
        query = query.where(CatalogItem.active.is_(True))
    if flt.q:
        pattern = "%" + flt.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(CatalogItem.code.ilike(pattern, escape="\\"), CatalogItem.name.ilike(pattern, escape="\\"),
                                CatalogItem.content.ilike(pattern, escape="\\")))
    if flt.category_id:
        query = query.where(CatalogItem.category_id == flt.category_id)
    if flt.target_group_id:
        query = query.where(CatalogItem.id.in_(
            select(catalog_item_target_group.c.item_id).where(catalog_item_target_group.c.target_group_id == flt.target_group_id)))
    return query.order_by(*SORTS.get(flt.sort, SORTS["code"])).options(selectinload(CatalogItem.target_groups))


def items_of(service_list: ServiceList, include_inactive: bool = False) -> list[CatalogItem]:
    return db.session.execute(item_query(service_list, ItemFilter(include_inactive=include_inactive))).scalars().all()


def count_items(service_list: ServiceList) -> int:
    return db.session.scalar(select(func.count()).select_from(CatalogItem).where(
        CatalogItem.list_id == service_list.id, CatalogItem.active.is_(True)))


def item_values(item: CatalogItem) -> dict:
    """The editable values of an item as plain data (for conflicts, copies and the audit log)."""
    return {
        "code": item.code,
        "category": item.category.code if item.category else None,
        "name": item.name,
        "content": item.content,
        "target_groups": [g.code for g in item.target_groups],
        "standard": item.standard,
        "frequency_times": item.frequency_times,
        "frequency_period": item.frequency_period.value if item.frequency_period else None,
        "duration_minutes": item.duration_minutes,
        "unit": item.unit.value if item.unit else None,
        "reference_price": str(item.reference_price) if item.reference_price is not None else None,
        "qualifications": list(item.qualifications or []),
        "indicators": list(item.indicators or []),
    }


def data_values(data: dict) -> dict:
    """Clean form or import data in the shape of :func:`item_values`, to compare with an item."""
    return {
        "code": data["code"],
        "category": data["category"].code,
        "name": data["name"],
        "content": data["content"],
        "target_groups": [g.code for g in sorted(data["target_groups"], key=lambda g: g.sort_order)],
        "standard": data["standard"],
        "frequency_times": data["frequency_times"],
        "frequency_period": data["frequency_period"].value,
        "duration_minutes": data["duration_minutes"],
        "unit": data["unit"].value,
        "reference_price": str(Decimal(data["reference_price"]).quantize(Decimal("0.01"))),
        "qualifications": [q.value if hasattr(q, "value") else q for q in data["qualifications"]],
        "indicators": list(data["indicators"]),
    }


def check_negative_list(data: dict) -> None:
    """Raises:
        DomainError: the item's name or content describes work the government may not buy.
    """
    hits = negative_list_hits([data.get("name", ""), data.get("content", "")], negative_rules())
    if hits:
        hit = hits[0]
        raise DomainError(
            _("“%(keyword)s” is on the negative list (%(entry)s) and may not be purchased: %(clause)s.",
              keyword=hit.keyword, entry=hit.rule.name, clause=hit.rule.clause),
            field="name", citation=hit.rule.clause)


def _code_taken(service_list: ServiceList, code: str, except_id: int | None) -> CatalogItem | None:
    query = select(CatalogItem).where(CatalogItem.list_id == service_list.id, func.upper(CatalogItem.code) == code.upper())
    if except_id is not None:
        query = query.where(CatalogItem.id != except_id)
    return db.session.execute(query).scalar_one_or_none()


def _apply(item: CatalogItem, data: dict, actor: Actor) -> None:
    item.code = data["code"]
    item.category = data["category"]
    item.name = data["name"]
    item.content = data["content"]
    item.target_groups = list(data["target_groups"])
    item.standard = data["standard"]
    item.frequency_times = data["frequency_times"]
    item.frequency_period = data["frequency_period"]
    item.duration_minutes = data["duration_minutes"]
    item.unit = data["unit"]
    item.reference_price = Decimal(data["reference_price"])
    item.qualifications = [q.value if hasattr(q, "value") else q for q in data["qualifications"]]
    item.indicators = list(data["indicators"])
    item.updated_at = utcnow()
    item.updated_by_id = actor.user_id


def save_item(service_list: ServiceList, data: dict, actor: Actor, item: CatalogItem | None = None,
              expected_version: int | None = None, audit: bool = True) -> CatalogItem:
    """Create an item (``item`` None) or update one, after every cross-record rule.

    ``data`` holds clean values: ORM objects for ``category`` and ``target_groups``.

    Raises:
        ConflictError: someone saved the item since ``expected_version`` was loaded.
        DomainError: the list is read-only, the code is taken, or the item is on the negative list.
    """
    _ensure_editable(actor.user, service_list)
    if item is not None and expected_version is not None and item.version != expected_version:
        raise ConflictError(_("Someone else saved this item while you were editing it."))
    taken = _code_taken(service_list, data["code"], item.id if item is not None else None)
    if taken is not None:
        raise DomainError(_("The code %(code)s is already used by “%(name)s” in this list.", code=taken.code, name=taken.name),
                          field="code")
    check_negative_list(data)
    before = item_values(item) if item is not None else None
    if item is None:
        item = CatalogItem(service_list=service_list, active=True, created_at=utcnow())
        db.session.add(item)
    _apply(item, data, actor)
    db.session.flush()
    if audit:
        after = item_values(item)
        changed = {k: after[k] for k in ITEM_FIELDS if before is None or before[k] != after[k]}
        append_audit(actor, "catalog.item_create" if before is None else "catalog.item_update", item,
                     detail={"list": service_list.id, "changed": changed})
    return item


def set_item_active(item: CatalogItem, active: bool, actor: Actor) -> None:
    """Withdraw an item from use or bring it back; items are never deleted."""
    _ensure_editable(actor.user, item.service_list)
    if item.active == active:
        return
    item.active = active
    item.updated_at = utcnow()
    item.updated_by_id = actor.user_id
    db.session.flush()
    append_audit(actor, "catalog.item_activate" if active else "catalog.item_withdraw", item)


def _copy_item(item: CatalogItem, target: ServiceList, actor: Actor, source: CatalogItem | None) -> CatalogItem:
    now = utcnow()
    return CatalogItem(
        service_list=target, code=item.code, category=item.category, name=item.name, content=item.content,
        target_groups=list(item.target_groups), standard=item.standard, frequency_times=item.frequency_times,
        frequency_period=item.frequency_period, duration_minutes=item.duration_minutes, unit=item.unit,
        reference_price=item.reference_price, qualifications=list(item.qualifications or []),
        indicators=list(item.indicators or []), source_item=source, active=item.active,
        created_at=now, updated_at=now, updated_by_id=actor.user_id,
    )


@dataclass
class AdoptionResult:
    adopted: list[CatalogItem]
    skipped: list[CatalogItem]  # the county already has an item with that code


def adopt_items(target: ServiceList, reference_items: list[CatalogItem], actor: Actor) -> AdoptionResult:
    """Copy reference items into a county list, linked to their source.

    Raises:
        DomainError: the target is not a county list or an item is not from a published reference list.
    """
    _ensure_editable(actor.user, target)
    if target.kind != ListKind.LOCAL:
        raise DomainError(_("Items are adopted into a county list."))
    result = AdoptionResult([], [])
    for ref in reference_items:
        source_list = ref.service_list
        if source_list.kind != ListKind.REFERENCE or source_list.status != ListStatus.PUBLISHED or not ref.active:
            raise DomainError(_("Only active items of a published reference list can be adopted."))
        if source_list.year != target.year:
            raise DomainError(_("Adopt items from the reference list of the same year (%(year)s).", year=target.year))
        if _code_taken(target, ref.code, None) is not None:
            result.skipped.append(ref)
            continue
        check_negative_list({"name": ref.name, "content": ref.content})
        copy = _copy_item(ref, target, actor, source=ref)
        db.session.add(copy)
        result.adopted.append(copy)
    db.session.flush()
    if result.adopted:
        append_audit(actor, "catalog.items_adopt", target,
                     detail={"adopted": [i.code for i in result.adopted], "skipped": [i.code for i in result.skipped]})
    return result


@dataclass
class ImportSummary:
    created: int
    updated: int
    unchanged: int


def import_items(service_list: ServiceList, rows, actor: Actor) -> ImportSummary:
    """Create or update (by code) every row of a fully validated file, in one transaction.

    Raises:
        DomainError: the list may not be changed.
    """
    _ensure_editable(actor.user, service_list)
    existing = {item.code.upper(): item for item in items_of(service_list, include_inactive=True)}
    created, updated, unchanged = [], [], 0
    for row in rows:
        item = existing.get(row.data["code"].upper())
        if item is None:
            item = CatalogItem(service_list=service_list, active=True, created_at=utcnow())
            db.session.add(item)
            _apply(item, row.data, actor)
            created.append(item.code)
            continue
        if item_values(item) == data_values(row.data):
            unchanged += 1
        else:
            _apply(item, row.data, actor)
            updated.append(item.code)
    db.session.flush()
    limit = 500  # the audit detail names the codes, up to a sensible size
    append_audit(actor, "catalog.import", service_list, detail={
        "created": len(created), "updated": len(updated), "unchanged": unchanged,
        "created_codes": created[:limit], "updated_codes": updated[:limit]})
    return ImportSummary(len(created), len(updated), unchanged)
