"""Project pages as officers and finance staff use them."""

import html as htmllib
import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from flask_babel import gettext
from sqlalchemy import func, select

from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from procurement.projects import services
from procurement.projects.models import PerformanceTarget, Project, ProjectLine, ProjectTransition
from procurement.rules.clock import beijing_today
from procurement.rules.procurement import Method
from procurement.rules.stages import CITE_BUDGET, CITE_TARGETS, ProjectStage
from tests.factories import login_as, make_item, make_list, make_org, make_user
from tests.project_factories import YEAR, actor, county_items, make_budget_line, make_line, make_project, ready_draft


def text(response):
    """The page with entities decoded, so messages compare with gettext's."""
    return htmllib.unescape(response.get_data(as_text=True))


def field_error(html, field_id):
    """The error messages rendered right after the input of a field."""
    match = re.search(rf'id="{field_id}".*?((?:<div class="invalid-feedback d-block">.*?</div>\s*)+)', html, re.S)
    return re.findall(r'invalid-feedback d-block">(.*?)</div>', match.group(1)) if match else []


def button(html, target):
    """The opening tag of the advance button of a transition."""
    match = re.search(rf'<button[^>]*id="transition-{target}"[^>]*>', html, re.S)
    assert match, f"no button for {target}"
    return match.group(0)


def is_disabled(tag) -> bool:
    return re.search(r"\sdisabled(\s|>|=)", tag) is not None


def check_state(html, code):
    match = re.search(rf'data-check="{code}" data-state="(\w+)"', html)
    return match.group(1) if match else None


def version_of(html):
    return re.search(r'name="version" (?:type="hidden" )?value="(\d+)"', html).group(1)


@pytest.fixture
def bureau():
    return make_org(OrgKind.BUREAU, "530626", name="绥江县民政局")


@pytest.fixture
def officer(client, bureau):
    user = make_user(Role.OFFICER, organization=bureau, display_name="李娟")
    login_as(client, user)
    return user


@pytest.fixture
def items():
    _list, found = county_items(n=2, reference_price=Decimal("45.00"))
    db.session.commit()
    return found


@pytest.fixture
def line(bureau):
    budget = make_budget_line(bureau, amount="100000.00", name="2026年社会救助购买服务")
    db.session.commit()
    return budget


def project_form(**overrides):
    data = {"title": "居家照料服务采购", "fiscal_year": str(YEAR), "budget_line": "", "description": "",
            "expected_beneficiaries": "120", "service_start": f"{YEAR}-01-01", "service_end": f"{YEAR}-12-31",
            "service_place": "绥江县"}
    data.update(overrides)
    return data


# --- list ---------------------------------------------------------------------------------

def test_the_list_shows_the_officers_county_with_filters_and_search(client, officer, bureau):
    make_project(bureau, title="居家照料服务采购", total="45000.00")
    make_project(bureau, title="助餐服务采购", stage=ProjectStage.APPROVED, method=Method.CONSULTATION)
    make_project(make_org(OrgKind.BUREAU, "530102"), title="五华区心理疏导")
    db.session.commit()
    page = text(client.get("/projects/"))
    assert "居家照料服务采购" in page and "助餐服务采购" in page and "五华区心理疏导" not in page
    assert "¥45,000.00" in page
    assert "助餐服务采购" not in text(client.get("/projects/?stage=draft"))
    assert "居家照料服务采购" not in text(client.get("/projects/?method=consultation"))
    searched = text(client.get("/projects/?q=助餐"))
    assert "助餐服务采购" in searched and "居家照料服务采购" not in searched


@pytest.mark.parametrize("query", ["page=abc", "page=-5", "page=99999999999999999999", "stage=x", "year=abc",
                                   "year=99999999999", "method=%00", "region=../../", "sort=drop table",
                                   "q=" + "长" * 500, "q=%25_%5C"])
def test_strange_query_arguments_never_fail(client, officer, query):
    assert client.get("/projects/?" + query).status_code == 200


def test_a_provincial_user_filters_by_region(client):
    make_project(make_org(OrgKind.BUREAU, "530626"), title="绥江项目")
    make_project(make_org(OrgKind.BUREAU, "530102"), title="五华项目")
    login_as(client, make_user(Role.FINANCE, region_code="530000"))
    page = text(client.get("/projects/"))
    assert "绥江项目" in page and "五华项目" in page and 'value="530626"' in page
    filtered = text(client.get("/projects/?region=530100"))
    assert "五华项目" in filtered and "绥江项目" not in filtered


# --- create and edit --------------------------------------------------------------------------

def test_an_officer_creates_a_project_for_his_bureau(client, officer, bureau, line):
    page = text(client.get("/projects/new"))
    assert "2026年社会救助购买服务" in page and "¥100,000.00" in page
    response = client.post("/projects/new", data=project_form(budget_line=str(line.id)))
    assert response.status_code == 302
    project = db.session.execute(select(Project)).scalar_one()
    assert project.bureau_id == bureau.id and project.budget_line_id == line.id and project.stage == ProjectStage.DRAFT
    assert response.headers["Location"].endswith(f"/projects/{project.id}")


@pytest.mark.parametrize(("field", "value", "msgid"), [
    ("service_end", f"{YEAR}-01-01", "The service period must end on or after its start."),
    ("title", "", "Enter the title."),
    ("title", "长" * 129, "At most 128 characters."),
    ("fiscal_year", "1e20", "Enter a whole number."),
    ("fiscal_year", "99999999999999999999", "The number is too large."),
    ("fiscal_year", "1999", "Enter a year between 2000 and 2100."),
    ("expected_beneficiaries", "-3", "Between 0 and 10,000,000."),
    ("budget_line", "99999999999999999999", "Choose one of the budget lines."),
    ("budget_line", "4242", "Choose one of the budget lines."),
])
def test_bad_project_input_is_shown_next_to_the_field(client, officer, field, value, msgid):
    data = project_form(**{field: value})
    if field == "service_end":
        data["service_start"] = f"{YEAR}-06-01"
    response = client.post("/projects/new", data=data)
    assert response.status_code == 400
    assert gettext(msgid) in field_error(text(response), field)
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_a_budget_line_of_another_bureau_is_refused_next_to_the_field(client, officer):
    foreign = make_budget_line(make_org(OrgKind.BUREAU, "530102"))
    db.session.commit()
    response = client.post("/projects/new", data=project_form(budget_line=str(foreign.id)))
    assert response.status_code == 400
    assert gettext("The budget line belongs to another bureau.") in field_error(text(response), "budget_line")
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_a_second_save_gets_a_conflict_and_keeps_what_was_typed(app, client, officer, bureau):
    project = make_project(bureau, title="原标题")
    db.session.commit()
    colleague = app.test_client()
    login_as(colleague, make_user(Role.OFFICER, organization=bureau, display_name="王芳"))
    mine = text(client.get(f"/projects/{project.id}/edit"))
    version = version_of(mine)
    assert colleague.post(f"/projects/{project.id}/edit",
                          data=project_form(title="王芳改的标题", version=version)).status_code == 302
    conflict = client.post(f"/projects/{project.id}/edit", data=project_form(title="我改的标题", version=version))
    assert conflict.status_code == 409
    page = text(conflict)
    assert gettext("Someone else saved this project while you were editing it.") in page
    assert "王芳" in page and "王芳改的标题" in page and 'value="我改的标题"' in page
    db.session.refresh(project)
    assert project.title == "王芳改的标题"
    # Saving again, knowingly, overwrites.
    assert client.post(f"/projects/{project.id}/edit",
                       data=project_form(title="我改的标题", version=version_of(page))).status_code == 302
    db.session.refresh(project)
    assert project.title == "我改的标题"


def test_a_project_past_draft_cannot_be_edited(client, officer, bureau):
    project = make_project(bureau, stage=ProjectStage.APPROVED, title="已落实")
    db.session.commit()
    response = client.get(f"/projects/{project.id}/edit")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/projects/{project.id}")
    assert client.post(f"/projects/{project.id}/edit", data=project_form(title="改")).status_code == 302
    db.session.refresh(project)
    assert project.title == "已落实"


# --- lines and targets --------------------------------------------------------------------------

def test_adding_an_item_defaults_to_its_reference_price(client, officer, bureau, items):
    project = make_project(bureau)
    db.session.commit()
    page = text(client.get(f"/projects/{project.id}/lines/new"))
    assert items[0].code in page and "¥45.00" in page
    response = client.post(f"/projects/{project.id}/lines/new", data={"item": str(items[0].id), "quantity": "1,200",
                                                                      "unit_price": ""})
    assert response.status_code == 302
    db.session.refresh(project)
    assert project.total == Decimal("54000.00")
    assert "¥54,000.00" in text(client.get(f"/projects/{project.id}"))


@pytest.mark.parametrize(("field", "data", "msgid"), [
    ("quantity", {"quantity": "-5"}, "The quantity must be a whole number from 1 to 10,000,000."),
    ("quantity", {"quantity": "0"}, "The quantity must be a whole number from 1 to 10,000,000."),
    ("quantity", {"quantity": "2.5"}, "Enter a whole number."),
    ("quantity", {"quantity": ""}, "Enter the quantity."),
    ("unit_price", {"unit_price": "1e20"}, "Enter an amount in yuan, e.g. 1350.00."),
    ("unit_price", {"unit_price": "-1"}, "The price must be more than 0 and at most 1,000,000.00 yuan."),
    ("unit_price", {"unit_price": "45.001"}, "An amount has at most two decimals (fen)."),
    ("item", {"item": "424242"}, "Choose a service item of the county's list."),
    ("item", {"item": "99999999999999999999"}, "Choose a service item of the county's list."),
    ("item", {"item": ""}, "Choose a service item."),
])
def test_bad_line_input_is_shown_next_to_the_field(client, officer, bureau, items, field, data, msgid):
    project = make_project(bureau)
    db.session.commit()
    response = client.post(f"/projects/{project.id}/lines/new",
                           data={"item": str(items[0].id), "quantity": "10", "unit_price": "45.00", **data})
    assert response.status_code == 400
    assert gettext(msgid) in field_error(text(response), field)
    assert db.session.scalar(select(func.count()).select_from(ProjectLine)) == 0


def test_a_quantity_that_would_make_an_absurd_total_is_refused(client, officer, bureau, items):
    project = make_project(bureau)
    db.session.commit()
    response = client.post(f"/projects/{project.id}/lines/new",
                           data={"item": str(items[0].id), "quantity": "10000000", "unit_price": "1000000"})
    assert response.status_code == 400
    assert field_error(text(response), "quantity")
    assert db.session.scalar(select(func.count()).select_from(ProjectLine)) == 0


def test_items_of_another_list_or_on_the_negative_list_are_refused_with_the_clause(client, officer, bureau):
    project = make_project(bureau)
    foreign = make_item(make_list(region_code="530102", year=YEAR))
    _list, (negative,) = county_items(name="临时救助资金发放服务")
    db.session.commit()
    response = client.post(f"/projects/{project.id}/lines/new", data={"item": str(foreign.id), "quantity": "1"})
    assert response.status_code == 400
    assert gettext("Only active items of the county's %(year)s service list can be purchased.", year=YEAR) \
        in field_error(text(response), "item")
    response = client.post(f"/projects/{project.id}/lines/new", data={"item": str(negative.id), "quantity": "1"})
    errors = field_error(text(response), "item")
    assert response.status_code == 400 and errors and "第十条" in errors[0]


def test_removing_a_line_keeps_it_on_record(client, officer, bureau, items):
    project = make_project(bureau)
    kept = make_line(project, items[0], quantity=10)
    gone = make_line(project, items[1], quantity=5)
    db.session.commit()
    assert client.post(f"/projects/{project.id}/lines/{gone.id}/remove").status_code == 302
    db.session.expire_all()
    assert project.total == kept.amount
    assert db.session.get(ProjectLine, gone.id).removed
    other = make_project(bureau)
    db.session.commit()
    assert client.post(f"/projects/{other.id}/lines/{kept.id}/remove").status_code == 404


def test_targets_offer_the_items_indicators_and_refuse_bad_values(client, officer, bureau, items):
    project = make_project(bureau)
    make_line(project, items[0])
    db.session.commit()
    page = text(client.get(f"/projects/{project.id}/targets/new"))
    assert '<datalist id="indicator-suggestions">' in page and '<option value="服务人次">' in page
    response = client.post(f"/projects/{project.id}/targets/new",
                           data={"indicator": "长" * 65, "direction": "at_least", "target_value": "-1", "unit": "人次"})
    assert response.status_code == 400
    html = text(response)
    assert gettext("At most 64 characters.") in field_error(html, "indicator")
    assert gettext("The target value must be 0 or more, with at most two decimals.") in field_error(html, "target_value")
    assert client.post(f"/projects/{project.id}/targets/new", data={
        "indicator": "服务人次", "direction": "at_least", "target_value": "1000", "unit": "人次"}).status_code == 302
    target = db.session.execute(select(PerformanceTarget)).scalar_one()
    assert "≥ 1000 人次" in text(client.get(f"/projects/{project.id}"))
    assert client.post(f"/projects/{project.id}/targets/{target.id}/remove").status_code == 302
    db.session.refresh(target)
    assert target.removed


# --- the readiness checklist and the transition ------------------------------------------------

def test_the_checklist_holds_the_button_until_every_check_is_met(client, officer, bureau, items, line):
    project = make_project(bureau, budget_line=line)
    db.session.commit()
    page = text(client.get(f"/projects/{project.id}"))
    assert is_disabled(button(page, "approved"))
    for code in ("lines", "targets", "method", "service_period"):
        assert check_state(page, code) == "unmet"
    assert check_state(page, "budget_line") == "met"
    assert CITE_TARGETS in page and CITE_BUDGET in page
    assert gettext("Available once every check marked ✗ is met.") in page
    # Cancelling needs no check, only a reason: its button is enabled.
    assert not is_disabled(button(page, "cancelled"))

    # Fill the project in through the pages.
    edit = text(client.get(f"/projects/{project.id}/edit"))
    assert client.post(f"/projects/{project.id}/edit", data=project_form(
        title=project.title, budget_line=str(line.id), version=version_of(edit))).status_code == 302
    client.post(f"/projects/{project.id}/lines/new", data={"item": str(items[0].id), "quantity": "1000"})
    client.post(f"/projects/{project.id}/targets/new",
                data={"indicator": "服务人次", "direction": "at_least", "target_value": "1000", "unit": "人次"})
    page = text(client.get(f"/projects/{project.id}"))
    assert check_state(page, "lines") == "met" and check_state(page, "method") == "unmet"
    assert is_disabled(button(page, "approved"))
    assert client.post(f"/projects/{project.id}/method", data={"method": "simplified"}).status_code == 302

    page = text(client.get(f"/projects/{project.id}"))
    assert not is_disabled(button(page, "approved"))
    response = client.post(f"/projects/{project.id}/stage", data={"target": "approved", "version": version_of(page)})
    assert response.status_code == 302
    db.session.refresh(project)
    assert project.stage == ProjectStage.APPROVED
    page = text(client.get(f"/projects/{project.id}"))
    timeline = page[page.index('id="timeline"'):]
    assert f"{ProjectStage.DRAFT.label} → {ProjectStage.APPROVED.label}" in timeline and "李娟" in timeline
    assert "¥45,000.00" in page[page.index('id="budget"'):page.index('id="budget-remaining"')]  # committed
    assert "¥55,000.00" in page  # remaining


def test_a_refused_transition_lists_the_unmet_checks(client, officer, bureau, line):
    project = make_project(bureau, budget_line=line)
    db.session.commit()
    page = text(client.get(f"/projects/{project.id}"))
    response = client.post(f"/projects/{project.id}/stage", data={"target": "approved", "version": version_of(page)})
    assert response.status_code == 400
    html = text(response)
    alert = html[html.index('id="refusal"'):html.index('id="readiness"')]
    assert 'data-check="lines"' in alert and 'data-check="targets"' in alert and CITE_TARGETS in alert
    db.session.refresh(project)
    assert project.stage == ProjectStage.DRAFT


@pytest.mark.parametrize("target", ["announced", "closed", "x" * 40, ""])
def test_an_impossible_target_is_refused_without_error(client, officer, bureau, target):
    project = make_project(bureau)
    db.session.commit()
    response = client.post(f"/projects/{project.id}/stage", data={"target": target, "version": "1"})
    assert response.status_code == 400
    db.session.refresh(project)
    assert project.stage == ProjectStage.DRAFT


def test_cancelling_needs_a_reason_next_to_the_field(client, officer, bureau, line):
    project = make_project(bureau, budget_line=line)
    db.session.commit()
    page = text(client.get(f"/projects/{project.id}"))
    response = client.post(f"/projects/{project.id}/stage",
                           data={"target": "cancelled", "reason": "  ", "version": version_of(page)})
    assert response.status_code == 400
    assert gettext("Give the reason; it is kept with the project's record.") in field_error(text(response),
                                                                                              "reason-cancelled")
    response = client.post(f"/projects/{project.id}/stage",
                           data={"target": "cancelled", "reason": "需求已由其他渠道解决", "version": version_of(page)})
    assert response.status_code == 302
    db.session.refresh(project)
    assert project.stage == ProjectStage.CANCELLED and project.stage_reason == "需求已由其他渠道解决"
    page = text(client.get(f"/projects/{project.id}"))
    assert "需求已由其他渠道解决" in page and 'id="transition-' not in page


def test_an_abandoned_draft_without_budget_line_can_be_cancelled(client, officer, bureau):
    project = make_project(bureau)
    db.session.commit()
    page = text(client.get(f"/projects/{project.id}"))
    assert not is_disabled(button(page, "cancelled"))
    response = client.post(f"/projects/{project.id}/stage",
                           data={"target": "cancelled", "reason": "不再需要", "version": version_of(page)})
    assert response.status_code == 302
    db.session.refresh(project)
    assert project.stage == ProjectStage.CANCELLED and project.budget_line_id is None


def test_a_transition_from_a_stale_page_is_a_conflict(client, officer, bureau, items, line):
    project = ready_draft(officer, line, items[0])
    db.session.commit()
    stale = text(client.get(f"/projects/{project.id}"))
    services.update_project(project, {**{k: getattr(project, k) for k in services.PROJECT_FIELDS}, "title": "新"},
                            actor(officer))
    db.session.commit()
    response = client.post(f"/projects/{project.id}/stage", data={"target": "approved", "version": version_of(stale)})
    assert response.status_code == 409
    assert gettext("Someone else changed this project; look at it again before you go on.") in text(response)
    db.session.refresh(project)
    assert project.stage == ProjectStage.DRAFT


def test_the_second_approval_on_a_full_budget_line_is_refused_naming_what_remains(client, officer, bureau, items, line):
    first = ready_draft(officer, line, items[0], quantity=1000, unit_price="80.00")
    second = ready_draft(officer, line, items[1], quantity=1000, unit_price="50.00")
    services.change_stage(first, ProjectStage.APPROVED, actor(officer), beijing_today())
    db.session.commit()
    page = text(client.get(f"/projects/{second.id}"))
    assert is_disabled(button(page, "approved")) and check_state(page, "budget_enough") == "unmet"
    assert "¥20,000.00" in page
    response = client.post(f"/projects/{second.id}/stage", data={"target": "approved", "version": version_of(page)})
    assert response.status_code == 400 and "¥20,000.00" in text(response)


# --- method and split purchases ------------------------------------------------------------------

def test_the_method_page_shows_every_method_with_why_and_the_law(client, officer, bureau, items, line):
    project = make_project(bureau, budget_line=line)
    make_line(project, items[0], quantity=1000, unit_price="2500.00")  # ¥2,500,000
    db.session.commit()
    page = text(client.get(f"/projects/{project.id}/method"))
    for method in Method:
        assert f'data-method="{method.value}"' in page
    assert re.search(r'data-method="simplified" data-allowed="no"', page)
    assert "《政府采购法实施条例》第二十三条" in page
    response = client.post(f"/projects/{project.id}/method", data={"method": "consultation"})
    assert response.status_code == 400
    assert field_error(text(response), "method_approval_by")
    response = client.post(f"/projects/{project.id}/method", data={"method": "simplified"})
    assert response.status_code == 400 and field_error(text(response), "method")
    response = client.post(f"/projects/{project.id}/method", data={
        "method": "consultation", "method_approval_by": "昭通市财政局", "method_approval_ref": "昭财采〔2026〕3号",
        "method_approval_on": beijing_today().isoformat()})
    assert response.status_code == 302
    db.session.refresh(project)
    assert project.method == Method.CONSULTATION and project.method_approval_ref == "昭财采〔2026〕3号"


def test_a_split_purchase_is_shown_and_allowed_once_an_approval_is_recorded(client, officer, bureau, items):
    budget = make_budget_line(bureau, amount="5000000.00")
    first = ready_draft(officer, budget, items[0], quantity=1000, unit_price="1500.00", method=Method.CONSULTATION)
    services.change_stage(first, ProjectStage.APPROVED, actor(officer), beijing_today())
    second = ready_draft(officer, budget, items[1], quantity=1000, unit_price="800.00")
    db.session.commit()
    page = text(client.get(f"/projects/{second.id}"))
    assert check_state(page, "split") == "unmet" and is_disabled(button(page, "approved"))
    method_page = text(client.get(f"/projects/{second.id}/method"))
    assert 'data-level="refused"' in method_page and first.code in method_page and "¥2,300,000.00" in method_page
    response = client.post(f"/projects/{second.id}/split-approval", data={"split_approval_ref": "",
                                                                          "split_approval_on": "2026-02-30"})
    assert response.status_code == 400
    assert field_error(text(response), "split_approval_ref") and field_error(text(response), "split_approval_on")
    assert client.post(f"/projects/{second.id}/split-approval", data={
        "split_approval_ref": "绥财预调〔2026〕5号", "split_approval_on": beijing_today().isoformat(),
        "split_approval_note": "年中预算调整"}).status_code == 302
    page = text(client.get(f"/projects/{second.id}"))
    assert check_state(page, "split_warning") == "warning" and not is_disabled(button(page, "approved"))


# --- who may do what -----------------------------------------------------------------------------

def test_finance_reads_but_changes_nothing(client, bureau, items, line):
    officer = make_user(Role.OFFICER, organization=bureau)
    project = ready_draft(officer, line, items[0])
    login_as(client, make_user(Role.FINANCE, region_code="530626"))
    page = text(client.get(f"/projects/{project.id}"))
    assert project.title in page and check_state(page, "lines") == "met"
    assert 'id="transition-' not in page and f"/projects/{project.id}/edit" not in page
    assert "/lines/new" not in page and "/remove" not in page and "/projects/new" not in text(client.get("/projects/"))
    for url in (f"/projects/{project.id}/edit", f"/projects/{project.id}/lines/new", f"/projects/{project.id}/method",
                f"/projects/{project.id}/targets/new", f"/projects/{project.id}/split-approval", "/projects/new"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/projects/{project.id}/stage", data={"target": "approved"}).status_code == 403
    db.session.refresh(project)
    assert project.stage == ProjectStage.DRAFT


def test_another_countys_officer_gets_403(client, bureau, items, line):
    owner = make_user(Role.OFFICER, organization=bureau)
    project = ready_draft(owner, line, items[0])
    (first_line,) = project.lines
    login_as(client, make_user(Role.OFFICER, region_code="530102"))
    for url in (f"/projects/{project.id}", f"/projects/{project.id}/edit", f"/projects/{project.id}/lines/new",
                f"/projects/{project.id}/method", f"/projects/{project.id}/targets/new"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/projects/{project.id}/stage", data={"target": "cancelled", "reason": "x"}).status_code == 403
    assert client.post(f"/projects/{project.id}/lines/{first_line.id}/remove").status_code == 403
    assert project.code not in text(client.get("/projects/"))
    db.session.refresh(project)
    assert project.stage == ProjectStage.DRAFT and len(project.lines) == 1


@pytest.mark.parametrize("role", [Role.SUPPLIER, Role.EVALUATOR])
def test_suppliers_and_evaluators_see_no_project(client, bureau, role):
    project = make_project(bureau)
    login_as(client, make_user(role, region_code="530626"))
    for url in ("/projects/", f"/projects/{project.id}", "/projects/new", "/projects/budgets",
                f"/projects/{project.id}/method"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/projects/{project.id}/stage", data={"target": "cancelled", "reason": "x"}).status_code == 403


def test_a_provincial_officer_sees_and_may_run_a_county_project(client, bureau, items, line):
    owner = make_user(Role.OFFICER, organization=bureau)
    project = ready_draft(owner, line, items[0])
    login_as(client, make_user(Role.OFFICER, region_code="530000"))
    page = text(client.get(f"/projects/{project.id}"))
    assert not is_disabled(button(page, "approved"))
    assert client.get("/projects/new").status_code == 200  # a provincial bureau buys for itself


def test_the_purchase_section_links_to_the_steps_that_apply(client, officer, bureau):
    approved = make_project(bureau, stage=ProjectStage.APPROVED, method=Method.INVITED_TENDER,
                            documents_issued_on=date(YEAR, 3, 1), response_deadline=date(YEAR, 3, 25),
                            announcement_ref="绥民采〔2026〕1号")
    db.session.commit()
    page = text(client.get(f"/projects/{approved.id}"))
    assert f"/projects/{approved.id}/announcement" in page and f"/projects/{approved.id}/invitations/new" in page
    assert f"/projects/{approved.id}/bids/new" not in page and f"/projects/{approved.id}/award" not in page
    assert "绥民采〔2026〕1号" in page
    announced = make_project(bureau, stage=ProjectStage.ANNOUNCED, method=Method.OPEN_TENDER)
    db.session.commit()
    page = text(client.get(f"/projects/{announced.id}"))
    assert f"/projects/{announced.id}/bids/new" in page and f"/projects/{announced.id}/evaluation" in page
    assert f"/projects/{announced.id}/announcement" not in page


def test_the_project_page_shows_its_history_newest_first(client, officer, bureau, items, line):
    project = ready_draft(officer, line, items[0])
    services.change_stage(project, ProjectStage.APPROVED, actor(officer), beijing_today())
    services.change_stage(project, ProjectStage.DRAFT, actor(officer), beijing_today(), reason="调整数量")
    db.session.commit()
    page = text(client.get(f"/projects/{project.id}"))
    actions = re.findall(r'data-action="([\w.]+)"', page[page.index('id="timeline"'):])
    assert actions == ["stage", "stage", "project.method", "project.target_add", "project.line_add", "project.create"]
    assert "调整数量" in page
    assert db.session.scalar(select(func.count()).select_from(ProjectTransition)) == 2


# --- hostile input ------------------------------------------------------------------------------

class PostForms(HTMLParser):
    """Each POST form of a page: its action and the names and kinds of its fields."""

    def __init__(self):
        super().__init__()
        self.forms, self.current = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.current = (attrs.get("action") or "", [])
            self.forms.append(self.current)
        elif self.current is not None and tag in ("input", "select", "textarea") and attrs.get("name"):
            self.current[1].append((attrs["name"], attrs.get("type", "text") if tag == "input" else tag))

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def test_hostile_input_to_every_project_form_never_fails(client, officer, bureau, items, line):
    from tests.web.test_no_server_errors import GARBAGE_ROUNDS, hostile_data

    project = ready_draft(officer, line, items[0])
    db.session.commit()
    pages = ["/projects/new", f"/projects/{project.id}", f"/projects/{project.id}/edit",
             f"/projects/{project.id}/lines/new", f"/projects/{project.id}/targets/new", f"/projects/{project.id}/method",
             f"/projects/{project.id}/split-approval", "/projects/budgets/new", f"/projects/budgets/{line.id}/edit"]
    failures, actions = [], set()
    for url in pages:
        parser = PostForms()
        parser.feed(client.get(url).get_data(as_text=True))
        for action, fields in parser.forms:
            if "/language/" in action or "/logout" in action:
                continue
            actions.add(re.sub(r"\d+", "N", action or url))
            for garbage in GARBAGE_ROUNDS:
                response = client.post(action or url, data=hostile_data(fields, garbage))
                if response.status_code >= 500:
                    failures.append(f"POST {action or url} -> {response.status_code}")
    assert failures == []
    assert {"/projects/N/stage", "/projects/N/lines/N/remove", "/projects/N/targets/N/remove", "/projects/N/method",
            "/projects/budgets/N/edit", "/projects/new"} <= actions
    db.session.refresh(project)
    assert project.stage == ProjectStage.DRAFT
