"""The purchase steps as an officer records them: every refusal is a message next to its field, never a 500."""

import html
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from procurement.audit.models import AuditRecord
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.orgs.models import Qualification
from procurement.projects import services
from procurement.projects.models import Bid, Invitation, Project
from procurement.rules import stages
from procurement.rules.clock import beijing_today
from procurement.rules.procurement import PERIODS, Method
from procurement.rules.stages import ProjectStage
from tests.factories import login_as, make_supplier, make_user
from tests.project_factories import (
    announced,
    ban,
    invite,
    make_bid,
    make_bureau,
    make_staged_project,
    registered_supplier,
)

TODAY = beijing_today()
D = timedelta(days=1)



def text(response) -> str:
    return response.get_data(as_text=True)


def shown(msgid: str, **variables) -> str:
    """A message as the page renders it (the user's language, HTML-escaped)."""
    return str(escape(gettext(msgid, **variables)))


def field_errors(page: str, field_id: str) -> list[str]:
    """The error messages rendered in the wrapper of one field (up to the next field's label)."""
    start = page.find(f'id="{field_id}"')
    if start < 0:
        return []
    end = min(i for i in (page.find("<label", start), page.find("</form>", start), len(page)) if i >= 0)
    return [html.unescape(m) for m in re.findall(r'invalid-feedback d-block">(.*?)</div>', page[start:end], re.S)]


def reload(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def audit_actions(object_id) -> list[str]:
    return db.session.execute(select(AuditRecord.action).where(AuditRecord.object_type == "project",
                                                               AuditRecord.object_id == str(object_id))).scalars().all()


@pytest.fixture
def officer():
    return make_user(Role.OFFICER, organization=make_bureau("530626"))


@pytest.fixture
def logged_in(client, officer):
    """Log in after the test has built its data (login commits)."""
    return lambda: login_as(client, officer)


def project_of(officer, **kw) -> Project:
    return make_staged_project(bureau=officer.organization, **kw)


def detail_url(project) -> str:
    return f"/projects/{project.id}"


# --- access ---------------------------------------------------------------------------------

STEP_URLS = ["announcement", "notice", "invitations/new", "bids/new", "evaluation", "award"]


@pytest.mark.parametrize("step", STEP_URLS)
def test_an_officer_of_another_county_or_a_supplier_may_not_open_a_step(client, officer, step):
    project = project_of(officer)
    other = make_user(Role.OFFICER, organization=make_bureau("532601"))
    login_as(client, other)
    assert client.get(f"/projects/{project.id}/{step}").status_code == 403
    assert client.post(f"/projects/{project.id}/{step}", data={}).status_code == 403
    login_as(client, make_user(Role.SUPPLIER))
    assert client.get(f"/projects/{project.id}/{step}").status_code == 403
    assert client.get(f"/projects/999999/{step}").status_code in (403, 404)


def test_an_ended_project_cannot_be_changed(client, officer, logged_in):
    project = project_of(officer, stage=ProjectStage.CANCELLED)
    logged_in()
    assert client.get(f"/projects/{project.id}/announcement").status_code == 403
    response = client.post(f"/projects/{project.id}/announcement", data={"documents_issued_on": TODAY.isoformat()})
    assert response.status_code == 403
    assert reload(Project, project.id).documents_issued_on is None


def test_a_provincial_officer_may_run_a_county_purchase(client, officer):
    project = project_of(officer)
    province = make_user(Role.OFFICER, organization=make_bureau("530000"))
    login_as(client, province)
    assert client.get(f"/projects/{project.id}/announcement").status_code == 200


# --- announcement ---------------------------------------------------------------------------

def test_the_announcement_page_shows_the_minimum_period_of_the_method_and_the_earliest_deadline(client, officer, logged_in):
    issued = date(2026, 9, 21)
    project = project_of(officer, method=Method.CONSULTATION, documents_issued_on=issued)
    logged_in()
    page = text(client.get(f"/projects/{project.id}/announcement"))
    period = PERIODS["consultation_response"]
    assert shown(period.msgid) in page and period.citation in page
    earliest = period.end(services.work_calendar(), issued).day
    assert earliest == date(2026, 10, 1)
    assert 'id="estimated"' not in page
    assert "2026年10月1日" in page


def test_a_working_day_minimum_in_a_year_without_a_calendar_is_marked_estimated(client, officer, logged_in):
    project = project_of(officer, method=Method.NEGOTIATION, documents_issued_on=date(2030, 3, 1))
    logged_in()
    page = text(client.get(f"/projects/{project.id}/announcement"))
    assert 'id="estimated"' in page and shown("estimated: no holiday calendar for that year") in page
    assert "2030年3月6日" in page  # Friday 1 March 2030 + 3 working days, weekends only


def test_the_announcement_is_recorded_and_the_officer_returns_to_the_project(client, officer, logged_in):
    project = project_of(officer, method=Method.CONSULTATION)
    logged_in()
    response = client.post(f"/projects/{project.id}/announcement", data={
        "documents_issued_on": "2026-06-01", "response_deadline": "2026-06-11", "announcement_ref": "绥采公〔2026〕8号"})
    assert response.status_code == 302 and response.location.endswith(detail_url(project))
    saved = reload(Project, project.id)
    assert (saved.documents_issued_on, saved.response_deadline, saved.announcement_ref) == (
        date(2026, 6, 1), date(2026, 6, 11), "绥采公〔2026〕8号")
    assert "project.announcement" in audit_actions(project.id)


def test_a_deadline_shorter_than_the_statutory_minimum_is_refused_with_its_citation(client, officer, logged_in):
    project = project_of(officer, method=Method.OPEN_TENDER)
    logged_in()
    response = client.post(f"/projects/{project.id}/announcement", data={
        "documents_issued_on": "2026-06-01", "response_deadline": "2026-06-15"})
    assert response.status_code == 400
    period = PERIODS["tender_response"]
    expected = gettext("%(period)s: at least %(days)s %(kind)s days; the deadline can be %(day)s at the earliest.",
                       period=period.label, days=20, kind=gettext("calendar"), day="2026-06-21")
    assert field_errors(text(response), "response_deadline") == [expected]
    assert period.citation in text(response)
    assert reload(Project, project.id).response_deadline is None


@pytest.mark.parametrize("data, field, msgid", [
    ({"documents_issued_on": "2026-06-10", "response_deadline": "2026-06-01"}, "response_deadline",
     "The deadline cannot be before the documents are issued."),
    ({"documents_issued_on": "2026-06-10", "response_deadline": ""}, "response_deadline", "Enter the response deadline."),
    ({"documents_issued_on": "", "response_deadline": "2026-06-30"}, "documents_issued_on",
     "Enter the date the documents were issued."),
    ({"documents_issued_on": "2026-02-30", "response_deadline": "2026-06-30"}, "documents_issued_on",
     "Enter a date like 2026-03-01."),
    ({"documents_issued_on": "2026-06-10", "response_deadline": "2026-07-30", "announcement_ref": "号" * 257},
     "announcement_ref", "At most 256 characters."),
])
def test_bad_announcement_input_gets_a_message(client, officer, logged_in, data, field, msgid):
    project = project_of(officer, method=Method.CONSULTATION)
    logged_in()
    response = client.post(f"/projects/{project.id}/announcement", data=data)
    assert response.status_code == 400
    assert field_errors(text(response), field) == [gettext(msgid)]


def test_the_announcement_is_refused_outside_its_stage(client, officer, logged_in):
    project = project_of(officer, stage=ProjectStage.DRAFT)
    logged_in()
    page = text(client.get(f"/projects/{project.id}/announcement"))
    assert shown("This step is recorded while the project is “%(allowed)s”; it is now “%(stage)s”.",
                 allowed=ProjectStage.APPROVED.label, stage=ProjectStage.DRAFT.label) in page
    response = client.post(f"/projects/{project.id}/announcement", data={
        "documents_issued_on": "2026-06-01", "response_deadline": "2026-06-30"})
    assert response.status_code == 400
    assert shown("This cannot be changed while the project is “%(stage)s”.", stage=ProjectStage.DRAFT.label) in text(response)


# --- single-source notice -------------------------------------------------------------------

def test_a_single_source_notice_above_the_threshold_runs_five_working_days(client, officer, logged_in):
    project = project_of(officer, method=Method.SINGLE_SOURCE, total=Decimal("2500000.00"), stage=ProjectStage.DRAFT,
                         notice_start=date(2026, 9, 30))
    logged_in()
    page = text(client.get(f"/projects/{project.id}/notice"))
    assert PERIODS["single_source_notice"].citation in page
    assert "2026年10月13日" in page[page.index('id="earliest"'):]
    # National Day: Wednesday 30 September 2026 + 5 working days skips 1–7 October and counts Saturday 10 October
    # (8, 9, 10, 12, 13 October).
    response = client.post(f"/projects/{project.id}/notice", data={"notice_start": "2026-09-30", "notice_end": "2026-10-12"})
    assert response.status_code == 400
    assert field_errors(text(response), "notice_end") == [gettext(
        "The notice must run at least 5 working days: until %(day)s at the earliest.", day="2026-10-13")]
    response = client.post(f"/projects/{project.id}/notice", data={"notice_start": "2026-09-30", "notice_end": "2026-10-13"})
    assert response.status_code == 302 and response.location.endswith(detail_url(project))
    saved = reload(Project, project.id)
    assert (saved.notice_start, saved.notice_end) == (date(2026, 9, 30), date(2026, 10, 13))


def test_a_notice_in_the_wrong_order_or_for_another_method_is_refused(client, officer, logged_in):
    single = project_of(officer, method=Method.SINGLE_SOURCE, stage=ProjectStage.DRAFT)
    other = project_of(officer, method=Method.CONSULTATION)
    logged_in()
    response = client.post(f"/projects/{single.id}/notice", data={"notice_start": "2026-06-10", "notice_end": "2026-06-01"})
    assert response.status_code == 400
    assert field_errors(text(response), "notice_end") == [gettext("The notice must end on or after its start.")]
    response = client.post(f"/projects/{other.id}/notice", data={"notice_start": "2026-06-01", "notice_end": "2026-06-10"})
    assert response.status_code == 400
    assert shown("A public notice is recorded for single-source purchases.") in text(response)
    assert reload(Project, other.id).notice_start is None


# --- invitations ----------------------------------------------------------------------------

def test_an_eligible_supplier_is_invited(client, officer, logged_in):
    project = project_of(officer, method=Method.INVITED_TENDER)
    supplier = registered_supplier(name="绥江县阳光社会工作服务中心")
    logged_in()
    page = text(client.get(f"/projects/{project.id}/invitations/new"))
    assert "绥江县阳光社会工作服务中心" in page and supplier.credit_code in page
    response = client.post(f"/projects/{project.id}/invitations/new",
                           data={"supplier": str(supplier.id), "invited_on": TODAY.isoformat()})
    assert response.status_code == 302 and response.location.endswith(detail_url(project))
    invitation = db.session.execute(select(Invitation).where(Invitation.project_id == project.id)).scalar_one()
    assert (invitation.supplier_id, invitation.invited_on) == (supplier.id, TODAY)
    response = client.post(f"/projects/{project.id}/invitations/new",
                           data={"supplier": str(supplier.id), "invited_on": TODAY.isoformat()})
    assert response.status_code == 400
    assert field_errors(text(response), "supplier") == [gettext("%(name)s is already invited.", name=supplier.name)]


def test_a_banned_supplier_is_shown_with_its_ban_and_cannot_be_invited(client, officer, logged_in):
    project = project_of(officer, method=Method.INVITED_TENDER)
    banned = registered_supplier(name="昭通市康宁养老服务有限公司")
    ban(banned, TODAY - 30 * D, TODAY + 300 * D, reason="提供虚假材料谋取中标")
    logged_in()
    page = text(client.get(f"/projects/{project.id}/invitations/new"))
    flagged = page[page.index('id="flagged"'):]
    assert "昭通市康宁养老服务有限公司" in flagged and "提供虚假材料谋取中标" in flagged
    response = client.post(f"/projects/{project.id}/invitations/new",
                           data={"supplier": str(banned.id), "invited_on": TODAY.isoformat()})
    assert response.status_code == 400
    errors = field_errors(text(response), "supplier")
    assert len(errors) == 1 and banned.name in errors[0] and "提供虚假材料谋取中标" in errors[0]
    assert stages.CITE_AWARD in text(response)
    assert db.session.execute(select(Invitation)).first() is None


def test_inactive_suppliers_and_bureaus_are_not_offered(client, officer, logged_in):
    project = project_of(officer, method=Method.INVITED_TENDER)
    gone = registered_supplier(name="已注销的服务中心", active=False)
    logged_in()
    page = text(client.get(f"/projects/{project.id}/invitations/new"))
    assert "已注销的服务中心" not in page
    for value in (str(gone.id), str(officer.organization_id), "abc", "99999999999999999999"):
        response = client.post(f"/projects/{project.id}/invitations/new", data={"supplier": value, "invited_on": TODAY.isoformat()})
        assert response.status_code == 400 and field_errors(text(response), "supplier")


# --- bids -----------------------------------------------------------------------------------

@pytest.fixture
def open_project(officer):
    """Documents out ten days ago, deadline tomorrow, budget ¥500,000."""
    return announced(TODAY - 10 * D, TODAY + D, bureau=officer.organization, method=Method.CONSULTATION)


def bid_form(bidder, **overrides) -> dict:
    data = {"supplier": str(bidder.id), "submitted_on": TODAY.isoformat(), "price": "480,000.00",
            "technical_score": "", "price_score": "", "total_score": "", "note": ""}
    data.update(overrides)
    return data


def test_a_bid_is_recorded(client, officer, logged_in, open_project):
    supplier = registered_supplier()
    logged_in()
    response = client.post(f"/projects/{open_project.id}/bids/new", data=bid_form(supplier, note="含税价"))
    assert response.status_code == 302 and response.location.endswith(detail_url(open_project))
    bid = db.session.execute(select(Bid).where(Bid.project_id == open_project.id)).scalar_one()
    assert (bid.supplier_id, bid.price, bid.submitted_on, bid.note) == (supplier.id, Decimal("480000.00"), TODAY, "含税价")
    assert "project.bid" in audit_actions(open_project.id)


def test_a_bid_is_recorded_with_the_committees_scores(client, officer, logged_in, open_project):
    supplier = registered_supplier()
    logged_in()
    response = client.post(f"/projects/{open_project.id}/bids/new", data=bid_form(
        supplier, technical_score="55.5", price_score="30", total_score="85.50"))
    assert response.status_code == 302
    bid = db.session.execute(select(Bid).where(Bid.project_id == open_project.id)).scalar_one()
    assert (bid.technical_score, bid.price_score, bid.total_score) == (Decimal("55.50"), Decimal("30.00"), Decimal("85.50"))


def test_a_bid_from_a_banned_supplier_is_refused(client, officer, logged_in, open_project):
    supplier = registered_supplier()
    ban(supplier, TODAY - 100 * D, TODAY + 265 * D, reason="串通投标")
    logged_in()
    response = client.post(f"/projects/{open_project.id}/bids/new", data=bid_form(supplier))
    assert response.status_code == 400
    errors = field_errors(text(response), "supplier")
    assert len(errors) == 1 and "串通投标" in errors[0]
    assert stages.CITE_AWARD in text(response)
    assert not reload(Project, open_project.id).bids


def test_a_bid_from_a_supplier_whose_certificate_expired_is_refused(client, officer, logged_in, open_project):
    supplier = registered_supplier()
    supplier.qualifications.append(Qualification(name="养老机构备案回执", valid_from=date(2023, 1, 1), valid_until=TODAY - 3 * D))
    logged_in()
    response = client.post(f"/projects/{open_project.id}/bids/new", data=bid_form(supplier))
    assert response.status_code == 400
    expired = gettext("The certificate “%(name)s” expired on %(until)s.", name="养老机构备案回执",
                      until=(TODAY - 3 * D).isoformat())
    errors = field_errors(text(response), "supplier")
    assert len(errors) == 1 and expired in errors[0]


def test_a_late_bid_is_refused_with_its_citation(client, officer, logged_in):
    project = announced(TODAY - 20 * D, TODAY - 2 * D, bureau=officer.organization)
    supplier = registered_supplier()
    logged_in()
    response = client.post(f"/projects/{project.id}/bids/new", data=bid_form(supplier, submitted_on=(TODAY - D).isoformat()))
    assert response.status_code == 400
    assert field_errors(text(response), "submitted_on") == [gettext(
        "Submitted after the deadline of %(day)s: a late bid is refused.", day=(TODAY - 2 * D).isoformat())]
    assert services.CITE_LATE_BID in text(response)


def test_a_bid_before_the_documents_were_issued_is_refused(client, officer, logged_in, open_project):
    supplier = registered_supplier()
    logged_in()
    response = client.post(f"/projects/{open_project.id}/bids/new",
                           data=bid_form(supplier, submitted_on=(TODAY - 11 * D).isoformat()))
    assert response.status_code == 400
    assert field_errors(text(response), "submitted_on") == [gettext(
        "A bid cannot be submitted before the documents were issued (%(day)s).", day=(TODAY - 10 * D).isoformat())]


def test_a_bid_above_the_budget_is_invalid(client, officer, logged_in, open_project):
    supplier = registered_supplier()
    logged_in()
    response = client.post(f"/projects/{open_project.id}/bids/new", data=bid_form(supplier, price="500000.01"))
    assert response.status_code == 400
    assert field_errors(text(response), "price") == [gettext(
        "The price exceeds the project's budget of %(total)s: such a bid is invalid.", total="¥500,000.00")]
    assert services.CITE_BID_BUDGET in text(response)


def test_a_second_bid_of_the_same_supplier_is_refused(client, officer, logged_in, open_project):
    supplier = registered_supplier()
    make_bid(open_project, supplier, submitted_on=TODAY)
    logged_in()
    response = client.post(f"/projects/{open_project.id}/bids/new", data=bid_form(supplier, price="470000"))
    assert response.status_code == 400
    assert field_errors(text(response), "supplier") == [gettext("A bid of %(name)s is already recorded.", name=supplier.name)]
    assert len(reload(Project, open_project.id).bids) == 1


def test_an_uninvited_supplier_cannot_bid_in_an_invited_tender(client, officer, logged_in):
    project = announced(TODAY - 25 * D, TODAY + D, bureau=officer.organization, method=Method.INVITED_TENDER)
    guest, outsider = registered_supplier(), registered_supplier()
    invite(project, guest, TODAY - 25 * D)
    logged_in()
    response = client.post(f"/projects/{project.id}/bids/new", data=bid_form(outsider))
    assert response.status_code == 400
    assert field_errors(text(response), "supplier") == [gettext(
        "%(name)s was not invited to this invited tender.", name=outsider.name)]
    assert client.post(f"/projects/{project.id}/bids/new", data=bid_form(guest)).status_code == 302


@pytest.mark.parametrize("overrides, field, msgid", [
    ({"price": "1e20"}, "price", "Enter an amount in yuan, e.g. 1350.00."),
    ({"price": "100000000000000"}, "price", "The price must be more than 0 and at most 100,000,000.00 yuan."),
    ({"price": "0"}, "price", "The price must be more than 0 and at most 100,000,000.00 yuan."),
    ({"price": "-5"}, "price", "The price must be more than 0 and at most 100,000,000.00 yuan."),
    ({"price": "12.345"}, "price", "An amount has at most two decimals (fen)."),
    ({"price": ""}, "price", "Enter the price of the bid."),
    ({"total_score": "101"}, "total_score", "A score is between 0 and 100."),
    ({"technical_score": "-0.5"}, "technical_score", "A score is between 0 and 100."),
    ({"price_score": "1e20"}, "price_score", "A score is between 0 and 100."),
    ({"total_score": "NaN"}, "total_score", "Enter a score like 85.5."),
    ({"total_score": "八十"}, "total_score", "Enter a score like 85.5."),
    ({"total_score": "85.555"}, "total_score", "A score has at most two decimals."),
    ({"submitted_on": (TODAY + D).isoformat()}, "submitted_on",
     "This date is in the future; record the step once it has happened."),
    ({"supplier": ""}, "supplier", "Choose a supplier."),
])
def test_bad_bid_input_gets_a_message(client, officer, logged_in, open_project, overrides, field, msgid):
    supplier = registered_supplier()
    logged_in()
    response = client.post(f"/projects/{open_project.id}/bids/new", data=bid_form(supplier, **overrides))
    assert response.status_code == 400
    assert field_errors(text(response), field) == [gettext(msgid)]
    assert not reload(Project, open_project.id).bids


def test_bids_are_recorded_only_while_the_project_is_announced(client, officer, logged_in):
    project = project_of(officer, stage=ProjectStage.APPROVED)
    supplier = registered_supplier()
    logged_in()
    response = client.post(f"/projects/{project.id}/bids/new", data=bid_form(supplier))
    assert response.status_code == 400
    assert shown("This cannot be changed while the project is “%(stage)s”.", stage=ProjectStage.APPROVED.label) in text(response)


# --- scores ---------------------------------------------------------------------------------

def test_a_bid_of_another_project_is_not_found(client, officer, logged_in, open_project):
    other = announced(TODAY - 10 * D, TODAY + D, bureau=officer.organization)
    bid = make_bid(other, registered_supplier(), submitted_on=TODAY)
    logged_in()
    assert client.get(f"/projects/{open_project.id}/bids/{bid.id}/score").status_code == 404
    assert client.post(f"/projects/{open_project.id}/bids/{bid.id}/score", data={"total_score": "0.5"}).status_code == 404
    assert client.get(f"/projects/{open_project.id}/bids/999999/score").status_code == 404
    assert client.get(f"/projects/{other.id}/bids/{bid.id}/score").status_code == 200


def test_the_committees_scores_are_recorded(client, officer, logged_in, open_project):
    bid = make_bid(open_project, registered_supplier(), submitted_on=TODAY)
    logged_in()
    response = client.post(f"/projects/{open_project.id}/bids/{bid.id}/score",
                           data={"technical_score": "58", "price_score": "29.5", "total_score": "87.5"})
    assert response.status_code == 302 and response.location.endswith(detail_url(open_project))
    assert reload(Bid, bid.id).total_score == Decimal("87.50")


@pytest.mark.parametrize("data, field, msgid", [
    ({"total_score": ""}, "total_score", "Enter the total score."),
    ({"total_score": "100.01"}, "total_score", "A score is between 0 and 100."),
    ({"total_score": "50", "technical_score": "200"}, "technical_score", "A score is between 0 and 100."),
])
def test_scores_outside_0_to_100_are_refused(client, officer, logged_in, open_project, data, field, msgid):
    bid = make_bid(open_project, registered_supplier(), submitted_on=TODAY)
    logged_in()
    response = client.post(f"/projects/{open_project.id}/bids/{bid.id}/score", data=data)
    assert response.status_code == 400
    assert field_errors(text(response), field) == [gettext(msgid)]
    assert reload(Bid, bid.id).total_score is None


# --- evaluation -----------------------------------------------------------------------------

def test_the_evaluation_is_recorded_after_the_deadline(client, officer, logged_in):
    project = announced(TODAY - 20 * D, TODAY - 5 * D, bureau=officer.organization)
    logged_in()
    response = client.post(f"/projects/{project.id}/evaluation", data={
        "evaluated_on": (TODAY - 6 * D).isoformat(), "evaluation_result": "推荐甲为第一成交候选人"})
    assert response.status_code == 400
    assert field_errors(text(response), "evaluated_on") == [gettext(
        "The evaluation cannot take place before the response deadline of %(day)s.", day=(TODAY - 5 * D).isoformat())]
    response = client.post(f"/projects/{project.id}/evaluation", data={
        "evaluated_on": (TODAY - 5 * D).isoformat(), "evaluation_result": "推荐甲为第一成交候选人"})
    assert response.status_code == 302 and response.location.endswith(detail_url(project))
    saved = reload(Project, project.id)
    assert (saved.evaluated_on, saved.evaluation_result) == (TODAY - 5 * D, "推荐甲为第一成交候选人")


@pytest.mark.parametrize("data, field, msgid", [
    ({"evaluated_on": TODAY.isoformat(), "evaluation_result": "   "}, "evaluation_result",
     "Enter the committee's result: the ranking and the recommended supplier."),
    ({"evaluated_on": (TODAY + D).isoformat(), "evaluation_result": "结果"}, "evaluated_on",
     "This date is in the future; record the step once it has happened."),
    ({"evaluated_on": "昨天", "evaluation_result": "结果"}, "evaluated_on", "Enter a date like 2026-03-01."),
])
def test_bad_evaluation_input_gets_a_message(client, officer, logged_in, data, field, msgid):
    project = announced(TODAY - 20 * D, TODAY - 5 * D, bureau=officer.organization)
    logged_in()
    response = client.post(f"/projects/{project.id}/evaluation", data=data)
    assert response.status_code == 400
    assert field_errors(text(response), field) == [gettext(msgid)]
    assert reload(Project, project.id).evaluation_result is None


# --- award ----------------------------------------------------------------------------------

@pytest.fixture
def evaluated(officer):
    project = make_staged_project(bureau=officer.organization, stage=ProjectStage.EVALUATED, documents_issued_on=TODAY - 30 * D,
                           response_deadline=TODAY - 15 * D, evaluated_on=TODAY - 10 * D, evaluation_result="排序：甲、乙")
    return project


def test_the_award_page_shows_each_bidders_eligibility_on_the_decision_date(client, officer, logged_in, evaluated):
    good = registered_supplier(name="甲社会工作服务中心", legal_representative="陈静")
    banned = registered_supplier(name="乙养老服务有限公司", legal_representative="袁军")
    ban(banned, TODAY - 5 * D, TODAY + 360 * D, reason="提供虚假材料谋取中标")
    unregistered = make_supplier(name="丙社工事务所", legal_representative="林海")
    for s in (good, banned, unregistered):
        make_bid(evaluated, s, submitted_on=TODAY - 15 * D)
    logged_in()
    page = text(client.get(f"/projects/{evaluated.id}/award"))
    bidders = page[page.index('id="bidders"'):page.index('id="notice-due"')]
    assert "提供虚假材料谋取中标" in bidders
    assert shown("No registration certificate or licence is on record; check it before an award.") in bidders
    assert 'id="shared-representatives"' not in page
    # before the ban started, the same bidder was eligible
    page = text(client.post(f"/projects/{evaluated.id}/award", data={
        "supplier": "", "award_decided_on": (TODAY - 6 * D).isoformat(), "award_notice_on": ""}))
    assert "提供虚假材料谋取中标" not in page[page.index('id="bidders"'):page.index('id="notice-due"')]


def test_bidders_sharing_a_legal_representative_are_flagged(client, officer, logged_in, evaluated):
    a = registered_supplier(name="甲社会工作服务中心", legal_representative="陈静")
    b = registered_supplier(name="乙社会工作服务中心", legal_representative="陈静")
    make_bid(evaluated, a, submitted_on=TODAY - 15 * D)
    make_bid(evaluated, b, submitted_on=TODAY - 15 * D)
    logged_in()
    page = text(client.get(f"/projects/{evaluated.id}/award"))
    warning = page[page.index('id="shared-representatives"'):]
    assert shown("%(a)s and %(b)s: %(rep)s", a="甲社会工作服务中心", b="乙社会工作服务中心", rep="陈静") in warning


def test_the_award_is_recorded_and_the_notice_due_date_shown(client, officer, logged_in, evaluated):
    winner, other = registered_supplier(), registered_supplier()
    make_bid(evaluated, winner, submitted_on=TODAY - 15 * D)
    make_bid(evaluated, other, submitted_on=TODAY - 15 * D)
    logged_in()
    decided = date(2026, 9, 30)  # + 2 working days = 9 October, after the National Day holidays
    page = text(client.post(f"/projects/{evaluated.id}/award", data={
        "supplier": "", "award_decided_on": decided.isoformat(), "award_notice_on": ""}))
    assert "2026年10月9日" in page[page.index('id="notice-due"'):]
    response = client.post(f"/projects/{evaluated.id}/award", data={
        "supplier": str(winner.id), "award_decided_on": (TODAY - 2 * D).isoformat(), "award_notice_on": TODAY.isoformat()})
    assert response.status_code == 302 and response.location.endswith(detail_url(evaluated))
    saved = reload(Project, evaluated.id)
    assert (saved.award_supplier_id, saved.award_decided_on, saved.award_notice_on) == (winner.id, TODAY - 2 * D, TODAY)
    assert "project.award" in audit_actions(evaluated.id)


def test_an_award_to_a_bidder_banned_on_the_decision_date_is_flagged(client, officer, logged_in, evaluated):
    banned = registered_supplier()
    make_bid(evaluated, banned, submitted_on=TODAY - 15 * D)
    ban(banned, TODAY - 3 * D, TODAY + 300 * D, reason="串通投标")
    logged_in()
    response = client.post(f"/projects/{evaluated.id}/award", data={
        "supplier": str(banned.id), "award_decided_on": (TODAY - 2 * D).isoformat(), "award_notice_on": TODAY.isoformat()})
    assert response.status_code == 302
    follow = text(client.get(f"/projects/{evaluated.id}/award"))
    assert "串通投标" in follow
    facts = services.project_facts(reload(Project, evaluated.id), TODAY)
    assert facts.award_problems  # the stage guard will refuse the award


@pytest.mark.parametrize("data, field, msgid, variables", [
    ({"award_decided_on": "EVAL-1", "award_notice_on": "TODAY"}, "award_decided_on",
     "The award cannot be decided before the evaluation of %(day)s.", {"day": "EVAL"}),
    ({"award_decided_on": "TODAY-2", "award_notice_on": "TODAY-3"}, "award_notice_on",
     "The award notice cannot come before the decision.", {}),
    ({"award_decided_on": "TODAY+1", "award_notice_on": "TODAY+1"}, "award_decided_on",
     "This date is in the future; record the step once it has happened.", {}),
    ({"award_decided_on": "TODAY", "award_notice_on": ""}, "award_notice_on",
     "Enter the date the award notice is published.", {}),
])
def test_award_dates_in_the_wrong_order_are_refused(client, officer, logged_in, evaluated, data, field, msgid, variables):
    def day(token):
        base = {"EVAL": evaluated.evaluated_on, "TODAY": TODAY}
        for name, value in base.items():
            if token.startswith(name):
                offset = int(token[len(name):] or 0)
                return (value + offset * D).isoformat()
        return token

    winner = registered_supplier()
    make_bid(evaluated, winner, submitted_on=TODAY - 15 * D)
    variables = {k: day(v) for k, v in variables.items()}
    logged_in()
    response = client.post(f"/projects/{evaluated.id}/award",
                           data={"supplier": str(winner.id), **{k: day(v) for k, v in data.items()}})
    assert response.status_code == 400
    assert field_errors(text(response), field) == [gettext(msgid, **variables)]
    assert reload(Project, evaluated.id).award_supplier_id is None


def test_only_a_bidder_can_be_awarded(client, officer, logged_in, evaluated):
    bidder, stranger = registered_supplier(), registered_supplier()
    make_bid(evaluated, bidder, submitted_on=TODAY - 15 * D)
    logged_in()
    page = text(client.get(f"/projects/{evaluated.id}/award"))
    assert bidder.name in page and stranger.name not in page
    response = client.post(f"/projects/{evaluated.id}/award", data={
        "supplier": str(stranger.id), "award_decided_on": TODAY.isoformat(), "award_notice_on": TODAY.isoformat()})
    assert response.status_code == 400 and field_errors(text(response), "supplier")
    assert reload(Project, evaluated.id).award_supplier_id is None
