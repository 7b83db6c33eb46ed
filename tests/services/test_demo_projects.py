"""The demo projects: seeded through the real services and stage guards, idempotent, relative to today."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from procurement.auth.models import User
from procurement.demo.projects import PLANS
from procurement.demo.seed import seed_demo
from procurement.extensions import db
from procurement.projects import services
from procurement.projects.models import Project, ProjectTransition
from procurement.rules.clock import beijing_today
from procurement.rules.procurement import Method
from procurement.rules.stages import ProjectStage


def _seed(today):
    """seed-demo as the CLI runs it (the demo projects come with it), for the given day."""
    from unittest import mock

    with mock.patch("procurement.demo.seed.beijing_today", lambda: today):
        added = seed_demo()["projects"]
    db.session.commit()
    return added


def _by_title():
    return {p.title: p for p in db.session.execute(select(Project)).scalars()}


def test_seed_twice_leaves_one_set_of_projects_in_their_stages():
    today = beijing_today()
    assert _seed(today) == len(PLANS)
    assert _seed(today) == 0
    projects = _by_title()
    assert len(projects) == len(PLANS)
    stage_of = {key: projects[plan.title].stage for key, plan in PLANS.items()}
    assert stage_of == {
        "draft": ProjectStage.DRAFT, "approved": ProjectStage.APPROVED, "announced": ProjectStage.ANNOUNCED,
        "evaluated": ProjectStage.EVALUATED, "overdue": ProjectStage.EVALUATED, "awarded": ProjectStage.AWARDED,
        "cancelled": ProjectStage.CANCELLED, "wenshan": ProjectStage.ANNOUNCED, "panlong": ProjectStage.APPROVED,
        "contracted": ProjectStage.IN_SERVICE,  # its contract is signed, published, filed and in service
    }
    assert {p.bureau.name for p in projects.values()} == {"绥江县民政局", "文山市民政局", "昆明市盘龙区民政局"}


def test_demo_projects_are_realistic_and_their_transitions_are_recorded():
    today = beijing_today()
    _seed(today)
    projects = _by_title()
    announced = projects[PLANS["announced"].title]
    assert announced.method == Method.CONSULTATION
    assert announced.response_deadline > today
    assert (announced.response_deadline - announced.documents_issued_on).days >= 10
    evaluated = projects[PLANS["evaluated"].title]
    assert len(evaluated.bids) == 3 and evaluated.award_supplier is not None and evaluated.award_decided_on < today
    awarded = projects[PLANS["awarded"].title]
    assert awarded.method == Method.OPEN_TENDER and awarded.total >= services.thresholds().open_tender_threshold
    assert awarded.award_notice_on <= today
    cancelled = projects[PLANS["cancelled"].title]
    assert cancelled.stage_reason and "取消" in cancelled.stage_reason
    for project in projects.values():
        assert project.lines and project.targets and project.budget_line is not None
        assert project.total <= project.budget_line.amount
    # every stage was reached through change_stage: one transition per step, by the demo officers
    steps = db.session.execute(select(ProjectTransition.to_stage).where(ProjectTransition.project_id == awarded.id)
                               .order_by(ProjectTransition.id)).scalars().all()
    assert steps == [ProjectStage.APPROVED, ProjectStage.ANNOUNCED, ProjectStage.EVALUATED, ProjectStage.AWARDED]
    actors = db.session.scalars(select(func.distinct(ProjectTransition.actor_id))).all()
    assert {db.session.get(User, a).username for a in actors} <= {"officer", "officer_ws", "officer_pl"}


def test_the_officers_deadlines_show_something_due_and_something_overdue():
    today = beijing_today()
    _seed(today)
    officer = db.session.execute(select(User).where(User.username == "officer")).scalar_one()
    rows = services.deadline_rows(officer, today)
    states = {(r.title, r.state) for r in rows}
    assert (PLANS["evaluated"].title, "due") in states
    assert (PLANS["overdue"].title, "overdue") in states
    assert (PLANS["announced"].title, "due") in states
    signing = [r for r in rows if r.title == PLANS["awarded"].title and r.state == "due"]
    assert signing and signing[0].due - today <= timedelta(days=10)
    # the county officer sees only 绥江's; the other counties' projects are not on the list
    assert all(r.bureau == "绥江县民政局" for r in rows)


@pytest.mark.parametrize("today", [date(2026, 1, 4), date(2026, 2, 24), date(2026, 5, 6), date(2026, 10, 9),
                                   date(2027, 3, 15)], ids=str)
def test_seed_works_whatever_the_day(monkeypatch, today):
    """Dates are relative to today: a day after the Spring Festival or National Day, an adjusted working Sunday,
    or a year without a holiday calendar must all give the same stages, with something due and overdue."""
    monkeypatch.setattr("procurement.demo.seed.beijing_today", lambda: today)
    assert _seed(today) == len(PLANS)
    stages = {p.title: p.stage for p in _by_title().values()}
    assert stages[PLANS["awarded"].title] == ProjectStage.AWARDED
    officer = db.session.execute(select(User).where(User.username == "officer")).scalar_one()
    states = {(r.title, r.state) for r in services.deadline_rows(officer, today)}
    assert {state for _title, state in states} == {"due", "overdue"}
    assert (PLANS["evaluated"].title, "due") in states and (PLANS["overdue"].title, "overdue") in states
