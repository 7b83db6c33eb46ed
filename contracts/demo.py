"""Demo contracts: the demo's consultation project gets a signed, published and filed contract in service.

Called by ``seed-demo`` after the demo projects exist; run through the real services, so the stored PDF is a
genuine issued document the verify page recognises.
"""

from datetime import date, timedelta

from sqlalchemy import func, select

from contracts import services
from contracts.models import Contract
from procurement.audit.services import Actor
from procurement.auth.models import User
from procurement.extensions import db
from procurement.projects.models import Project
from procurement.projects.services import work_calendar
from procurement.rules.stages import ProjectStage

DEMO_TITLE_PART = "心理疏导和监护支持"
STAFF = ("乙方配备专职社会工作者不少于4名，其中持有社会工作者职业资格证书的不少于3名；心理疏导由持有心理咨询相关"
         "证书或经过专业培训的社工承担。\n服务人员上岗前须接受个人信息保护和儿童保护培训，签订保密承诺书。")


def _working_day_after(day: date, days: int) -> date:
    calendar = work_calendar()
    while days:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            days -= 1
    return day


def seed_contracts(today: date) -> int:
    """Sign, publish, file and start the demo contract unless contracts exist; returns how many were made."""
    if db.session.scalar(select(func.count()).select_from(Contract)):
        return 0
    project = db.session.execute(select(Project).where(Project.title.contains(DEMO_TITLE_PART),
                                                       Project.stage == ProjectStage.AWARDED)).scalar()
    if project is None:
        return 0
    officer = Actor(db.session.execute(select(User).where(User.username == "officer")).scalar_one(), "seed")
    contract = services.generate_contract(project, officer, today)
    signed_on = _working_day_after(project.award_notice_on, 8)
    term_start = signed_on + timedelta(days=10)
    data = services.contract_values(contract)
    data.update(staff_requirements=STAFF, term_start=term_start, term_end=services._year_after(term_start),
                bond_percent=data["bond_percent"] or None, report_frequency=contract.report_frequency.value)
    services.update_contract(contract, data, officer)
    services.sign_contract(contract, signed_on, "王建国", "陈晓梅", None, officer, today)
    services.publish_contract(contract, _working_day_after(signed_on, 1),
                              "中国政府采购网云南分网 合同公告 " + contract.number, officer, today)
    services.file_contract(contract, _working_day_after(signed_on, 4), "绥财采备〔2026〕31号", officer, today)
    services.start_service(contract, term_start, officer, today)
    db.session.flush()
    return 1
