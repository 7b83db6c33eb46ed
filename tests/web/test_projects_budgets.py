"""Budget-line pages: officers keep their bureau's lines, finance staff read them."""

import html as htmllib
import re
from decimal import Decimal

import pytest
from flask_babel import gettext
from sqlalchemy import func, select

from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from procurement.projects.models import BudgetLine
from procurement.rules.stages import ProjectStage
from tests.factories import login_as, make_org, make_user
from tests.project_factories import YEAR, make_budget_line, make_project


def text(response):
    return htmllib.unescape(response.get_data(as_text=True))


def field_error(html, field_id):
    match = re.search(rf'id="{field_id}".*?((?:<div class="invalid-feedback d-block">.*?</div>\s*)+)', html, re.S)
    return re.findall(r'invalid-feedback d-block">(.*?)</div>', match.group(1)) if match else []


def budget_form(**overrides):
    data = {"fiscal_year": str(YEAR), "funding_source": "provincial_fund", "name": "2025年试点补助",
            "amount": "10,000,000.00", "approval_ref": "云财社〔2025〕88号", "approved_on": f"{YEAR}-01-15", "note": ""}
    data.update(overrides)
    return data


@pytest.fixture
def bureau():
    return make_org(OrgKind.BUREAU, "530626", name="绥江县民政局")


@pytest.fixture
def officer(client, bureau):
    user = make_user(Role.OFFICER, organization=bureau, display_name="李娟")
    login_as(client, user)
    return user


def test_an_officer_adds_a_line_for_his_bureau(client, officer, bureau):
    response = client.post("/projects/budgets/new", data=budget_form())
    assert response.status_code == 302
    line = db.session.execute(select(BudgetLine)).scalar_one()
    assert line.bureau_id == bureau.id and line.amount == Decimal("10000000.00")
    page = text(client.get(f"/projects/budgets?year={YEAR}"))
    assert "2025年试点补助" in page and "¥10,000,000.00" in page and "云财社〔2025〕88号" in page


@pytest.mark.parametrize(("field", "value", "msgid"), [
    ("amount", "1e20", "Enter an amount in yuan, e.g. 1350.00."),
    ("amount", "0", "The amount must be more than 0 and at most ¥10,000,000,000.00."),
    ("amount", "-100", "The amount must be more than 0 and at most ¥10,000,000,000.00."),
    ("amount", "99999999999999", "The amount must be more than 0 and at most ¥10,000,000,000.00."),
    ("amount", "", "Enter the amount."),
    ("fiscal_year", "1999", "Enter a year between 2000 and 2100."),
    ("fiscal_year", "2101", "Enter a year between 2000 and 2100."),
    ("approval_ref", "", "Enter the reference of the budget approval."),
    ("name", "", "Enter the name of the budget line."),
])
def test_bad_budget_input_is_shown_next_to_the_field(client, officer, field, value, msgid):
    response = client.post("/projects/budgets/new", data=budget_form(**{field: value}))
    assert response.status_code == 400
    assert gettext(msgid) in field_error(text(response), field)
    assert db.session.scalar(select(func.count()).select_from(BudgetLine)) == 0


def test_the_list_shows_committed_remaining_and_projects(client, officer, bureau):
    line = make_budget_line(bureau, amount="500000.00", name="县级救助资金")
    make_project(bureau, budget_line=line, total="100000.00")  # a draft commits nothing
    make_project(bureau, budget_line=line, total="120000.00", stage=ProjectStage.APPROVED)
    make_project(bureau, budget_line=line, total="90000.00", stage=ProjectStage.CANCELLED)
    make_budget_line(make_org(OrgKind.BUREAU, "530102"), name="五华区的线")
    db.session.commit()
    page = text(client.get("/projects/budgets"))
    row = re.search(rf'<tr data-line="{line.id}">(.*?)</tr>', page, re.S).group(1)
    assert "¥500,000.00" in row and "¥120,000.00" in row and "¥380,000.00" in row
    assert re.search(r">\s*3\s*</td>", row)
    assert "五华区的线" not in page


def test_a_line_cannot_be_cut_below_what_projects_commit(client, officer, bureau):
    line = make_budget_line(bureau, amount="500000.00")
    make_project(bureau, budget_line=line, total="120000.00", stage=ProjectStage.ANNOUNCED)
    db.session.commit()
    page = text(client.get(f"/projects/budgets/{line.id}/edit"))
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    response = client.post(f"/projects/budgets/{line.id}/edit",
                           data=budget_form(name=line.name, amount="100000.00", version=version))
    assert response.status_code == 400
    errors = field_error(text(response), "amount")
    assert errors == [gettext("Projects already commit %(used)s of this line; the amount cannot be lower.",
                              used="¥120,000.00")]
    db.session.refresh(line)
    assert line.amount == Decimal("500000.00")
    assert client.post(f"/projects/budgets/{line.id}/edit",
                       data=budget_form(name=line.name, amount="120000.00", version=version)).status_code == 302
    db.session.refresh(line)
    assert line.amount == Decimal("120000.00")


def test_a_concurrent_budget_edit_is_a_conflict(app, client, officer, bureau):
    line = make_budget_line(bureau, amount="500000.00", name="原名")
    db.session.commit()
    colleague = app.test_client()
    login_as(colleague, make_user(Role.OFFICER, organization=bureau, display_name="王芳"))
    version = re.search(r'name="version" type="hidden" value="(\d+)"', text(client.get(f"/projects/budgets/{line.id}/edit"))).group(1)
    assert colleague.post(f"/projects/budgets/{line.id}/edit",
                          data=budget_form(name="王芳的名", version=version)).status_code == 302
    response = client.post(f"/projects/budgets/{line.id}/edit", data=budget_form(name="我的名", version=version))
    assert response.status_code == 409
    page = text(response)
    assert gettext("Someone else saved this budget line while you were editing it.") in page
    assert "王芳" in page and 'value="我的名"' in page


def test_finance_reads_the_lines_but_edits_none(client, bureau):
    line = make_budget_line(bureau, name="县级救助资金")
    login_as(client, make_user(Role.FINANCE, region_code="530626"))
    page = text(client.get("/projects/budgets"))
    assert "县级救助资金" in page and "/projects/budgets/new" not in page and "/edit" not in page
    assert client.get("/projects/budgets/new").status_code == 403
    assert client.get(f"/projects/budgets/{line.id}/edit").status_code == 403
    assert client.post(f"/projects/budgets/{line.id}/edit", data=budget_form()).status_code == 403


def test_another_countys_officer_cannot_edit_the_line(client, bureau):
    line = make_budget_line(bureau)
    login_as(client, make_user(Role.OFFICER, region_code="530102"))
    assert client.get(f"/projects/budgets/{line.id}/edit").status_code == 403
    assert line.name not in text(client.get("/projects/budgets"))


@pytest.mark.parametrize("query", ["year=abc", "year=-1", "page=99999999999999999999", "year=%00"])
def test_strange_query_arguments_never_fail(client, officer, query):
    assert client.get("/projects/budgets?" + query).status_code == 200
