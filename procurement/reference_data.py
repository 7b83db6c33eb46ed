"""Reference data every installation needs: categories, target groups, the negative list, regions.

Loaded by ``flask init-db`` and ``flask seed-demo``; loading twice changes nothing.
"""

from sqlalchemy import select

from procurement.catalog.models import NegativeListEntry, ServiceCategory, ServiceClass, TargetGroup
from procurement.extensions import db
from procurement.orgs.models import Region, RegionLevel

# DOMAIN §2 (民发〔2017〕153号)
CATEGORIES = [
    ("S01", "照料护理", ServiceClass.SERVICE),
    ("S02", "康复训练", ServiceClass.SERVICE),
    ("S03", "送医陪护", ServiceClass.SERVICE),
    ("S04", "寻亲助返", ServiceClass.SERVICE),
    ("S05", "行为矫治", ServiceClass.SERVICE),
    ("S06", "监护支持", ServiceClass.SERVICE),
    ("S07", "心理疏导", ServiceClass.SERVICE),
    ("S08", "社会融入", ServiceClass.SERVICE),
    ("S09", "能力提升", ServiceClass.SERVICE),
    ("S10", "资源链接", ServiceClass.SERVICE),
    ("S11", "维权援助", ServiceClass.SERVICE),
    ("S12", "生活帮扶", ServiceClass.SERVICE),
    ("A01", "对象排查", ServiceClass.ADMINISTRATIVE),
    ("A02", "家计调查", ServiceClass.ADMINISTRATIVE),
    ("A03", "信息核实", ServiceClass.ADMINISTRATIVE),
    ("A04", "评估鉴定", ServiceClass.ADMINISTRATIVE),
    ("A05", "业务培训", ServiceClass.ADMINISTRATIVE),
    ("A06", "政策宣传", ServiceClass.ADMINISTRATIVE),
    ("A07", "绩效评价", ServiceClass.ADMINISTRATIVE),
]

TARGET_GROUPS = [
    ("TK", "特困供养人员"),
    ("DB", "城乡低保对象"),
    ("BY", "低保边缘家庭"),
    ("ZC", "支出型困难家庭"),
    ("ET", "事实无人抚养儿童及其他困境儿童"),
    ("LS", "临时救助对象"),
]

_ART10 = "《政府购买服务管理办法》（财政部令第102号）第十条"
NEGATIVE_LIST = [
    ("N01", "社会救助对象的审核确认、审批",
     "认定谁有权获得救助是民政部门的法定职责，只能由政府直接履行；社会力量可以协助调查、核查，提供依据。",
     _ART10 + "第（二）项；民发〔2017〕153号", ["审核确认", "审批", "资格认定", "确定救助对象"]),
    ("N02", "救助资金发放",
     "救助金、补贴等资金的发放属于政府直接履行的职责，不得委托社会力量发放。",
     _ART10 + "第（二）项；民发〔2017〕153号", ["资金发放", "救助金发放", "发放救助金", "发放低保金", "代发救助"]),
    ("N03", "公布或终止救助待遇",
     "公布救助对象名单、停止或终止救助待遇属于行政决定，由民政部门作出。",
     _ART10 + "第（二）项；民发〔2017〕153号", ["终止救助", "停止救助", "停发救助", "取消救助资格", "公布救助对象"]),
    ("N04", "货物和工程",
     "政府采购法律、行政法规规定的货物和工程，以及将工程和服务打包的项目，不属于政府购买服务。",
     _ART10 + "第（三）项", ["物资采购", "采购物资", "设备购置", "工程建设", "修缮工程", "建设工程"]),
    ("N05", "融资行为", "以购买服务名义实施的融资、举债行为。", _ART10 + "第（四）项", ["融资", "举借债务"]),
    ("N06", "人员招聘和劳务派遣",
     "购买主体的人员招录、聘用，以劳务派遣方式用工，不得作为政府购买服务内容。",
     _ART10 + "第（五）项", ["劳务派遣", "人员派遣", "招聘工作人员", "购买岗位"]),
    ("N07", "公益性岗位", "设置公益性岗位等事项不得作为政府购买服务内容。", _ART10 + "第（五）项", ["公益性岗位"]),
]

# DOMAIN §1: GB/T 2260 codes
PROVINCE = ("530000", "云南省")
PREFECTURES = [
    ("530100", "昆明市"), ("530300", "曲靖市"), ("530400", "玉溪市"), ("530500", "保山市"), ("530600", "昭通市"),
    ("530700", "丽江市"), ("530800", "普洱市"), ("530900", "临沧市"), ("532300", "楚雄彝族自治州"),
    ("532500", "红河哈尼族彝族自治州"), ("532600", "文山壮族苗族自治州"), ("532800", "西双版纳傣族自治州"),
    ("532900", "大理白族自治州"), ("533100", "德宏傣族景颇族自治州"), ("533300", "怒江傈僳族自治州"),
    ("533400", "迪庆藏族自治州"),
]
COUNTIES = [("530102", "五华区", "530100"), ("530103", "盘龙区", "530100"), ("530626", "绥江县", "530600"),
            ("532601", "文山市", "532600")]


def ensure_region(code: str, name: str, level: RegionLevel, parent: Region | None) -> Region:
    region = db.session.execute(select(Region).where(Region.code == code)).scalar_one_or_none()
    if region is None:
        region = Region(code=code, name=name, level=level, parent=parent,
                        path=(parent.path if parent else "/") + code + "/")
        db.session.add(region)
        db.session.flush()
    return region


def load_reference_data() -> dict:
    """Insert whatever reference rows are missing; returns how many of each were added."""
    added = {"categories": 0, "target_groups": 0, "negative_list": 0, "calendar_years": 0, "regions": 0}
    existing = set(db.session.execute(select(ServiceCategory.code)).scalars())
    for order, (code, name, service_class) in enumerate(CATEGORIES):
        if code not in existing:
            db.session.add(ServiceCategory(code=code, name=name, service_class=service_class, sort_order=order))
            added["categories"] += 1
    existing = set(db.session.execute(select(TargetGroup.code)).scalars())
    for order, (code, name) in enumerate(TARGET_GROUPS):
        if code not in existing:
            db.session.add(TargetGroup(code=code, name=name, sort_order=order))
            added["target_groups"] += 1
    existing = set(db.session.execute(select(NegativeListEntry.code)).scalars())
    for order, (code, name, description, clause, keywords) in enumerate(NEGATIVE_LIST):
        if code not in existing:
            db.session.add(NegativeListEntry(code=code, name=name, description=description, clause=clause,
                                             keywords=keywords, sort_order=order))
            added["negative_list"] += 1
    added["calendar_years"] = load_holiday_schedules()
    before = db.session.scalar(select(db.func.count()).select_from(Region))
    province = ensure_region(*PROVINCE, RegionLevel.PROVINCE, None)
    prefectures = {code: ensure_region(code, name, RegionLevel.PREFECTURE, province) for code, name in PREFECTURES}
    for code, name, parent in COUNTIES:
        ensure_region(code, name, RegionLevel.COUNTY, prefectures[parent])
    added["regions"] = db.session.scalar(select(db.func.count()).select_from(Region)) - before
    # The shipped contract templates are reference data too (imported here, not at the top: the
    # contracts package depends on procurement, not the other way round).
    from contracts.services import ensure_shipped_templates

    added["contract_templates"] = ensure_shipped_templates()
    from evaluation.scheme_services import ensure_default_scheme

    added["evaluation_schemes"] = ensure_default_scheme()
    db.session.flush()
    return added


def load_holiday_schedules() -> int:
    """Enter the known State Council schedules for years not entered yet; returns how many years."""
    from procurement.projects.holidays import SCHEDULES, schedule_days
    from procurement.projects.models import CalendarDay, CalendarYear, DayOff

    added = 0
    for year, schedule in SCHEDULES.items():
        if db.session.get(CalendarYear, year) is not None:
            continue
        db.session.add(CalendarYear(year=year, source=schedule["source"]))
        for day, kind, name in schedule_days(year):
            if db.session.get(CalendarDay, day) is None:
                db.session.add(CalendarDay(day=day, kind=DayOff(kind), name=name))
        added += 1
    db.session.flush()
    return added
