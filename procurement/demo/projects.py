"""Demo procurement projects in every early stage, run through the real services and stage guards.

Called by ``seed-demo`` after the organizations, users and the 2026 service lists exist.  Dates are
relative to ``today`` so that the officer's deadlines page always has something due and something overdue.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from procurement.audit.services import Actor
from procurement.auth.models import User
from procurement.catalog import services as catalog
from procurement.demo.catalog_reference import REFERENCE_YEAR
from procurement.extensions import db
from procurement.orgs.models import Organization
from procurement.projects import services
from procurement.projects.models import BudgetLine, FundingSource, Project, TargetDirection
from procurement.rules.procurement import PERIODS, RESPONSE_PERIOD, Method
from procurement.rules.stages import ProjectStage

YEAR = REFERENCE_YEAR
SUIJIANG = "绥江县民政局"
SUNSHINE = "绥江县阳光社会工作服务中心"
ASSOCIATION = "云南省社会工作协会"
FOUNDATION = "云南省青少年关爱基金会"
TONGXIN = "昆明市盘龙区同心社会工作服务中心"
CAIYUN = "文山市彩云社会工作服务中心"
LELING = "文山市乐龄居家养老服务中心"

# bureau, key, name, funding source, amount, approval document
BUDGET_LINES = [
    (SUIJIANG, "county", f"{YEAR}年县级财政社会救助服务预算", FundingSource.COUNTY_BUDGET, "1200000.00", "绥财社〔2026〕5号"),
    (SUIJIANG, "province", f"{YEAR}年省级社会救助服务试点补助资金", FundingSource.PROVINCIAL_FUND, "10000000.00",
     "云财社〔2026〕18号"),
    ("文山市民政局", "county", f"{YEAR}年市级财政社会救助服务预算", FundingSource.COUNTY_BUDGET, "800000.00", "文财社〔2026〕9号"),
    ("昆明市盘龙区民政局", "county", f"{YEAR}年区级财政社会救助服务预算", FundingSource.COUNTY_BUDGET, "1500000.00",
     "盘财社〔2026〕7号"),
]

SATISFACTION = ("服务对象满意度", TargetDirection.AT_LEAST, "90.00", "%")


@dataclass
class Plan:
    """One demo project: what it buys, from which budget line, and how far it gets."""

    bureau: str
    officer: str
    line: str  # key in BUDGET_LINES of the bureau
    title: str
    description: str
    place: str
    beneficiaries: int
    lines: list  # (item code, quantity)
    targets: list  # (indicator, direction, value, unit)
    method: Method | None = None
    extra: dict = field(default_factory=dict)


PLANS = {
    "draft": Plan(
        SUIJIANG, "officer", "county", f"{YEAR}年绥江县困境儿童关爱保护服务项目",
        "为全县事实无人抚养儿童和其他困境儿童提供监护指导、定期探访和个体心理疏导，建立一人一档服务台账。",
        "绥江县各乡镇（街道）", 420,
        [("YN-S06-001", 600), ("YN-S07-001", 300)],
        [("探访人次", TargetDirection.AT_LEAST, "2400.00", "人次"), ("心理疏导时长", TargetDirection.AT_LEAST, "300.00", "小时"),
         SATISFACTION]),
    "approved": Plan(
        SUIJIANG, "officer", "county", f"{YEAR}年绥江县特困人员送医陪护服务项目",
        "为分散供养特困人员和无人照料的低保老人提供送医陪诊和住院陪护，服务由乡镇民政办派单。",
        "绥江县城区及各乡镇卫生院", 260,
        [("YN-S03-001", 1500), ("YN-S03-002", 4000)],
        [("陪诊人次", TargetDirection.AT_LEAST, "1500.00", "人次"), ("陪护时长", TargetDirection.AT_LEAST, "4000.00", "小时"),
         SATISFACTION],
        Method.SIMPLIFIED),
    "announced": Plan(
        SUIJIANG, "officer", "province", f"{YEAR}年绥江县分散供养特困人员居家照料服务项目",
        "为全县分散供养特困人员提供居家上门照料和助餐服务，每人每月上门不少于8次，助餐每日一餐。",
        "绥江县中城镇、南岸镇、板栗镇、会仪镇、新滩镇", 520,
        [("YN-S01-001", 12000), ("YN-S12-001", 20000)],
        [("上门照料人次", TargetDirection.AT_LEAST, "12000.00", "人次"), ("助餐人次", TargetDirection.AT_LEAST, "20000.00", "人次"),
         SATISFACTION],
        Method.CONSULTATION),
    "evaluated": Plan(
        SUIJIANG, "officer", "province", f"{YEAR}年绥江县低保对象居家康复训练服务项目",
        "为城乡低保家庭中的残疾人和失能老人提供居家康复训练指导和功能维持训练，由康复师制定个人训练计划。",
        "绥江县各乡镇（街道）", 300,
        [("YN-S02-001", 6000), ("YN-S02-003", 3000)],
        [("康复训练人次", TargetDirection.AT_LEAST, "9000.00", "人次"), SATISFACTION],
        Method.NEGOTIATION,
        {"bids": [(SUNSHINE, "627000.00"), (ASSOCIATION, "645500.00"), (FOUNDATION, "652000.00")], "winner": SUNSHINE,
         "result": "评审小组按综合评分法评审：绥江县阳光社会工作服务中心 91.50 分，云南省社会工作协会 86.00 分，"
                   "云南省青少年关爱基金会 82.50 分。推荐绥江县阳光社会工作服务中心为第一成交候选人。"}),
    "overdue": Plan(
        SUIJIANG, "officer", "county", f"{YEAR}年绥江县困难群众主动发现排查服务项目",
        "协助乡镇开展困难群众主动发现，入户走访低收入家庭并记录生活状况，发现线索及时报告乡镇民政办。",
        "绥江县各村（社区）", 8000,
        [("YN-A01-001", 8000)],
        [("走访户数", TargetDirection.AT_LEAST, "8000.00", "户"), ("线索报告及时率", TargetDirection.AT_LEAST, "95.00", "%")],
        Method.SIMPLIFIED,
        {"bids": [(ASSOCIATION, "228000.00"), (SUNSHINE, "236000.00")], "winner": ASSOCIATION,
         "result": "按内部简易程序比较两家报价和服务方案，云南省社会工作协会报价较低且方案完整，确定为承接主体。"}),
    "awarded": Plan(
        SUIJIANG, "officer", "province", f"{YEAR}年绥江县失能特困人员集中照护服务项目",
        "为分散供养的失能、半失能特困人员提供长期照护和照料监护支持，照护人员须持护理员证。",
        "绥江县中城镇、南岸镇", 150,
        [("YN-S01-002", 1500), ("YN-S06-002", 3000)],
        [("照护人月", TargetDirection.AT_LEAST, "1500.00", "人·月"), ("监护探访人月", TargetDirection.AT_LEAST, "3000.00", "人·月"),
         SATISFACTION],
        Method.OPEN_TENDER,
        {"bids": [(SUNSHINE, "2098000.00"), (ASSOCIATION, "2125000.00"), (FOUNDATION, "2140000.00")], "winner": SUNSHINE,
         "result": "评标委员会按综合评分法评审：绥江县阳光社会工作服务中心 93.00 分，云南省社会工作协会 88.50 分，"
                   "云南省青少年关爱基金会 80.00 分。推荐绥江县阳光社会工作服务中心为第一中标候选人。"}),
    "contracted": Plan(
        SUIJIANG, "officer", "province", f"{YEAR}年绥江县困境家庭心理疏导和监护支持服务项目",
        "为低保、特困家庭中有心理困扰的成员和困境儿童提供个体心理疏导，并为监护人提供监护能力指导。",
        "绥江县各乡镇（街道）社工站及服务对象住所", 360,
        [("YN-S07-001", 1200), ("YN-S06-001", 800)],
        [("心理疏导时长", TargetDirection.AT_LEAST, "1200.00", "小时"), ("监护指导人次", TargetDirection.AT_LEAST, "800.00", "人次"),
         SATISFACTION],
        Method.CONSULTATION,
        {"bids": [(SUNSHINE, None), (ASSOCIATION, "-6500.00")], "winner": SUNSHINE,
         "result": "磋商小组按综合评分法评审：绥江县阳光社会工作服务中心 92.00 分，云南省社会工作协会 87.50 分。"
                   "推荐绥江县阳光社会工作服务中心为第一成交候选人。"}),
    "cancelled": Plan(
        SUIJIANG, "officer", "county", f"{YEAR}年绥江县困难家庭生计发展辅导服务项目",
        "为有劳动能力的低保家庭提供生计发展辅导和就业能力提升培训。",
        "绥江县各乡镇（街道）", 300,
        [("YN-S09-002", 300)],
        [("辅导户数", TargetDirection.AT_LEAST, "300.00", "户"), SATISFACTION],
        Method.SIMPLIFIED,
        {"reason": "县人力资源和社会保障局已将低保家庭就业帮扶纳入2026年就业援助项目统一实施，为避免重复购买，"
                   "经局长办公会研究取消本项目，预算另行安排。"}),
    "wenshan": Plan(
        "文山市民政局", "officer_ws", "county", f"{YEAR}年文山市特困人员助餐助洁服务项目",
        "为城区分散供养特困人员和高龄低保老人提供助餐和助洁服务。",
        "文山市开化街道、卧龙街道、新平街道", 380,
        [("YN-S12-001", 20000), ("YN-S12-003", 3000)],
        [("助餐人次", TargetDirection.AT_LEAST, "20000.00", "人次"), SATISFACTION],
        Method.CONSULTATION),
    "panlong": Plan(
        "昆明市盘龙区民政局", "officer_pl", "county", f"{YEAR}年盘龙区困难群众心理疏导服务项目",
        "为低保、低保边缘和支出型困难家庭成员提供个体心理疏导和团体心理辅导。",
        "盘龙区各街道社区服务中心", 900,
        [("YN-S07-001", 2500), ("YN-S07-002", 60)],
        [("心理疏导时长", TargetDirection.AT_LEAST, "2500.00", "小时"), SATISFACTION],
        Method.CONSULTATION),
}

ONE_DAY = timedelta(days=1)


def _org(name: str) -> Organization:
    return db.session.execute(select(Organization).where(Organization.name == name)).scalar_one()


def _actor(username: str) -> Actor:
    return Actor(db.session.execute(select(User).where(User.username == username)).scalar_one(), "seed")


def _budget_lines() -> dict:
    lines = {}
    for bureau_name, key, name, source, amount, ref in BUDGET_LINES:
        bureau = _org(bureau_name)
        officer = db.session.execute(select(User).where(User.organization_id == bureau.id)).scalars().first()
        lines[(bureau_name, key)] = services.save_budget_line(bureau, {
            "fiscal_year": YEAR, "funding_source": source, "name": name, "amount": Decimal(amount), "approval_ref": ref,
            "approved_on": date(YEAR, 1, 20), "note": None}, Actor(officer, "seed"))
    return lines


def _create(plan: Plan, line: BudgetLine, actor: Actor, today: date) -> Project:
    project = services.create_project({
        "title": plan.title, "fiscal_year": YEAR, "budget_line": line, "description": plan.description,
        "expected_beneficiaries": plan.beneficiaries, "service_start": date(YEAR, 7, 1),
        "service_end": date(YEAR + 1, 6, 30), "service_place": plan.place}, actor)
    items = {i.code: i for i in catalog.items_of(catalog.local_list(project.bureau.region, YEAR))}
    for code, quantity in plan.lines:
        item = items[code]
        services.add_line(project, item, quantity, item.reference_price, actor)
    for indicator, direction, value, unit in plan.targets:
        services.add_target(project, indicator, direction, Decimal(value), unit, actor)
    if plan.method is not None:
        services.set_method(project, {"method": plan.method, "today": today}, actor)
    return project


def _working_day_on_or_before(day: date) -> date:
    calendar = services.work_calendar()
    while not calendar.is_working_day(day):
        day -= ONE_DAY
    return day


def _issued_before(project: Project, deadline: date, days: int) -> date:
    """A day ``days`` before the deadline, moved earlier until the method's minimum period fits (holidays)."""
    issued_on = deadline - timedelta(days=days)
    key = RESPONSE_PERIOD.get(project.method)
    while key is not None and PERIODS[key].end(services.work_calendar(), issued_on).day > deadline:
        issued_on -= ONE_DAY
    return issued_on


def _announce(project: Project, issued_on: date, deadline: date, actor: Actor, today: date) -> None:
    services.change_stage(project, ProjectStage.APPROVED, actor, today)
    services.record_announcement(project, issued_on, deadline, f"{project.code} 采购公告（中国政府采购网云南分网）", actor)
    services.change_stage(project, ProjectStage.ANNOUNCED, actor, today)


def _evaluate(project: Project, plan: Plan, evaluated_on: date, actor: Actor, today: date) -> None:
    for n, (name, price) in enumerate(plan.extra["bids"]):
        # None: the project's total; "-x": that much below it
        price = str(project.total) if price is None else str(project.total - Decimal(price[1:])) if price[0] == "-" \
            else price
        submitted_on = max(project.documents_issued_on, project.response_deadline - timedelta(days=n + 1))
        services.record_bid(project, {"supplier": _org(name), "submitted_on": submitted_on, "price": Decimal(price),
                                      "note": None}, actor)
    services.record_evaluation(project, evaluated_on, plan.extra["result"], actor)
    services.change_stage(project, ProjectStage.EVALUATED, actor, today)


def _decide(project: Project, plan: Plan, decided_on: date, notice_on: date, actor: Actor) -> None:
    services.record_award(project, _org(plan.extra["winner"]), decided_on, notice_on, actor)


def seed_projects(today: date) -> int:
    """Add the demo projects unless there are projects already; returns how many were added."""
    if db.session.scalar(select(func.count()).select_from(Project)):
        return 0
    lines = _budget_lines()
    award_notice = PERIODS["award_notice"]
    made = {}
    for key, plan in PLANS.items():
        made[key] = _create(plan, lines[(plan.bureau, plan.line)], _actor(plan.officer), today)
    officer = _actor("officer")

    services.change_stage(made["approved"], ProjectStage.APPROVED, officer, today)

    # 竞争性磋商: at least 10 calendar days from the documents to the first response; the deadline is ahead.
    announced = made["announced"]
    _announce(announced, today - timedelta(days=4), today + timedelta(days=9), officer, today)
    services.invite_supplier(announced, _org(SUNSHINE), today - timedelta(days=4), officer)
    services.invite_supplier(announced, _org(ASSOCIATION), today - timedelta(days=4), officer)

    # Decided on the last working day before today: the award notice is due within 2 working days.
    evaluated = made["evaluated"]
    decided_on = _working_day_on_or_before(today - ONE_DAY)
    evaluated_on = decided_on - timedelta(days=1)
    deadline = evaluated_on
    _announce(evaluated, _issued_before(evaluated, deadline, 9), deadline, officer, today)
    _evaluate(evaluated, PLANS["evaluated"], evaluated_on, officer, today)
    _decide(evaluated, PLANS["evaluated"], decided_on, award_notice.end(services.work_calendar(), decided_on).day, officer)

    # Decided long enough ago that the 2 working days have passed without a notice: overdue.
    overdue = made["overdue"]
    decided_on = today - timedelta(days=6)
    while award_notice.end(services.work_calendar(), decided_on).day >= today:
        decided_on -= ONE_DAY
    _announce(overdue, decided_on - timedelta(days=12), decided_on - timedelta(days=5), officer, today)
    _evaluate(overdue, PLANS["overdue"], decided_on - timedelta(days=3), officer, today)
    _decide(overdue, PLANS["overdue"], decided_on, today, officer)  # planned for today: already late

    # Open tender, notice 24 days ago: the contract must be signed within 30 days, so in about a week.
    awarded = made["awarded"]
    notice_on = _working_day_on_or_before(today - timedelta(days=24))
    decided_on = _working_day_on_or_before(notice_on - ONE_DAY)
    evaluated_on = decided_on - timedelta(days=2)
    _announce(awarded, _issued_before(awarded, evaluated_on, 24), evaluated_on, officer, today)
    _evaluate(awarded, PLANS["awarded"], evaluated_on, officer, today)
    _decide(awarded, PLANS["awarded"], decided_on, notice_on, officer)
    services.change_stage(awarded, ProjectStage.AWARDED, officer, today)

    # Competitive consultation awarded about seven weeks ago; its contract is signed and published (contracts.demo).
    contracted = made["contracted"]
    notice_on = _working_day_on_or_before(today - timedelta(days=48))
    decided_on = _working_day_on_or_before(notice_on - ONE_DAY)
    evaluated_on = decided_on - timedelta(days=2)
    _announce(contracted, _issued_before(contracted, evaluated_on, 12), evaluated_on, officer, today)
    _evaluate(contracted, PLANS["contracted"], evaluated_on, officer, today)
    _decide(contracted, PLANS["contracted"], decided_on, notice_on, officer)
    services.change_stage(contracted, ProjectStage.AWARDED, officer, today)

    cancelled = made["cancelled"]
    services.change_stage(cancelled, ProjectStage.APPROVED, officer, today)
    services.change_stage(cancelled, ProjectStage.CANCELLED, officer, today, reason=PLANS["cancelled"].extra["reason"])

    wenshan = made["wenshan"]
    _announce(wenshan, today - timedelta(days=2), today + timedelta(days=12), _actor("officer_ws"), today)
    services.invite_supplier(wenshan, _org(CAIYUN), today - timedelta(days=2), _actor("officer_ws"))
    services.invite_supplier(wenshan, _org(LELING), today - timedelta(days=2), _actor("officer_ws"))

    services.change_stage(made["panlong"], ProjectStage.APPROVED, _actor("officer_pl"), today)
    db.session.flush()
    return len(made)
