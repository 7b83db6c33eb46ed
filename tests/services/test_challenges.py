"""Challenges (质疑) to a purchase: who may challenge, within which window, and the 7-working-day reply.

政府采购法 第五十二条 (window: 7 working days after the award notice, DOMAIN §3) and 第五十三条 (reply within
7 working days of receipt), on the 2026 State Council holiday schedule (National Day 1–7 Oct off, Sat 10 Oct worked).
"""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor
from procurement.auth.roles import Role
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.projects import services
from procurement.projects.challenges import (
    Challenge,
    ChallengeMatter,
    ChallengeOutcome,
    challenge_deadline_rows,
    record_challenge,
    reply_to_challenge,
    window_end,
)
from procurement.rules.clock import beijing_today
from procurement.rules.stages import ProjectStage
from tests.factories import make_user
from tests.project_factories import invite, make_bid, make_bureau, make_staged_project, registered_supplier

TODAY = beijing_today()
D = timedelta(days=1)
NOTICE = date(2026, 9, 29)  # award notice on the Tuesday before National Day


def who(user) -> Actor:
    return Actor(user, "127.0.0.1")


def awarded(notice_on=NOTICE, **overrides):
    """An awarded project of a 绥江 bureau with its winner (a bidder) and an invited supplier that did not bid."""
    bureau = make_bureau()
    winner, invited = registered_supplier(), registered_supplier()
    project = make_staged_project(bureau, stage=ProjectStage.AWARDED, documents_issued_on=notice_on - 40 * D,
                                  response_deadline=notice_on - 20 * D, evaluated_on=notice_on - 10 * D,
                                  award_decided_on=notice_on - D, award_notice_on=notice_on, award_supplier_id=winner.id,
                                  **overrides)
    make_bid(project, winner, submitted_on=notice_on - 21 * D)
    invite(project, invited, notice_on - 39 * D)
    db.session.expire(project, ["invitations", "bids"])
    officer = make_user(Role.OFFICER, organization=bureau)
    return project, officer, winner, invited


def audit(action):
    return db.session.execute(select(AuditRecord).where(AuditRecord.action == action)
                              .order_by(AuditRecord.id.desc())).scalars().first()


# --- the reply deadline ---------------------------------------------------------------------

def test_reply_is_due_7_working_days_after_receipt_across_national_day():
    project, officer, winner, _ = awarded()
    assert services.work_calendar().knows(date(2026, 10, 1))  # the 2026 schedule is entered
    # received Wed 30 Sep: 1–7 Oct off; Thu 8 (1), Fri 9 (2), Sat 10 worked (3), Mon 12–Thu 15 (4–7)
    challenge = record_challenge(project, winner, date(2026, 9, 30), "评分不公", who(officer), TODAY)
    assert challenge.reply_due.day == date(2026, 10, 15)
    assert challenge.reply_due.estimated is False
    record = audit("project.challenge")
    assert record.detail["reply_due"] == "2026-10-15" and record.detail["supplier"] == winner.id


def test_window_closes_7_working_days_after_the_award_notice():
    project, officer, winner, invited = awarded()
    # notice Tue 29 Sep: Wed 30 (1), 8 (2), 9 (3), Sat 10 (4), 12 (5), 13 (6), 14 Oct (7)
    assert window_end(project).day == date(2026, 10, 14)
    with pytest.raises(DomainError) as refused:
        record_challenge(project, invited, date(2026, 10, 15), "结果不公", who(officer), TODAY)
    assert refused.value.field == "received_on"
    assert "第五十二条" in refused.value.citation
    assert record_challenge(project, invited, date(2026, 10, 14), "结果不公", who(officer), TODAY).id


def test_no_challenge_before_the_purchase_is_announced():
    bureau = make_bureau()
    project = make_staged_project(bureau, stage=ProjectStage.APPROVED)
    supplier = registered_supplier()
    invite(project, supplier, TODAY - 5 * D)
    officer = make_user(Role.OFFICER, organization=bureau)
    with pytest.raises(DomainError) as refused:
        record_challenge(project, supplier, TODAY, "文件有倾向性", who(officer), TODAY, matter=ChallengeMatter.DOCUMENTS)
    assert refused.value.field == "received_on" and refused.value.citation


def test_documents_may_be_challenged_from_their_issue_and_the_result_only_after_the_notice():
    bureau = make_bureau()
    issued = TODAY - 10 * D
    project = make_staged_project(bureau, stage=ProjectStage.ANNOUNCED, documents_issued_on=issued,
                                  response_deadline=TODAY + 15 * D)
    supplier = registered_supplier()
    invite(project, supplier, issued)
    db.session.expire(project, ["invitations"])
    officer = make_user(Role.OFFICER, organization=bureau)
    with pytest.raises(DomainError) as early:
        record_challenge(project, supplier, issued - D, "文件设置歧视性条款", who(officer), TODAY,
                         matter=ChallengeMatter.DOCUMENTS)
    assert early.value.field == "received_on"
    with pytest.raises(DomainError) as result:
        record_challenge(project, supplier, TODAY, "结果不公", who(officer), TODAY, matter=ChallengeMatter.RESULT)
    assert result.value.field == "matter"
    challenge = record_challenge(project, supplier, issued, "文件设置歧视性条款", who(officer), TODAY,
                                 matter=ChallengeMatter.DOCUMENTS)
    assert challenge.matter == ChallengeMatter.DOCUMENTS and challenge.is_open


def test_a_supplier_that_took_no_part_may_not_challenge():
    project, officer, _winner, _invited = awarded()
    outsider = registered_supplier()
    with pytest.raises(DomainError) as refused:
        record_challenge(project, outsider, date(2026, 9, 30), "结果不公", who(officer), TODAY)
    assert refused.value.field == "supplier" and refused.value.citation
    assert db.session.execute(select(Challenge)).first() is None


def test_a_future_receipt_day_is_refused():
    project, officer, winner, _ = awarded(notice_on=TODAY)
    with pytest.raises(DomainError) as refused:
        record_challenge(project, winner, TODAY + D, "结果不公", who(officer), TODAY)
    assert refused.value.field == "received_on"


def test_only_officers_of_the_region_record_and_reply():
    project, _officer, winner, _ = awarded()
    stranger = make_user(Role.OFFICER, organization=make_bureau("532601"))
    with pytest.raises(AccessDenied):
        record_challenge(project, winner, date(2026, 9, 30), "结果不公", who(stranger), TODAY)
    finance = make_user(Role.FINANCE, region_code="530626")
    with pytest.raises(AccessDenied):
        record_challenge(project, winner, date(2026, 9, 30), "结果不公", who(finance), TODAY)


def test_an_empty_challenge_is_refused():
    project, officer, winner, _ = awarded()
    with pytest.raises(DomainError) as refused:
        record_challenge(project, winner, date(2026, 9, 30), "   ", who(officer), TODAY)
    assert refused.value.field == "subject"


# --- the reply ------------------------------------------------------------------------------

def test_reply_needs_text_an_outcome_and_a_day_between_receipt_and_today():
    project, officer, winner, _ = awarded()
    challenge = record_challenge(project, winner, date(2026, 9, 30), "评分不公", who(officer), TODAY)
    cases = [
        (dict(replied_on=date(2026, 10, 9), reply="", outcome=ChallengeOutcome.DISMISSED), "reply"),
        (dict(replied_on=date(2026, 10, 9), reply="经复核，评分无误。", outcome=None), "outcome"),
        (dict(replied_on=date(2026, 9, 29), reply="经复核，评分无误。", outcome=ChallengeOutcome.DISMISSED), "replied_on"),
        (dict(replied_on=TODAY + D, reply="经复核，评分无误。", outcome=ChallengeOutcome.DISMISSED), "replied_on"),
    ]
    for args, field in cases:
        with pytest.raises(DomainError) as refused:
            reply_to_challenge(challenge, actor=who(officer), today=TODAY, **args)
        assert refused.value.field == field
    assert challenge.is_open


def test_reply_in_time_and_late():
    project, officer, winner, invited = awarded()
    first = record_challenge(project, winner, date(2026, 9, 30), "评分不公", who(officer), TODAY)
    second = record_challenge(project, invited, date(2026, 9, 30), "程序违法", who(officer), TODAY,
                              matter=ChallengeMatter.PROCESS)
    assert reply_to_challenge(first, date(2026, 10, 15), "经复核，评分无误。", ChallengeOutcome.DISMISSED, who(officer),
                              TODAY, expected_version=first.version) is False
    assert first.replied_late is False
    # a reply after the due day is accepted, and flagged late
    assert reply_to_challenge(second, date(2026, 10, 16), "部分成立，已纠正。", ChallengeOutcome.PARTLY_UPHELD,
                              who(officer), TODAY) is True
    assert second.replied_late is True and second.outcome == ChallengeOutcome.PARTLY_UPHELD
    record = audit("project.challenge_reply")
    assert record.detail["late"] is True and record.detail["outcome"] == "partly_upheld"
    with pytest.raises(DomainError):  # answered once
        reply_to_challenge(first, date(2026, 10, 16), "再次答复", ChallengeOutcome.UPHELD, who(officer), TODAY)


def test_a_stale_reply_is_a_conflict():
    project, officer, winner, _ = awarded()
    challenge = record_challenge(project, winner, date(2026, 9, 30), "评分不公", who(officer), TODAY)
    loaded = challenge.version
    reply_to_challenge(challenge, date(2026, 10, 9), "经复核，评分无误。", ChallengeOutcome.DISMISSED, who(officer), TODAY,
                       expected_version=loaded)
    with pytest.raises(ConflictError):
        reply_to_challenge(challenge, date(2026, 10, 9), "质疑成立。", ChallengeOutcome.UPHELD, who(officer), TODAY,
                           expected_version=loaded)
    assert challenge.outcome == ChallengeOutcome.DISMISSED


# --- "my deadlines" -------------------------------------------------------------------------

def test_open_challenges_are_due_or_overdue_on_my_deadlines():
    project, officer, winner, invited = awarded()
    overdue = record_challenge(project, winner, date(2026, 9, 30), "评分不公", who(officer), TODAY)
    recent, _, recent_winner, _ = awarded(notice_on=TODAY)
    due = record_challenge(recent, recent_winner, TODAY, "结果不公", who(officer), TODAY)
    rows = [r for r in services.all_deadline_rows(officer, TODAY) if r.step == "challenge_reply"]
    by_project = {r.project_id: r for r in rows}
    assert by_project[project.id].state == "overdue" and by_project[project.id].due == date(2026, 10, 15)
    assert by_project[recent.id].state == "due" and by_project[recent.id].due == due.reply_due.day
    assert by_project[project.id].url_endpoint == "projects.detail"
    assert "第五十三条" in by_project[project.id].citation
    assert by_project[project.id].label == services.PERIODS["challenge_reply"].label
    assert "challenge_reply" in services.DEADLINE_STEPS
    # answered: no longer open; shown as done (or done late) among the done steps
    reply_to_challenge(overdue, date(2026, 10, 16), "已答复", ChallengeOutcome.DISMISSED, who(officer), TODAY)
    open_rows = [r for r in services.all_deadline_rows(officer, TODAY) if r.step == "challenge_reply"]
    assert {r.project_id for r in open_rows} == {recent.id}
    done = [r for r in challenge_deadline_rows(officer, TODAY, include_done=True) if r.project_id == project.id]
    assert [(r.state, r.done_on) for r in done] == [("done_late", date(2026, 10, 16))]
    # another county's officer does not see them
    stranger = make_user(Role.OFFICER, organization=make_bureau("532601"))
    assert not challenge_deadline_rows(stranger, TODAY, include_done=True)
