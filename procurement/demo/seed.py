"""``flask seed-demo``: idempotent demo data on top of the reference data."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from procurement.audit.services import SYSTEM, Actor, append_audit
from procurement.auth.models import User
from procurement.auth.roles import Role
from procurement.auth.services import _hash
from procurement.catalog import services as catalog
from procurement.catalog.models import ListKind, ListStatus, ServiceCategory, ServiceList, TargetGroup
from procurement.demo.beneficiaries import seed_beneficiaries
from procurement.demo.catalog_reference import REFERENCE_ITEMS, REFERENCE_TITLE, REFERENCE_YEAR
from procurement.demo.projects import seed_projects
from procurement.extensions import db
from procurement.orgs.models import Organization, OrgKind, OrgType, Qualification, Region, SupplierBan
from procurement.reference_data import load_reference_data
from procurement.rules.catalog import StaffQualification, parse_frequency, parse_unit
from procurement.rules.clock import beijing_today, utcnow
from procurement.rules.identifiers import check_uscc, uscc_check_symbol
from procurement.settings import store_setting

DEMO_PASSWORD = "Demo@2026"


def credit_code(first17: str) -> str:
    return check_uscc(first17 + uscc_check_symbol(first17))


# (kind, name, org_type, region, credit code body (17), legal representative, address, contact, phone)
ORGANIZATIONS = [
    (OrgKind.BUREAU, "云南省民政厅", OrgType.GOVERNMENT, "530000", "11530000015190021", "王建国", "昆明市五华区青年路", "办公室", "0871-63131000"),
    (OrgKind.BUREAU, "绥江县民政局", OrgType.GOVERNMENT, "530626", "11530626015225301", "周文", "绥江县中城镇", "社会救助股", "0870-7621012"),
    (OrgKind.BUREAU, "昆明市盘龙区民政局", OrgType.GOVERNMENT, "530103", "11530103015203417", "钱立", "昆明市盘龙区白塔路", "社会救助科", "0871-63112233"),
    (OrgKind.BUREAU, "文山市民政局", OrgType.GOVERNMENT, "532601", "11532601015271109", "孙红", "文山市开化街道", "社会救助股", "0876-2122345"),
    (OrgKind.FINANCE, "绥江县财政局", OrgType.GOVERNMENT, "530626", "11530626015225407", "吴强", "绥江县中城镇", "社会保障股", "0870-7621088"),
    (OrgKind.FINANCE, "昆明市盘龙区财政局", OrgType.GOVERNMENT, "530103", "11530103015203505", "郑敏", "昆明市盘龙区北京路", "社保科", "0871-63112299"),
    (OrgKind.FINANCE, "文山市财政局", OrgType.GOVERNMENT, "532601", "11532601015271201", "冯涛", "文山市开化街道", "社保股", "0876-2122399"),
    (OrgKind.AGENCY, "云南同创社会服务评估中心", OrgType.SOCIAL_SERVICE, "530000", "52530000MJ0147260", "杨帆", "昆明市西山区滇池路", "杨帆", "13908710001"),
    (OrgKind.SUPPLIER, "绥江县阳光社会工作服务中心", OrgType.SOCIAL_SERVICE, "530626", "52530626MJ0093815", "陈静", "绥江县中城镇新滩社区", "陈静", "13987001234"),
    (OrgKind.SUPPLIER, "昆明市盘龙区同心社会工作服务中心", OrgType.SOCIAL_SERVICE, "530103", "52530103MJ0086542", "黄磊", "昆明市盘龙区拓东路", "何丽", "13888002345"),
    (OrgKind.SUPPLIER, "文山市彩云社会工作服务中心", OrgType.SOCIAL_SERVICE, "532601", "52532601MJ0127719", "罗娟", "文山市卧龙街道", "罗娟", "13577603456"),
    (OrgKind.SUPPLIER, "云南省社会工作协会", OrgType.SOCIAL_GROUP, "530000", "51530000MJ0012484", "林海", "昆明市五华区东风西路", "许琳", "0871-64100001"),
    (OrgKind.SUPPLIER, "云南省青少年关爱基金会", OrgType.FOUNDATION, "530000", "53530000MJ0034571", "谢云", "昆明市官渡区春城路", "唐敏", "0871-63300002"),
    (OrgKind.SUPPLIER, "文山市乐龄居家养老服务中心", OrgType.SOCIAL_SERVICE, "532601", "52532601MJ0139026", "马丽", "文山市新平街道", "马丽", "13769604567"),
    (OrgKind.SUPPLIER, "昭通市康宁养老服务有限公司", OrgType.ENTERPRISE, "530600", "91530600MA6K3QW81", "袁军", "昭通市昭阳区", "袁军", "13308705678"),
]

SERVICE_REGIONS = {
    "绥江县阳光社会工作服务中心": ["530626"],
    "昆明市盘龙区同心社会工作服务中心": ["530103", "530102"],
    "文山市彩云社会工作服务中心": ["532601"],
    "云南省社会工作协会": ["530626", "530103", "532601"],
    "云南省青少年关爱基金会": ["530000"],
    "文山市乐龄居家养老服务中心": ["532601"],
    "昭通市康宁养老服务有限公司": ["530626"],
}

# (username, display name, organization, role)
USERS = [
    ("officer", "李明", "绥江县民政局", Role.OFFICER),
    ("officer_pl", "王芳", "昆明市盘龙区民政局", Role.OFFICER),
    ("officer_ws", "张伟", "文山市民政局", Role.OFFICER),
    ("officer_yn", "赵磊", "云南省民政厅", Role.OFFICER),
    ("supplier", "陈静", "绥江县阳光社会工作服务中心", Role.SUPPLIER),
    ("finance", "刘洋", "绥江县财政局", Role.FINANCE),
    ("evaluator", "杨帆", "云南同创社会服务评估中心", Role.EVALUATOR),
    ("sysadmin", "系统管理员", "云南省民政厅", Role.SYSADMIN),
    ("secadmin", "安全管理员", "云南省民政厅", Role.SECADMIN),
    ("auditor", "审计管理员", "云南省民政厅", Role.AUDITADMIN),
]

# County lists: which reference categories each county adopts, plus local items.
ADOPTION = {
    "530626": None,  # every item
    "530103": ("S01", "S02", "S07", "S08", "S09", "S12", "A02", "A03", "A05"),
    "532601": ("S01", "S03", "S06", "S07", "S10", "S12", "A01", "A02", "A04", "A07"),
}
LOCAL_ITEMS = {
    "530626": [
        {"code": "SJ-L-001", "category": "S08", "name": "移民安置区困难群众邻里互助服务",
         "content": "在向家坝库区移民安置社区组织邻里互助小组，为独居困难老人和残疾人提供结对探访、代购代办和节日关爱活动，促进融入新社区。",
         "target_groups": ["TK", "DB", "BY"],
         "standard": "每个互助小组不少于5户，每月开展探访不少于2次，活动有签到和照片记录，服务对象满意度不低于90%。",
         "frequency": "2次/月", "duration_minutes": 90, "unit": "人次", "price": "30.00",
         "qualifications": ["SOCIAL_WORKER"], "indicators": ["结对户数", "探访人次", "服务对象满意度"]},
        {"code": "SJ-L-002", "category": "S12", "name": "山区困难老人冬季助暖探访",
         "content": "入冬前和寒潮期间上门探访高寒山区独居特困、低保老人，检查取暖用火用电安全，协助整理御寒衣被，发现困难及时报告村（社区）。",
         "target_groups": ["TK", "DB"],
         "standard": "每户每月探访不少于1次，安全隐患当场告知并记录，重大隐患24小时内报告民政部门。",
         "frequency": "1次/月", "duration_minutes": 60, "unit": "户", "price": "60.00",
         "qualifications": [], "indicators": ["探访户数", "隐患发现数", "服务对象满意度"]},
    ],
}


def _org_by_name(name: str) -> Organization:
    return db.session.execute(select(Organization).where(Organization.name == name)).scalar_one()


def _region(code: str) -> Region:
    return db.session.execute(select(Region).where(Region.code == code)).scalar_one()


def _item_data(raw: dict) -> dict:
    times, period = parse_frequency(raw["frequency"])
    category = db.session.execute(select(ServiceCategory).where(ServiceCategory.code == raw["category"])).scalar_one()
    groups = db.session.execute(select(TargetGroup).where(TargetGroup.code.in_(raw["target_groups"]))).scalars().all()
    return {
        "code": raw["code"], "category": category, "name": raw["name"], "content": raw["content"],
        "target_groups": groups, "standard": raw["standard"], "frequency_times": times, "frequency_period": period,
        "duration_minutes": raw["duration_minutes"], "unit": parse_unit(raw["unit"]),
        "reference_price": Decimal(raw["price"]),
        "qualifications": [StaffQualification(q) for q in raw["qualifications"]], "indicators": list(raw["indicators"]),
    }


def _seed_organizations(today: date) -> int:
    added = 0
    for kind, name, org_type, region_code, body, legal_rep, address, contact, phone in ORGANIZATIONS:
        if db.session.execute(select(Organization.id).where(Organization.name == name)).first():
            continue
        org = Organization(kind=kind, name=name, org_type=org_type, region=_region(region_code),
                           credit_code=credit_code(body), legal_representative=legal_rep, address=address,
                           contact_name=contact, contact_phone=phone, active=True)
        if kind in (OrgKind.SUPPLIER, OrgKind.AGENCY):
            org.bank_account_name = name
            org.bank_name = "中国农业银行股份有限公司" + _region(region_code).name + "支行"
            org.bank_account_no = "2423" + body[-12:].translate(str.maketrans("MJAKQW", "123456"))
            org.service_regions = [_region(c) for c in SERVICE_REGIONS.get(name, [region_code])]
            registration = "社会团体法人登记证书" if org_type == OrgType.SOCIAL_GROUP else (
                "基金会法人登记证书" if org_type == OrgType.FOUNDATION else (
                    "营业执照" if org_type == OrgType.ENTERPRISE else "民办非企业单位登记证书"))
            issuer = (_region(region_code).name + "市场监督管理局" if org_type == OrgType.ENTERPRISE
                      else _region(region_code).name + "民政局" if region_code != "530000" else "云南省民政厅")
            org.qualifications = [
                Qualification(name=registration, number=org.credit_code, issuer=issuer,
                              valid_from=date(2021, 6, 1), valid_until=date(2031, 5, 31)),
            ]
        db.session.add(org)
        added += 1
    db.session.flush()
    db.session.flush()
    return added


def _seed_supplier_records(today: date, recorder: User) -> None:
    """A certificate about to expire and a current ban, so the officer's home page has something to show."""
    sunshine = _org_by_name("绥江县阳光社会工作服务中心")
    if not any(q.name == "养老机构备案回执" for q in sunshine.qualifications):
        sunshine.qualifications.append(Qualification(name="养老机构备案回执", number="SJ-YL-2023-007",
                                                     issuer="绥江县民政局", valid_from=today - timedelta(days=700),
                                                     valid_until=today + timedelta(days=21)))
    kangning = _org_by_name("昭通市康宁养老服务有限公司")
    if not kangning.bans:
        kangning.bans.append(SupplierBan(
            starts_on=date(2026, 3, 1), ends_on=date(2027, 2, 28), recorded_at=utcnow(), recorded_by_id=recorder.id,
            reason="在昭阳区居家养老服务项目投标中提供虚假材料谋取中标（政府采购法 第七十七条第一款第（一）项），"
                   "列入不良行为记录名单，禁止参加政府采购活动一年。",
            document_ref="昭财采处〔2026〕12号"))
    db.session.flush()


def _seed_users() -> int:
    added = 0
    for username, display_name, org_name, role in USERS:
        if db.session.execute(select(User.id).where(User.username == username)).first():
            continue
        db.session.add(User(username=username, display_name=display_name, organization=_org_by_name(org_name),
                            role=role, password_hash=_hash(DEMO_PASSWORD), must_change_password=False,
                            is_demo=True, active=True, failed_logins=0, password_changed_at=utcnow()))
        added += 1
    db.session.flush()
    return added


def _seed_catalog(actor: Actor) -> int:
    added = 0
    reference = db.session.execute(select(ServiceList).where(
        ServiceList.kind == ListKind.REFERENCE, ServiceList.year == REFERENCE_YEAR)).scalars().first()
    if reference is None:
        reference = ServiceList(kind=ListKind.REFERENCE, region=_region("530000"), year=REFERENCE_YEAR, version_no=1,
                                status=ListStatus.DRAFT, title=REFERENCE_TITLE, created_by_id=actor.user_id,
                                created_at=utcnow())
        db.session.add(reference)
        db.session.flush()
        for raw in REFERENCE_ITEMS:
            catalog.save_item(reference, _item_data(raw), actor, audit=False)
            added += 1
        catalog.publish_list(reference, actor)
    for county_code, categories in ADOPTION.items():
        county = _region(county_code)
        if catalog.local_list(county, REFERENCE_YEAR) is not None:
            continue
        officer = db.session.execute(select(User).join(Organization).where(
            Organization.region_id == county.id, User.role == Role.OFFICER)).scalars().first()
        county_actor = Actor(officer, "seed")
        local = catalog.create_local_list(county, REFERENCE_YEAR, county_actor)
        chosen = [i for i in catalog.items_of(reference) if categories is None or i.category.code in categories]
        added += len(catalog.adopt_items(local, chosen, county_actor).adopted)
        for raw in LOCAL_ITEMS.get(county_code, []):
            catalog.save_item(local, _item_data(raw), county_actor)
            added += 1
    return added


def seed_demo() -> dict:
    """Load reference data and the demo on top; safe to run again."""
    today = beijing_today()
    counts = load_reference_data()
    counts["organizations"] = _seed_organizations(today)
    counts["users"] = _seed_users()
    province_officer = db.session.execute(select(User).where(User.username == "officer_yn")).scalar_one()
    _seed_supplier_records(today, province_officer)
    counts["catalog_items"] = _seed_catalog(Actor(province_officer, "seed"))
    counts["projects"] = seed_projects(today)
    from contracts.demo import seed_contracts  # contracts build on procurement, not the other way round

    counts["contracts"] = seed_contracts(today)
    counts["beneficiaries"] = seed_beneficiaries(today)
    from procurement.demo.supervision import seed_supervision

    counts["supervision"] = seed_supervision(today)
    # Demo logins skip the second factor; this setting only takes effect while demo mode is on.
    store_setting("mfa.enforced", False, None, utcnow())
    append_audit(SYSTEM, "demo.seed", detail={k: v for k, v in counts.items()})
    db.session.flush()
    return counts
