"""Project list and "my deadlines" with 2,000 projects across 73 counties, seen by a provincial officer."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from bench.pages import _client, _measure, _officer, _region, bench_app
from procurement.extensions import db
from procurement.orgs.models import Organization, OrgKind, OrgType, Region, RegionLevel
from procurement.projects.models import BudgetLine, FundingSource, Project
from procurement.rules.clock import beijing_today, utcnow
from procurement.rules.identifiers import uscc_check_symbol
from procurement.rules.procurement import Method
from procurement.rules.stages import ProjectStage

STAGES = [ProjectStage.DRAFT, ProjectStage.APPROVED, ProjectStage.ANNOUNCED, ProjectStage.EVALUATED,
          ProjectStage.AWARDED, ProjectStage.AWARDED, ProjectStage.CANCELLED]


def _world(projects: int = 2000, counties: int = 73):
    prefectures = db.session.execute(select(Region).where(Region.level == RegionLevel.PREFECTURE)
                                     .order_by(Region.code)).scalars().all()
    regions = db.session.execute(select(Region).where(Region.level == RegionLevel.COUNTY)).scalars().all()
    n = 0
    while len(regions) < counties:
        parent = prefectures[n % len(prefectures)]
        code = f"{parent.code[:4]}{50 + n // len(prefectures):02d}"
        region = Region(code=code, name=f"测试县{n}", level=RegionLevel.COUNTY, parent=parent, path=f"{parent.path}{code}/")
        db.session.add(region)
        regions.append(region)
        n += 1
    db.session.flush()
    today = beijing_today()
    bureaus, lines = [], []
    for i, region in enumerate(regions):
        body = f"11{region.code}01{i:07d}"
        bureau = Organization(kind=OrgKind.BUREAU, name=f"{region.name}民政局", org_type=OrgType.GOVERNMENT,
                              region=region, credit_code=body + uscc_check_symbol(body))
        line = BudgetLine(bureau=bureau, fiscal_year=today.year, funding_source=FundingSource.COUNTY_BUDGET,
                          name="社会救助服务", amount=Decimal("50000000.00"), approval_ref="财预〔2026〕1号")
        bureaus.append(bureau)
        lines.append(line)
    db.session.add_all(bureaus + lines)
    db.session.flush()
    now = utcnow()
    rows = []
    for k in range(projects):
        b = k % len(bureaus)
        stage = STAGES[k % len(STAGES)]
        decided = today - timedelta(days=k % 9)
        row = {
            "code": f"{bureaus[b].region.code}-{today.year}-{k:04d}", "title": f"困难群众居家照料服务项目{k}",
            "bureau_id": bureaus[b].id, "fiscal_year": today.year, "budget_line_id": lines[b].id,
            "total": Decimal("480000.00") + k, "stage": stage, "stage_changed_at": now, "method": Method.CONSULTATION,
            "created_at": now, "updated_at": now, "version": 1, "expected_beneficiaries": 200,
            "service_start": today, "service_end": today + timedelta(days=364), "service_place": "全县",
            "stage_reason": "需求调整" if stage == ProjectStage.CANCELLED else None,
            "documents_issued_on": today - timedelta(days=20) if stage != ProjectStage.DRAFT else None,
            "response_deadline": today + timedelta(days=k % 15 - 5) if stage != ProjectStage.DRAFT else None,
        }
        if stage in (ProjectStage.EVALUATED, ProjectStage.AWARDED):
            row["award_decided_on"] = decided
        if stage == ProjectStage.AWARDED:
            row["award_notice_on"] = decided + timedelta(days=1)
            row["award_supplier_id"] = bureaus[b].id  # any organization: the page only shows dates
        rows.append(row)
    db.session.execute(insert(Project), rows)
    db.session.commit()


def project_list(requests: int):
    with bench_app() as app:
        _world()
        officer = _officer("530000")
        return _measure("project_list", _client(app, officer), "/projects/", requests, expect="困难群众居家照料服务项目")


def deadlines(requests: int):
    with bench_app() as app:
        _world()
        officer = _officer("530000")
        return _measure("deadlines", _client(app, officer), "/projects/deadlines", requests)


__all__ = ["project_list", "deadlines", "_region"]
