"""Contract services: from the awarded project to the signed, published, filed contract in service, and its proof."""

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from contracts import services
from contracts.context import build_context
from contracts.models import Contract, ContractState, InstalmentCondition, TemplateKind
from contracts.rules import CITE_CONTENT
from procurement.auth.models import User
from procurement.auth.roles import Role
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.orgs.models import Organization
from procurement.projects import services as projects
from procurement.projects.models import PerformanceTarget, Project, ProjectTransition, TargetDirection
from procurement.rules.money import to_capital
from procurement.rules.procurement import PERIODS, Method
from procurement.rules.stages import ProjectStage
from tests.factories import make_user
from tests.project_factories import (
    actor,
    county_items,
    make_bid,
    make_budget_line,
    make_bureau,
    make_line,
    make_staged_project,
    registered_supplier,
)

NOTICE = date(2026, 3, 2)  # a Monday; the award notice
SIGNED = date(2026, 3, 20)  # a Friday, 18 days later
PRICE = Decimal("2098000.00")  # the winning bid
#: The project's lines at the budget's reference prices; the bid is 80 % of them, so the prices scale to the fen.
LIST_LINES = ((1500, "1000.00"), (2000, "561.25"))
STAFF = ("乙方配备专职社会工作者不少于4名，其中持证社工不少于3名；护理员须持护理员证上岗。\n"
         "服务人员上岗前须接受个人信息保护培训，签订保密承诺书。")


@dataclass
class Award:
    project: Project
    officer: User
    bureau: Organization
    supplier: Organization


def suijiang_award(price: Decimal = PRICE, lines=LIST_LINES, stage=ProjectStage.AWARDED) -> Award:
    """An open tender of 绥江县民政局 awarded to 阳光社工中心 at ``price``, notice on :data:`NOTICE`."""
    bureau = make_bureau("530626", name="绥江县民政局", address="云南省昭通市绥江县中城镇滨江大道", legal_representative="张建华",
                         contact_name="李明", contact_phone="0870-7622000")
    officer = make_user(Role.OFFICER, organization=bureau)
    supplier = registered_supplier(name="绥江县阳光社会工作服务中心", address="云南省昭通市绥江县中城镇金江路8号",
                                   legal_representative="陈晓梅", contact_name="王芳", contact_phone="13987000000",
                                   bank_account_name="绥江县阳光社会工作服务中心", bank_name="中国农业银行绥江县支行",
                                   bank_account_no="2406 0101 0400 1234 5")
    rival = registered_supplier(name="云南省社会工作协会")
    _list, items = county_items(n=len(lines))
    award = {"award_decided_on": NOTICE - timedelta(days=3), "award_notice_on": NOTICE, "award_supplier_id": supplier.id} \
        if stage != ProjectStage.EVALUATED else {}
    project = make_staged_project(
        bureau=bureau, stage=stage, method=Method.OPEN_TENDER, total=Decimal("0.00"),
        title="2026年绥江县失能特困人员集中照护服务项目", budget_line=make_budget_line(bureau, amount="3000000.00"),
        expected_beneficiaries=150, service_start=date(2026, 4, 1), service_end=date(2027, 3, 31),
        service_place="绥江县中城镇、南岸镇", documents_issued_on=date(2026, 1, 20), response_deadline=date(2026, 2, 10),
        evaluated_on=date(2026, 2, 12), evaluation_result="推荐绥江县阳光社会工作服务中心为第一中标候选人。", **award)
    for item, (quantity, unit_price) in zip(items, lines, strict=True):
        make_line(project, item, quantity=quantity, unit_price=unit_price)
    db.session.add(PerformanceTarget(project_id=project.id, indicator="服务对象满意度", direction=TargetDirection.AT_LEAST,
                                     target_value=Decimal("90.00"), unit="%", position=1))
    make_bid(project, supplier, price=price, submitted_on=date(2026, 2, 9))
    make_bid(project, rival, price=price + 27000, submitted_on=date(2026, 2, 8))
    db.session.expire(project)
    return Award(project, officer, bureau, supplier)


def complete(contract: Contract, officer: User, **changes) -> None:
    """Fill in what the generator cannot know (the staff requirements)."""
    data = services.contract_values(contract)
    data.update(staff_requirements=STAFF, **changes)
    services.update_contract(contract, data, actor(officer))


def sign(contract: Contract, officer: User, on: date = SIGNED):
    return services.sign_contract(contract, on, "张建华", "陈晓梅", None, actor(officer), on)


def signed_contract(award: Award | None = None) -> tuple[Award, Contract]:
    award = award or suijiang_award()
    contract = services.generate_contract(award.project, actor(award.officer), SIGNED)
    complete(contract, award.officer)
    sign(contract, award.officer)
    return award, contract


def problem_fields(refused) -> set[str]:
    return {p.field for p in refused.value.problems}


# --- generating the draft ---------------------------------------------------------------------------

def test_generating_prefills_parties_items_and_the_awarded_price():
    award = suijiang_award()
    contract = services.generate_contract(award.project, actor(award.officer), SIGNED)
    assert (contract.number, contract.state) == (f"HT-{award.project.code}", ContractState.DRAFT)
    assert (contract.purchaser_id, contract.supplier_id) == (award.bureau.id, award.supplier.id)
    assert contract.template_version == services.published_version(TemplateKind.MAIN)
    assert (contract.term_start, contract.term_end) == (date(2026, 4, 1), date(2027, 3, 31))
    # the bid is 80 % of the list prices: the unit prices are scaled to it, to the fen
    assert [(line.quantity, line.unit_price, line.amount) for line in contract.lines] == [
        (1500, Decimal("800.00"), Decimal("1200000.00")), (2000, Decimal("449.00"), Decimal("898000.00"))]
    assert contract.amount == PRICE
    assert [(i.percent, i.amount, i.condition) for i in contract.instalments] == [
        (Decimal("30.00"), Decimal("629400.00"), InstalmentCondition.ON_SIGNING),
        (Decimal("40.00"), Decimal("839200.00"), InstalmentCondition.MID_TERM_EVALUATION),
        (Decimal("30.00"), Decimal("629400.00"), InstalmentCondition.FINAL_ACCEPTANCE)]
    assert sum(i.amount for i in contract.instalments) == contract.amount
    # all that is left for the officer: the staff requirements
    assert [(p.field, "staff_requirements" in p.message) for p in services.contract_problems(contract)] == \
        [("placeholder", True)]


def test_prices_that_cannot_be_scaled_exactly_are_left_and_the_difference_is_a_problem():
    award = suijiang_award(price=PRICE + Decimal("0.01"))
    contract = services.generate_contract(award.project, actor(award.officer), SIGNED)
    assert [line.unit_price for line in contract.lines] == [Decimal("1000.00"), Decimal("561.25")]
    assert contract.amount == Decimal("2622500.00")
    assert sum(i.amount for i in contract.instalments) == contract.amount
    complete(contract, award.officer)
    problems = services.contract_problems(contract)
    assert [(p.field, p.citation) for p in problems] == [("lines", "《政府采购法》第四十六条")]
    with pytest.raises(services.ContractInvalid) as refused:
        sign(contract, award.officer)
    assert problem_fields(refused) == {"lines"}


def test_a_project_has_one_contract_generated_from_its_award():
    award = suijiang_award()
    services.generate_contract(award.project, actor(award.officer), SIGNED)
    with pytest.raises(DomainError) as refused:
        services.generate_contract(award.project, actor(award.officer), SIGNED)
    assert not isinstance(refused.value, AccessDenied)
    assert len(services.contracts_of_project(award.project)) == 1


def test_a_project_not_yet_awarded_has_no_contract():
    award = suijiang_award(stage=ProjectStage.EVALUATED)
    with pytest.raises(DomainError) as refused:
        services.generate_contract(award.project, actor(award.officer), SIGNED)
    assert not isinstance(refused.value, AccessDenied)
    assert services.main_contract(award.project) is None


@pytest.mark.parametrize("who", ["other_county_officer", "finance", "supplier"])
def test_only_officers_of_the_region_generate_contracts(who):
    award = suijiang_award()
    user = {"other_county_officer": lambda: make_user(Role.OFFICER, organization=make_bureau("532601")),
            "finance": lambda: make_user(Role.FINANCE),
            "supplier": lambda: make_user(Role.SUPPLIER, organization=award.supplier)}[who]()
    with pytest.raises(AccessDenied):
        services.generate_contract(award.project, actor(user), SIGNED)


# --- editing the draft ----------------------------------------------------------------------------------

def test_update_reports_every_problem_at_once_with_its_field_and_clause():
    award = suijiang_award()
    contract = services.generate_contract(award.project, actor(award.officer), SIGNED)
    data = services.contract_values(contract)
    data.update(title=" ", term_start=date(2026, 4, 1), term_end=date(2027, 5, 1), long_term_justification="",
                bond_percent=Decimal("12"), payment_days=90, late_interest_per_day=Decimal("2"),
                report_frequency="weekly", special_terms="x" * (services.TEXT_MAX + 1))
    with pytest.raises(services.ContractInvalid) as refused:
        services.update_contract(contract, data, actor(award.officer))
    problems = {p.field: p for p in refused.value.problems}
    assert set(problems) == {"title", "special_terms", "long_term_justification", "bond_percent", "payment_days",
                             "late_interest_per_day", "report_frequency"}
    assert "第二十四条" in problems["long_term_justification"].citation
    assert "第四十八条" in problems["bond_percent"].citation
    db.session.refresh(contract)
    assert contract.bond_percent == Decimal("0.00") and contract.payment_days == 30  # nothing was changed


def test_a_justified_long_term_and_a_bond_are_kept():
    award = suijiang_award()
    contract = services.generate_contract(award.project, actor(award.officer), SIGNED)
    complete(contract, award.officer, term_end=date(2028, 3, 31), long_term_justification="服务需求长期稳定，已纳入中期财政规划。",
             bond_percent=Decimal("5"))
    assert (contract.term_end, contract.bond_percent) == (date(2028, 3, 31), Decimal("5.00"))
    context = build_context(contract)
    assert (context["term_months"], context["bond_percent"], context["bond_amount"]) == (24, "5%", "104,900.00")
    assert context["bond_capital"] == to_capital(Decimal("104900.00"))
    assert services.contract_problems(contract) == []


def test_instalments_must_add_up_to_100_percent():
    award = suijiang_award()
    contract = services.generate_contract(award.project, actor(award.officer), SIGNED)
    plan = [(Decimal("30"), InstalmentCondition.ON_SIGNING, None), (Decimal("40"), InstalmentCondition.MID_TERM_EVALUATION, None),
            (Decimal("29"), InstalmentCondition.FINAL_ACCEPTANCE, None)]
    with pytest.raises(services.ContractInvalid) as refused:
        services.set_instalments(contract, plan, actor(award.officer))
    assert [(p.field, p.citation) for p in refused.value.problems] == [("instalments", CITE_CONTENT)]
    with pytest.raises(services.ContractInvalid) as refused:
        services.set_instalments(contract, [(Decimal("100"), InstalmentCondition.OTHER, " ")], actor(award.officer))
    assert problem_fields(refused) == {"instalments"}
    assert [i.percent for i in contract.instalments] == [30, 40, 30]  # unchanged
    thirds = [(Decimal("33.33"), InstalmentCondition.ON_SIGNING, None),
              (Decimal("33.33"), InstalmentCondition.MID_TERM_EVALUATION, None),
              (Decimal("33.34"), InstalmentCondition.OTHER, "验收合格并提交绩效自评报告后")]
    services.set_instalments(contract, thirds, actor(award.officer))
    assert [i.amount for i in contract.instalments] == [Decimal("699263.40"), Decimal("699263.40"), Decimal("699473.20")]
    assert sum(i.amount for i in contract.instalments) == PRICE


def test_the_preview_of_a_draft_marks_what_is_missing():
    award = suijiang_award()
    contract = services.generate_contract(award.project, actor(award.officer), SIGNED)
    preview = services.preview_contract(contract)
    assert preview.error is None and preview.report.ok
    assert "staff_requirements" in {p.name for p in preview.missing}
    assert 'class="placeholder-missing" title="staff_requirements"' in preview.html
    assert "绥江县阳光社会工作服务中心" in preview.html and "2,098,000.00" in preview.html


# --- the context a document is made from -----------------------------------------------------------------

def _plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return type(value) in (str, int)


def test_the_context_holds_plain_values_only():
    award = suijiang_award()
    contract = services.generate_contract(award.project, actor(award.officer), SIGNED)
    complete(contract, award.officer)
    context = build_context(contract)
    assert _plain(context)
    assert json.loads(json.dumps(context, ensure_ascii=False)) == context
    assert None not in context.values() and "" not in context.values()
    assert context["amount"] == "2,098,000.00"
    assert context["amount_capital"] == to_capital(contract.amount) == "人民币贰佰零玖万捌仟元整"
    assert [i["amount_capital"] for i in context["instalments"]] == [to_capital(i.amount) for i in contract.instalments]
    assert (context["purchaser_name"], context["supplier_name"]) == ("绥江县民政局", "绥江县阳光社会工作服务中心")
    assert context["supplier_credit_code"] == award.supplier.credit_code
    assert (context["award_notice_date"], context["term_start"], context["term_months"]) == ("2026年3月2日", "2026年4月1日", 12)
    assert context["supplier_bank"] == "绥江县阳光社会工作服务中心，中国农业银行绥江县支行，2406 0101 0400 1234 5"
    assert "signed_on" not in context and "bond_percent" not in context  # no value yet: left out


# --- signing ---------------------------------------------------------------------------------------------

def test_signing_refuses_a_missing_placeholder_then_issues_the_pdf_and_moves_the_project():
    award = suijiang_award()
    contract = services.generate_contract(award.project, actor(award.officer), SIGNED)
    with pytest.raises(services.ContractInvalid) as refused:
        sign(contract, award.officer)
    assert [(p.field, "staff_requirements" in p.message) for p in refused.value.problems] == [("placeholder", True)]
    assert contract.state == ContractState.DRAFT and contract.document_id is None

    complete(contract, award.officer)
    document = sign(contract, award.officer)
    assert contract.state == ContractState.SIGNED and contract.document_id == document.id
    assert (contract.signed_on, contract.purchaser_signatory, contract.supplier_signatory) == (SIGNED, "张建华", "陈晓梅")
    assert document.pdf.startswith(b"%PDF-") and document.sha256 == hashlib.sha256(document.pdf).hexdigest()
    assert document.size == len(document.pdf)
    assert (document.kind, document.reference) == ("contract", contract.number)
    assert document.template_version_id == contract.template_version_id is not None
    assert document.context == build_context(contract)
    assert (document.context["signed_on"], document.context["supplier_signatory"]) == ("2026年3月20日", "陈晓梅")
    assert award.project.stage == ProjectStage.CONTRACTED
    transition = db.session.execute(select(ProjectTransition).where(ProjectTransition.project_id == award.project.id)
                                    ).scalar_one()
    assert (transition.from_stage, transition.to_stage, transition.actor_id) == (
        ProjectStage.AWARDED, ProjectStage.CONTRACTED, award.officer.id)
    assert contract.number in transition.reason

    # signed: no more changes
    with pytest.raises(DomainError):
        complete(contract, award.officer, special_terms="签字后新增的条款")
    with pytest.raises(DomainError):
        services.set_instalments(contract, [(Decimal(100), InstalmentCondition.ON_SIGNING, None)], actor(award.officer))
    with pytest.raises(DomainError):
        sign(contract, award.officer)
    assert services.contract_pdf(contract) == document.pdf  # the issued bytes, not a new rendering


def test_signing_checks_the_date_and_both_signatories_at_once():
    award = suijiang_award()
    contract = services.generate_contract(award.project, actor(award.officer), SIGNED)
    complete(contract, award.officer)
    with pytest.raises(services.ContractInvalid) as refused:
        services.sign_contract(contract, NOTICE - timedelta(days=1), " ", "", None, actor(award.officer), SIGNED)
    assert problem_fields(refused) == {"signed_on", "purchaser_signatory", "supplier_signatory"}
    with pytest.raises(services.ContractInvalid) as refused:
        services.sign_contract(contract, SIGNED + timedelta(days=1), "张建华", "陈晓梅", None, actor(award.officer), SIGNED)
    assert problem_fields(refused) == {"signed_on"}
    with pytest.raises(AccessDenied):
        sign(contract, make_user(Role.OFFICER, organization=make_bureau("532601")))
    assert contract.state == ContractState.DRAFT and award.project.stage == ProjectStage.AWARDED


# --- after signing -----------------------------------------------------------------------------------------

def test_publication_filing_and_service_start_follow_in_order_with_their_dates():
    award, contract = signed_contract()
    who = actor(award.officer)
    with pytest.raises(DomainError):
        services.file_contract(contract, SIGNED, "绥财采备〔2026〕31号", who, SIGNED)
    with pytest.raises(DomainError):
        services.start_service(contract, SIGNED, who, SIGNED)

    for day, reference, today, fields in [
        (SIGNED - timedelta(days=1), "中国政府采购网", SIGNED, {"published_on"}),  # before signing
        (SIGNED + timedelta(days=2), "中国政府采购网", SIGNED + timedelta(days=1), {"published_on"}),  # in the future
        (SIGNED, " ", SIGNED, {"publication_ref"}),
        (None, "", SIGNED, {"published_on", "publication_ref"}),
    ]:
        with pytest.raises(services.ContractInvalid) as refused:
            services.publish_contract(contract, day, reference, who, today)
        assert problem_fields(refused) == fields
    assert contract.state == ContractState.SIGNED
    services.publish_contract(contract, date(2026, 3, 23), "中国政府采购网云南分网 合同公告", who, date(2026, 3, 23))
    assert (contract.state, contract.published_on) == (ContractState.PUBLISHED, date(2026, 3, 23))

    with pytest.raises(services.ContractInvalid) as refused:
        services.file_contract(contract, SIGNED - timedelta(days=1), None, who, date(2026, 3, 27))
    assert problem_fields(refused) == {"filed_on"}
    services.file_contract(contract, date(2026, 3, 27), "绥财采备〔2026〕31号", who, date(2026, 3, 27))
    assert (contract.state, contract.filed_on, contract.filing_ref) == (ContractState.FILED, date(2026, 3, 27),
                                                                          "绥财采备〔2026〕31号")
    assert award.project.stage == ProjectStage.CONTRACTED

    with pytest.raises(services.ContractInvalid) as refused:
        services.start_service(contract, date(2026, 4, 2), who, date(2026, 4, 1))
    assert problem_fields(refused) == {"started_on"}
    services.start_service(contract, date(2026, 4, 1), who, date(2026, 4, 1))
    assert (contract.state, contract.service_started_on) == (ContractState.IN_SERVICE, date(2026, 4, 1))
    assert award.project.stage == ProjectStage.IN_SERVICE
    assert [(t.from_stage, t.to_stage) for t in award.project.transitions][-1] == (ProjectStage.CONTRACTED,
                                                                                   ProjectStage.IN_SERVICE)


def test_publication_and_filing_deadlines_count_working_days_from_signing():
    award, contract = signed_contract()
    officer, who = award.officer, actor(award.officer)

    def rows(today, include_done=False):
        return {r.step: r for r in services.contract_deadline_rows(officer, today, include_done)}

    due = rows(date(2026, 3, 23))  # the Monday after signing on a Friday
    assert set(due) == {"contract_publication", "contract_filing"}
    assert (due["contract_publication"].due, due["contract_publication"].state) == (date(2026, 3, 24), "due")
    assert (due["contract_filing"].due, due["contract_filing"].state) == (date(2026, 3, 31), "due")
    assert due["contract_publication"].due == PERIODS["contract_publication"].end(projects.work_calendar(), SIGNED).day
    assert due["contract_publication"].citation == PERIODS["contract_publication"].citation
    assert (due["contract_filing"].code, due["contract_filing"].start) == (contract.number, SIGNED)
    assert not due["contract_filing"].estimated
    # the contracts' deadlines are on the officer's deadline page with the projects'
    assert {r.step for r in projects.all_deadline_rows(officer, date(2026, 3, 23))} >= set(due)

    assert rows(date(2026, 3, 25))["contract_publication"].state == "overdue"
    assert rows(date(2026, 4, 1))["contract_filing"].state == "overdue"

    services.publish_contract(contract, date(2026, 3, 25), "中国政府采购网", who, date(2026, 3, 25))
    assert set(rows(date(2026, 3, 25))) == {"contract_filing"}  # done: gone from the list
    assert rows(date(2026, 3, 25), include_done=True)["contract_publication"].state == "done_late"

    services.file_contract(contract, date(2026, 3, 31), None, who, date(2026, 3, 31))
    assert rows(date(2026, 4, 10)) == {}
    assert rows(date(2026, 4, 10), include_done=True)["contract_filing"].state == "done"

    # only those who see contracts of the region have these deadlines
    assert services.contract_deadline_rows(make_user(Role.SUPPLIER, organization=award.supplier), date(2026, 3, 23)) == []
    assert services.contract_deadline_rows(make_user(Role.OFFICER, organization=make_bureau("532601")),
                                           date(2026, 3, 23)) == []


def test_supplementary_contracts_add_at_most_ten_percent_in_total():
    award, parent = signed_contract()
    who = actor(award.officer)
    first, second = parent.lines  # 800.00 and 449.00 yuan
    with pytest.raises(services.ContractInvalid) as refused:  # 210,600.00 > 209,800.00
        services.create_supplementary(parent, "服务对象增加", {first.id: 151, second.id: 200}, who, SIGNED)
    assert [(p.field, "第四十九条" in p.citation) for p in refused.value.problems] == [("amount", True)]
    with pytest.raises(services.ContractInvalid) as refused:
        services.create_supplementary(parent, " ", {}, who, SIGNED)
    assert problem_fields(refused) == {"change_reason", "lines"}

    extra = services.create_supplementary(parent, "新增失能特困人员20名，需追加照护服务。", {first.id: 150, second.id: 200},
                                          who, date(2026, 6, 1))
    assert (extra.number, extra.parent_id, extra.state) == (f"HT-{award.project.code}-B1", parent.id, ContractState.DRAFT)
    assert extra.amount == Decimal("209800.00")  # exactly 10 percent of 2,098,000.00
    assert [(line.unit_price, line.quantity) for line in extra.lines] == [(Decimal("800.00"), 150), (Decimal("449.00"), 200)]
    assert [(i.percent, i.amount) for i in extra.instalments] == [(Decimal("100.00"), Decimal("209800.00"))]
    assert (extra.term_start, extra.term_end) == (date(2026, 6, 1), parent.term_end)
    assert services.contract_problems(extra) == []

    document = services.sign_contract(extra, date(2026, 6, 5), "张建华", "陈晓梅", None, who, date(2026, 6, 5))
    assert extra.state == ContractState.SIGNED
    assert (document.context["parent_number"], document.context["new_total"]) == (parent.number, "2,307,800.00")
    assert document.context["new_total_capital"] == to_capital(Decimal("2307800.00"))
    assert award.project.stage == ProjectStage.CONTRACTED  # a supplementary contract does not move the project

    # the ten percent are used up: even one more visit is refused
    with pytest.raises(services.ContractInvalid) as refused:
        services.create_supplementary(parent, "再次追加", {second.id: 1}, who, date(2026, 7, 1))
    assert [(p.field, "第四十九条" in p.citation) for p in refused.value.problems] == [("amount", True)]
    with pytest.raises(DomainError):  # a supplementary contract has no supplementary contracts of its own
        services.create_supplementary(extra, "追加", {extra.lines[0].id: 1}, who, date(2026, 7, 1))


def test_a_draft_has_no_supplementary_contract():
    award = suijiang_award()
    contract = services.generate_contract(award.project, actor(award.officer), SIGNED)
    with pytest.raises(DomainError):
        services.create_supplementary(contract, "追加", {contract.lines[0].id: 1}, actor(award.officer), SIGNED)


# --- who sees which contract ---------------------------------------------------------------------------------

def visible(user) -> set:
    return set(db.session.execute(services.contract_query(user)).scalars().all())


def test_suppliers_see_their_own_signed_contracts_and_officers_and_finance_their_regions():
    award = suijiang_award()
    contract = services.generate_contract(award.project, actor(award.officer), SIGNED)
    supplier_user = make_user(Role.SUPPLIER, organization=award.supplier)
    other_supplier = make_user(Role.SUPPLIER)
    finance = make_user(Role.FINANCE)  # 绥江县财政局
    province_officer = make_user(Role.OFFICER, organization=make_bureau("530000"))
    other_county = [make_user(Role.OFFICER, organization=make_bureau("532601")), make_user(Role.FINANCE, region_code="532601")]

    assert visible(supplier_user) == set()  # a draft is the bureau's business
    assert not services.can_view_contract(supplier_user, contract)
    complete(contract, award.officer)
    sign(contract, award.officer)

    for user in (award.officer, finance, province_officer, supplier_user):
        assert visible(user) == {contract}, user.role
        assert services.can_view_contract(user, contract)
    for user in (other_supplier, *other_county):
        assert visible(user) == set(), user.role
        assert not services.can_view_contract(user, contract)
    assert services.can_edit_contract(award.officer, contract)
    assert not any(services.can_edit_contract(u, contract) for u in (finance, supplier_user, *other_county))


# --- proof of a document -------------------------------------------------------------------------------------------

def change_one_byte_of_the_first_page(pdf: bytes) -> bytes:
    """The PDF with one byte of its first page's content stream changed (the file's structure intact)."""
    contents = PdfReader(io.BytesIO(pdf)).pages[0].raw_get("/Contents")
    if isinstance(contents, list):
        contents = contents[0]
    start = re.search(rb"\n%d 0 obj\s*<<" % contents.idnum, pdf).start()
    at = pdf.index(b"stream\n", start) + len(b"stream\n") + 40
    return pdf[:at] + bytes([pdf[at] ^ 0x20]) + pdf[at + 1:]


def test_verification_recognises_the_issued_bytes_and_names_what_a_changed_copy_claims():
    award, contract = signed_contract()
    document = contract.document
    genuine = services.verify_document(document.pdf)
    assert genuine.genuine and genuine.document.id == document.id and genuine.claimed_reference is None

    appended = services.verify_document(document.pdf + b"\n% changed after issuing\n")
    assert not appended.genuine and appended.claimed_reference == contract.number
    assert appended.sha256 != document.sha256

    changed = services.verify_document(change_one_byte_of_the_first_page(document.pdf))
    assert not changed.genuine and changed.claimed_reference == contract.number

    unrelated = PdfWriter()
    unrelated.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    unrelated.write(buffer)
    other = services.verify_document(buffer.getvalue())
    assert (other.genuine, other.claimed_reference) == (False, None)
    assert services.verify_document(b"not a pdf at all").claimed_reference is None
    assert services.verify_document(b"%PDF-1.7\n garbage").claimed_reference is None
