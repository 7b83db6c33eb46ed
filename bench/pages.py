"""In-process page benchmarks on a real SQLite database built by the migrations."""

import secrets
import statistics
import tempfile
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert, select

from procurement import create_app
from procurement.auth.models import User, UserSession
from procurement.auth.roles import Role
from procurement.catalog.models import (
    CatalogItem,
    ListKind,
    ListStatus,
    ServiceCategory,
    ServiceList,
    TargetGroup,
    catalog_item_target_group,
)
from procurement.extensions import db
from procurement.orgs.models import Organization, OrgKind, OrgType, Qualification, Region, SupplierBan
from procurement.reference_data import load_reference_data
from procurement.rules.catalog import FrequencyPeriod, Unit
from procurement.rules.clock import beijing_today, utcnow
from procurement.rules.identifiers import uscc_check_symbol


@contextmanager
def bench_app():
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.db'}", "SECRET_KEY": "bench" * 8})
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            load_reference_data()
            db.session.commit()
            yield app
            db.session.remove()
            db.engine.dispose()


def _region(code):
    return db.session.execute(select(Region).where(Region.code == code)).scalar_one()


def _officer(region_code="530626") -> User:
    body = f"11{region_code}0152000019"[:17]
    bureau = Organization(kind=OrgKind.BUREAU, name="基准测试民政局", org_type=OrgType.GOVERNMENT,
                          region=_region(region_code), credit_code=body + uscc_check_symbol(body))
    user = User(username="bench", display_name="基准", organization=bureau, role=Role.OFFICER,
                password_hash="-", must_change_password=False, active=True, failed_logins=0)
    db.session.add_all([bureau, user])
    db.session.commit()
    return user


def _client(app, user):
    now = utcnow()
    sess = UserSession(id=secrets.token_urlsafe(32), user=user, created_at=now, last_seen_at=now, ip="127.0.0.1")
    db.session.add(sess)
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = sess.id
    return client


def _measure(name, client, url, requests, expect=None):
    for _ in range(20):  # warm up caches, templates, connection pool
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    if expect:
        assert expect in response.get_data(as_text=True), f"{expect!r} not on {url}"
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    return [f"BENCH {name}_median {statistics.median(timings):.1f} ms", f"BENCH {name}_p95 {p95:.1f} ms"]


def catalog_list(requests: int):
    """The county's service list page with 5,000 items (first page, default sort)."""
    with bench_app() as app:
        officer = _officer()
        county = _region("530626")
        lst = ServiceList(kind=ListKind.LOCAL, region=county, year=2026, version_no=1, status=ListStatus.IN_USE,
                          title="绥江县2026年服务清单", created_at=utcnow())
        db.session.add(lst)
        db.session.flush()
        categories = db.session.execute(select(ServiceCategory)).scalars().all()
        groups = db.session.execute(select(TargetGroup)).scalars().all()
        now = utcnow()
        rows = [{
            "list_id": lst.id, "code": f"YN-{n:05d}", "category_id": categories[n % len(categories)].id,
            "name": f"居家上门照料服务第{n}项", "content": "为居家生活的特困供养人员提供上门照料，包括协助起居、清洁、安全巡查。" * 2,
            "standard": "每次上门不少于60分钟，服务记录由服务对象签字确认。", "frequency_times": 4,
            "frequency_period": FrequencyPeriod.MONTH, "duration_minutes": 60, "unit": Unit.VISIT,
            "reference_price": Decimal("45.00") + n % 50, "qualifications": ["CARE_WORKER"],
            "indicators": ["服务人次", "满意度"], "active": True, "created_at": now, "updated_at": now, "version": 1,
        } for n in range(5000)]
        db.session.execute(insert(CatalogItem), rows)
        ids = db.session.execute(select(CatalogItem.id)).scalars().all()
        db.session.execute(insert(catalog_item_target_group), [
            {"item_id": item_id, "target_group_id": groups[(item_id + k) % len(groups)].id}
            for item_id in ids for k in range(3)])
        db.session.commit()
        client = _client(app, officer)
        return _measure("catalog_list", client, "/catalog/?scope=530626&year=2026", requests, expect="YN-00000")


def supplier_list(requests: int):
    """The supplier registry page with 1,000 suppliers (first page)."""
    with bench_app() as app:
        officer = _officer()
        counties = [_region(c) for c in ("530626", "530103", "532601", "530102")]
        today = beijing_today()
        for n in range(1000):
            body = f"52{counties[n % 4].code}MJ{n:07d}"
            org = Organization(kind=OrgKind.SUPPLIER, name=f"云南第{n:04d}社会工作服务中心", org_type=OrgType.SOCIAL_SERVICE,
                               region=counties[n % 4], credit_code=body + uscc_check_symbol(body),
                               legal_representative=f"法人{n}", contact_name="联系人", contact_phone="13800000000",
                               address="云南省", service_regions=[counties[n % 4]])
            org.qualifications = [Qualification(name="民办非企业单位登记证书", number=str(n),
                                                valid_until=today.replace(year=today.year + 1 + n % 3))]
            if n % 50 == 0:
                org.bans = [SupplierBan(starts_on=today, ends_on=today.replace(year=today.year + 1), reason="基准",
                                        recorded_by_id=officer.id, recorded_at=utcnow())]
            db.session.add(org)
        db.session.commit()
        client = _client(app, officer)
        return _measure("supplier_list", client, "/orgs/suppliers", requests, expect="社会工作服务中心")
