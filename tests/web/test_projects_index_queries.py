"""The project list at provincial scale (2,000 projects, 73 counties) reads projects in a fixed number of queries.

Its speed is measured by `make bench ONLY=project_list`, not here.
"""

from decimal import Decimal

import pytest
from sqlalchemy import event, select

from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.orgs.models import Organization, OrgKind, OrgType, Region, RegionLevel
from procurement.projects.models import Project
from procurement.reference_data import ensure_region
from procurement.rules.clock import utcnow
from procurement.rules.procurement import Method
from procurement.rules.stages import ProjectStage
from tests.factories import login_as, make_user

PROJECTS, COUNTIES = 2000, 73


def province_of_projects():
    prefectures = db.session.execute(select(Region).where(Region.level == RegionLevel.PREFECTURE)
                                     .order_by(Region.code)).scalars().all()
    counties = db.session.execute(select(Region).where(Region.level == RegionLevel.COUNTY)).scalars().all()
    n = 0
    while len(counties) < COUNTIES:
        parent = prefectures[n % len(prefectures)]
        code = f"{parent.code[:4]}{50 + n // len(prefectures):02d}"
        n += 1
        counties.append(ensure_region(code, f"测试县{code}", RegionLevel.COUNTY, parent))
    bureaus = [Organization(kind=OrgKind.BUREAU, name=f"{c.name}民政局", region=c, org_type=OrgType.GOVERNMENT)
               for c in counties]
    db.session.add_all(bureaus)
    db.session.flush()
    stages = [ProjectStage.DRAFT, ProjectStage.APPROVED, ProjectStage.ANNOUNCED, ProjectStage.EVALUATED]
    now = utcnow()
    rows = []
    for i in range(PROJECTS):
        bureau = bureaus[i % len(bureaus)]
        stage = stages[i % len(stages)]
        rows.append({"code": f"{bureau.region.code}-2026-{i:04d}", "title": f"社会救助服务采购项目{i}", "bureau_id": bureau.id,
                     "fiscal_year": 2025 + i % 2, "total": Decimal(10000 + i * 37) + Decimal("0.50"), "stage": stage,
                     "stage_changed_at": now, "method": Method.CONSULTATION, "created_at": now, "updated_at": now,
                     "version": 1, "budget_line_id": None})
    # Past-draft projects need a budget line (a constraint); the list does not read it.
    from procurement.projects.models import BudgetLine, FundingSource

    line = BudgetLine(bureau=bureaus[0], fiscal_year=2026, funding_source=FundingSource.COUNTY_BUDGET, name="x",
                      amount=Decimal("1.00"), approval_ref="x", created_at=now, updated_at=now)
    db.session.add(line)
    db.session.flush()
    for row in rows:
        if row["stage"] != ProjectStage.DRAFT:
            row["budget_line_id"] = line.id
    db.session.execute(Project.__table__.insert(), rows)
    db.session.commit()


@pytest.fixture
def provincial(client):
    province_of_projects()
    user = make_user(Role.FINANCE, region_code="530000")
    login_as(client, user)
    return user


def count_statements(app, client, url) -> int:
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engines[None] if hasattr(db, "engines") else db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len([s for s in statements if "project" in s.lower()])


def test_the_list_reads_projects_in_one_query_and_one_count(app, client, provincial):
    # The statements that read projects: the fiscal years of the filter, the page, the count.
    assert count_statements(app, client, "/projects/") == 3
    assert count_statements(app, client, "/projects/?page=7&sort=-total&stage=approved&q=项目1") == 3
