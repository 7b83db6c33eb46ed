"""Organization services: regions, bureaus and agencies, the supplier registry.

Services check permissions and cross-record rules, change rows, append the audit
record and flush; they never commit (the view commits once).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import exists, false, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Action, Role
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.models import import_models
from procurement.orgs import rules
from procurement.orgs.models import (
    Organization,
    OrgKind,
    OrgType,
    Qualification,
    Region,
    RegionLevel,
    SupplierBan,
    organization_service_region,
)
from procurement.rules import eligibility
from procurement.rules.clock import beijing_today, utcnow
from procurement.rules.identifiers import check_uscc

#: Organization kinds managed on the organizations page (suppliers have their own registry).
AGENCY_KINDS = (OrgKind.BUREAU, OrgKind.FINANCE, OrgKind.AGENCY)
#: Legal forms offered on the supplier form: every supplier type, plus 公益一类 so that it is refused with the rule.
SUPPLIER_FORM_TYPES = (
    OrgType.SOCIAL_SERVICE, OrgType.SOCIAL_GROUP, OrgType.FOUNDATION, OrgType.ENTERPRISE,
    OrgType.PUBLIC_INSTITUTION_2, OrgType.VILLAGE_COLLECTIVE, OrgType.INDIVIDUAL, OrgType.PUBLIC_INSTITUTION_1,
)
SUPPLIER_FIELDS = ("name", "credit_code", "org_type", "region", "legal_representative", "address", "contact_name",
                   "contact_phone", "contact_email", "bank_account_name", "bank_name", "bank_account_no",
                   "service_regions", "note")
ORGANIZATION_FIELDS = ("name", "kind", "org_type", "region", "credit_code", "legal_representative", "address",
                       "contact_name", "contact_phone", "contact_email", "note")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# --- regions -------------------------------------------------------------------------------

def region_subtree(region: Region):
    """A subquery of the ids of the region and every region below it."""
    return select(Region.id).where(Region.path.startswith(region.path))


def all_regions() -> list[Region]:
    """Every region in tree order (a province, its first prefecture, that prefecture's counties, …)."""
    return db.session.execute(select(Region).order_by(Region.path)).scalars().all()


def region_by_code(code: str) -> Region | None:
    return db.session.execute(select(Region).where(Region.code == code)).scalar_one_or_none()


@dataclass
class RegionNode:
    region: Region
    depth: int
    own: int  # organizations registered in the region itself
    total: int  # … in the region and every region below it


def region_tree() -> list[RegionNode]:
    """The tree as an indented list with organization counts; two queries whatever its size."""
    regions = all_regions()
    counts = dict(db.session.execute(
        select(Organization.region_id, func.count()).group_by(Organization.region_id)).all())
    nodes = [RegionNode(r, r.depth, counts.get(r.id, 0), 0) for r in regions]
    by_path = {node.region.path: node for node in nodes}
    for node in nodes:
        for path in rules.ancestor_paths(node.region.path):
            ancestor = by_path.get(path)
            if ancestor is not None:
                ancestor.total += node.own
    return nodes


def can_edit_regions(user) -> bool:
    return user.may(Action.REGION_EDIT)


def create_region(code: str, name: str, level: RegionLevel, parent: Region | None, actor: Actor) -> Region:
    """Add a region to the tree.

    Raises:
        DomainError: the code is malformed, taken, or does not fit the parent; the name is empty.
    """
    if not can_edit_regions(actor.user):
        raise AccessDenied(_("Only the system administrator maintains regions."))
    code = (code or "").strip()
    name = (name or "").strip()
    problem = rules.region_code_problem(code, RegionLevel(level).value, parent.code if parent else None,
                                        parent.level.value if parent else None)
    if problem:
        raise DomainError(problem[1], field=problem[0])
    taken = region_by_code(code)
    if taken is not None:
        raise DomainError(_("The code %(code)s is already used by %(name)s.", code=code, name=taken.full_name), field="code")
    if not name:
        raise DomainError(_("Enter the name of the region."), field="name")
    region = Region(code=code, name=name, level=RegionLevel(level), parent=parent,
                    path=rules.region_path(code, parent.path if parent else None))
    db.session.add(region)
    db.session.flush()
    append_audit(actor, "orgs.region_create", region, detail={"code": code, "name": name, "level": region.level.value,
                                                               "parent": parent.code if parent else None})
    return region


def rename_region(region: Region, name: str, actor: Actor) -> None:
    """Regions are never deleted; only their name changes (GB/T 2260 codes are permanent).

    Raises:
        DomainError: the name is empty.
    """
    if not can_edit_regions(actor.user):
        raise AccessDenied(_("Only the system administrator maintains regions."))
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Enter the name of the region."), field="name")
    if name == region.name:
        return
    before = region.name
    region.name = name
    db.session.flush()
    append_audit(actor, "orgs.region_rename", region, detail={"code": region.code, "from": before, "to": name})


# --- scope ---------------------------------------------------------------------------------

def _user_region(user) -> Region:
    return user.organization.region


def sees_all_regions(user) -> bool:
    """Administrators manage every organization; everyone else sees their region and below."""
    return user.role is not None and user.role.is_admin


def in_user_subtree(user, region: Region | None) -> bool:
    return region is not None and _user_region(user).contains(region)


def can_edit_supplier(user, org: Organization) -> bool:
    """An officer edits a supplier registered, or serving, somewhere in the officer's region subtree."""
    if not user.may(Action.SUPPLIER_EDIT) or org.kind != OrgKind.SUPPLIER:
        return False
    return in_user_subtree(user, org.region) or any(in_user_subtree(user, r) for r in org.service_regions)


def can_ban_supplier(user, org: Organization) -> bool:
    """Recording a ban needs the ban permission and the same regional responsibility as editing."""
    if not user.may(Action.SUPPLIER_BAN) or org.kind != OrgKind.SUPPLIER:
        return False
    return in_user_subtree(user, org.region) or any(in_user_subtree(user, r) for r in org.service_regions)


def can_see_bank_account(user, org: Organization) -> bool:
    """The full account number: the organization itself, finance staff (who pay) and those who may edit it."""
    return user.organization_id == org.id or user.role == Role.FINANCE or can_edit_supplier(user, org)


# --- organizations (bureaus, finance bureaus, agencies) ----------------------------------------

@dataclass
class OrgFilter:
    q: str = ""
    kind: OrgKind | None = None
    region: Region | None = None
    include_inactive: bool = False


def organization_query(user, flt: OrgFilter | None = None):
    """Bureaus, finance bureaus and evaluation agencies the user may see: their region subtree, or all for admins."""
    flt = flt or OrgFilter()
    query = select(Organization).join(Organization.region).options(contains_eager(Organization.region)) \
        .where(Organization.kind.in_(AGENCY_KINDS))
    if not sees_all_regions(user):
        query = query.where(Region.path.startswith(_user_region(user).path))
    if flt.kind is not None:
        query = query.where(Organization.kind == flt.kind)
    if flt.region is not None:
        query = query.where(Region.path.startswith(flt.region.path))
    if flt.q:
        pattern = _like(flt.q)
        query = query.where(or_(Organization.name.ilike(pattern, escape="\\"),
                                Organization.credit_code.ilike(pattern, escape="\\")))
    if not flt.include_inactive:
        query = query.where(Organization.active.is_(True))
    return query.order_by(Region.path, Organization.kind, Organization.name, Organization.id)


def can_view_organization(user, org: Organization) -> bool:
    return user.may(Action.ORG_VIEW) and org.kind in AGENCY_KINDS and (
        sees_all_regions(user) or in_user_subtree(user, org.region))


def can_edit_organization(user, org: Organization | None = None) -> bool:
    return user.may(Action.ORG_EDIT) and (org is None or org.kind in AGENCY_KINDS)


def credit_code_owner(code: str, except_id: int | None = None) -> Organization | None:
    query = select(Organization).where(Organization.credit_code == code)
    if except_id is not None:
        query = query.where(Organization.id != except_id)
    return db.session.execute(query).scalar_one_or_none()


def _check_credit_code(raw: str | None, org: Organization | None) -> str:
    """Raises:
        DomainError: malformed, or already registered to another organization.
    """
    try:
        code = check_uscc(raw)
    except ValueError as exc:
        raise DomainError(str(exc), field="credit_code") from None
    owner = credit_code_owner(code, org.id if org is not None else None)
    if owner is not None:
        raise DomainError(_("This unified social credit code is already registered as “%(name)s”.", name=owner.name),
                          field="credit_code")
    return code


def _check_contacts(data: dict) -> None:
    if data.get("contact_phone"):
        try:
            data["contact_phone"] = rules.check_phone(data["contact_phone"])
        except ValueError as exc:
            raise DomainError(str(exc), field="contact_phone") from None
    if data.get("contact_email"):
        try:
            data["contact_email"] = rules.check_email(data["contact_email"])
        except ValueError as exc:
            raise DomainError(str(exc), field="contact_email") from None


def _clean(value):
    if type(value) is str:  # not enum members (StrEnum is a str too)
        value = value.strip()
        return value or None
    return value


def organization_values(org: Organization) -> dict:
    """The editable values as plain data (for conflicts and the audit log)."""
    return {
        "name": org.name,
        "kind": org.kind.value if org.kind else None,
        "org_type": org.org_type.value if org.org_type else None,
        "region": org.region.code if org.region else None,
        "credit_code": org.credit_code,
        "legal_representative": org.legal_representative,
        "address": org.address,
        "contact_name": org.contact_name,
        "contact_phone": org.contact_phone,
        "contact_email": org.contact_email,
        "bank_account_name": org.bank_account_name,
        "bank_name": org.bank_name,
        "bank_account_no": org.bank_account_no,
        "service_regions": [r.code for r in sorted(org.service_regions, key=lambda r: r.code)],
        "note": org.note,
    }


def data_values(data: dict) -> dict:
    """Form data in the shape of :func:`organization_values`."""
    out = {}
    for key, value in data.items():
        if key == "region":
            out[key] = value.code if value is not None else None
        elif key == "service_regions":
            out[key] = sorted(r.code for r in value)
        elif hasattr(value, "value"):
            out[key] = value.value
        else:
            out[key] = _clean(value)
    return out


def _audit_values(values: dict) -> dict:
    values = dict(values)
    if values.get("bank_account_no"):
        values["bank_account_no"] = rules.mask_account(values["bank_account_no"])
    return values


def _check_version(org: Organization, expected_version: int | None, message: str) -> None:
    if expected_version is not None and org.version != expected_version:
        raise ConflictError(message)


def save_organization(data: dict, actor: Actor, org: Organization | None = None,
                      expected_version: int | None = None) -> Organization:
    """Create (``org`` None) or update a bureau, finance bureau or evaluation agency.

    ``data`` holds ``name, kind, org_type, region, credit_code, legal_representative, address, contact_name,
    contact_phone, contact_email, note`` with ORM objects for ``region``.

    Raises:
        ConflictError: someone saved it since ``expected_version`` was loaded.
        DomainError: a field breaks a rule, or the credit code is registered to another organization.
    """
    if not can_edit_organization(actor.user, org):
        raise AccessDenied(_("Only the system administrator maintains organizations."))
    if org is not None:
        _check_version(org, expected_version, _("Someone else saved this organization while you were editing it."))
    data = {k: _clean(v) for k, v in data.items()}
    if data.get("kind") not in AGENCY_KINDS:
        raise DomainError(_("Choose a civil-affairs bureau, a finance bureau or an evaluation agency; suppliers are "
                            "registered in the supplier registry."), field="kind")
    if not data.get("name"):
        raise DomainError(_("Enter the name of the organization."), field="name")
    if data.get("region") is None:
        raise DomainError(_("Choose the region."), field="region")
    data["credit_code"] = _check_credit_code(data.get("credit_code"), org)
    _check_contacts(data)
    before = organization_values(org) if org is not None else None
    if org is None:
        org = Organization(kind=data["kind"], active=True, created_at=utcnow())
        db.session.add(org)
    for key in ORGANIZATION_FIELDS:
        setattr(org, key, data.get(key))
    org.updated_at = utcnow()
    db.session.flush()
    _audit_change(actor, "orgs.organization", org, before)
    return org


def _audit_change(actor: Actor, prefix: str, org: Organization, before: dict | None) -> None:
    after = organization_values(org)
    changed = {k: v for k, v in after.items() if before is None or before.get(k) != v}
    append_audit(actor, prefix + ("_create" if before is None else "_update"), org,
                 detail={"name": org.name, "changed": _audit_values(changed)})


def last_change(org: Organization) -> AuditRecord | None:
    """Who saved the organization last, from the audit log (for the conflict message)."""
    return db.session.execute(
        select(AuditRecord).where(AuditRecord.object_type == Organization.__tablename__,
                                  AuditRecord.object_id == str(org.id), AuditRecord.outcome == "success")
        .order_by(AuditRecord.seq.desc()).limit(1)
    ).scalar_one_or_none()


# --- suppliers -----------------------------------------------------------------------------

SUPPLIER_SORTS = ("name", "credit_code", "region")


@dataclass
class SupplierFilter:
    q: str = ""
    org_type: OrgType | None = None
    service_region: Region | None = None
    banned: bool = False  # banned today
    expiring: bool = False  # a certificate expires within EXPIRY_WARNING_DAYS
    expired: bool = False  # a certificate has expired and was not renewed
    status: str = "active"  # active / inactive / all
    sort: str = "name"


# Built once: constructing aliases per request costs more than running the queries.
# aliased() configures the mappers, which needs every model class defined: load them all first, so this module
# (and anything importing it, e.g. contracts.services) can be imported before the app is created.
import_models()
_CERT = aliased(Qualification, name="cert")
_RENEWAL = aliased(Qualification, name="renewal")
_SERVED = aliased(Region, name="served")


def _not_renewed():
    """No other certificate of the same name of the same organization outlasts ``_CERT``."""
    return ~exists().where(_RENEWAL.organization_id == _CERT.organization_id, _RENEWAL.name == _CERT.name,
                           _RENEWAL.id != _CERT.id,
                           or_(_RENEWAL.valid_until.is_(None), _RENEWAL.valid_until > _CERT.valid_until))


def _banned_until(today: date):
    return (select(func.max(SupplierBan.ends_on))
            .where(SupplierBan.organization_id == Organization.id, SupplierBan.ends_on >= today,
                   SupplierBan.starts_on <= today)
            .correlate(Organization).scalar_subquery())


def _next_expiry(today: date):
    return (select(func.min(_CERT.valid_until))
            .where(_CERT.organization_id == Organization.id, _CERT.valid_until >= today, _not_renewed())
            .correlate(Organization).scalar_subquery())


def _expired_count(today: date):
    return (select(func.count(_CERT.id))
            .where(_CERT.organization_id == Organization.id, _CERT.valid_until < today, _not_renewed())
            .correlate(Organization).scalar_subquery())


def _supplier_conditions(flt: SupplierFilter, today: date) -> list:
    conditions = [Organization.kind == OrgKind.SUPPLIER]
    if flt.status == "active":
        conditions.append(Organization.active.is_(True))
    elif flt.status == "inactive":
        conditions.append(Organization.active.is_(False))
    if flt.q:
        pattern = _like(flt.q)
        code = "".join(flt.q.split()).upper()
        conditions.append(or_(Organization.name.ilike(pattern, escape="\\"),
                              Organization.legal_representative.ilike(pattern, escape="\\"),
                              Organization.credit_code.like(_like(code), escape="\\")))
    if flt.org_type is not None:
        conditions.append(Organization.org_type == flt.org_type)
    if flt.service_region is not None:
        # Serving somewhere inside the chosen region, or a wider region that contains it.
        ancestors = rules.ancestor_paths(flt.service_region.path)
        conditions.append(exists().where(
            organization_service_region.c.organization_id == Organization.id,
            organization_service_region.c.region_id == _SERVED.id,
            or_(_SERVED.path.startswith(flt.service_region.path), _SERVED.path.in_(ancestors))))
    if flt.banned:
        conditions.append(exists().where(SupplierBan.organization_id == Organization.id,
                                         SupplierBan.starts_on <= today, SupplierBan.ends_on >= today))
    if flt.expiring:
        conditions.append(exists().where(
            _CERT.organization_id == Organization.id,
            _CERT.valid_until.between(today, today + timedelta(days=rules.EXPIRY_WARNING_DAYS)), _not_renewed()))
    if flt.expired:
        conditions.append(exists().where(_CERT.organization_id == Organization.id, _CERT.valid_until < today,
                                         _not_renewed()))
    return conditions


def supplier_query(user, flt: SupplierFilter | None = None, *, today: date | None = None):
    """Suppliers the user may see: officers and finance see every supplier (a public registry).

    Without a filter: every supplier, active or not.
    """
    if not user.may(Action.SUPPLIER_VIEW):
        return select(Organization).where(false())
    if flt is None:
        return select(Organization).where(Organization.kind == OrgKind.SUPPLIER)
    return select(Organization).where(*_supplier_conditions(flt, today or beijing_today()))


@dataclass
class SupplierRow:
    org: Organization
    banned_until: date | None
    next_expiry: date | None
    expired: int
    today: date

    @property
    def expiring(self) -> bool:
        return self.next_expiry is not None and self.next_expiry <= self.today + timedelta(days=rules.EXPIRY_WARNING_DAYS)


class _RowPagination(Pagination):
    """Pagination whose items are :class:`SupplierRow`; the count query skips the per-row subqueries."""

    def _query_items(self):
        today = self._query_args["today"]
        query = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return [SupplierRow(org, banned, expiry, expired or 0, today)
                for org, banned, expiry, expired in db.session.execute(query).unique().all()]

    def _query_count(self) -> int:
        return db.session.scalar(self._query_args["count_select"])


def supplier_page(user, flt: SupplierFilter, page: int, per_page: int, today: date | None = None) -> Pagination:
    """One page of the registry: a count query, one query for the rows (with "banned today" and the nearest
    certificate expiry as correlated subqueries) and one for their service regions."""
    today = today or beijing_today()
    conditions = _supplier_conditions(flt, today) if user.may(Action.SUPPLIER_VIEW) else [false()]
    order = {
        "name": (Organization.name, Organization.id),
        "credit_code": (Organization.credit_code,),
        "region": (Region.code, Organization.name, Organization.id),
    }.get(flt.sort, (Organization.name, Organization.id))
    query = (select(Organization, _banned_until(today), _next_expiry(today), _expired_count(today))
             .join(Organization.region).options(contains_eager(Organization.region),
                                                selectinload(Organization.service_regions))
             .where(*conditions).order_by(*order))
    count = select(func.count()).select_from(Organization).where(*conditions)
    return _RowPagination(page=page, per_page=per_page, error_out=False, select=query, count_select=count, today=today)


def supplier_facts(org: Organization, last_grade: str | None = None) -> eligibility.SupplierFacts:
    """The registry's facts about a supplier, for :func:`procurement.rules.eligibility.supplier_problems`."""
    return eligibility.SupplierFacts(
        credit_code=org.credit_code,
        org_type=org.org_type.value if org.org_type else None,
        qualifications=tuple(eligibility.QualificationFact(q.name, q.valid_from, q.valid_until) for q in org.qualifications),
        bans=tuple(eligibility.BanFact(b.starts_on, b.ends_on, b.reason) for b in org.bans),
        last_grade=last_grade,
        active=org.active,
    )


def supplier_eligibility(org: Organization, on_date: date, last_grade: str | None = None,
                         format_date: eligibility.DateFormat = date.isoformat) -> list[eligibility.Problem]:
    """The eligibility problems of a registered supplier on a date (see :func:`eligibility.supplier_problems`)."""
    return eligibility.supplier_problems(supplier_facts(org, last_grade), on_date, format_date=format_date)


def supplier_rule_problems(data: dict) -> list[tuple[str, str]]:
    """Field-level rule problems of supplier data as ``(field, message)`` (shape checks are the form's)."""
    problems = []
    org_type = data.get("org_type")
    type_value = org_type.value if hasattr(org_type, "value") else org_type
    problem = eligibility.org_type_problem(type_value)
    if problem is not None:
        problems.append(("org_type", f"{problem.message}（{problem.citation}）"))
    else:
        problem = eligibility.civil_affairs_type_problem(data.get("credit_code"), type_value)
        if problem is not None:
            problems.append(("org_type", problem.message))
    if data.get("bank_account_no"):
        try:
            data["bank_account_no"] = rules.check_bank_account_no(data["bank_account_no"])
        except ValueError as exc:
            problems.append(("bank_account_no", str(exc)))
        else:
            if not data.get("bank_name"):
                problems.append(("bank_name", _("Enter the bank of the account.")))
            if not data.get("bank_account_name"):
                problems.append(("bank_account_name", _("Enter the name of the account holder.")))
    return problems


def save_supplier(data: dict, actor: Actor, org: Organization | None = None,
                  expected_version: int | None = None) -> Organization:
    """Register a supplier (``org`` None) or update one.

    ``data`` holds the :data:`SUPPLIER_FIELDS`, with ORM objects for ``region`` and ``service_regions``.

    Raises:
        ConflictError: someone saved the supplier since ``expected_version`` was loaded.
        DomainError: a field breaks a rule (公益一类, a credit code that disagrees with the type, …) or the
            credit code is registered to another organization.
    """
    if org is None:
        if not actor.user.may(Action.SUPPLIER_EDIT):
            raise AccessDenied(_("You may not register suppliers."))
    elif not can_edit_supplier(actor.user, org):
        raise AccessDenied(_("You may change only suppliers registered or serving in your region."))
    if org is not None:
        _check_version(org, expected_version, _("Someone else saved this supplier while you were editing it."))
    data = {k: _clean(v) for k, v in data.items()}
    data["service_regions"] = list(data.get("service_regions") or [])
    for key, message in (("name", _("Enter the name of the organization.")),
                         ("legal_representative", _("Enter the legal representative.")),
                         ("region", _("Choose the region where the organization is registered."))):
        if not data.get(key):
            raise DomainError(message, field=key)
    data["credit_code"] = _check_credit_code(data.get("credit_code"), org)
    problems = supplier_rule_problems(data)
    if problems:
        field_name, message = problems[0]
        raise DomainError(message, field=field_name)
    _check_contacts(data)
    if not data["service_regions"]:
        raise DomainError(_("Choose at least one region the supplier serves."), field="service_regions")
    before = organization_values(org) if org is not None else None
    if org is None:
        org = Organization(kind=OrgKind.SUPPLIER, active=True, created_at=utcnow())
        db.session.add(org)
    for key in SUPPLIER_FIELDS:
        setattr(org, key, data.get(key))
    org.updated_at = utcnow()
    db.session.flush()
    _audit_change(actor, "orgs.supplier", org, before)
    return org


def set_supplier_active(org: Organization, active: bool, actor: Actor) -> None:
    """Deactivate a supplier or bring it back; suppliers are never deleted."""
    if not can_edit_supplier(actor.user, org):
        raise AccessDenied(_("You may change only suppliers registered or serving in your region."))
    if org.active == active:
        return
    org.active = active
    org.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "orgs.supplier_activate" if active else "orgs.supplier_deactivate", org,
                 detail={"name": org.name})


QUALIFICATION_FIELDS = ("name", "number", "issuer", "valid_from", "valid_until")


def save_qualification(org: Organization, data: dict, actor: Actor, qualification: Qualification | None = None) -> Qualification:
    """Add a certificate to a supplier or correct one.

    Raises:
        DomainError: no name, or the validity ends before it starts.
    """
    if not can_edit_supplier(actor.user, org):
        raise AccessDenied(_("You may change only suppliers registered or serving in your region."))
    data = {k: _clean(data.get(k)) for k in QUALIFICATION_FIELDS}
    if not data["name"]:
        raise DomainError(_("Enter the name of the certificate."), field="name")
    problem = rules.period_problem(data["valid_from"], data["valid_until"])
    if problem:
        raise DomainError(problem, field="valid_until")
    before = None
    if qualification is None:
        qualification = Qualification(organization=org, created_at=utcnow())
        db.session.add(qualification)
    else:
        before = {k: getattr(qualification, k) for k in QUALIFICATION_FIELDS}
    for key in QUALIFICATION_FIELDS:
        setattr(qualification, key, data[key])
    db.session.flush()
    after = {k: getattr(qualification, k) for k in QUALIFICATION_FIELDS}
    changed = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in after.items()
               if before is None or before[k] != v}
    append_audit(actor, "orgs.qualification_create" if before is None else "orgs.qualification_update", qualification,
                 detail={"organization": org.id, "changed": changed})
    return qualification


def record_ban(org: Organization, starts_on: date, ends_on: date, reason: str, document_ref: str | None,
               actor: Actor) -> SupplierBan:
    """Record a procurement ban (不良行为记录, 政府采购法 第七十七条), 1 to 3 years, both ends inclusive.

    Bans are never deleted or changed: a wrong entry is corrected by the finance department's new decision.

    Raises:
        DomainError: no reason, or a period that is reversed, shorter than 1 year or longer than 3.
    """
    if not can_ban_supplier(actor.user, org):
        raise AccessDenied(_("You may record bans only for suppliers registered or serving in your region."))
    reason = (reason or "").strip()
    if starts_on is None:
        raise DomainError(_("Enter the first day of the ban."), field="starts_on")
    if ends_on is None:
        raise DomainError(_("Enter the last day of the ban."), field="ends_on")
    problem = rules.ban_period_problem(starts_on, ends_on)
    if problem:
        raise DomainError(problem[1], field=problem[0], citation=rules.BAN_CITATION)
    if not reason:
        raise DomainError(_("Enter the reason for the ban (the violation and the decision)."), field="reason")
    ban = SupplierBan(organization=org, starts_on=starts_on, ends_on=ends_on, reason=reason,
                      document_ref=_clean(document_ref), recorded_by_id=actor.user_id, recorded_at=utcnow())
    db.session.add(ban)
    db.session.flush()
    append_audit(actor, "orgs.ban_create", ban, detail={"organization": org.id, "name": org.name,
                                                        "starts_on": starts_on.isoformat(),
                                                        "ends_on": ends_on.isoformat(),
                                                        "document_ref": ban.document_ref})
    return ban


def banned_suppliers(user, day: date) -> list[SupplierBan]:
    """Bans in force on the day (both ends inclusive), soonest to end first."""
    if not user.may(Action.SUPPLIER_VIEW):
        return []
    return db.session.execute(
        select(SupplierBan).join(Organization)
        .where(Organization.kind == OrgKind.SUPPLIER, SupplierBan.starts_on <= day, SupplierBan.ends_on >= day)
        .order_by(SupplierBan.ends_on)
    ).scalars().all()


@dataclass
class CertificateView:
    qualification: Qualification
    state: rules.CertificateState
    renewed: bool = False  # a later certificate of the same name replaces it


def certificate_views(org: Organization, today: date) -> list[CertificateView]:
    """The certificates with their state, newest validity first; an expired one that was renewed is marked."""
    items = sorted(org.qualifications, key=lambda q: q.valid_until or date.max, reverse=True)
    items.sort(key=lambda q: q.name)
    views = []
    for q in items:
        renewed = q.valid_until is not None and any(
            o is not q and o.name == q.name and (o.valid_until is None or o.valid_until > q.valid_until)
            for o in org.qualifications)
        views.append(CertificateView(q, rules.certificate_state(q.valid_from, q.valid_until, today), renewed))
    return views


@dataclass
class BanView:
    ban: SupplierBan
    state: str  # "current", "past", "future"


def ban_views(org: Organization, today: date) -> list[BanView]:
    views = []
    for ban in sorted(org.bans, key=lambda b: b.starts_on, reverse=True):
        state = "current" if ban.covers(today) else ("future" if ban.starts_on > today else "past")
        views.append(BanView(ban, state))
    return views
