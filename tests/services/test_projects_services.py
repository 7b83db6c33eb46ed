"""Project services: budget, content, method, split purchases and the stage machine, as the law asks."""

import os
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import gettext
from sqlalchemy import func, select

from procurement.audit.models import AuditRecord
from procurement.auth.models import User
from procurement.auth.roles import Role
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from procurement.projects import services
from procurement.projects.models import (
    FundingSource,
    PerformanceTarget,
    Project,
    ProjectLine,
    ProjectTransition,
    TargetDirection,
)
from procurement.rules.clock import beijing_today
from procurement.rules.procurement import Method, SingleSourceGround
from procurement.rules.stages import CITE_BUDGET, CITE_CATALOG, ProjectStage
from tests.factories import category, make_item, make_list, make_org, make_user, region
from tests.project_factories import YEAR, actor, county_items, make_budget_line, make_project, ready_draft


@pytest.fixture
def officer():
    bureau = make_org(OrgKind.BUREAU, "530626", name="绥江县民政局")
    return make_user(Role.OFFICER, organization=bureau)


@pytest.fixture
def item():
    _list, items = county_items(reference_price=Decimal("45.00"))
    return items[0]


def project_data(line=None, **overrides):
    data = {"title": "居家照料服务采购", "fiscal_year": YEAR, "budget_line": line, "description": None,
            "expected_beneficiaries": 100, "service_start": date(YEAR, 1, 1), "service_end": date(YEAR, 12, 31),
            "service_place": "绥江县"}
    data.update(overrides)
    return data


def audit_actions(project) -> list[str]:
    return list(db.session.execute(select(AuditRecord.action).where(
        AuditRecord.object_type == "project", AuditRecord.object_id == str(project.id)).order_by(AuditRecord.seq)).scalars())


def codes(checks) -> set[str]:
    return {c.code for c in checks}


# --- create and update ------------------------------------------------------------------------

def test_a_new_project_is_a_draft_of_the_officers_bureau_with_a_running_code(officer):
    line = make_budget_line(officer.organization)
    first = services.create_project(project_data(line), actor(officer))
    second = services.create_project(project_data(line, title="第二个"), actor(officer))
    assert first.bureau_id == officer.organization_id and first.stage == ProjectStage.DRAFT
    assert (first.code, second.code) == (f"530626-{YEAR}-001", f"530626-{YEAR}-002")
    assert audit_actions(first) == ["project.create"]


def test_codes_keep_counting_past_999(officer):
    make_project(officer.organization, code=f"530626-{YEAR}-999")
    make_project(officer.organization, code=f"530626-{YEAR}-1000")
    assert services.create_project(project_data(), actor(officer)).code == f"530626-{YEAR}-1001"


def test_only_bureau_officers_create_projects():
    finance = make_user(Role.FINANCE, region_code="530626")
    with pytest.raises(AccessDenied):
        services.create_project(project_data(), actor(finance))


@pytest.mark.parametrize(("change", "field", "msgid"), [
    ({"service_end": date(YEAR, 1, 1), "service_start": date(YEAR, 6, 1)}, "service_end",
     "The service period must end on or after its start."),
    ({"fiscal_year": 1999}, "fiscal_year", "Enter a year between 2000 and 2100."),
    ({"expected_beneficiaries": -1}, "expected_beneficiaries", None),
])
def test_inconsistent_project_data_is_refused_on_its_field(officer, change, field, msgid):
    with pytest.raises(DomainError) as refused:
        services.create_project(project_data(**change), actor(officer))
    assert refused.value.field == field
    if msgid:
        assert refused.value.message == gettext(msgid)


def test_a_budget_line_of_another_bureau_or_year_is_refused(officer):
    other = make_budget_line(make_org(OrgKind.BUREAU, "530102"))
    with pytest.raises(DomainError) as refused:
        services.create_project(project_data(other), actor(officer))
    assert refused.value.field == "budget_line"
    assert refused.value.message == gettext("The budget line belongs to another bureau.")
    next_year = make_budget_line(officer.organization, year=YEAR + 1)
    with pytest.raises(DomainError) as refused:
        services.create_project(project_data(next_year), actor(officer))
    assert refused.value.field == "budget_line"


def test_update_records_only_what_changed_and_refuses_a_stale_version(officer):
    project = services.create_project(project_data(), actor(officer))
    loaded = project.version
    services.update_project(project, project_data(title="新标题"), actor(officer), expected_version=loaded)
    record = db.session.execute(select(AuditRecord).where(AuditRecord.action == "project.update")).scalar_one()
    assert record.detail == {"title": "新标题"}
    with pytest.raises(ConflictError):
        services.update_project(project, project_data(title="又一个"), actor(officer), expected_version=loaded)
    assert project.title == "新标题"


def test_another_countys_officer_cannot_change_the_project(officer):
    project = services.create_project(project_data(), actor(officer))
    stranger = make_user(Role.OFFICER, region_code="530102")
    assert not services.can_view_project(stranger, project)
    with pytest.raises(AccessDenied):
        services.update_project(project, project_data(title="x"), actor(stranger))


def test_the_year_cannot_change_under_the_items(officer, item):
    project = services.create_project(project_data(), actor(officer))
    services.add_line(project, item, 1, Decimal("45.00"), actor(officer))
    with pytest.raises(DomainError) as refused:
        services.update_project(project, project_data(fiscal_year=YEAR + 1), actor(officer))
    assert refused.value.field == "fiscal_year"


# --- lines and targets ------------------------------------------------------------------------

def test_lines_make_the_total_exactly_and_removed_lines_stay_on_record(officer, item):
    project = services.create_project(project_data(), actor(officer))
    first = services.add_line(project, item, 3, Decimal("45.10"), actor(officer))
    services.add_line(project, item, 1000, Decimal("88.00"), actor(officer))
    assert first.amount == Decimal("135.30")
    assert project.total == Decimal("88135.30")
    services.remove_line(first, actor(officer))
    assert project.total == Decimal("88000.00")
    assert [ln.quantity for ln in project.lines] == [1000]
    kept = db.session.get(ProjectLine, first.id)
    assert kept is not None and kept.removed
    assert db.session.scalar(select(func.count()).select_from(ProjectLine)) == 2
    assert audit_actions(project) == ["project.create", "project.line_add", "project.line_add", "project.line_remove"]


def test_items_off_the_county_list_are_refused_with_the_rule(officer):
    project = services.create_project(project_data(), actor(officer))
    other_county = make_item(make_list(region_code="530102", year=YEAR))
    last_year = make_item(make_list(region_code="530626", year=YEAR - 1))
    for foreign in (other_county, last_year):
        with pytest.raises(DomainError) as refused:
            services.add_line(project, foreign, 1, Decimal("10.00"), actor(officer))
        assert refused.value.field == "item" and refused.value.citation == CITE_CATALOG


def test_an_item_on_the_negative_list_is_refused_naming_the_clause(officer):
    _list, (bad,) = county_items(name="低保对象审核确认服务")
    project = services.create_project(project_data(), actor(officer))
    with pytest.raises(DomainError) as refused:
        services.add_line(project, bad, 1, Decimal("10.00"), actor(officer))
    assert refused.value.field == "item" and "第十条" in refused.value.message
    assert project.lines == []


@pytest.mark.parametrize(("quantity", "price", "field"), [
    (0, "45.00", "quantity"), (-5, "45.00", "quantity"), (10_000_001, "45.00", "quantity"),
    (1, "0.00", "unit_price"), (1, "1000000.01", "unit_price"), (10_000_000, "1000000.00", "quantity"),
])
def test_out_of_bounds_lines_are_refused(officer, item, quantity, price, field):
    project = services.create_project(project_data(), actor(officer))
    with pytest.raises(DomainError) as refused:
        services.add_line(project, item, quantity, Decimal(price), actor(officer))
    assert refused.value.field == field
    assert db.session.scalar(select(func.count()).select_from(ProjectLine)) == 0


def test_targets_are_validated_and_removed_ones_stay(officer):
    project = services.create_project(project_data(), actor(officer))
    target = services.add_target(project, " 服务对象满意度 ", TargetDirection.AT_LEAST, Decimal("90"), "%", actor(officer))
    assert target.indicator == "服务对象满意度"
    for indicator, value, unit, field in [("", Decimal("1"), "人", "indicator"), ("长" * 65, Decimal("1"), "人", "indicator"),
                                          ("x", Decimal("-1"), "人", "target_value"), ("x", Decimal("1"), "", "unit")]:
        with pytest.raises(DomainError) as refused:
            services.add_target(project, indicator, TargetDirection.EQUAL, value, unit, actor(officer))
        assert refused.value.field == field
    services.remove_target(target, actor(officer))
    assert project.targets == [] and db.session.get(PerformanceTarget, target.id).removed
    assert audit_actions(project)[-2:] == ["project.target_add", "project.target_remove"]


# --- method -----------------------------------------------------------------------------------

def test_the_method_must_fit_the_amount(officer, item):
    line = make_budget_line(officer.organization, amount="5000000.00")
    project = services.create_project(project_data(line), actor(officer))
    services.add_line(project, item, 1000, Decimal("1500.00"), actor(officer))  # ¥1,500,000
    today = beijing_today()
    with pytest.raises(DomainError) as refused:
        services.set_method(project, {"method": Method.SIMPLIFIED, "today": today}, actor(officer))
    assert refused.value.field == "method"
    services.set_method(project, {"method": Method.CONSULTATION, "today": today}, actor(officer))
    assert project.method == Method.CONSULTATION


def test_above_the_open_tender_threshold_another_method_needs_the_recorded_approval(officer, item):
    line = make_budget_line(officer.organization, amount="5000000.00")
    project = services.create_project(project_data(line), actor(officer))
    services.add_line(project, item, 1000, Decimal("2500.00"), actor(officer))  # ¥2,500,000
    today = beijing_today()
    with pytest.raises(DomainError) as refused:
        services.set_method(project, {"method": Method.CONSULTATION, "today": today}, actor(officer))
    assert refused.value.field == "method_approval_by"
    with pytest.raises(DomainError) as refused:
        services.set_method(project, {"method": Method.CONSULTATION, "today": today, "method_approval_by": "昭通市财政局",
                                      "method_approval_ref": "昭财采〔2026〕3号",
                                      "method_approval_on": today + timedelta(days=1)}, actor(officer))
    assert refused.value.field == "method_approval_on"
    services.set_method(project, {"method": Method.CONSULTATION, "today": today, "method_approval_by": "昭通市财政局",
                                  "method_approval_ref": "昭财采〔2026〕3号", "method_approval_on": today}, actor(officer))
    assert project.method_approval_ref == "昭财采〔2026〕3号"
    # Open tender needs no approval, and a stale one is not kept.
    services.set_method(project, {"method": Method.OPEN_TENDER, "today": today}, actor(officer))
    assert project.method_approval_ref is None


def test_single_source_needs_a_ground_and_an_explanation(officer, item):
    project = services.create_project(project_data(), actor(officer))
    services.add_line(project, item, 10, Decimal("45.00"), actor(officer))
    today = beijing_today()
    with pytest.raises(DomainError) as refused:
        services.set_method(project, {"method": Method.SINGLE_SOURCE, "today": today}, actor(officer))
    assert refused.value.field == "single_source_ground"
    with pytest.raises(DomainError) as refused:
        services.set_method(project, {"method": Method.SINGLE_SOURCE, "today": today,
                                      "single_source_ground": SingleSourceGround.ONLY_ONE}, actor(officer))
    assert refused.value.field == "single_source_reason"
    services.set_method(project, {"method": Method.SINGLE_SOURCE, "today": today, "single_source_ground":
                                  SingleSourceGround.ONLY_ONE, "single_source_reason": "全县仅一家"}, actor(officer))
    assert project.single_source_ground == SingleSourceGround.ONLY_ONE
    assert "project.method" in audit_actions(project)


# --- budget and the transition to approved ----------------------------------------------------

def test_an_incomplete_draft_is_refused_with_every_unmet_check(officer):
    project = services.create_project(project_data(expected_beneficiaries=None), actor(officer))
    with pytest.raises(services.TransitionRefused) as refused:
        services.change_stage(project, ProjectStage.APPROVED, actor(officer), beijing_today())
    assert {"budget_line", "lines", "targets", "beneficiaries", "method"} <= codes(refused.value.checks)
    assert all(c.citation for c in refused.value.checks)
    assert project.stage == ProjectStage.DRAFT
    assert db.session.scalar(select(func.count()).select_from(ProjectTransition)) == 0


def test_approval_commits_the_budget_and_is_recorded(officer, item):
    line = make_budget_line(officer.organization, amount="100000.00")
    project = ready_draft(officer, line, item, quantity=1000, unit_price="45.00")  # ¥45,000
    assert services.committed(line) == Decimal("0.00")  # a draft commits nothing
    assert services.remaining(line) == Decimal("100000.00")
    options = {o.transition.target: o for o in services.readiness(project, beijing_today())}
    assert options[ProjectStage.APPROVED].ready
    record = services.change_stage(project, ProjectStage.APPROVED, actor(officer), beijing_today(),
                                   expected_version=project.version)
    assert project.stage == ProjectStage.APPROVED
    assert (record.from_stage, record.to_stage, record.actor_id) == (ProjectStage.DRAFT, ProjectStage.APPROVED, officer.id)
    assert services.committed(line) == Decimal("45000.00")
    assert services.remaining(line) == Decimal("55000.00")
    assert audit_actions(project)[-1] == "project.stage"
    # The content is locked once the budget is confirmed.
    with pytest.raises(DomainError):
        services.add_line(project, item, 1, Decimal("1.00"), actor(officer))


def test_two_projects_cannot_both_take_the_last_of_a_budget_line(officer, item):
    line = make_budget_line(officer.organization, amount="100000.00")
    first = ready_draft(officer, line, item, quantity=1000, unit_price="80.00")  # ¥80,000
    second = ready_draft(officer, line, item, quantity=1000, unit_price="50.00")  # ¥50,000
    services.change_stage(first, ProjectStage.APPROVED, actor(officer), beijing_today())
    with pytest.raises(services.TransitionRefused) as refused:
        services.change_stage(second, ProjectStage.APPROVED, actor(officer), beijing_today())
    (check,) = [c for c in refused.value.checks if c.code == "budget_enough"]
    assert check.citation == CITE_BUDGET
    assert "¥20,000.00" in check.detail and "¥50,000.00" in check.detail
    assert second.stage == ProjectStage.DRAFT
    # Cancelling the first releases its share, and the second fits.
    services.change_stage(first, ProjectStage.CANCELLED, actor(officer), beijing_today(), reason="需求变化")
    assert services.remaining(line) == Decimal("100000.00")
    services.change_stage(second, ProjectStage.APPROVED, actor(officer), beijing_today())
    assert services.committed(line) == Decimal("50000.00")


def test_a_budget_line_cannot_drop_below_what_projects_commit(officer, item):
    line = make_budget_line(officer.organization, amount="100000.00")
    project = ready_draft(officer, line, item, quantity=1000, unit_price="45.00")
    services.change_stage(project, ProjectStage.APPROVED, actor(officer), beijing_today())
    data = {k: getattr(line, k) for k in services.BUDGET_FIELDS}
    with pytest.raises(DomainError) as refused:
        services.save_budget_line(line.bureau, {**data, "amount": Decimal("44999.99")}, actor(officer), line=line)
    assert refused.value.field == "amount" and "¥45,000.00" in refused.value.message
    services.save_budget_line(line.bureau, {**data, "amount": Decimal("45000.00")}, actor(officer), line=line)
    assert line.amount == Decimal("45000.00")
    with pytest.raises(ConflictError):
        services.save_budget_line(line.bureau, {**data, "amount": Decimal("50000.00")}, actor(officer), line=line,
                                  expected_version=line.version - 1)


def test_budget_lines_are_kept_to_the_officers_region(officer):
    data = {"fiscal_year": YEAR, "funding_source": FundingSource.LOTTERY_FUND, "name": "福彩公益金", "amount": Decimal("300000.00"), "approval_ref": "绥财预〔2026〕1号",
            "approved_on": None, "note": None}
    line = services.save_budget_line(officer.organization, data, actor(officer))
    assert db.session.execute(select(AuditRecord.action).where(AuditRecord.object_type == "budget_line",
                                                               AuditRecord.object_id == str(line.id))).scalar_one() \
        == "project.budget_create"
    with pytest.raises(DomainError) as refused:
        services.save_budget_line(officer.organization, data, actor(officer))
    assert refused.value.field == "name"
    with pytest.raises(AccessDenied):
        services.save_budget_line(make_org(OrgKind.BUREAU, "530102"), {**data, "name": "x"}, actor(officer))
    with pytest.raises(AccessDenied):
        services.save_budget_line(officer.organization, {**data, "name": "y"},
                                  actor(make_user(Role.FINANCE, region_code="530626")))


def test_budget_usage_counts_committed_amounts_and_projects(officer):
    line = make_budget_line(officer.organization, amount="900000.00")
    make_project(officer.organization, budget_line=line, total="100000.00")  # draft
    make_project(officer.organization, budget_line=line, total="200000.00", stage=ProjectStage.ANNOUNCED)
    make_project(officer.organization, budget_line=line, total="300000.00", stage=ProjectStage.FAILED)
    usage = services.budget_usage([line.id])[line.id]
    assert usage == services.BudgetUsage(Decimal("200000.00"), 3)
    assert services.committed(line) == Decimal("200000.00")


# --- split purchases --------------------------------------------------------------------------

def test_a_split_purchase_is_refused_until_an_approval_is_recorded(officer):
    line = make_budget_line(officer.organization, amount="5000000.00")
    _list, (care, care_too) = county_items(n=2, category=category("S01"))
    first = ready_draft(officer, line, care, quantity=1000, unit_price="1500.00", method=Method.CONSULTATION)
    services.change_stage(first, ProjectStage.APPROVED, actor(officer), beijing_today())
    second = ready_draft(officer, line, care_too, quantity=1000, unit_price="800.00")  # ¥800,000, simplified
    with pytest.raises(services.TransitionRefused) as refused:
        services.change_stage(second, ProjectStage.APPROVED, actor(officer), beijing_today())
    (split,) = [c for c in refused.value.checks if c.code == "split"]
    assert first.code in split.detail and "¥2,300,000.00" in split.detail and "第二十八条" in split.citation
    with pytest.raises(DomainError) as bad:
        services.record_split_approval(second, "绥财预调〔2026〕5号", beijing_today() + timedelta(days=1), "", actor(officer),
                                       beijing_today())
    assert bad.value.field == "split_approval_on"
    services.record_split_approval(second, "绥财预调〔2026〕5号", beijing_today(), "预算调整", actor(officer),
                                   beijing_today())
    options = {o.transition.target: o for o in services.readiness(second, beijing_today())}
    assert "split_warning" in codes(options[ProjectStage.APPROVED].checks)
    services.change_stage(second, ProjectStage.APPROVED, actor(officer), beijing_today())
    assert second.stage == ProjectStage.APPROVED
    assert "project.split_approval" in audit_actions(second)
    # The first, committed before the second, is not held up by it afterwards.
    announce = {o.transition.target: o for o in services.readiness(first, beijing_today())}[ProjectStage.ANNOUNCED]
    assert "split" not in codes(announce.checks)


def test_other_categories_and_drafts_do_not_add_up(officer):
    line = make_budget_line(officer.organization, amount="5000000.00")
    _l1, (care,) = county_items(category=category("S01"))
    other = make_item(_l1, category=category("S07"))
    first = ready_draft(officer, line, care, quantity=1000, unit_price="1500.00", method=Method.CONSULTATION)
    second = ready_draft(officer, line, other, quantity=1000, unit_price="800.00")
    assert all(not s.blocking for s in services.split_results(second))  # the first is only a draft
    services.change_stage(first, ProjectStage.APPROVED, actor(officer), beijing_today())
    assert all(not s.others for s in services.split_results(second))  # another category
    services.change_stage(second, ProjectStage.APPROVED, actor(officer), beijing_today())


# --- reasons, returns and the record --------------------------------------------------------

def test_cancelling_needs_a_reason_and_keeps_it(officer, item):
    line = make_budget_line(officer.organization)
    project = ready_draft(officer, line, item)
    with pytest.raises(DomainError) as refused:
        services.change_stage(project, ProjectStage.CANCELLED, actor(officer), beijing_today(), reason="   ")
    assert refused.value.field == "reason"
    assert project.stage == ProjectStage.DRAFT
    services.change_stage(project, ProjectStage.CANCELLED, actor(officer), beijing_today(), reason="需求已由其他渠道解决")
    assert project.stage == ProjectStage.CANCELLED and project.stage_reason == "需求已由其他渠道解决"
    assert not services.can_edit_project(officer, project)
    assert services.ended_from(project) == ProjectStage.DRAFT


def test_returning_to_draft_needs_a_reason_and_releases_the_budget(officer, item):
    line = make_budget_line(officer.organization)
    project = ready_draft(officer, line, item)
    services.change_stage(project, ProjectStage.APPROVED, actor(officer), beijing_today())
    with pytest.raises(DomainError):
        services.change_stage(project, ProjectStage.DRAFT, actor(officer), beijing_today())
    services.change_stage(project, ProjectStage.DRAFT, actor(officer), beijing_today(), reason="调整服务数量")
    assert services.committed(line) == Decimal("0.00")
    transitions = db.session.execute(select(ProjectTransition).where(ProjectTransition.project_id == project.id)
                                     .order_by(ProjectTransition.id)).scalars().all()
    assert [(t.to_stage, t.reason) for t in transitions] == [(ProjectStage.APPROVED, None),
                                                             (ProjectStage.DRAFT, "调整服务数量")]


def test_a_stale_page_cannot_move_the_project(officer, item):
    project = ready_draft(officer, make_budget_line(officer.organization), item)
    stale = project.version - 1
    with pytest.raises(ConflictError):
        services.change_stage(project, ProjectStage.APPROVED, actor(officer), beijing_today(), expected_version=stale)


def test_finance_cannot_move_a_project(officer, item):
    project = ready_draft(officer, make_budget_line(officer.organization), item)
    finance = make_user(Role.FINANCE, region_code="530626")
    assert services.can_view_project(finance, project) and not services.can_edit_project(finance, project)
    with pytest.raises(AccessDenied):
        services.change_stage(project, ProjectStage.APPROVED, actor(finance), beijing_today())


def test_every_change_is_audited_and_the_timeline_tells_it(officer, item):
    line = make_budget_line(officer.organization)
    project = ready_draft(officer, line, item)
    services.record_split_approval(project, "文号1", beijing_today(), "", actor(officer), beijing_today())
    services.change_stage(project, ProjectStage.APPROVED, actor(officer), beijing_today())
    assert audit_actions(project) == ["project.create", "project.line_add", "project.target_add", "project.method",
                                      "project.split_approval", "project.stage"]
    entries = services.timeline(project)
    assert entries[0].action == "stage" and entries[0].to_stage == ProjectStage.APPROVED
    assert entries[0].who == officer.display_name
    assert [e.action for e in entries[1:]] == ["project.split_approval", "project.method", "project.target_add",
                                               "project.line_add", "project.create"]


# --- the list ---------------------------------------------------------------------------------

def test_the_list_shows_the_users_region_and_filters(officer):
    mine = make_project(officer.organization, title="绥江照料", total="500.00")
    make_project(officer.organization, title="绥江助餐", stage=ProjectStage.APPROVED, total="900.00")
    make_project(make_org(OrgKind.BUREAU, "530102"), title="五华照料")
    page = services.project_page(officer, services.ProjectFilter(), 1, 50)
    assert page.total == 2 and {r.title for r in page.items} == {"绥江照料", "绥江助餐"}
    page = services.project_page(officer, services.ProjectFilter(q="照料"), 1, 50)
    assert [r.id for r in page.items] == [mine.id]
    page = services.project_page(officer, services.ProjectFilter(stage=ProjectStage.APPROVED), 1, 50)
    assert [r.title for r in page.items] == ["绥江助餐"]
    page = services.project_page(officer, services.ProjectFilter(sort="-total"), 1, 50)
    assert [r.total for r in page.items] == [Decimal("900.00"), Decimal("500.00")]
    province = make_user(Role.FINANCE, region_code="530000")
    assert services.project_page(province, services.ProjectFilter(), 1, 50).total == 3
    wuhua = services.ProjectFilter(region=region("530100"))
    assert [r.title for r in services.project_page(province, wuhua, 1, 50).items] == ["五华照料"]
    assert services.project_page(province, services.ProjectFilter(q="100%_"), 1, 50).total == 0


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="row locks need PostgreSQL")
def test_concurrent_approvals_cannot_both_take_the_last_of_a_budget_line(app, officer, item):
    line = make_budget_line(officer.organization, amount="100000.00")
    first = ready_draft(officer, line, item, quantity=1000, unit_price="80.00")
    second = ready_draft(officer, line, item, quantity=1000, unit_price="50.00")
    db.session.commit()
    user_id, first_id, second_id = officer.id, first.id, second.id
    first_checked, outcome = threading.Event(), {}

    def approve(project_id, hold):
        with app.app_context():
            who = actor(db.session.get(User, user_id))
            try:
                services.change_stage(db.session.get(Project, project_id), ProjectStage.APPROVED, who, beijing_today())
                if hold:  # keep the transaction open while the other one tries
                    first_checked.set()
                    time.sleep(0.5)
                db.session.commit()
                outcome[project_id] = "approved"
            except services.TransitionRefused as exc:
                db.session.rollback()
                outcome[project_id] = [c.code for c in exc.checks]
            finally:
                first_checked.set()
                db.session.remove()

    a = threading.Thread(target=approve, args=(first_id, True))
    a.start()
    first_checked.wait(10)
    b = threading.Thread(target=approve, args=(second_id, False))
    b.start()
    a.join(20)
    b.join(20)
    assert outcome == {first_id: "approved", second_id: ["budget_enough"]}
    db.session.expire_all()
    assert services.committed(db.session.get(type(line), line.id)) == Decimal("80000.00")


def test_a_code_taken_meanwhile_gives_the_next_number(monkeypatch, officer):
    """Two officers creating at the same moment: the one who saves second gets the next number, not an error."""
    project_services = services
    first = services.create_project(project_data(), actor(officer))
    real_next_code = services._next_code
    calls = []

    def stale_next_code(bureau, year):  # the first call sees the database as it was before `first`
        calls.append(1)
        return first.code if len(calls) == 1 else real_next_code(bureau, year)

    monkeypatch.setattr(project_services, "_next_code", stale_next_code)
    second = services.create_project(project_data(), actor(officer))
    assert second.code != first.code and second.code.endswith("-002") and len(calls) == 2
