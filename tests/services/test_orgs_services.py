"""Registry services: regions, organizations, suppliers, certificates and bans, each audited."""

from datetime import date, timedelta

import pytest
from flask_babel import gettext
from sqlalchemy import event, func, select

from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor
from procurement.auth.roles import Role
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.orgs import services
from procurement.orgs.models import Organization, OrgKind, OrgType, Qualification, RegionLevel, SupplierBan
from procurement.rules.clock import beijing_today
from tests.factories import make_org, make_supplier, make_user, region, valid_uscc


def actor(user) -> Actor:
    return Actor(user, "127.0.0.1")


def audit_actions(obj=None) -> list[str]:
    query = select(AuditRecord.action).order_by(AuditRecord.seq)
    if obj is not None:
        query = query.where(AuditRecord.object_type == obj.__tablename__, AuditRecord.object_id == str(obj.id))
    return list(db.session.execute(query).scalars())


def supplier_data(**overrides) -> dict:
    data = {
        "name": "绥江县助老社会工作服务中心", "credit_code": valid_uscc("52", "530626"),
        "org_type": OrgType.SOCIAL_SERVICE, "region": region("530626"), "legal_representative": "陈静",
        "address": "绥江县中城镇", "contact_name": "陈静", "contact_phone": "13987001234", "contact_email": None,
        "bank_account_name": None, "bank_name": None, "bank_account_no": None,
        "service_regions": [region("530626")], "note": None,
    }
    data.update(overrides)
    return data


@pytest.fixture
def sysadmin():
    return make_user(Role.SYSADMIN, region_code="530000")


@pytest.fixture
def officer():
    return make_user(Role.OFFICER, region_code="530626")


# --- regions -------------------------------------------------------------------------------

def test_the_system_administrator_adds_a_county_under_its_prefecture(sysadmin):
    county = services.create_region("530627", "威信县", RegionLevel.COUNTY, region("530600"), actor(sysadmin))
    assert county.path == "/530000/530600/530627/"
    assert region("530000").contains(county)
    assert audit_actions(county) == ["orgs.region_create"]


@pytest.mark.parametrize(("code", "level", "parent", "field"), [
    ("530626", RegionLevel.COUNTY, "530600", "code"),  # taken
    ("530727", RegionLevel.COUNTY, "530600", "code"),  # another prefecture's digits
    ("530627", RegionLevel.COUNTY, "530000", "parent"),  # level two below the parent
    ("531000", RegionLevel.PREFECTURE, "530000", None),  # fine
])
def test_region_codes_are_checked_against_the_parent_and_the_register(sysadmin, code, level, parent, field):
    if field is None:
        assert services.create_region(code, "临时", level, region(parent), actor(sysadmin)).code == code
        return
    with pytest.raises(DomainError) as raised:
        services.create_region(code, "临时", level, region(parent), actor(sysadmin))
    assert raised.value.field == field


def test_a_taken_code_names_the_region_that_has_it(sysadmin):
    with pytest.raises(DomainError) as raised:
        services.create_region("530626", "重复", RegionLevel.COUNTY, region("530600"), actor(sysadmin))
    assert "绥江县" in raised.value.message


def test_only_the_system_administrator_maintains_regions(officer):
    with pytest.raises(AccessDenied):
        services.create_region("530627", "威信县", RegionLevel.COUNTY, region("530600"), actor(officer))
    with pytest.raises(AccessDenied):
        services.rename_region(region("530626"), "新名", actor(officer))


def test_renaming_a_region_is_audited_with_both_names(sysadmin):
    county = region("530626")
    services.rename_region(county, "绥江县（新）", actor(sysadmin))
    record = db.session.execute(select(AuditRecord).where(AuditRecord.action == "orgs.region_rename")).scalar_one()
    assert record.detail == {"code": "530626", "from": "绥江县", "to": "绥江县（新）"}


def test_the_tree_counts_organizations_in_each_region_and_below():
    make_org(OrgKind.BUREAU, "530626")
    make_supplier("530626")
    make_org(OrgKind.FINANCE, "530600")
    nodes = {n.region.code: n for n in services.region_tree()}
    assert (nodes["530626"].own, nodes["530626"].total) == (2, 2)
    assert (nodes["530600"].own, nodes["530600"].total) == (1, 3)
    assert nodes["530000"].total == 3
    assert [n.region.code for n in services.region_tree()][:2] == ["530000", "530100"]
    assert nodes["530626"].depth == 2


# --- organizations -------------------------------------------------------------------------

def test_officers_see_the_organizations_of_their_region_subtree_admins_all(sysadmin):
    prefecture_officer = make_user(Role.OFFICER, region_code="530600")
    county_bureau = make_org(OrgKind.BUREAU, "530626", name="绥江县民政局")
    other = make_org(OrgKind.BUREAU, "532601", name="文山市民政局")
    make_supplier("530626", name="某服务中心")
    names = lambda user: {o.name for o in db.session.execute(services.organization_query(user)).scalars()}  # noqa: E731
    assert county_bureau.name in names(prefecture_officer) and other.name not in names(prefecture_officer)
    assert {county_bureau.name, other.name} <= names(sysadmin)
    assert "某服务中心" not in names(sysadmin)  # suppliers live in the registry


def test_a_duplicate_credit_code_of_a_bureau_names_the_holder(sysadmin):
    existing = make_org(OrgKind.BUREAU, "530626", name="绥江县民政局")
    data = {"name": "绥江县财政局", "kind": OrgKind.FINANCE, "org_type": OrgType.GOVERNMENT, "region": region("530626"),
            "credit_code": existing.credit_code.lower(), "legal_representative": None, "address": None,
            "contact_name": None, "contact_phone": None, "contact_email": None, "note": None}
    with pytest.raises(DomainError) as raised:
        services.save_organization(data, actor(sysadmin))
    assert raised.value.field == "credit_code"
    assert raised.value.message == gettext("This unified social credit code is already registered as “%(name)s”.",
                                           name="绥江县民政局")


def test_only_the_system_administrator_edits_organizations(officer):
    data = {"name": "x", "kind": OrgKind.BUREAU, "org_type": OrgType.GOVERNMENT, "region": region("530626"),
            "credit_code": valid_uscc("11")}
    with pytest.raises(AccessDenied):
        services.save_organization(data, actor(officer))


# --- suppliers -----------------------------------------------------------------------------

def test_registering_a_supplier_normalizes_the_code_and_is_audited(officer):
    code = valid_uscc("52", "530626")
    org = services.save_supplier(supplier_data(credit_code=" " + code.lower()[:9] + " " + code.lower()[9:]), actor(officer))
    assert org.credit_code == code and org.kind == OrgKind.SUPPLIER and org.active
    assert audit_actions(org) == ["orgs.supplier_create"]


def test_a_public_institution_of_class_1_is_refused_citing_order_102_article_8(officer):
    with pytest.raises(DomainError) as raised:
        services.save_supplier(supplier_data(org_type=OrgType.PUBLIC_INSTITUTION_1, credit_code=valid_uscc("12")),
                               actor(officer))
    assert raised.value.field == "org_type"
    assert "《政府购买服务管理办法》（财政部令第102号）第八条" in raised.value.message
    assert db.session.scalar(select(func.count()).select_from(Organization).where(Organization.kind == OrgKind.SUPPLIER)) == 0


def test_a_government_agency_cannot_be_registered_as_a_supplier(officer):
    with pytest.raises(DomainError) as raised:
        services.save_supplier(supplier_data(org_type=OrgType.GOVERNMENT, credit_code=valid_uscc("11")), actor(officer))
    assert raised.value.field == "org_type"


def test_a_duplicate_credit_code_is_refused_naming_the_registered_organization(officer):
    existing = make_supplier(name="绥江县阳光社会工作服务中心")
    with pytest.raises(DomainError) as raised:
        services.save_supplier(supplier_data(credit_code=existing.credit_code), actor(officer))
    assert raised.value.field == "credit_code"
    assert "绥江县阳光社会工作服务中心" in raised.value.message


def test_a_civil_affairs_code_must_match_the_type(officer):
    with pytest.raises(DomainError) as raised:
        services.save_supplier(supplier_data(credit_code=valid_uscc("51"), org_type=OrgType.FOUNDATION), actor(officer))
    assert raised.value.field == "org_type"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"contact_phone": "12345"}, "contact_phone"),
    ({"contact_email": "not-an-address"}, "contact_email"),
    ({"bank_account_no": "12ab"}, "bank_account_no"),
    ({"bank_account_no": "6222021234567890", "bank_name": None, "bank_account_name": "某中心"}, "bank_name"),
    ({"service_regions": []}, "service_regions"),
    ({"legal_representative": "  "}, "legal_representative"),
])
def test_bad_supplier_fields_are_refused_on_their_field(officer, overrides, field):
    with pytest.raises(DomainError) as raised:
        services.save_supplier(supplier_data(**overrides), actor(officer))
    assert raised.value.field == field


def test_an_officer_edits_suppliers_registered_or_serving_in_the_region_only(officer):
    here = make_supplier("530626")
    serving_here = make_supplier("532601")
    serving_here.service_regions = [region("530626")]
    elsewhere = make_supplier("532601")
    elsewhere.service_regions = [region("532601")]
    db.session.flush()
    assert services.can_edit_supplier(officer, here)
    assert services.can_edit_supplier(officer, serving_here)
    assert not services.can_edit_supplier(officer, elsewhere)
    with pytest.raises(AccessDenied):
        services.save_supplier(supplier_data(credit_code=elsewhere.credit_code), actor(officer), org=elsewhere)
    provincial = make_user(Role.OFFICER, region_code="530000")
    assert services.can_edit_supplier(provincial, elsewhere)
    finance = make_user(Role.FINANCE, region_code="530626")
    assert not services.can_edit_supplier(finance, here)


def test_a_stale_version_is_a_conflict_and_changes_nothing(officer):
    org = services.save_supplier(supplier_data(), actor(officer))
    loaded = org.version
    services.save_supplier(supplier_data(credit_code=org.credit_code, name="新名称一"), actor(officer), org=org,
                           expected_version=loaded)
    with pytest.raises(ConflictError):
        services.save_supplier(supplier_data(credit_code=org.credit_code, name="新名称二"), actor(officer), org=org,
                               expected_version=loaded)
    assert org.name == "新名称一"


def test_an_update_audits_only_the_changed_fields_and_masks_the_account(officer):
    org = services.save_supplier(supplier_data(), actor(officer))
    services.save_supplier(supplier_data(credit_code=org.credit_code, bank_account_name="某中心", bank_name="农行",
                                         bank_account_no="6222 0212 3456 7890"), actor(officer), org=org)
    record = db.session.execute(select(AuditRecord).where(AuditRecord.action == "orgs.supplier_update")).scalar_one()
    assert set(record.detail["changed"]) == {"bank_account_name", "bank_name", "bank_account_no"}
    assert record.detail["changed"]["bank_account_no"] == "****7890"
    assert org.bank_account_no == "6222021234567890"


def test_deactivation_keeps_the_supplier_and_is_audited(officer):
    org = make_supplier()
    services.set_supplier_active(org, False, actor(officer))
    services.set_supplier_active(org, True, actor(officer))
    assert db.session.get(Organization, org.id).active
    assert audit_actions(org) == ["orgs.supplier_deactivate", "orgs.supplier_activate"]


def test_certificates_are_added_corrected_and_audited(officer):
    org = make_supplier()
    q = services.save_qualification(org, {"name": "登记证书", "number": "A1", "issuer": "绥江县民政局",
                                          "valid_from": date(2021, 1, 1), "valid_until": date(2026, 1, 1)}, actor(officer))
    services.save_qualification(org, {"name": "登记证书", "number": "A1", "issuer": "绥江县民政局",
                                      "valid_from": date(2021, 1, 1), "valid_until": date(2031, 1, 1)}, actor(officer), q)
    with pytest.raises(DomainError) as raised:
        services.save_qualification(org, {"name": "登记证书", "valid_from": date(2021, 1, 2),
                                          "valid_until": date(2021, 1, 1)}, actor(officer))
    assert raised.value.field == "valid_until"
    assert audit_actions(q) == ["orgs.qualification_create", "orgs.qualification_update"]


def test_a_ban_over_three_years_is_refused_citing_article_77(officer):
    org = make_supplier()
    with pytest.raises(DomainError) as raised:
        services.record_ban(org, date(2026, 3, 1), date(2029, 3, 2), "提供虚假材料", None, actor(officer))
    assert raised.value.field == "ends_on" and "第七十七条" in raised.value.message
    with pytest.raises(DomainError) as raised:
        services.record_ban(org, date(2026, 3, 1), date(2027, 3, 1), "  ", None, actor(officer))
    assert raised.value.field == "reason"
    assert db.session.scalar(select(func.count()).select_from(SupplierBan)) == 0


def test_a_ban_is_recorded_with_its_recorder_and_covers_its_last_day(officer):
    org = make_supplier()
    today = beijing_today()
    ban = services.record_ban(org, today - timedelta(days=365), today, "围标串标", "某财采〔2025〕1号", actor(officer))
    assert ban.recorded_by_id == officer.id
    assert [b.organization_id for b in services.banned_suppliers(officer, today)] == [org.id]
    assert services.banned_suppliers(officer, today + timedelta(days=1)) == []
    assert audit_actions(ban) == ["orgs.ban_create"]
    assert not services.can_ban_supplier(make_user(Role.OFFICER, region_code="532601"), org)


def test_suppliers_are_invisible_to_supplier_users(officer):
    make_supplier()
    supplier_user = make_user(Role.SUPPLIER)
    assert db.session.execute(services.supplier_query(supplier_user)).scalars().all() == []
    assert services.banned_suppliers(supplier_user, beijing_today()) == []
    assert len(db.session.execute(services.supplier_query(officer)).scalars().all()) == 2


# --- the registry list -------------------------------------------------------------------------

def _page(user, **flt):
    return services.supplier_page(user, services.SupplierFilter(**flt), 1, 50, date(2026, 6, 15))


def _names(page):
    return [row.org.name for row in page.items]


def test_the_registry_flags_bans_and_certificates_per_row(officer):
    today = date(2026, 6, 15)
    banned = make_supplier(name="甲")
    banned.bans.append(SupplierBan(starts_on=date(2025, 6, 16), ends_on=today, reason="x", recorded_by_id=officer.id))
    expiring = make_supplier(name="乙")
    expiring.qualifications.append(Qualification(name="证", valid_from=date(2020, 1, 1), valid_until=today + timedelta(days=30)))
    renewed = make_supplier(name="丙")
    renewed.qualifications += [Qualification(name="证", valid_from=date(2020, 1, 1), valid_until=today + timedelta(days=3)),
                               Qualification(name="证", valid_from=today, valid_until=date(2031, 1, 1))]
    expired = make_supplier(name="丁")
    expired.qualifications.append(Qualification(name="证", valid_from=date(2020, 1, 1), valid_until=today - timedelta(days=1)))
    db.session.flush()
    rows = {row.org.name: row for row in _page(officer).items}
    assert rows["甲"].banned_until == today
    assert rows["乙"].expiring and rows["乙"].next_expiry == today + timedelta(days=30)
    assert not rows["丙"].expiring  # renewed in time
    assert rows["丁"].expired == 1 and not rows["丁"].expiring
    assert _names(_page(officer, banned=True)) == ["甲"]
    assert _names(_page(officer, expiring=True)) == ["乙"]
    assert _names(_page(officer, expired=True)) == ["丁"]


def test_search_filter_and_sort(officer):
    a = make_supplier("530626", name="绥江县阳光社会工作服务中心", legal_representative="陈静")
    make_supplier("532601", name="文山市彩云社会工作服务中心", legal_representative="罗娟", org_type=OrgType.SOCIAL_SERVICE)
    province_wide = make_supplier("530000", name="云南省青少年关爱基金会", org_type=OrgType.FOUNDATION,
                                  credit_code=valid_uscc("53", "530000"))
    province_wide.service_regions = [region("530000")]
    a.service_regions = [region("530626")]
    inactive = make_supplier(name="已停用中心")
    inactive.active = False
    db.session.flush()
    assert _names(_page(officer, q="陈静")) == ["绥江县阳光社会工作服务中心"]
    assert _names(_page(officer, q=a.credit_code[:10].lower())) == ["绥江县阳光社会工作服务中心"]
    assert _names(_page(officer, q="100%_")) == []
    assert _names(_page(officer, org_type=OrgType.FOUNDATION)) == ["云南省青少年关爱基金会"]
    # Serving 绥江县: registered there, or serving the whole province.
    assert set(_names(_page(officer, service_region=region("530626")))) == {"绥江县阳光社会工作服务中心", "云南省青少年关爱基金会"}
    assert "已停用中心" not in _names(_page(officer)) and _names(_page(officer, status="inactive")) == ["已停用中心"]
    by_region = _names(_page(officer, sort="region"))
    assert by_region.index("云南省青少年关爱基金会") < by_region.index("绥江县阳光社会工作服务中心") < by_region.index("文山市彩云社会工作服务中心")


@pytest.fixture
def statements(app):
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(db.engine, "before_cursor_execute", count)


def _add_suppliers(n, recorder):
    for i in range(n):
        org = make_supplier(name=f"服务中心{i:04d}")
        org.service_regions = [region("530626"), region("532601")]
        org.qualifications.append(Qualification(name="登记证书", valid_from=date(2021, 1, 1), valid_until=date(2026, 6, 20)))
        org.bans.append(SupplierBan(starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1), reason="x", recorded_by_id=recorder.id))
    db.session.flush()


def test_a_registry_page_takes_the_same_few_queries_whatever_the_number_of_rows(officer, statements):
    _add_suppliers(3, officer)
    db.session.expire_all()
    assert officer.organization.region is not None  # loaded once per request by the login machinery
    statements.clear()
    small = _page(officer)
    assert all(row.org.region.name and row.org.service_regions for row in small.items)
    few = len(statements)
    _add_suppliers(40, officer)
    db.session.expire_all()
    assert officer.organization.region is not None  # loaded once per request by the login machinery
    statements.clear()
    large = _page(officer)
    assert all(row.org.region.name and row.org.service_regions for row in large.items)
    assert len(large.items) == 43 and all(row.banned_until and row.expiring for row in large.items)
    assert len(statements) == few <= 3
