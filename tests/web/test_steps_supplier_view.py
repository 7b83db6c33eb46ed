"""A supplier sees the purchases it takes part in, its own bid only, and the public result once announced."""

from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import gettext
from markupsafe import escape

from procurement.auth.roles import Role
from procurement.rules.clock import beijing_today
from procurement.rules.stages import ProjectStage
from procurement.web import date_filter
from tests.factories import login_as, make_user
from tests.project_factories import announced, invite, make_bid, make_bureau, make_staged_project, registered_supplier

TODAY = beijing_today()
D = timedelta(days=1)


def text(response) -> str:
    return response.get_data(as_text=True)


def shown(msgid: str, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


@pytest.fixture
def world():
    bureau = make_bureau("530626", name="绥江县民政局")
    mine = registered_supplier(name="绥江县阳光社会工作服务中心")
    rival = registered_supplier(name="云南省社会工作协会")
    user = make_user(Role.SUPPLIER, organization=mine)
    return bureau, mine, rival, user


def evaluated_with_bids(bureau, mine, rival, notice_on=None, stage=ProjectStage.EVALUATED, winner=None, **kw):
    if winner is not None:
        kw.update(award_supplier_id=winner.id, award_decided_on=TODAY - 10 * D, award_notice_on=notice_on)
    project = make_staged_project(bureau=bureau, stage=stage, documents_issued_on=TODAY - 40 * D, response_deadline=TODAY - 20 * D,
                           evaluated_on=TODAY - 15 * D, evaluation_result="评审结果：云南省社会工作协会第一", **kw)
    make_bid(project, mine, price=Decimal("468800.00"), submitted_on=TODAY - 21 * D)
    make_bid(project, rival, price=Decimal("452300.00"), submitted_on=TODAY - 22 * D)
    return project


def test_the_list_shows_invited_and_bid_purchases_with_the_own_price_only(client, world):
    bureau, mine, rival, user = world
    bid_in = evaluated_with_bids(bureau, mine, rival, title="居家照料服务项目")
    invited_to = announced(TODAY - 3 * D, TODAY + 10 * D, bureau=bureau, title="送医陪护服务项目")
    invite(invited_to, mine, TODAY - 3 * D)
    elsewhere = announced(TODAY - 3 * D, TODAY + 10 * D, bureau=bureau, title="别人的心理疏导项目")
    make_bid(elsewhere, rival, price=Decimal("99999.00"), submitted_on=TODAY)
    login_as(client, user)
    page = text(client.get("/projects/mine"))
    assert "居家照料服务项目" in page and "送医陪护服务项目" in page
    assert "别人的心理疏导项目" not in page
    assert "¥468,800.00" in page
    assert "¥452,300.00" not in page and "云南省社会工作协会" not in page and "99,999.00" not in page
    assert f"/projects/mine/{bid_in.id}" in page


def test_the_purchase_page_shows_only_the_own_bid_never_another_suppliers_bid_or_name(client, world):
    bureau, mine, rival, user = world
    project = evaluated_with_bids(bureau, mine, rival, winner=rival, notice_on=TODAY + 2 * D)
    login_as(client, user)
    page = text(client.get(f"/projects/mine/{project.id}"))
    assert "¥468,800.00" in page
    assert "452,300" not in page and "452300" not in page
    assert "云南省社会工作协会" not in page  # neither as a bidder nor as the (not yet announced) winner
    assert "评审结果" not in page  # the committee's report names the bidders
    assert shown("The result has not been announced yet.") in page


def test_the_public_result_appears_once_the_award_notice_is_out(client, world):
    bureau, mine, rival, user = world
    project = evaluated_with_bids(bureau, mine, rival, stage=ProjectStage.AWARDED, winner=rival, notice_on=TODAY - D)
    login_as(client, user)
    page = text(client.get(f"/projects/mine/{project.id}"))
    result = page[page.index('id="result"'):]
    assert shown("Awarded to %(name)s, notice of %(day)s", name="云南省社会工作协会", day=date_filter(TODAY - D)) in result
    assert "452,300" not in page  # the winner's name is public, its bid is not shown here
    listing = text(client.get("/projects/mine"))
    assert "云南省社会工作协会" in listing and "452,300" not in listing


def test_an_own_award_is_shown_as_such(client, world):
    bureau, mine, rival, user = world
    project = evaluated_with_bids(bureau, mine, rival, stage=ProjectStage.AWARDED, winner=mine, notice_on=TODAY)
    login_as(client, user)
    page = text(client.get(f"/projects/mine/{project.id}"))
    assert shown("Awarded to you") in page[page.index('id="result"'):]
    assert "云南省社会工作协会" not in page


def test_an_award_decided_but_not_yet_published_is_not_shown(client, world):
    bureau, mine, rival, user = world
    # the notice date is planned for tomorrow: still nothing to show
    project = evaluated_with_bids(bureau, mine, rival, stage=ProjectStage.AWARDED, winner=rival, notice_on=TODAY + D)
    login_as(client, user)
    page = text(client.get(f"/projects/mine/{project.id}"))
    assert "云南省社会工作协会" not in page
    assert "云南省社会工作协会" not in text(client.get("/projects/mine"))


def test_a_purchase_the_supplier_is_not_involved_in_is_not_found(client, world):
    bureau, mine, rival, user = world
    other = announced(TODAY - 3 * D, TODAY + 10 * D, bureau=bureau)
    make_bid(other, rival, submitted_on=TODAY)
    login_as(client, user)
    assert client.get(f"/projects/mine/{other.id}").status_code == 404
    assert client.get("/projects/mine/999999").status_code == 404


def test_only_supplier_users_have_this_view(client, world):
    bureau, mine, rival, user = world
    project = evaluated_with_bids(bureau, mine, rival)
    officer = make_user(Role.OFFICER, organization=bureau)
    login_as(client, officer)
    assert client.get("/projects/mine").status_code == 403
    assert client.get(f"/projects/mine/{project.id}").status_code == 403
    login_as(client, make_user(Role.FINANCE))
    assert client.get("/projects/mine").status_code == 403
