"""Method by amount, split purchases and every guard of the stage machine."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from procurement.auth.roles import Role
from procurement.rules import stages
from procurement.rules.procurement import (
    Method,
    Purchase,
    SplitLevel,
    Thresholds,
    method_option,
    method_options,
    score_total_problem,
    split_check,
)
from procurement.rules.stages import BidFacts, NegativeFinding, ProjectFacts, ProjectStage
from procurement.rules.workdays import WorkCalendar

T = Thresholds(Decimal("1000000.00"), Decimal("2000000.00"))
D = Decimal


@pytest.mark.parametrize(
    ("amount", "method", "allowed", "needs_approval"),
    [
        (D("999999.99"), Method.SIMPLIFIED, True, False),
        (D("1000000.00"), Method.SIMPLIFIED, False, False),
        (D("1500000.00"), Method.SIMPLIFIED, False, False),
        (D("1500000.00"), Method.CONSULTATION, True, False),
        (D("1500000.00"), Method.OPEN_TENDER, True, False),
        (D("1999999.99"), Method.NEGOTIATION, True, False),
        (D("2000000.00"), Method.NEGOTIATION, True, True),
        (D("2000000.00"), Method.CONSULTATION, True, True),
        (D("2000000.00"), Method.SINGLE_SOURCE, True, True),
        (D("2000000.00"), Method.OPEN_TENDER, True, False),
        (D("2000000.00"), Method.SIMPLIFIED, False, False),
        (D("50000.00"), Method.INQUIRY, True, False),
    ],
)
def test_method_by_amount(amount, method, allowed, needs_approval):
    option = method_option(amount, T, method)
    assert (option.allowed, option.needs_approval) == (allowed, needs_approval)
    assert option.reason and option.citation


def test_every_method_is_listed_with_a_reason_and_thresholds_are_configurable():
    options = method_options(D("800000.00"), T)
    assert {o.method for o in options} == set(Method)
    stricter = Thresholds(D("500000.00"), D("700000.00"))
    assert not method_option(D("800000.00"), stricter, Method.SIMPLIFIED).allowed
    assert method_option(D("800000.00"), stricter, Method.CONSULTATION).needs_approval


@pytest.mark.parametrize(
    ("amount", "others", "approved", "level", "total"),
    [
        (D("800000"), [], False, SplitLevel.OK, D("800000")),
        (D("800000"), [Purchase("A", "a", D("700000"))], False, SplitLevel.WARNING, D("1500000")),
        # DOMAIN §3 / 实施条例 第二十八条: refused when the sum *exceeds* the threshold (¥2,000,000)
        (D("800000"), [Purchase("A", "a", D("700000")), Purchase("B", "b", D("500000"))], False, SplitLevel.WARNING,
         D("2000000")),
        (D("800000"), [Purchase("A", "a", D("700000")), Purchase("B", "b", D("500000.01"))], False, SplitLevel.REFUSED,
         D("2000000.01")),
        (D("1999999.99"), [Purchase("A", "a", D("0.01"))], False, SplitLevel.WARNING, D("2000000.00")),
        (D("1999999.99"), [Purchase("A", "a", D("0.02"))], False, SplitLevel.REFUSED, D("2000000.01")),
        (D("800000"), [Purchase("A", "a", D("1300000"))], False, SplitLevel.REFUSED, D("2100000")),
        (D("800000"), [Purchase("A", "a", D("1300000"))], True, SplitLevel.WARNING, D("2100000")),
    ],
)
def test_split_purchase(amount, others, approved, level, total):
    result = split_check("照料护理", amount, others, T.open_tender_threshold, approved)
    assert result.level == level and result.total == total and result.others == tuple(others)


TODAY = date(2026, 11, 30)
CAL = WorkCalendar.build(known_years=[2026])
READY_TO_APPROVE = ProjectFacts(
    stage=ProjectStage.DRAFT, today=TODAY, calendar=CAL, thresholds=T, total=D("600000.00"), lines=2,
    budget_line=True, budget_remaining=D("1000000.00"), targets=2, expected_beneficiaries=300,
    service_start=date(2027, 1, 1), service_end=date(2027, 12, 31), service_place="绥江县各乡镇",
    method=Method.CONSULTATION,
)


def codes_unmet(facts, target):
    return {c.code for c in stages.unmet(stages.checklist(facts, target))}


def test_a_complete_draft_may_be_approved():
    assert codes_unmet(READY_TO_APPROVE, ProjectStage.APPROVED) == set()
    assert not stages.can_transition(READY_TO_APPROVE, ProjectStage.APPROVED, Role.OFFICER, None)


@pytest.mark.parametrize(
    ("change", "unmet_code"),
    [
        ({"budget_line": False, "budget_remaining": None}, "budget_line"),
        ({"budget_remaining": D("599999.99")}, "budget_enough"),
        ({"lines": 0, "total": D("0.00")}, "lines"),
        ({"items_off_list": ("YN-S01-009",)}, "on_list"),
        ({"negative": (NegativeFinding("description", "救助资金发放", "第十条"),)}, "negative_list"),
        ({"targets": 0}, "targets"),
        ({"expected_beneficiaries": None}, "beneficiaries"),
        ({"service_end": date(2026, 12, 31), "service_start": date(2027, 1, 1)}, "service_period"),
        ({"service_place": ""}, "service_period"),
        ({"method": None}, "method"),
        ({"method": Method.SIMPLIFIED, "total": D("1200000.00"), "budget_remaining": D("2000000.00")}, "method"),
        ({"total": D("2500000.00"), "budget_remaining": D("3000000.00")}, "method_approval"),
        ({"method": Method.SINGLE_SOURCE}, "single_source_ground"),
        ({"splits": (split_check("照料护理", D("600000"), [Purchase("X", "x", D("1500000"))], D("2000000"), False),)},
         "split"),
    ],
)
def test_each_missing_precondition_blocks_approval_with_its_citation(change, unmet_code):
    facts = replace(READY_TO_APPROVE, **change)
    checks = stages.unmet(stages.checklist(facts, ProjectStage.APPROVED))
    assert unmet_code in {c.code for c in checks}
    assert all(c.citation for c in checks)


def test_every_unmet_precondition_is_returned_at_once():
    facts = replace(READY_TO_APPROVE, budget_line=False, budget_remaining=None, targets=0, method=None)
    assert {"budget_line", "targets", "method"} <= codes_unmet(facts, ProjectStage.APPROVED)


def test_recorded_approval_and_ground_satisfy_the_method_guards():
    facts = replace(READY_TO_APPROVE, total=D("2500000.00"), budget_remaining=D("3000000.00"),
                    method=Method.SINGLE_SOURCE, method_approval=True, single_source_ground="only_one")
    assert codes_unmet(facts, ProjectStage.APPROVED) == set()


def test_split_with_approval_is_a_warning_on_the_checklist_not_a_block():
    split = split_check("照料护理", D("600000"), [Purchase("X", "x", D("1500000"))], D("2000000"), True)
    checks = stages.checklist(replace(READY_TO_APPROVE, splits=(split,)), ProjectStage.APPROVED)
    warning = next(c for c in checks if c.code == "split_warning")
    assert not warning.blocking and "X" in warning.detail


APPROVED = replace(READY_TO_APPROVE, stage=ProjectStage.APPROVED)


@pytest.mark.parametrize(
    ("change", "unmet_code"),
    [
        ({}, "documents_issued"),
        ({"documents_issued_on": date(2026, 11, 2)}, "response_period"),
        ({"documents_issued_on": date(2026, 11, 2), "response_deadline": date(2026, 11, 11)}, "response_period"),
        ({"method": Method.OPEN_TENDER, "documents_issued_on": date(2026, 11, 2),
          "response_deadline": date(2026, 11, 21)}, "response_period"),  # 19 days: one short
        ({"method": Method.INVITED_TENDER, "documents_issued_on": date(2026, 11, 2),
          "response_deadline": date(2026, 11, 22), "invitations": 2}, "invitations"),
        ({"method": Method.NEGOTIATION, "documents_issued_on": date(2026, 11, 26),
          "response_deadline": date(2026, 11, 30)}, "response_period"),  # Fri + Mon: two working days
        ({"method": Method.SINGLE_SOURCE, "total": D("2500000.00"), "single_source_ground": "only_one",
          "method_approval": True, "documents_issued_on": date(2026, 11, 2), "notice_start": date(2026, 11, 2),
          "notice_end": date(2026, 11, 6)}, "single_source_notice"),  # four working days
    ],
)
def test_announcement_guards(change, unmet_code):
    assert unmet_code in codes_unmet(replace(APPROVED, **change), ProjectStage.ANNOUNCED)


@pytest.mark.parametrize(
    "change",
    [
        {"documents_issued_on": date(2026, 11, 2), "response_deadline": date(2026, 11, 12)},  # 10 days (磋商)
        {"method": Method.OPEN_TENDER, "documents_issued_on": date(2026, 11, 2), "response_deadline": date(2026, 11, 22)},
        {"method": Method.INVITED_TENDER, "documents_issued_on": date(2026, 11, 2),
         "response_deadline": date(2026, 11, 22), "invitations": 3},
        {"method": Method.NEGOTIATION, "documents_issued_on": date(2026, 11, 26), "response_deadline": date(2026, 12, 1)},
        {"method": Method.SINGLE_SOURCE, "total": D("2500000.00"), "budget_remaining": D("3000000.00"),
         "single_source_ground": "only_one", "method_approval": True, "documents_issued_on": date(2026, 11, 2),
         "notice_start": date(2026, 11, 2), "notice_end": date(2026, 11, 9)},
    ],
)
def test_announcement_guards_met(change):
    assert codes_unmet(replace(APPROVED, **change), ProjectStage.ANNOUNCED) == set()


ANNOUNCED = replace(APPROVED, stage=ProjectStage.ANNOUNCED, documents_issued_on=date(2026, 11, 2),
                    response_deadline=date(2026, 11, 20))
THREE_BIDS = (BidFacts("甲", "张三"), BidFacts("乙", "李四"), BidFacts("丙", "王五"))


@pytest.mark.parametrize(
    ("change", "unmet_code"),
    [
        ({"today": date(2026, 11, 19)}, "deadline_passed"),
        ({"bids": THREE_BIDS[:1]}, "responses"),
        ({"method": Method.OPEN_TENDER, "bids": THREE_BIDS[:2]}, "responses"),
        ({"bids": THREE_BIDS}, "evaluation_result"),
        ({"bids": THREE_BIDS, "evaluated_on": date(2026, 11, 19), "evaluation_result": "推荐甲"},
         "evaluation_after_deadline"),
    ],
)
def test_evaluation_guards(change, unmet_code):
    assert unmet_code in codes_unmet(replace(ANNOUNCED, **change), ProjectStage.EVALUATED)


def test_consultation_may_continue_with_two_suppliers():
    facts = replace(ANNOUNCED, bids=THREE_BIDS[:2], evaluated_on=date(2026, 11, 21), evaluation_result="推荐甲")
    assert codes_unmet(facts, ProjectStage.EVALUATED) == set()
    assert "responses" in codes_unmet(replace(facts, method=Method.NEGOTIATION), ProjectStage.EVALUATED)


EVALUATED = replace(ANNOUNCED, stage=ProjectStage.EVALUATED, bids=THREE_BIDS, evaluated_on=date(2026, 11, 21),
                    evaluation_result="推荐甲", award_supplier="甲", award_decided_on=date(2026, 11, 23),
                    award_notice_on=date(2026, 11, 24))


@pytest.mark.parametrize(
    ("change", "unmet_code"),
    [
        ({"award_supplier": None}, "award_supplier"),
        ({"award_notice_on": None}, "award_dates"),
        ({"award_problems": ("该承接主体在2026年3月1日至2027年2月28日期间禁止参加政府采购活动",)}, "award_eligible"),
        ({"bids": (BidFacts("甲", "张三"), BidFacts("乙", "张三"), BidFacts("丙", "王五"))}, "legal_representatives"),
    ],
)
def test_award_guards(change, unmet_code):
    assert unmet_code in codes_unmet(replace(EVALUATED, **change), ProjectStage.AWARDED)


def test_late_award_notice_and_a_fail_grade_are_warnings():
    facts = replace(EVALUATED, award_notice_on=date(2026, 11, 27), award_warnings=("上一年度绩效评价为差",))
    checks = stages.checklist(facts, ProjectStage.AWARDED)
    late = next(c for c in checks if c.code == "award_notice_in_time")
    assert not late.met and not late.blocking and "2026-11-25" in late.detail
    assert any(c.code == "award_warning" and not c.blocking for c in checks)
    assert codes_unmet(facts, ProjectStage.AWARDED) == set()


def test_shared_legal_representatives_are_named():
    pairs = stages.shared_representatives((BidFacts("甲", "张三"), BidFacts("乙", " 张三 "), BidFacts("丙", None)))
    assert pairs == [("甲", "乙", "张三")]


@pytest.mark.parametrize("source", [ProjectStage.DRAFT, ProjectStage.APPROVED, ProjectStage.ANNOUNCED, ProjectStage.EVALUATED])
def test_cancelling_needs_a_reason(source):
    facts = replace(READY_TO_APPROVE, stage=source)
    assert stages.can_transition(facts, ProjectStage.CANCELLED, Role.OFFICER, "  ").reason_missing
    assert not stages.can_transition(facts, ProjectStage.CANCELLED, Role.OFFICER, "需求变化，预算调整")


@pytest.mark.parametrize(
    ("source", "target"),
    [(ProjectStage.DRAFT, ProjectStage.AWARDED), (ProjectStage.DRAFT, ProjectStage.FAILED),
     (ProjectStage.AWARDED, ProjectStage.CANCELLED), (ProjectStage.CANCELLED, ProjectStage.DRAFT),
     (ProjectStage.APPROVED, ProjectStage.EVALUATED)],
)
def test_transitions_outside_the_table_are_refused(source, target):
    assert stages.can_transition(replace(READY_TO_APPROVE, stage=source), target, Role.OFFICER, "x").not_allowed


@pytest.mark.parametrize("role", [r for r in Role if r != Role.OFFICER])
def test_only_officers_move_projects(role):
    assert stages.can_transition(READY_TO_APPROVE, ProjectStage.APPROVED, role, None).role


def test_every_transition_has_a_label_and_every_check_a_citation():
    for transition in stages.TRANSITIONS.values():
        assert transition.label
    for facts, target in ((READY_TO_APPROVE, ProjectStage.APPROVED), (APPROVED, ProjectStage.ANNOUNCED),
                          (ANNOUNCED, ProjectStage.EVALUATED), (EVALUATED, ProjectStage.AWARDED)):
        for check in stages.checklist(facts, target):
            assert check.citation, check.code


@pytest.mark.parametrize(
    ("technical", "price", "total", "problem"),
    [
        (D("58.00"), D("29.50"), D("87.50"), False),
        (D("58"), D("29.5"), D("87.5"), False),
        (D("0"), D("0"), D("0"), False),
        (D("58.00"), D("29.50"), D("87.49"), True),
        (D("58.00"), D("29.50"), D("87.51"), True),
        (D("58.00"), D("29.50"), None, True),  # both parts given: the total is their sum
        (None, D("29.50"), D("87.50"), False),  # a part missing: nothing to add up
        (D("58.00"), None, None, False),
        (None, None, D("87.50"), False),
    ],
)
def test_a_bids_total_score_is_the_technical_plus_the_price_score(technical, price, total, problem):
    message = score_total_problem(technical, price, total)
    assert (message is not None) == problem
    if problem:
        assert f"{(technical + price):.2f}" in message
