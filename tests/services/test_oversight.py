# ruff: noqa: F811  (the ``world`` fixture is imported from the reports tests and named by each test)
"""Supervision (DOMAIN §5): inspections and phone follow-ups of a random sample, complaints, findings and
rectification notices with working-day deadlines, answered with evidence and closed after re-inspection."""

from datetime import date

import pytest
from sqlalchemy import func, select

from contracts.models import ContractState
from procurement.auth.roles import Role
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.oversight import services
from procurement.oversight.models import (
    ComplaintChannel,
    Confirmation,
    FollowUpCall,
    InspectionKind,
    NoticeState,
    Outcome,
    Satisfaction,
    Severity,
)
from procurement.oversight.services import InspectionData, OversightInvalid
from procurement.projects.services import all_deadline_rows
from procurement.supervision import services as reports
from tests.contract_factories import make_contract
from tests.factories import make_supplier, make_user
from tests.project_factories import actor
from tests.services.test_reports import ANNA, BO, CHEN, DING, MAY, World, audits, open_, row, world  # noqa: F401

PDF = b"%PDF-1.4 photo of the corrected register"
JUNE_20 = date(2026, 6, 20)


def problems_of(excinfo) -> dict:
    return dict(excinfo.value.problems)


def served(w: World, numbers=(ANNA, BO), on=date(2026, 5, 12)):
    """A submitted May report with one delivery for each of ``numbers``."""
    report = open_(w, MAY)
    for number in numbers:
        reports.add_row(report, row(w, number, on), actor(w.writer))
    reports.save_narrative(report, "五月服务", actor(w.writer))
    reports.submit_report(report, actor(w.writer))
    return report


def follow_up(w: World, size=10, start=MAY, end=date(2026, 5, 31), today=JUNE_20):
    return services.record_inspection(w.contract, InspectionData(
        InspectionKind.PHONE_FOLLOW_UP, today, start, end, "民政局 王芳", sample_size=size), actor(w.officer), today)


def on_site(w: World, day=date(2026, 6, 10)):
    return services.record_inspection(w.contract, InspectionData(
        InspectionKind.ON_SITE, day, MAY, date(2026, 5, 31), "民政局 王芳、李强", "绥江县居家养老服务站"),
        actor(w.officer), JUNE_20)


def notice_on(w: World, issued=date(2026, 6, 10), days=5, severity=Severity.MAJOR):
    finding = services.add_finding(w.contract, severity, "签到表缺少服务对象签字", issued, actor(w.officer), JUNE_20,
                                   inspection=on_site(w, issued))
    return services.issue_notice(finding, issued, days, "补齐五月签到表并整改签字制度", actor(w.officer), JUNE_20)


# --- inspections and the follow-up sample --------------------------------------------------------

def test_a_phone_follow_up_samples_only_beneficiaries_the_supplier_reported_serving_in_the_period(world):
    world.assign(CHEN)
    world.assign(DING)
    served(world, (ANNA, BO, CHEN))
    draft_june = open_(world, date(2026, 6, 1))  # a draft is not a claim yet: DING must never be drawn
    reports.add_row(draft_june, row(world, DING, date(2026, 6, 2)), actor(world.writer))
    inspection = follow_up(world, size=2)
    drawn = {call.beneficiary_id for call in inspection.calls}
    claimed = {world.people[n].id for n in (ANNA, BO, CHEN)}
    assert len(drawn) == 2 and drawn <= claimed
    assert (inspection.sample_size, inspection.population) == (2, 3)
    # asking for more than were served calls everybody once
    everyone = follow_up(world, size=50)
    assert {c.beneficiary_id for c in everyone.calls} == claimed and everyone.sample_size == 3
    assert audits("inspection.create")[-1].detail["population"] == 3


def test_the_sample_is_random_not_the_first_rows(world):
    world.assign(CHEN)
    world.assign(DING)
    served(world, (ANNA, BO, CHEN, DING))
    samples = {frozenset(c.beneficiary_id for c in follow_up(world, size=1).calls) for _ in range(40)}
    assert len(samples) > 1  # 40 draws of one person out of four all alike: (1/4)^39


def test_a_follow_up_with_nobody_served_or_a_bad_size_is_refused(world):
    with pytest.raises(OversightInvalid) as excinfo:
        follow_up(world, size=5)
    assert "没有" in problems_of(excinfo)["period_start"]
    served(world)
    for size in (0, 51, None):
        with pytest.raises(OversightInvalid) as excinfo:
            follow_up(world, size=size)
        assert "1" in problems_of(excinfo)["sample_size"] and "50" in problems_of(excinfo)["sample_size"]


def test_an_inspection_names_every_problem_at_once(world):
    data = InspectionData(InspectionKind.ON_SITE, date(2026, 7, 1), date(2026, 3, 1), date(2026, 2, 1), " ", None)
    with pytest.raises(OversightInvalid) as excinfo:
        services.record_inspection(world.contract, data, actor(world.officer), JUNE_20)
    problems = problems_of(excinfo)
    assert "晚于今天" in problems["inspected_on"]
    assert "早于开始" in problems["period_end"]
    assert problems["inspectors"] and problems["place"]
    before_term = InspectionData(InspectionKind.DOCUMENT_REVIEW, date(2026, 3, 30), date(2026, 3, 1),
                                 date(2026, 3, 31), "王芳")
    with pytest.raises(OversightInvalid) as excinfo:
        services.record_inspection(world.contract, before_term, actor(world.officer), JUNE_20)
    assert set(problems_of(excinfo)) == {"inspected_on", "period_start"}
    assert db.session.scalar(select(func.count()).select_from(FollowUpCall)) == 0


def test_only_an_officer_of_the_region_supervises_and_only_a_running_contract(world):
    other_county = make_user(Role.OFFICER, region_code="530102")
    data = InspectionData(InspectionKind.DOCUMENT_REVIEW, JUNE_20, MAY, date(2026, 5, 31), "王芳")
    with pytest.raises(AccessDenied):
        services.record_inspection(world.contract, data, actor(other_county), JUNE_20)
    with pytest.raises(AccessDenied):
        services.record_inspection(world.contract, data, actor(world.writer), JUNE_20)
    draft = make_contract(world.officer.organization, world.contract.supplier, world.item, state=ContractState.DRAFT)
    with pytest.raises(DomainError, match="签订"):
        services.record_inspection(draft, data, actor(world.officer), JUNE_20)


def test_a_call_records_what_the_beneficiary_said(world):
    served(world)
    call = follow_up(world, size=1).calls[0]
    with pytest.raises(OversightInvalid) as excinfo:
        services.record_call(call, JUNE_20, True, None, None, None, actor(world.officer), JUNE_20)
    assert set(problems_of(excinfo)) == {"confirmation", "satisfaction"}
    with pytest.raises(OversightInvalid) as excinfo:
        services.record_call(call, date(2026, 6, 21), None, None, None, None, actor(world.officer), JUNE_20)
    assert set(problems_of(excinfo)) == {"called_on", "reached"}
    services.record_call(call, JUNE_20, True, Confirmation.PARTLY, Satisfaction.BASICALLY, "说只来了一次",
                         actor(world.officer), JUNE_20)
    assert (call.reached, call.confirmation, call.satisfaction) == (True, Confirmation.PARTLY, Satisfaction.BASICALLY)
    services.record_call(call, JUNE_20, False, Confirmation.CONFIRMED, Satisfaction.SATISFIED, "无人接听",
                         actor(world.officer), JUNE_20)
    assert (call.reached, call.confirmation, call.satisfaction) == (False, None, None)  # nobody answered: no answers
    assert len(audits("inspection.call")) == 1 + 1


# --- complaints ----------------------------------------------------------------------------------

def test_a_complaint_is_recorded_closed_once_and_can_give_a_finding(world):
    complaint = services.record_complaint(world.contract, date(2026, 6, 1), ComplaintChannel.HOTLINE,
                                          "护理员多次迟到", actor(world.officer), JUNE_20)
    with pytest.raises(OversightInvalid) as excinfo:
        services.close_complaint(complaint, date(2026, 5, 30), None, "", actor(world.officer), JUNE_20)
    assert set(problems_of(excinfo)) == {"closed_on", "substantiated", "handling"}
    services.close_complaint(complaint, date(2026, 6, 5), True, "约谈机构负责人，调整排班", actor(world.officer), JUNE_20)
    with pytest.raises(DomainError, match="已经办结"):
        services.close_complaint(complaint, date(2026, 6, 5), True, "再次", actor(world.officer), JUNE_20)
    finding = services.add_finding(world.contract, Severity.MINOR, "排班不合理", date(2026, 6, 5),
                                   actor(world.officer), JUNE_20, complaint=complaint)
    assert finding.complaint_id == complaint.id and finding.inspection_id is None
    with pytest.raises(OversightInvalid) as excinfo:
        services.add_finding(world.contract, None, "", date(2026, 5, 1), actor(world.officer), JUNE_20,
                             complaint=complaint)
    assert set(problems_of(excinfo)) == {"found_on", "severity", "description"}


# --- rectification notices -------------------------------------------------------------------------

def test_the_deadline_counts_working_days_across_the_national_day_holiday(world):
    notice = notice_on(world, issued=date(2026, 6, 10))
    assert notice.due_on == date(2026, 6, 17)  # Wed 10 June + 5 working days
    finding = services.add_finding(world.contract, Severity.SERIOUS, "服务人员无证上岗", date(2026, 9, 30),
                                   actor(world.officer), date(2026, 9, 30), inspection=on_site(world, date(2026, 6, 10)))
    autumn = services.issue_notice(finding, date(2026, 9, 30), 3, "更换持证人员", actor(world.officer), date(2026, 9, 30))
    # 1–7 October off; Thursday 8 and Friday 9 count, and Saturday 10 is a worked day (调休)
    assert autumn.due_on == date(2026, 10, 10) and not autumn.due_estimated
    assert autumn.number.startswith("ZG-" + world.contract.number) and autumn.number != notice.number


def test_a_notice_needs_a_sound_requirement_and_one_per_finding(world):
    finding = services.add_finding(world.contract, Severity.MAJOR, "台账缺失", date(2026, 6, 10), actor(world.officer),
                                   JUNE_20, inspection=on_site(world))
    for days in (0, 61, None):
        with pytest.raises(OversightInvalid) as excinfo:
            services.issue_notice(finding, date(2026, 6, 9), days, " ", actor(world.officer), JUNE_20)
        assert set(problems_of(excinfo)) == {"issued_on", "working_days", "requirement"}
    notice = services.issue_notice(finding, date(2026, 6, 10), 10, "补齐台账", actor(world.officer), JUNE_20)
    with pytest.raises(DomainError, match=notice.number):
        services.issue_notice(finding, date(2026, 6, 10), 10, "再发一次", actor(world.officer), JUNE_20)


def test_the_supplier_answers_with_evidence_once_and_the_officer_closes(world, app):
    notice = notice_on(world)
    with pytest.raises(OversightInvalid) as excinfo:
        services.answer_notice(notice, "", actor(world.writer), JUNE_20)
    assert set(problems_of(excinfo)) == {"answer", "evidence"}
    with pytest.raises(DomainError, match="PDF"):
        services.add_evidence(notice, b"just text", "note.pdf", actor(world.writer))
    services.add_evidence(notice, PDF, "签到表.pdf", actor(world.writer))
    with pytest.raises(DomainError):
        services.add_evidence(notice, PDF, "again.pdf", actor(world.writer))
    # closing before the answer, while the supplier still has time, is refused
    with pytest.raises(DomainError, match="2026-06-17"):
        services.close_notice(notice, Outcome.FIXED, date(2026, 6, 12), None, actor(world.officer), date(2026, 6, 12))
    assert services.answer_notice(notice, "已补签并建立双人核对制度", actor(world.writer), date(2026, 6, 16))
    assert not services.answer_notice(notice, "第二次点击", actor(world.writer), date(2026, 6, 16))  # nothing changes
    assert notice.state == NoticeState.ANSWERED and notice.answer == "已补签并建立双人核对制度"
    assert not notice.late(date(2026, 6, 30))
    with pytest.raises(OversightInvalid) as excinfo:
        services.close_notice(notice, Outcome.PARTLY_FIXED, date(2026, 6, 15), "", actor(world.officer), JUNE_20)
    assert set(problems_of(excinfo)) == {"reinspected_on", "closing_note"}
    with pytest.raises(AccessDenied):
        services.close_notice(notice, Outcome.FIXED, JUNE_20, None, actor(world.writer), JUNE_20)
    services.close_notice(notice, Outcome.FIXED, JUNE_20, None, actor(world.officer), JUNE_20)
    assert notice.state == NoticeState.CLOSED
    with pytest.raises(DomainError, match="已经关闭"):
        services.close_notice(notice, Outcome.FIXED, JUNE_20, None, actor(world.officer), JUNE_20)
    assert [a.detail["late"] for a in audits("rectification.answer")] == [False]


def test_another_supplier_cannot_see_or_answer_the_notice(world):
    notice = notice_on(world)
    stranger = make_user(Role.SUPPLIER, organization=make_supplier(name="别的社工机构"))
    assert not services.can_view_notice(stranger, notice)
    with pytest.raises(AccessDenied):
        services.add_evidence(notice, PDF, "x.pdf", actor(stranger))
    with pytest.raises(AccessDenied):
        services.answer_notice(notice, "我来回复", actor(stranger), JUNE_20)
    assert services.open_notices(stranger, JUNE_20) == ([], 0)
    assert services.can_view_notice(world.writer, notice)
    # the supplier sees its notices but never the inspections, calls and complaints behind them
    assert not services.can_view(world.writer, world.contract)


def test_an_unanswered_notice_is_overdue_then_closed_late(world):
    notice = notice_on(world)  # due 17 June
    assert services.open_notices(world.writer, date(2026, 6, 17)) == ([notice], 0)
    assert services.open_notices(world.writer, date(2026, 6, 18)) == ([notice], 1)
    rows = all_deadline_rows(world.officer, date(2026, 6, 18))
    mine = [r for r in rows if r.code == notice.number]
    assert len(mine) == 1 and mine[0].state == "overdue" and mine[0].due == date(2026, 6, 17)
    assert mine[0].url_endpoint == "oversight.notice" and "整改" in mine[0].label
    assert [r.state for r in all_deadline_rows(world.officer, date(2026, 6, 16)) if r.code == notice.number] == ["due"]
    services.close_notice(notice, Outcome.NOT_FIXED, JUNE_20, "逾期未整改", actor(world.officer), JUNE_20)
    assert not [r for r in all_deadline_rows(world.officer, JUNE_20) if r.code == notice.number]
    done = [r for r in all_deadline_rows(world.officer, JUNE_20, include_done=True) if r.code == notice.number]
    assert [r.state for r in done] == ["done_late"]
    other_county = make_user(Role.OFFICER, region_code="530102")
    assert not [r for r in all_deadline_rows(other_county, date(2026, 6, 18)) if r.code == notice.number]


def test_the_evidence_of_a_period_counts_what_the_evaluation_scores(world):
    served(world, (ANNA, BO))
    inspection = follow_up(world, size=2)
    first, second = inspection.calls
    services.record_call(first, JUNE_20, True, Confirmation.CONFIRMED, Satisfaction.SATISFIED, None,
                         actor(world.officer), JUNE_20)
    services.record_call(second, JUNE_20, True, Confirmation.DENIED, Satisfaction.DISSATISFIED, None,
                         actor(world.officer), JUNE_20)
    late = notice_on(world, issued=date(2026, 6, 1), severity=Severity.SERIOUS)  # due 8 June
    services.add_evidence(late, PDF, "a.pdf", actor(world.writer))
    services.answer_notice(late, "已整改", actor(world.writer), date(2026, 6, 9))  # a day late
    services.close_notice(late, Outcome.FIXED, date(2026, 6, 10), None, actor(world.officer), JUNE_20)
    in_time = notice_on(world, issued=date(2026, 6, 10))
    services.add_evidence(in_time, PDF, "b.pdf", actor(world.writer))
    services.answer_notice(in_time, "已整改", actor(world.writer), date(2026, 6, 11))
    services.close_notice(in_time, Outcome.FIXED, date(2026, 6, 12), None, actor(world.officer), JUNE_20)
    june = services.evidence(world.contract, date(2026, 6, 1), date(2026, 6, 30), JUNE_20)
    assert (june.inspections, june.calls_made, june.calls_reached, june.satisfied, june.confirmed) == (3, 2, 2, 1, 1)
    assert (june.findings, june.serious_findings, june.notices) == (2, 1, 2)
    assert (june.notices_closed_fixed_in_time, june.notices_late, june.notices_not_fixed) == (1, 1, 0)
    assert june.satisfaction_rate == 50 and june.rectified_in_time_rate == 50
    may = services.evidence(world.contract, MAY, date(2026, 5, 31), JUNE_20)
    assert (may.inspections, may.notices, may.satisfaction_rate) == (0, 0, None)
