"""Demo supervision of the contract in service: an on-site inspection whose finding opened a rectification
notice (awaiting the supplier's answer), and a complaint being handled. Invented, like the rest of the demo."""

from datetime import date, timedelta

from sqlalchemy import func, select

from procurement.audit.services import Actor
from procurement.auth.models import User
from procurement.extensions import db
from procurement.oversight import services
from procurement.oversight.models import ComplaintChannel, Inspection, InspectionKind, Severity


def seed_supervision(today: date) -> int:
    """Record the demo inspection, finding, notice and complaint unless inspections exist; returns how many records."""
    from contracts.models import Contract, ContractState

    if db.session.scalar(select(func.count()).select_from(Inspection)):
        return 0
    contract = db.session.execute(select(Contract).where(Contract.state == ContractState.IN_SERVICE)
                                  .order_by(Contract.id)).scalars().first()
    if contract is None or contract.term_start >= today:
        return 0
    officer = Actor(db.session.execute(select(User).where(User.username == "officer")).scalar_one(), "seed")
    day = max(contract.term_start, today - timedelta(days=6))
    inspection = services.record_inspection(contract, services.InspectionData(
        InspectionKind.ON_SITE, day, contract.term_start, day, "绥江县民政局 王建国、刘敏", "中城镇凤池社区居家养老服务站",
        summary="查看服务台账、签到表和护理员资质；走访服务对象2户。"), officer, today)
    finding = services.add_finding(contract, Severity.MAJOR, "部分上门服务记录没有服务对象或家属签字确认，无法核实服务真实性。", day,
                                   officer, today, inspection=inspection)
    services.issue_notice(finding, day, 10, "补齐本月上门服务记录的签字确认；建立服务后当场签字、每周由项目主管抽查的制度，并提交制度文本和整改后的签到表。",
                          officer, today)
    services.record_complaint(contract, day, ComplaintChannel.HOTLINE,
                              "12345热线转办：服务对象家属反映护理员两次未按约定时间上门。", officer, today)
    db.session.flush()
    return 4
