"""The "Challenges" card of a project and its two forms: record a challenge (质疑), reply to it.

Refusals are messages next to their field (status 400), a stale reply is a conflict (409), and only officers
who run the purchase may post.
"""

import html
import re
from datetime import date, timedelta

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from procurement.audit.services import Actor
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.projects.challenges import Challenge, ChallengeOutcome, record_challenge
from procurement.rules.clock import beijing_today
from procurement.rules.stages import ProjectStage
from tests.factories import login_as, make_user
from tests.project_factories import invite, make_bid, make_bureau, make_staged_project, registered_supplier

TODAY = beijing_today()
D = timedelta(days=1)
NOTICE = date(2026, 9, 29)


def text(response) -> str:
    return response.get_data(as_text=True)


def shown(msgid: str, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


def field_errors(page: str, field_id: str) -> list[str]:
    start = page.find(f'id="{field_id}"')
    if start < 0:
        return []
    end = min(i for i in (page.find("<label", start), page.find("</form>", start), len(page)) if i >= 0)
    return [html.unescape(m) for m in re.findall(r'invalid-feedback d-block">(.*?)</div>', page[start:end], re.S)]


@pytest.fixture
def bureau():
    return make_bureau("530626")


@pytest.fixture
def officer(bureau):
    return make_user(Role.OFFICER, organization=bureau, display_name="王芳")


def awarded(bureau, notice_on=NOTICE):
    winner, invited = registered_supplier(name="绥江县阳光社工服务中心"), registered_supplier(name="绥江县晨曦社工服务中心")
    project = make_staged_project(bureau, stage=ProjectStage.AWARDED, documents_issued_on=notice_on - 40 * D,
                                  response_deadline=notice_on - 20 * D, evaluated_on=notice_on - 10 * D,
                                  award_decided_on=notice_on - D, award_notice_on=notice_on, award_supplier_id=winner.id)
    make_bid(project, winner, submitted_on=notice_on - 21 * D)
    invite(project, invited, notice_on - 39 * D)
    db.session.expire(project, ["invitations", "bids"])
    return project, winner, invited


def challenge_of(project, supplier, officer, received_on=date(2026, 9, 30)) -> Challenge:
    challenge = record_challenge(project, supplier, received_on, "评分不公", Actor(officer, "127.0.0.1"), TODAY)
    db.session.commit()
    return challenge


def test_the_card_lists_challenges_with_the_due_day_red_when_overdue(client, bureau, officer):
    project, winner, invited = awarded(bureau)
    overdue = challenge_of(project, winner, officer)
    login_as(client, officer)
    page = text(client.get(f"/projects/{project.id}"))
    assert 'id="challenges"' in page
    row = page[page.index(f'id="challenge-{overdue.id}"'):]
    assert 'data-due="2026-10-15"' in row  # 30 Sep + 7 working days across National Day
    assert re.search(r'text-danger fw-semibold" data-due="2026-10-15"\s+data-overdue', row)
    # a reply form for the open challenge, and the form to record another one
    assert f'name="reply{overdue.id}-reply"' in page
    assert f'action="/projects/{project.id}/challenges/new"' in page
    assert winner.name in page and invited.name in page


def test_record_a_challenge(client, bureau, officer):
    project, winner, _ = awarded(bureau, notice_on=TODAY - 2 * D)
    login_as(client, officer)
    response = client.post(f"/projects/{project.id}/challenges/new", data={
        "supplier": str(winner.id), "matter": "result", "received_on": TODAY.isoformat(), "subject": "评审打分有误"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/projects/{project.id}#challenges")
    challenge = db.session.execute(select(Challenge)).scalar_one()
    assert (challenge.supplier_id, challenge.received_on, challenge.subject) == (winner.id, TODAY, "评审打分有误")
    assert challenge.recorded_by_id == officer.id


def test_record_errors_are_next_to_their_fields(client, bureau, officer):
    project, winner, _ = awarded(bureau)
    outsider = registered_supplier(name="外县社工机构")
    login_as(client, officer)
    url = f"/projects/{project.id}/challenges/new"
    empty = client.post(url, data={"supplier": "", "matter": "result", "received_on": "", "subject": ""})
    assert empty.status_code == 400
    page = text(empty)
    assert field_errors(page, "supplier") == ["请选择承接主体。"]  # an existing translation
    assert field_errors(page, "subject") == [html.unescape(shown("Enter what is challenged and why."))]
    assert field_errors(page, "received_on")
    # after the window (closed 14 Oct 2026)
    late = client.post(url, data={"supplier": str(winner.id), "matter": "result", "received_on": "2026-10-15",
                                  "subject": "结果不公"})
    assert late.status_code == 400
    [message] = field_errors(text(late), "received_on")
    assert "2026-10-14" in message
    assert "第五十二条" in text(late)  # the rule it cites
    # a supplier not in the purchase cannot even be chosen; a typed id is refused next to the field
    stranger = client.post(url, data={"supplier": str(outsider.id), "matter": "result", "received_on": "2026-09-30",
                                      "subject": "结果不公"})
    assert stranger.status_code == 400 and field_errors(text(stranger), "supplier")
    # a day in the future, and nonsense
    future = client.post(url, data={"supplier": str(winner.id), "matter": "result",
                                    "received_on": (TODAY + D).isoformat(), "subject": "结果不公"})
    assert future.status_code == 400
    assert field_errors(text(future), "received_on") == ["该日期晚于今天；请在该环节实际发生后再登记。"]
    junk = client.post(url, data={"supplier": "x'; --", "matter": "nope", "received_on": "2026-13-45", "subject": "x"})
    assert junk.status_code == 400
    assert db.session.execute(select(Challenge)).first() is None


def test_reply_in_time_late_and_errors(client, bureau, officer):
    project, winner, invited = awarded(bureau)
    first, second = challenge_of(project, winner, officer), challenge_of(project, invited, officer)
    login_as(client, officer)
    url = f"/projects/{project.id}/challenges/{first.id}/reply"
    p = f"reply{first.id}-"
    bad = client.post(url, data={p + "version": "1", p + "replied_on": "2026-09-29", p + "outcome": "",
                                 p + "reply": ""})
    assert bad.status_code == 400
    page = text(bad)
    assert field_errors(page, p + "outcome") and field_errors(page, p + "reply")
    before = client.post(url, data={p + "version": "1", p + "replied_on": "2026-09-29", p + "outcome": "dismissed",
                                    p + "reply": "经复核，评分无误。"})
    assert before.status_code == 400 and field_errors(text(before), p + "replied_on")
    ok = client.post(url, data={p + "version": "1", p + "replied_on": "2026-10-15", p + "outcome": "dismissed",
                                p + "reply": "经复核，评分无误。"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Challenge, first.id).outcome == ChallengeOutcome.DISMISSED
    # late: accepted, flagged on the card
    q = f"reply{second.id}-"
    late = client.post(f"/projects/{project.id}/challenges/{second.id}/reply", data={
        q + "version": "1", q + "replied_on": "2026-10-16", q + "outcome": "partly_upheld", q + "reply": "部分成立"},
        follow_redirects=True)
    assert late.status_code == 200
    page = text(late)
    row = page[page.index(f'id="challenge-{second.id}"'):]
    assert 'data-outcome="partly_upheld"' in row and "badge text-bg-danger" in row
    assert shown("The reply has been recorded, but late: it was due by %(day)s.", day="2026-10-15") in page


def test_a_second_reply_on_the_same_version_is_a_conflict(client, app, bureau, officer):
    project, winner, _ = awarded(bureau)
    challenge = challenge_of(project, winner, officer)
    colleague = make_user(Role.OFFICER, organization=bureau)
    url = f"/projects/{project.id}/challenges/{challenge.id}/reply"
    p = f"reply{challenge.id}-"
    other = app.test_client()
    login_as(other, officer)
    login_as(client, colleague)
    assert other.post(url, data={p + "version": "1", p + "replied_on": "2026-10-09", p + "outcome": "dismissed",
                                 p + "reply": "评分无误"}).status_code == 302
    second = client.post(url, data={p + "version": "1", p + "replied_on": "2026-10-09", p + "outcome": "upheld",
                                    p + "reply": "质疑成立"})
    assert second.status_code == 409
    page = text(second)
    assert shown("Someone else replied to this challenge while you were writing your reply.") in page
    assert 'id="conflict"' in page and "王芳" in page and "质疑成立" in page
    db.session.expire_all()
    assert db.session.get(Challenge, challenge.id).reply == "评分无误"


def test_a_supplier_or_another_county_may_not_post(client, bureau, officer):
    project, winner, _ = awarded(bureau)
    challenge = challenge_of(project, winner, officer)
    supplier_user = make_user(Role.SUPPLIER, organization=winner)
    stranger = make_user(Role.OFFICER, organization=make_bureau("532601"))
    new_url = f"/projects/{project.id}/challenges/new"
    reply_url = f"/projects/{project.id}/challenges/{challenge.id}/reply"
    p = f"reply{challenge.id}-"
    for user in (supplier_user, stranger):
        login_as(client, user)
        assert client.post(new_url, data={"supplier": str(winner.id), "matter": "result",
                                          "received_on": "2026-09-30", "subject": "x"}).status_code == 403
        assert client.post(reply_url, data={p + "version": "1", p + "replied_on": "2026-10-09",
                                            p + "outcome": "upheld", p + "reply": "x"}).status_code == 403
    assert db.session.execute(select(Challenge)).scalars().all() == [challenge]
    # a reply to a challenge of another project is not found
    other_project, _, _ = awarded(bureau)
    login_as(client, officer)
    assert client.get(f"/projects/{other_project.id}/challenges/{challenge.id}/reply").status_code == 404


def test_my_deadlines_lists_the_open_reply(client, bureau, officer):
    project, winner, _ = awarded(bureau)
    challenge = challenge_of(project, winner, officer)
    login_as(client, officer)
    page = text(client.get("/projects/deadlines?step=challenge_reply"))
    assert f'href="/projects/{project.id}#challenge-{challenge.id}"' in page
    assert "deadline-overdue" in page and "第五十三条" in page
