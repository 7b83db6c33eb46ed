"""Plain factories: ``make_<thing>(**overrides)`` adds a valid row and flushes."""

import itertools
import secrets
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from procurement.auth.models import User, UserSession
from procurement.auth.roles import Role
from procurement.catalog.models import (
    CatalogItem,
    ListKind,
    ListStatus,
    ServiceCategory,
    ServiceList,
    TargetGroup,
)
from procurement.extensions import db
from procurement.orgs.models import Organization, OrgKind, OrgType, Region
from procurement.rules.catalog import FrequencyPeriod, Unit
from procurement.rules.clock import utcnow
from procurement.rules.identifiers import uscc_check_symbol

PASSWORD = "Correct-Horse-42"
_counter = itertools.count(1)


def region(code: str) -> Region:
    return db.session.execute(select(Region).where(Region.code == code)).scalar_one()


def valid_uscc(prefix: str = "52", region_code: str = "530626") -> str:
    """A fresh credit code with a correct check symbol."""
    body = f"{prefix}{region_code}MJ{next(_counter):07d}"
    return body + uscc_check_symbol(body)


def make_org(kind=OrgKind.BUREAU, region_code="530626", **overrides) -> Organization:
    n = next(_counter)
    defaults = {
        "kind": kind,
        "name": f"测试单位{n}",
        "region": region(region_code),
        "org_type": OrgType.GOVERNMENT if kind in (OrgKind.BUREAU, OrgKind.FINANCE) else OrgType.SOCIAL_SERVICE,
        "credit_code": valid_uscc("11" if kind in (OrgKind.BUREAU, OrgKind.FINANCE) else "52", region_code),
        "active": True,
    }
    org = Organization(**{**defaults, **overrides})
    db.session.add(org)
    db.session.flush()
    return org


def make_supplier(region_code="530626", **overrides) -> Organization:
    defaults = {"legal_representative": f"法人{next(_counter)}", "contact_name": "联系人", "contact_phone": "13800000000",
                "address": "测试地址"}
    return make_org(OrgKind.SUPPLIER, region_code, **{**defaults, **overrides})


_ROLE_ORG = {
    Role.OFFICER: OrgKind.BUREAU,
    Role.SUPPLIER: OrgKind.SUPPLIER,
    Role.FINANCE: OrgKind.FINANCE,
    Role.EVALUATOR: OrgKind.AGENCY,
    Role.SYSADMIN: OrgKind.BUREAU,
    Role.SECADMIN: OrgKind.BUREAU,
    Role.AUDITADMIN: OrgKind.BUREAU,
}


def make_user(role=Role.OFFICER, organization=None, region_code="530626", password=PASSWORD, **overrides) -> User:
    if organization is None:
        kind = _ROLE_ORG[role] if role else OrgKind.BUREAU
        organization = make_supplier(region_code) if kind == OrgKind.SUPPLIER else make_org(kind, region_code)
    n = next(_counter)
    defaults = {
        "username": f"user{n}",
        "display_name": f"用户{n}",
        "organization": organization,
        "role": role,
        "password_hash": generate_password_hash(password, method="pbkdf2:sha256:1000"),
        "must_change_password": False,
        "active": True,
        "failed_logins": 0,
        "password_changed_at": utcnow(),
    }
    user = User(**{**defaults, **overrides})
    db.session.add(user)
    db.session.flush()
    return user


def login_as(client, user: User) -> UserSession:
    """Log the test client in as the user without the login form (one test uses the real form)."""
    now = utcnow()
    sess = UserSession(id=secrets.token_urlsafe(32), user=user, created_at=now, last_seen_at=now, ip="127.0.0.1")
    db.session.add(sess)
    db.session.commit()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = sess.id
        cookie["_fresh"] = True
    return sess


def category(code="S01") -> ServiceCategory:
    return db.session.execute(select(ServiceCategory).where(ServiceCategory.code == code)).scalar_one()


def target_group(code="TK") -> TargetGroup:
    return db.session.execute(select(TargetGroup).where(TargetGroup.code == code)).scalar_one()


def make_list(kind=ListKind.LOCAL, region_code="530626", year=2026, **overrides) -> ServiceList:
    status = ListStatus.IN_USE if kind == ListKind.LOCAL else ListStatus.DRAFT
    defaults = {"kind": kind, "region": region(region_code if kind == ListKind.LOCAL else "530000"), "year": year,
                "version_no": 1, "status": status, "title": f"{year}年测试清单", "created_at": utcnow()}
    values = {**defaults, **overrides}
    if values["status"] == ListStatus.PUBLISHED and "published_at" not in values:
        values["published_at"] = utcnow()
    lst = ServiceList(**values)
    db.session.add(lst)
    db.session.flush()
    return lst


def make_item(service_list: ServiceList, **overrides) -> CatalogItem:
    n = next(_counter)
    defaults = {
        "service_list": service_list,
        "code": f"T-{n:05d}",
        "category": category("S01"),
        "name": f"居家照料服务{n}",
        "content": "上门协助起居、清洁和安全巡查。",
        "target_groups": [target_group("TK")],
        "standard": "每次不少于60分钟，服务记录签字确认。",
        "frequency_times": 4,
        "frequency_period": FrequencyPeriod.MONTH,
        "duration_minutes": 60,
        "unit": Unit.VISIT,
        "reference_price": Decimal("45.00"),
        "qualifications": ["CARE_WORKER"],
        "indicators": ["服务人次", "满意度"],
        "active": True,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    item = CatalogItem(**{**defaults, **overrides})
    db.session.add(item)
    db.session.flush()
    return item


def today() -> date:
    from procurement.rules.clock import beijing_today

    return beijing_today()
