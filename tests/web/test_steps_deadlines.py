"""“My deadlines”: the statutory periods running in the officer's region, overdue first; and fast at pilot scale."""

import re
from datetime import date, timedelta

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import insert, select

from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.orgs.models import Organization, OrgKind, OrgType, Region, RegionLevel
from procurement.projects import services
from procurement.projects.models import BudgetLine, FundingSource, Project
from procurement.rules.clock import beijing_today, utcnow
from procurement.rules.procurement import PERIODS, Method
from procurement.rules.stages import ProjectStage
from tests.factories import login_as, make_supplier, make_user
from tests.project_factories import make_bureau, make_staged_project

TODAY = beijing_today()
D = timedelta(days=1)


def text(response) -> str:
    return response.get_data(as_text=True)


def shown(msgid: str, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


def rows(page: str) -> list[str]:
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return re.findall(r"<tr class=\"deadline-.*?</tr>", body, re.S)


@pytest.fixture
def suijiang(client):
    bureau = make_bureau("530626", name="绥江县民政局")
    officer = make_user(Role.OFFICER, organization=bureau)
    return bureau, officer


def awaiting_notice(bureau, decided_on, **kw):
    return make_staged_project(bureau=bureau, stage=ProjectStage.EVALUATED, documents_issued_on=decided_on - 40 * D,
                        response_deadline=decided_on - 20 * D, evaluated_on=decided_on - 10 * D, evaluation_result="结果",
                        award_decided_on=decided_on, award_notice_on=decided_on, **kw)


def awarded(bureau, notice_on, **kw):
    return make_staged_project(bureau=bureau, stage=ProjectStage.AWARDED, documents_issued_on=notice_on - 40 * D,
                        response_deadline=notice_on - 20 * D, evaluated_on=notice_on - 10 * D, evaluation_result="结果",
                        award_decided_on=notice_on - D, award_notice_on=notice_on,
                        award_supplier_id=make_supplier().id, **kw)


def test_overdue_first_in_red_then_due_with_days_left(client, suijiang):
    bureau, officer = suijiang
    late = awaiting_notice(bureau, TODAY - 20 * D, title="逾期未发布中标公告的项目")
    signing = awarded(bureau, TODAY - 25 * D, title="即将到期签订合同的项目")
    login_as(client, officer)
    page = text(client.get("/projects/deadlines"))
    found = rows(page)
    assert "逾期未发布中标公告的项目" in found[0] and "table-danger" in found[0] and "deadline-overdue" in found[0]
    due = PERIODS["award_notice"].end(services.work_calendar(), TODAY - 20 * D).day
    assert shown("overdue by %(n)s days", n=(TODAY - due).days) in found[0]
    assert shown(PERIODS["award_notice"].msgid) in found[0] and PERIODS["award_notice"].citation in found[0]
    assert f"/projects/{late.id}" in found[0]
    signing_row = next(r for r in found if "即将到期签订合同的项目" in r)
    assert "deadline-due" in signing_row and "table-danger" not in signing_row
    assert shown(PERIODS["contract_signing"].msgid) in signing_row
    assert f"/projects/{signing.id}" in signing_row
    left = (PERIODS["contract_signing"].end(services.work_calendar(), TODAY - 25 * D).day - TODAY).days
    assert shown("%(n)s days left", n=left) in signing_row


def test_only_the_region_of_the_officer_and_below(client, suijiang):
    bureau, officer = suijiang
    awaiting_notice(bureau, TODAY - 20 * D, title="绥江的项目")
    awaiting_notice(make_bureau("532601", name="文山市民政局"), TODAY - 20 * D, title="文山的项目")
    login_as(client, officer)
    page = text(client.get("/projects/deadlines"))
    assert "绥江的项目" in page and "文山的项目" not in page
    province = make_user(Role.OFFICER, organization=make_bureau("530000"))
    login_as(client, province)
    page = text(client.get("/projects/deadlines"))
    assert "绥江的项目" in page and "文山的项目" in page


def test_filters_by_state_step_and_purchaser(client, suijiang):
    bureau, officer = suijiang
    province = make_user(Role.OFFICER, organization=make_bureau("530000"))
    awaiting_notice(bureau, TODAY - 20 * D, title="逾期项目")
    awarded(bureau, TODAY - 3 * D, title="合同待签项目")
    awaiting_notice(make_bureau("532601", name="文山市民政局"), TODAY, title="文山项目")
    login_as(client, province)
    page = text(client.get("/projects/deadlines?state=overdue"))
    assert "逾期项目" in page and "合同待签项目" not in page
    page = text(client.get("/projects/deadlines?step=contract_signing"))
    assert "合同待签项目" in page and "逾期项目" not in page
    page = text(client.get("/projects/deadlines?bureau=文山市民政局"))
    assert "文山项目" in page and "逾期项目" not in page
    for junk in ("state=<script>", "step=../../", "bureau=%00", "page=-5", "page=99999999999999", "page=abc"):
        assert client.get(f"/projects/deadlines?{junk}").status_code == 200


def test_done_steps_are_shown_on_request(client, suijiang):
    bureau, officer = suijiang
    awarded(bureau, TODAY - 3 * D, title="已公告项目")  # notice one day after the decision: done in time
    login_as(client, officer)
    page = text(client.get("/projects/deadlines"))
    assert not any("deadline-done" in r for r in rows(page))
    page = text(client.get("/projects/deadlines?state=done"))
    done = [r for r in rows(page) if "已公告项目" in r]
    assert done and all("deadline-done" in r for r in done)
    assert shown(PERIODS["award_notice"].msgid) in done[0]


def test_a_due_date_in_a_year_without_a_calendar_is_marked_estimated(client, suijiang):
    bureau, officer = suijiang
    awaiting_notice(bureau, date(2031, 3, 3), title="2031年的项目")
    login_as(client, officer)
    page = text(client.get("/projects/deadlines"))
    row = next(r for r in rows(page) if "2031年的项目" in r)
    assert shown("estimated: no holiday calendar for that year") in row
    assert "2031年3月5日" in row


def test_the_list_is_paginated(client, suijiang):
    bureau, officer = suijiang
    for n in range(55):
        awaiting_notice(bureau, TODAY - (n % 9 + 10) * D, title=f"项目{n:02d}")
    login_as(client, officer)
    first = text(client.get("/projects/deadlines"))
    second = text(client.get("/projects/deadlines?page=2"))
    assert len(rows(first)) == 50 and len(rows(second)) == 5
    assert "page=2" in first


def test_only_officers_have_deadlines(client):
    for role in (Role.SUPPLIER, Role.FINANCE, Role.EVALUATOR, Role.SYSADMIN):
        login_as(client, make_user(role))
        assert client.get("/projects/deadlines").status_code == 403


# --- at pilot scale ---------------------------------------------------------------------------

MIXED = [ProjectStage.DRAFT, ProjectStage.APPROVED, ProjectStage.ANNOUNCED, ProjectStage.EVALUATED, ProjectStage.AWARDED,
         ProjectStage.CONTRACTED]
RUNNING = [ProjectStage.ANNOUNCED, ProjectStage.EVALUATED, ProjectStage.AWARDED]


def _pilot_scale(province_officer_bureau, stages) -> None:
    """2,000 projects across 73 counties of 16 prefectures, in the given stages by turns."""
    prefectures = db.session.execute(select(Region).where(Region.level == RegionLevel.PREFECTURE)
                                     .order_by(Region.code)).scalars().all()
    counties = []
    for n in range(73):
        parent = prefectures[n % len(prefectures)]
        code = f"{parent.code[:4]}{90 + n // len(prefectures):02d}"
        county = Region(code=code, name=f"测试县{n}", level=RegionLevel.COUNTY, parent=parent,
                        path=f"{parent.path}{code}/")
        counties.append(county)
    db.session.add_all(counties)
    db.session.flush()
    bureaus = []
    for n, county in enumerate(counties):
        bureaus.append(Organization(kind=OrgKind.BUREAU, name=f"测试县{n}民政局", org_type=OrgType.GOVERNMENT,
                                    region=county, active=True))
    db.session.add_all(bureaus)
    db.session.flush()
    lines = [BudgetLine(bureau_id=b.id, fiscal_year=2026, funding_source=FundingSource.COUNTY_BUDGET, name="预算",
                        amount=10_000_000, approval_ref="x", created_at=utcnow(), updated_at=utcnow()) for b in bureaus]
    db.session.add_all(lines)
    db.session.flush()
    now = utcnow()
    values = []
    for n in range(2000):
        b = n % 73
        stage = stages[n % len(stages)]
        base = TODAY - (n % 40) * D
        late = stage in (ProjectStage.EVALUATED, ProjectStage.AWARDED, ProjectStage.CONTRACTED)
        values.append({
            "code": f"P-{n:05d}", "title": f"2026年测试县{b}社会救助服务项目{n}", "bureau_id": bureaus[b].id,
            "fiscal_year": 2026, "budget_line_id": lines[b].id, "total": 50_000_000, "stage": stage,
            "method": Method.CONSULTATION, "stage_changed_at": now, "created_at": now, "updated_at": now, "version": 1,
            "documents_issued_on": base - 30 * D if stage != ProjectStage.DRAFT else None,
            "response_deadline": base + 5 * D if stage not in (ProjectStage.DRAFT, ProjectStage.APPROVED) else None,
            "award_decided_on": base if late else None, "award_notice_on": base + D if late else None,
            "award_supplier_id": province_officer_bureau.id if late else None,
        })
    db.session.execute(insert(Project), values)
    db.session.commit()
