"""Demo beneficiaries of 绥江县, some assigned to the demo contract in service. Names and numbers are invented;
the ID numbers are well formed (valid check character) but belong to nobody."""

from datetime import date

from sqlalchemy import func, select

from procurement.audit.services import Actor
from procurement.auth.models import User
from procurement.beneficiaries import services
from procurement.beneficiaries.models import Beneficiary, LegalBasis
from procurement.catalog.models import TargetGroup
from procurement.extensions import db
from procurement.orgs.models import Region
from procurement.rules.identifiers import cid_check_char

# name, birth date, sequence (3 digits, odd = male), category code, address, household, needs, health notes
PEOPLE = [
    ("杨秀英", "19480312", "224", "TK", "中城镇凤池社区12组", "独居，无子女", "行动不便，需上门照料和心理慰藉", "高血压，需定期服药"),
    ("何国强", "19520705", "113", "TK", "南岸镇南岸村3组", "独居", "视力差，需陪同就医", "白内障术后"),
    ("罗玉兰", "19601120", "142", "DB", "板栗镇板栗村5组", "与残疾儿子同住", "长期照护压力大，需喘息服务和心理疏导", None),
    ("陈建华", "19750418", "351", "DB", "会仪镇会仪村1组", "夫妻二人，妻子重病", "家庭支出大，情绪低落", None),
    ("张小雨", "20150903", "062", "ET", "中城镇东门社区", "父母外出务工，由祖母照料", "监护指导和学业陪伴", None),
    ("王子涵", "20130216", "081", "ET", "新滩镇新滩社区", "父亲服刑，母亲失联，由叔父照料", "心理疏导，监护评估", None),
    ("李桂芳", "19580827", "268", "BY", "南岸镇龙门村2组", "与孙子同住", "照料孙子能力不足，需监护支持", None),
    ("赵德明", "19661012", "115", "ZC", "中城镇金江社区", "因病致贫，子女在外", "心理疏导", "脑梗后遗症"),
    ("周淑珍", "19450101", "026", "TK", "板栗镇罗坪村4组", "独居", "失能，需长期照护", "糖尿病"),
    ("吴海燕", "19821230", "386", "DB", "会仪镇文兴村6组", "单亲，两个孩子", "就业困难，情绪焦虑", None),
]
GUARDIANS = {"张小雨": ("张秀兰", "祖母", "13908701234"), "王子涵": ("王建军", "叔父", "13508705678")}


def seed_beneficiaries(today: date) -> int:
    """Register the demo people unless beneficiaries exist; assign most to the demo contract in service."""
    if db.session.scalar(select(func.count()).select_from(Beneficiary)):
        return 0
    officer = Actor(db.session.execute(select(User).where(User.username == "officer")).scalar_one(), "seed")
    county = db.session.execute(select(Region).where(Region.code == "530626")).scalar_one()
    groups = {g.code: g.id for g in db.session.execute(select(TargetGroup)).scalars()}
    made = []
    for name, born, seq, group, address, household, needs, health in PEOPLE:
        body = f"530626{born}{seq}"
        guardian = GUARDIANS.get(name, (None, None, None))
        made.append(services.create_beneficiary(services.BeneficiaryData(
            name=name, id_number=body + cid_check_char(body), category_id=groups[group], region=county,
            address=f"绥江县{address}", phone=None, household=household, needs_assessment=needs, health_notes=health,
            guardian_name=guardian[0], guardian_relation=guardian[1], guardian_phone=guardian[2],
            legal_basis=LegalBasis.GUARDIAN_CONSENT if name in GUARDIANS else LegalBasis.LEGAL_DUTY,
            legal_basis_note="绥江县民政局社会救助对象认定档案"), officer, today))
    from contracts.models import Contract, ContractState

    contract = db.session.execute(select(Contract).where(Contract.state == ContractState.IN_SERVICE)
                                  .order_by(Contract.id)).scalars().first()
    if contract is not None and contract.term_start <= today <= contract.term_end:
        for person in made[:8]:
            # assigned when the service started, so the supplier reports from the first day of the term
            services.assign(contract, person, officer, today).assigned_on = contract.term_start
    db.session.flush()
    return len(made)
