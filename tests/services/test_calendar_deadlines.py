"""The deadlines of "my deadlines": which steps are due, overdue or done, in the officer's region."""

from datetime import date, timedelta

from procurement.auth.roles import Role
from procurement.projects import services
from procurement.rules.clock import beijing_today
from procurement.rules.stages import ProjectStage
from tests.factories import make_supplier, make_user
from tests.project_factories import make_bureau, make_staged_project

TODAY = beijing_today()
D = timedelta(days=1)
CONTRACTED: list[int] = []


def _projects(bureau):
    """Projects at every stage with deadlines, starting on ordinary days, around National Day and in 2031."""
    supplier = make_supplier()
    CONTRACTED.clear()
    starts = [TODAY - n * D for n in range(0, 45, 4)] + [date(2026, 9, 30), date(2026, 2, 13), date(2031, 6, 6)]
    for n, start in enumerate(starts):
        common = {"bureau": bureau, "documents_issued_on": start - 30 * D, "response_deadline": start - 10 * D}
        make_staged_project(stage=ProjectStage.ANNOUNCED, **{**common, "response_deadline": start + (n % 3) * D})
        make_staged_project(stage=ProjectStage.EVALUATED, evaluated_on=start - 5 * D, award_decided_on=start, **common)
        make_staged_project(stage=ProjectStage.EVALUATED, evaluated_on=start - 5 * D, award_decided_on=start,
                     award_notice_on=start + 3 * D, award_supplier_id=supplier.id, **common)
        make_staged_project(stage=ProjectStage.AWARDED, evaluated_on=start - 5 * D, award_decided_on=start - (n % 4) * D,
                     award_notice_on=start, award_supplier_id=supplier.id, **common)
        contracted = make_staged_project(stage=ProjectStage.CONTRACTED, evaluated_on=start - 5 * D, award_decided_on=start - D,
                                  award_notice_on=start, award_supplier_id=supplier.id, **common)
        CONTRACTED.append(contracted.id)
    make_staged_project(bureau=make_bureau("532601"), stage=ProjectStage.EVALUATED, award_decided_on=TODAY - 9 * D)


def test_open_steps_are_due_or_overdue_with_their_rule():
    bureau = make_bureau("530626")
    officer = make_user(Role.OFFICER, organization=bureau)
    _projects(bureau)
    rows = services.deadline_rows(officer, TODAY)
    assert {r.state for r in rows} == {"due", "overdue"}
    assert {r.step for r in rows} == set(services.PROJECT_DEADLINE_STEPS)
    assert any(r.estimated for r in rows)  # 2031 has no holiday calendar
    for row in rows:
        assert row.citation and row.label
        assert row.state == ("due" if TODAY <= row.due else "overdue")
        if row.step == "award_notice":
            assert row.due == services.PERIODS["award_notice"].end(services.work_calendar(), row.start).day
    # a signed contract has nothing open any more (its later deadlines come with the contract)
    assert not {r.project_id for r in rows} & set(CONTRACTED)
    # the other county's project is not on this officer's list
    assert all(r.bureau == bureau.name for r in rows)


def test_done_rows_are_published_notices_only():
    """An evaluated project's notice date is a plan: it is shown as done only once the project is awarded."""
    bureau = make_bureau("530626")
    officer = make_user(Role.OFFICER, organization=bureau)
    _projects(bureau)
    rows = services.deadline_rows(officer, TODAY, include_done=True)
    done = [r for r in rows if r.state in ("done", "done_late")]
    assert done and all(r.step == "award_notice" and r.done_on is not None for r in done)
    assert {r.state for r in done} == {"done", "done_late"}
    assert not [r for r in services.deadline_rows(officer, TODAY) if r.state in ("done", "done_late")]
