"""Two officers on the same purchase step: the second save is a conflict, nothing is lost; and a bid's total score."""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import gettext
from markupsafe import escape

from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.projects.models import Bid, Project
from procurement.rules.clock import beijing_today
from procurement.rules.procurement import Method
from procurement.rules.stages import ProjectStage
from tests.factories import login_as, make_user
from tests.project_factories import announced, make_bid, make_bureau, make_staged_project, registered_supplier

TODAY = beijing_today()
D = timedelta(days=1)
PROJECT_CONFLICT = "Someone else saved this project while you were editing it."
SCORE_CONFLICT = "Someone else saved the scores of this project while you were editing them."


def text(response) -> str:
    return response.get_data(as_text=True)


def shown(msgid: str, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


def version_of(page: str) -> str:
    return re.search(r'name="version" (?:type="hidden" )?value="(\d+)"', page).group(1)


def field_errors(page: str, field_id: str) -> list[str]:
    start = page.find(f'id="{field_id}"')
    if start < 0:
        return []
    end = min(i for i in (page.find("<label", start), page.find("</form>", start), len(page)) if i >= 0)
    return [html.unescape(m) for m in re.findall(r'invalid-feedback d-block">(.*?)</div>', page[start:end], re.S)]


def in_form(page: str) -> str:
    """The editable form of a step page (after the conflict notice)."""
    return page[page.index('<form method="post" novalidate'):]


def reload(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


@pytest.fixture
def bureau():
    return make_bureau("530626")


@pytest.fixture
def officer(bureau):
    return make_user(Role.OFFICER, organization=bureau, display_name="李明")


@pytest.fixture
def colleague(app, bureau):
    """A second officer of the same bureau in a browser of her own (logged in once the test's data is built)."""
    other = app.test_client()
    user = make_user(Role.OFFICER, organization=bureau, display_name="王芳")
    return lambda: (login_as(other, user), other)[1]


@dataclass
class Case:
    """One step form: how to build its project, what each officer types, what the database then holds."""

    url: Callable[[Project, dict], str]
    setup: Callable[[object], tuple[Project, dict]]
    theirs: Callable[[dict], dict]
    mine: Callable[[dict], dict]
    saved: Callable[[Project, dict], object]  # the value read back from the database
    expected: Callable[[dict], object]  # ... which is the first officer's
    typed: Callable[[dict], str]  # a piece of the re-rendered form that shows the second officer's input
    message: str = PROJECT_CONFLICT


def _announcement_setup(bureau):
    return make_staged_project(bureau=bureau, method=Method.CONSULTATION), {}


def _notice_setup(bureau):
    return make_staged_project(bureau=bureau, method=Method.SINGLE_SOURCE, stage=ProjectStage.DRAFT), {}


def _evaluation_setup(bureau):
    return announced(TODAY - 20 * D, TODAY - 5 * D, bureau=bureau), {}


def _award_setup(bureau):
    project = make_staged_project(bureau=bureau, stage=ProjectStage.EVALUATED, documents_issued_on=TODAY - 30 * D,
                                  response_deadline=TODAY - 15 * D, evaluated_on=TODAY - 10 * D,
                                  evaluation_result="排序：甲、乙")
    first, second = registered_supplier(name="甲社会工作服务中心"), registered_supplier(name="乙社会工作服务中心")
    make_bid(project, first, submitted_on=TODAY - 15 * D)
    make_bid(project, second, submitted_on=TODAY - 15 * D)
    return project, {"first": first.id, "second": second.id}


def _score_setup(bureau):
    project = announced(TODAY - 10 * D, TODAY + D, bureau=bureau, method=Method.CONSULTATION)
    bid = make_bid(project, registered_supplier(), submitted_on=TODAY)
    return project, {"bid": bid.id}


def _draft_setup(bureau):
    return make_staged_project(bureau=bureau, stage=ProjectStage.DRAFT, method=None), {}


def _method(method: str) -> dict:
    return {"method": method, "method_approval_by": "", "method_approval_ref": "", "method_approval_on": "",
            "single_source_ground": "", "single_source_reason": ""}


CASES = {
    "announcement": Case(
        url=lambda p, ctx: f"/projects/{p.id}/announcement", setup=_announcement_setup,
        theirs=lambda ctx: {"documents_issued_on": "2026-06-01", "response_deadline": "2026-06-11",
                            "announcement_ref": "绥采公〔2026〕8号"},
        mine=lambda ctx: {"documents_issued_on": "2026-06-01", "response_deadline": "2026-06-15",
                          "announcement_ref": "绥采公〔2026〕9号"},
        saved=lambda p, ctx: (p.response_deadline, p.announcement_ref),
        expected=lambda ctx: (date(2026, 6, 11), "绥采公〔2026〕8号"),
        typed=lambda ctx: 'value="绥采公〔2026〕9号"'),
    "notice": Case(
        url=lambda p, ctx: f"/projects/{p.id}/notice", setup=_notice_setup,
        theirs=lambda ctx: {"notice_start": "2026-06-01", "notice_end": "2026-06-10"},
        mine=lambda ctx: {"notice_start": "2026-06-01", "notice_end": "2026-06-20"},
        saved=lambda p, ctx: (p.notice_start, p.notice_end),
        expected=lambda ctx: (date(2026, 6, 1), date(2026, 6, 10)),
        typed=lambda ctx: 'value="2026-06-20"'),
    "evaluation": Case(
        url=lambda p, ctx: f"/projects/{p.id}/evaluation", setup=_evaluation_setup,
        theirs=lambda ctx: {"evaluated_on": (TODAY - 5 * D).isoformat(), "evaluation_result": "推荐甲为第一成交候选人"},
        mine=lambda ctx: {"evaluated_on": (TODAY - 4 * D).isoformat(), "evaluation_result": "推荐乙为第一成交候选人"},
        saved=lambda p, ctx: (p.evaluated_on, p.evaluation_result),
        expected=lambda ctx: (TODAY - 5 * D, "推荐甲为第一成交候选人"),
        typed=lambda ctx: "推荐乙为第一成交候选人</textarea>"),
    "award": Case(
        url=lambda p, ctx: f"/projects/{p.id}/award", setup=_award_setup,
        theirs=lambda ctx: {"supplier": str(ctx["first"]), "award_decided_on": (TODAY - 2 * D).isoformat(),
                            "award_notice_on": TODAY.isoformat()},
        mine=lambda ctx: {"supplier": str(ctx["second"]), "award_decided_on": (TODAY - 1 * D).isoformat(),
                          "award_notice_on": TODAY.isoformat()},
        saved=lambda p, ctx: (p.award_supplier_id, p.award_decided_on),
        expected=lambda ctx: (ctx["first"], TODAY - 2 * D),
        typed=lambda ctx: f'<option selected value="{ctx["second"]}">'),
    "bid scores": Case(
        url=lambda p, ctx: f"/projects/{p.id}/bids/{ctx['bid']}/score", setup=_score_setup,
        theirs=lambda ctx: {"technical_score": "58.00", "price_score": "29.50", "total_score": "87.50"},
        mine=lambda ctx: {"technical_score": "50.00", "price_score": "30.00", "total_score": "80.00"},
        saved=lambda p, ctx: db.session.get(Bid, ctx["bid"]).total_score,
        expected=lambda ctx: Decimal("87.50"),
        typed=lambda ctx: 'value="80.00"', message=SCORE_CONFLICT),
    "method": Case(
        url=lambda p, ctx: f"/projects/{p.id}/method", setup=_draft_setup,
        theirs=lambda ctx: _method("consultation"), mine=lambda ctx: _method("simplified"),
        saved=lambda p, ctx: p.method, expected=lambda ctx: Method.CONSULTATION,
        typed=lambda ctx: '<option selected value="simplified">'),
    "split approval": Case(
        url=lambda p, ctx: f"/projects/{p.id}/split-approval", setup=_draft_setup,
        theirs=lambda ctx: {"split_approval_ref": "绥财预〔2026〕12号", "split_approval_on": "2026-05-01",
                            "split_approval_note": "追加预算"},
        mine=lambda ctx: {"split_approval_ref": "绥财预〔2026〕13号", "split_approval_on": "2026-05-02",
                          "split_approval_note": ""},
        saved=lambda p, ctx: p.split_approval_ref, expected=lambda ctx: "绥财预〔2026〕12号",
        typed=lambda ctx: 'value="绥财预〔2026〕13号"'),
}


@pytest.mark.parametrize("name", CASES)
def test_the_second_save_of_a_step_is_a_conflict_and_keeps_what_was_typed(client, officer, colleague, bureau, name):
    case = CASES[name]
    project, ctx = case.setup(bureau)
    url = case.url(project, ctx)
    login_as(client, officer)
    other = colleague()
    mine_page = text(client.get(url))
    theirs_page = text(other.get(url))
    version = version_of(mine_page)
    assert version_of(theirs_page) == version

    first = other.post(url, data={**case.theirs(ctx), "version": version})
    assert first.status_code == 302
    second = client.post(url, data={**case.mine(ctx), "version": version})

    assert second.status_code == 409
    page = text(second)
    assert shown(case.message) in page
    assert 'id="conflict"' in page and "王芳" in page  # who saved first
    assert case.typed(ctx) in in_form(page)  # the second officer's input is still in the form
    assert version_of(page) != version  # the form now carries the stored version
    saved = reload(Project, project.id)
    assert case.saved(saved, ctx) == case.expected(ctx)


@pytest.mark.parametrize("name", CASES)
def test_saving_again_after_a_conflict_knowingly_overwrites(client, officer, colleague, bureau, name):
    case = CASES[name]
    project, ctx = case.setup(bureau)
    url = case.url(project, ctx)
    login_as(client, officer)
    other = colleague()
    version = version_of(text(client.get(url)))
    assert other.post(url, data={**case.theirs(ctx), "version": version}).status_code == 302
    page = text(client.post(url, data={**case.mine(ctx), "version": version}))
    assert client.post(url, data={**case.mine(ctx), "version": version_of(page)}).status_code == 302
    assert case.saved(reload(Project, project.id), ctx) != case.expected(ctx)


# --- the total score of a bid ------------------------------------------------------------------

TOTAL_MSGID = "The total score must be the technical score plus the price score: %(sum)s."


@pytest.fixture
def open_project(bureau):
    return announced(TODAY - 10 * D, TODAY + D, bureau=bureau, method=Method.CONSULTATION)


@pytest.mark.parametrize(("scores", "expected_sum"), [
    ({"technical_score": "58", "price_score": "29.5", "total_score": "87.49"}, "87.50"),
    ({"technical_score": "58", "price_score": "29.5", "total_score": "88"}, "87.50"),
    ({"technical_score": "60.25", "price_score": "30.10", "total_score": "90.30"}, "90.35"),
])
def test_a_total_that_is_not_the_sum_of_the_scores_is_refused_next_to_it(client, officer, open_project, scores,
                                                                         expected_sum):
    bid = make_bid(open_project, registered_supplier(), submitted_on=TODAY)
    login_as(client, officer)
    response = client.post(f"/projects/{open_project.id}/bids/{bid.id}/score", data=scores)
    assert response.status_code == 400
    assert field_errors(text(response), "total_score") == [gettext(TOTAL_MSGID, sum=expected_sum)]
    assert f'value="{scores["total_score"]}"' in text(response)
    assert reload(Bid, bid.id).total_score is None


@pytest.mark.parametrize("scores", [
    {"technical_score": "58", "price_score": "29.5", "total_score": "87.5"},
    {"technical_score": "58.00", "price_score": "29.50", "total_score": "87.50"},
    {"technical_score": "", "price_score": "", "total_score": "87.5"},  # only the total: nothing to add up
    {"technical_score": "58", "price_score": "", "total_score": "87.5"},
])
def test_a_total_equal_to_the_sum_or_without_both_parts_is_recorded(client, officer, open_project, scores):
    bid = make_bid(open_project, registered_supplier(), submitted_on=TODAY)
    login_as(client, officer)
    response = client.post(f"/projects/{open_project.id}/bids/{bid.id}/score", data=scores)
    assert response.status_code == 302
    assert reload(Bid, bid.id).total_score == Decimal("87.50")


def _bid_form(supplier, **scores) -> dict:
    return {"supplier": str(supplier.id), "submitted_on": TODAY.isoformat(), "price": "480000.00",
            "technical_score": "", "price_score": "", "total_score": "", "note": "", **scores}


def test_a_new_bid_with_a_wrong_total_is_refused_and_kept_in_the_form(client, officer, open_project):
    supplier = registered_supplier()
    login_as(client, officer)
    response = client.post(f"/projects/{open_project.id}/bids/new",
                           data=_bid_form(supplier, technical_score="55.5", price_score="30", total_score="85"))
    assert response.status_code == 400
    assert field_errors(text(response), "total_score") == [gettext(TOTAL_MSGID, sum="85.50")]
    assert reload(Project, open_project.id).bids == []
    response = client.post(f"/projects/{open_project.id}/bids/new",
                           data=_bid_form(supplier, technical_score="55.5", price_score="30", total_score=""))
    assert response.status_code == 400  # both parts given: the total is needed too
    assert field_errors(text(response), "total_score") == [gettext(TOTAL_MSGID, sum="85.50")]
    response = client.post(f"/projects/{open_project.id}/bids/new",
                           data=_bid_form(supplier, technical_score="55.5", price_score="30", total_score="85.5"))
    assert response.status_code == 302
    assert reload(Project, open_project.id).bids[0].total_score == Decimal("85.50")
