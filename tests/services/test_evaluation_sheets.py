# ruff: noqa: F811  (the ``world`` fixture is imported from the reports tests and named by each test)
"""Evaluation sheets (DOMAIN §6): opening, evaluators, the declaration, independent scoring, computed leaves from
the app's records, consolidation (trimmed with five evaluators), finalizing, corrections and the award warning."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from contracts.models import ContractState
from evaluation import services
from evaluation.models import Rule, Sheet, SheetKind, SheetResult, SheetState, Stage
from procurement.audit.models import AuditRecord
from procurement.auth.roles import Role
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.oversight import services as oversight
from procurement.oversight.models import Confirmation, InspectionKind, Satisfaction
from procurement.oversight.services import InspectionData
from procurement.supervision import services as reports
from tests.contract_factories import make_contract
from tests.evaluation_factories import full_marks, indicator, published_scheme, score_and_submit, scoring_sheet
from tests.factories import make_supplier, make_user
from tests.project_factories import actor
from tests.services.test_reports import ANNA, BO, CHEN, DING, World, open_, row, world  # noqa: F401

FINAL_DAY = date(2027, 4, 15)


@pytest.fixture
def scheme(app):
    return published_scheme()


def evaluators(n=1):
    return [make_user(Role.EVALUATOR) for _ in range(n)]


def actions() -> list[str]:
    return [a for (a,) in db.session.execute(select(AuditRecord.action).where(AuditRecord.action.like("sheet.%")))]


# --- opening and assigning ------------------------------------------------------------------------

def test_the_factory_reuses_a_published_scheme(scheme):
    assert published_scheme().id == scheme.id
    assert sum(leaf.max_points for leaf in services.leaves(scheme)) == 100


def test_open_sheet_checks_the_officer_the_contract_the_period_and_duplicates(world, scheme):
    w = world
    other = make_user(Role.OFFICER, region_code="530102")
    with pytest.raises(AccessDenied):
        services.open_sheet(w.contract, Stage.MID_TERM, SheetKind.PURCHASER, date(2026, 4, 1), date(2026, 9, 30),
                            actor(other))
    with pytest.raises(services.SheetInvalid) as excinfo:
        services.open_sheet(w.contract, Stage.MID_TERM, SheetKind.PURCHASER, date(2026, 3, 1), date(2026, 2, 1),
                            actor(w.officer))
    assert {"period_start", "period_end"} <= dict(excinfo.value.problems).keys()
    draft = make_contract(w.officer.organization, w.contract.supplier, w.item, state=ContractState.DRAFT)
    with pytest.raises(services.SheetInvalid) as excinfo:
        services.open_sheet(draft, Stage.FINAL, SheetKind.PURCHASER, date(2026, 4, 1), date(2027, 3, 31),
                            actor(w.officer))
    assert "contract" in dict(excinfo.value.problems)
    sheet = services.open_sheet(w.contract, Stage.MID_TERM, SheetKind.PURCHASER, date(2026, 4, 1),
                                date(2026, 9, 30), actor(w.officer))
    assert (sheet.state, sheet.scheme_id, sheet.number) == (SheetState.DRAFT, scheme.id, 1)
    with pytest.raises(services.SheetInvalid) as excinfo:
        services.open_sheet(w.contract, Stage.MID_TERM, SheetKind.PURCHASER, date(2026, 4, 1), date(2026, 9, 30),
                            actor(w.officer))
    assert "kind" in dict(excinfo.value.problems)
    assert actions() == ["sheet.open"]


def test_no_published_scheme_refuses_to_open(world):
    from evaluation.models import Scheme, SchemeState

    for scheme in db.session.execute(select(Scheme).where(Scheme.state == SchemeState.PUBLISHED)).scalars():
        scheme.state = SchemeState.SUPERSEDED  # the reference data may publish one
    db.session.flush()
    with pytest.raises(services.SheetInvalid) as excinfo:
        services.open_sheet(world.contract, Stage.FINAL, SheetKind.PURCHASER, date(2026, 4, 1), date(2027, 3, 31),
                            actor(world.officer))
    assert "scheme" in dict(excinfo.value.problems)


def test_who_may_evaluate_depends_on_the_kind_of_sheet(world, scheme):
    w = world
    (panel,) = evaluators()
    self_sheet = services.open_sheet(w.contract, Stage.FINAL, SheetKind.SELF, date(2026, 4, 1), date(2027, 3, 31),
                                     actor(w.officer))
    third = services.open_sheet(w.contract, Stage.FINAL, SheetKind.THIRD_PARTY, date(2026, 4, 1),
                                date(2027, 3, 31), actor(w.officer), agency="昭通市社会工作评估中心")
    purchaser = services.open_sheet(w.contract, Stage.FINAL, SheetKind.PURCHASER, date(2026, 4, 1),
                                    date(2027, 3, 31), actor(w.officer))
    for sheet, wrong in ((self_sheet, panel), (third, w.writer), (purchaser, panel),
                         (purchaser, make_user(Role.OFFICER, region_code="530102"))):
        with pytest.raises(services.SheetInvalid):
            services.assign_evaluator(sheet, wrong, actor(w.officer))
    services.assign_evaluator(self_sheet, w.writer, actor(w.officer))
    services.assign_evaluator(third, panel, actor(w.officer))
    services.assign_evaluator(purchaser, w.officer, actor(w.officer))
    with pytest.raises(services.SheetInvalid):
        services.assign_evaluator(third, panel, actor(w.officer))
    with pytest.raises(AccessDenied):
        services.assign_evaluator(third, evaluators()[0], actor(panel))
    empty = services.open_sheet(w.contract, Stage.MID_TERM, SheetKind.PURCHASER, date(2026, 4, 1),
                                date(2026, 9, 30), actor(w.officer))
    with pytest.raises(services.SheetInvalid):
        services.start_scoring(empty, actor(w.officer), FINAL_DAY)


# --- declaring and scoring -------------------------------------------------------------------------

def test_scoring_needs_the_declaration_and_checks_bounds_decimals_and_comments(world, scheme):
    w = world
    (panel,) = evaluators()
    sheet = scoring_sheet(w.contract, w.officer, [panel], kind=SheetKind.THIRD_PARTY)
    me = services.evaluator_of(panel, sheet)
    first, second, third = services.manual_leaves(scheme)[:3]  # 3, 2 and 3 points
    with pytest.raises(DomainError):
        services.save_scores(me, {first.id: ("3", "")}, actor(panel))
    with pytest.raises(services.SheetInvalid):
        services.declare(me, False, actor(panel))
    services.declare(me, True, actor(panel))
    assert w.contract.supplier.name in me.declaration and w.contract.number in me.declaration
    with pytest.raises(services.SheetInvalid) as excinfo:
        services.save_scores(me, {first.id: ("3.5", "太高"), second.id: ("1.555", "x"), third.id: ("2", "")},
                             actor(panel))
    problems = dict(excinfo.value.problems)
    assert set(problems) == {f"points_{first.id}", f"points_{second.id}", f"comment_{third.id}"}
    assert "3" in problems[f"points_{first.id}"]
    assert not me.scores  # nothing saved when anything is wrong
    services.save_scores(me, {first.id: ("3", ""), second.id: ("1.5", "调研记录不完整")}, actor(panel))
    with pytest.raises(services.SheetInvalid) as excinfo:
        services.submit_scores(me, actor(panel))  # the other manual leaves are not scored
    assert len(excinfo.value.problems) == len(services.manual_leaves(scheme)) - 2
    with pytest.raises(AccessDenied):
        services.save_scores(me, {first.id: ("2", "别人改分")}, actor(w.officer))
    services.save_scores(me, full_marks(sheet, Decimal("0.5")), actor(panel))
    services.submit_scores(me, actor(panel))
    computed = sum(services.computed_points(sheet).values(), Decimal(0))
    assert me.total == Decimal(100) - computed_max(sheet) + computed - Decimal("0.5")
    with pytest.raises(DomainError):
        services.save_scores(me, full_marks(sheet), actor(panel))  # locked after submission
    assert {"sheet.declare", "sheet.score", "sheet.submit"} <= set(actions())


def computed_max(sheet) -> Decimal:
    return sum((leaf.max_points for leaf in services.computed_leaves(sheet.scheme)), Decimal(0))


def test_evaluators_score_independently_and_officers_see_no_points_before_everyone_submits(world, scheme):
    w = world
    ann, bob = evaluators(2)
    sheet = scoring_sheet(w.contract, w.officer, [ann, bob], kind=SheetKind.THIRD_PARTY)
    for user in (ann, bob):
        services.declare(services.evaluator_of(user, sheet), True, actor(user))
    services.save_scores(services.evaluator_of(ann, sheet), full_marks(sheet), actor(ann))
    assert [e.user_id for e in services.visible_evaluators(bob, sheet)] == [bob.id]
    assert services.visible_evaluators(w.officer, sheet) == []
    services.submit_scores(services.evaluator_of(ann, sheet), actor(ann))
    assert [e.user_id for e in services.visible_evaluators(ann, sheet)] == [ann.id]  # bob has not submitted
    assert [e.user_id for e in services.visible_evaluators(bob, sheet)] == [bob.id]  # bob has not submitted
    assert services.visible_evaluators(w.officer, sheet) == []
    assert [(p.declared, p.submitted) for p in services.progress(sheet)] == [(True, True), (True, False)]
    services.save_scores(services.evaluator_of(bob, sheet), full_marks(sheet, Decimal(1)), actor(bob))
    services.submit_scores(services.evaluator_of(bob, sheet), actor(bob))
    assert len(services.visible_evaluators(w.officer, sheet)) == 2
    assert len(services.visible_evaluators(bob, sheet)) == 2


# --- computed leaves -----------------------------------------------------------------------------------

def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, tzinfo=UTC)  # 10:00 Beijing time


def test_computed_leaves_follow_the_records_with_their_inputs(world, scheme, monkeypatch):
    """April 2026 (30 of the term's 365 days): 100 units contracted at 120.00 → 8.219… units expected.

    Accepted April deliveries: ANNA 4 + BO 3 = 7 units → 7 ÷ 8.2192 = 85.17 % → 2/3 of 12 = 8.00.
    Assigned in April: ANNA, BO (1 April) and CHEN (15 April); served: ANNA, BO → 66.67 % → 1/3 of 8 = 2.67.
    The April period ended 30 April; its report was first submitted 5 May (within 10 days) → 100 % → 7.00.
    Follow-up: ANNA satisfied, BO basically satisfied → 100 % → 10.00. No notice → full 6.00.
    """
    w = world
    w.assign(CHEN, on=date(2026, 4, 15))
    w.assign(DING, on=date(2026, 5, 2))  # assigned after the period: not counted
    april = open_(w, date(2026, 4, 1), today=date(2026, 4, 30))
    reports.add_row(april, row(w, ANNA, date(2026, 4, 10), quantity="4"), actor(w.writer))
    reports.add_row(april, row(w, BO, date(2026, 4, 20), quantity="3"), actor(w.writer))
    reports.save_narrative(april, "四月服务", actor(w.writer))
    monkeypatch.setattr("procurement.supervision.services.utcnow", lambda: at(date(2026, 5, 5)))
    monkeypatch.setattr("procurement.audit.services.utcnow", lambda: at(date(2026, 5, 5)))
    reports.submit_report(april, actor(w.writer))
    reports.accept_report(april, actor(w.officer))
    may = open_(w, date(2026, 5, 1), today=date(2026, 5, 31))  # outside the sheet's period
    reports.add_row(may, row(w, CHEN, date(2026, 5, 12), quantity="9"), actor(w.writer))
    inspection = oversight.record_inspection(w.contract, InspectionData(
        InspectionKind.PHONE_FOLLOW_UP, date(2026, 4, 28), date(2026, 4, 1), date(2026, 4, 27), "民政局 王芳",
        sample_size=2), actor(w.officer), date(2026, 4, 28))
    for call, satisfaction in zip(inspection.calls, (Satisfaction.SATISFIED, Satisfaction.BASICALLY), strict=True):
        oversight.record_call(call, date(2026, 4, 28), True, Confirmation.CONFIRMED, satisfaction, None,
                              actor(w.officer), date(2026, 4, 28))
    monkeypatch.undo()
    sheet = services.open_sheet(w.contract, Stage.MID_TERM, SheetKind.PURCHASER, date(2026, 4, 1),
                                date(2026, 4, 30), actor(w.officer))
    services.assign_evaluator(sheet, w.officer, actor(w.officer))
    services.start_scoring(sheet, actor(w.officer), date(2026, 5, 20))
    by_rule = {db.session.get(type(indicator(scheme, "1")), c.indicator_id).rule: c for c in sheet.computed}
    completion = by_rule[Rule.COMPLETION]
    assert completion.inputs["numerator"] == "840.00" and completion.inputs["denominator"] == "986.30"
    assert completion.inputs["rate"] == "85.17" and completion.points == Decimal("8.00")
    coverage = by_rule[Rule.COVERAGE]
    assert (coverage.inputs["numerator"], coverage.inputs["denominator"], coverage.inputs["rate"]) == \
        ("2.00", "3.00", "66.67")
    assert coverage.points == Decimal("2.67")
    timeliness = by_rule[Rule.TIMELINESS]
    assert timeliness.inputs["periods"] == [{"period": "2026-04-01", "due": "2026-05-10",
                                             "first_submitted": "2026-05-05", "on_time": True}]
    assert timeliness.points == Decimal("7.00")
    assert by_rule[Rule.SATISFACTION].points == Decimal("10.00")
    rectification = by_rule[Rule.RECTIFICATION]
    assert rectification.inputs["nothing_to_rectify"] and rectification.points == Decimal("6.00")
    assert not any(services.not_computable(c) for c in sheet.computed)


def test_a_leaf_that_cannot_be_computed_blocks_finalizing_until_overridden(world, scheme):
    w = world
    sheet = services.open_sheet(w.contract, Stage.MID_TERM, SheetKind.PURCHASER, date(2026, 4, 1),
                                date(2026, 4, 30), actor(w.officer))
    services.assign_evaluator(sheet, w.officer, actor(w.officer))
    services.start_scoring(sheet, actor(w.officer), date(2026, 4, 20))  # no period ended, no call made
    blocked = [c for c in sheet.computed if services.not_computable(c)]
    assert len(blocked) >= 2 and all(c.points == 0 for c in blocked)
    score_and_submit(sheet, w.officer)
    with pytest.raises(services.SheetInvalid) as excinfo:
        services.finalize(sheet, actor(w.officer), date(2026, 5, 1))
    assert {f"override_{c.indicator_id}" for c in blocked} <= dict(excinfo.value.problems).keys()
    with pytest.raises(services.SheetInvalid) as excinfo:
        services.override(blocked[0], "99", "", actor(w.officer))
    assert set(dict(excinfo.value.problems)) == {"points", "reason"}
    with pytest.raises(DomainError):  # the evaluator's total already counts the computed points
        services.override(blocked[0], "5", "核查台账后给分", actor(w.officer))


# --- finalizing, consolidation and corrections ------------------------------------------------------------

def test_five_evaluators_drop_the_highest_and_lowest_and_the_sheet_locks(world, scheme):
    w = world
    panel = evaluators(5)
    sheet = scoring_sheet(w.contract, w.officer, panel, kind=SheetKind.THIRD_PARTY)
    base = sum(c.points for c in sheet.computed if c.override_points is None) + sum(
        c.override_points for c in sheet.computed if c.override_points is not None)
    manual = Decimal(100) - computed_max(sheet)
    for user, minus in zip(panel, ("0", "1", "2", "3", "3"), strict=True):
        score_and_submit(sheet, user, Decimal(minus))
    with pytest.raises(AccessDenied):
        services.finalize(sheet, actor(panel[0]), FINAL_DAY)
    services.finalize(sheet, actor(w.officer), FINAL_DAY)
    # totals: base + manual − 0, −1, −2, −3, −3 → drop −0 and one −3 → mean of −1, −2, −3 = −2
    assert sheet.total == base + manual - 2
    assert sheet.grade == ("优" if sheet.total >= 90 else "良" if sheet.total >= 80 else "中" if sheet.total >= 60
                           else "差")
    first = services.manual_leaves(scheme)[0]
    result = db.session.execute(select(SheetResult).where(SheetResult.sheet_id == sheet.id,
                                                          SheetResult.indicator_id == first.id)).scalar_one()
    assert result.points == first.max_points - 2
    assert sheet.state == SheetState.FINALIZED and sheet.finalized_by_id == w.officer.id
    assert sheet.document_id is not None
    with pytest.raises(DomainError):
        services.assign_evaluator(sheet, evaluators()[0], actor(w.officer))


def test_a_correction_is_a_new_version_and_supersedes_the_old_when_finalized(world, scheme):
    w = world
    ann, bob = evaluators(2)
    sheet = scoring_sheet(w.contract, w.officer, [ann, bob], kind=SheetKind.THIRD_PARTY)
    score_and_submit(sheet, ann)
    score_and_submit(sheet, bob, Decimal(2))
    services.finalize(sheet, actor(w.officer), FINAL_DAY)
    old_total = sheet.total
    with pytest.raises(services.SheetInvalid):
        services.correct(sheet, " ", actor(w.officer))
    fixed = services.correct(sheet, "第二位评价人误将1.1.1计为1分", actor(w.officer))
    assert (fixed.number, fixed.previous_id, fixed.state) == (2, sheet.id, SheetState.SCORING)
    assert sheet.state == SheetState.FINALIZED
    assert services.effective_sheet(w.contract, Stage.FINAL) is sheet
    bob_again = services.evaluator_of(bob, fixed)
    assert bob_again.declared_at is not None and bob_again.submitted_at is None
    assert {s.indicator_id: s.points for s in bob_again.scores} == \
        {s.indicator_id: s.points for s in services.evaluator_of(bob, sheet).scores}
    services.save_scores(bob_again, full_marks(fixed), actor(bob))
    for user in (ann, bob):
        services.submit_scores(services.evaluator_of(user, fixed), actor(user))
    services.finalize(fixed, actor(w.officer), FINAL_DAY)
    assert sheet.state == SheetState.SUPERSEDED and fixed.total == old_total + 1
    assert services.effective_sheet(w.contract, Stage.FINAL) is fixed
    assert "sheet.correct" in actions() and "sheet.finalize" in actions()


def test_the_effective_sheet_is_never_the_self_evaluation(world, scheme):
    w = world
    sheet = scoring_sheet(w.contract, w.officer, [w.writer], kind=SheetKind.SELF)
    score_and_submit(sheet, w.writer)
    services.finalize(sheet, actor(w.officer), FINAL_DAY)
    assert services.effective_sheet(w.contract, Stage.FINAL) is None
    assert services.last_final_grade(w.contract.supplier_id, date(2030, 1, 1)) is None


def test_last_final_grade_and_the_award_warning(world, scheme):
    from procurement.projects.services import project_facts
    from tests.project_factories import make_project

    w = world
    (panel,) = evaluators()
    sheet = scoring_sheet(w.contract, w.officer, [panel], kind=SheetKind.THIRD_PARTY)
    evaluator = services.evaluator_of(panel, sheet)
    services.declare(evaluator, True, actor(panel))
    services.save_scores(evaluator, {leaf.id: ("0", "未提供任何资料") for leaf in services.manual_leaves(scheme)},
                         actor(panel))
    services.submit_scores(evaluator, actor(panel))
    services.finalize(sheet, actor(w.officer), FINAL_DAY)
    assert sheet.grade == "差"
    finalized_on = sheet.finalized_at.date()
    assert services.last_final_grade(w.contract.supplier_id, finalized_on) is None  # not before that day
    later = date(finalized_on.year + 1, 1, 10)
    assert services.last_final_grade(w.contract.supplier_id, later) == "差"
    assert services.last_final_grade(make_supplier().id, later) is None
    project = make_project(w.officer.organization, award_supplier_id=w.contract.supplier_id,
                           award_decided_on=later)
    facts = project_facts(project, later)
    assert any("差" in warning for warning in facts.award_warnings)


def test_sheet_query_shows_each_person_only_their_sheets(world, scheme):
    w = world
    ann, stranger = evaluators(2)
    third = scoring_sheet(w.contract, w.officer, [ann], kind=SheetKind.THIRD_PARTY)
    own = scoring_sheet(w.contract, w.officer, [w.writer], kind=SheetKind.SELF)

    def ids(user):
        return {s.id for s in db.session.execute(services.sheet_query(user)).scalars()}

    assert ids(w.officer) == {third.id, own.id}
    assert ids(ann) == {third.id} and ids(stranger) == set()
    assert ids(w.writer) == {own.id}  # the third-party sheet only once finalized
    assert ids(make_user(Role.FINANCE)) == {third.id, own.id}
    assert ids(make_user(Role.OFFICER, region_code="530102")) == set()
    assert services.sheets_assigned_to(ann) == [third]
    assert isinstance(third, Sheet)
