"""The end of a purchase (DOMAIN §3, §5, §6): from in service to accepted, evaluated and closed with real
acceptance, evaluation sheets, payments and rectification notices; and the local 差 rule at the award."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from contracts.models import ContractState, Instalment, InstalmentCondition
from evaluation import payments
from evaluation.models import Sheet, SheetKind, SheetState, Stage
from procurement.acceptance.models import Acceptance, AcceptanceState, Conclusion
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from procurement.oversight import services as oversight
from procurement.oversight.models import InspectionKind, Outcome, Severity
from procurement.oversight.services import InspectionData
from procurement.projects import services
from procurement.projects.models import ProjectTransition
from procurement.rules import stages
from procurement.rules.clock import utcnow
from procurement.rules.stages import ProjectStage
from procurement.settings import store_setting
from tests.contract_factories import make_contract
from tests.evaluation_factories import published_scheme
from tests.factories import make_org, make_supplier, make_user
from tests.project_factories import actor, county_items, make_project

TODAY = date(2027, 4, 20)


def sheet(contract, grade, total, stage=Stage.FINAL, finalized_at=datetime(2027, 4, 10, 2, 0, tzinfo=UTC),
          kind=SheetKind.PURCHASER) -> Sheet:
    record = Sheet(contract_id=contract.id, scheme_id=published_scheme().id, stage=stage, kind=kind,
                   period_start=date(2026, 4, 1), period_end=date(2027, 3, 31), state=SheetState.FINALIZED, number=1,
                   total=Decimal(total), grade=grade, finalized_at=finalized_at)
    db.session.add(record)
    db.session.flush()
    return record


def acceptance(contract, conclusion=Conclusion.PASSED, state=AcceptanceState.CONCLUDED) -> Acceptance:
    record = Acceptance(contract_id=contract.id, state=state, accepted_on=date(2027, 4, 5), conclusion=conclusion,
                        concluded_at=utcnow())
    db.session.add(record)
    db.session.flush()
    return record


@pytest.fixture
def world():
    bureau = make_org(OrgKind.BUREAU, "530626")
    officer = make_user(Role.OFFICER, organization=bureau)
    finance = make_user(Role.FINANCE, region_code="530626")
    supplier = make_supplier()
    _list, (item,) = county_items()
    contract = make_contract(bureau, supplier, item, state=ContractState.IN_SERVICE, amount="100000.00")
    contract.instalments.clear()
    db.session.flush()
    for position, (amount, condition) in enumerate(
            (("30000.00", InstalmentCondition.ON_SIGNING), ("40000.00", InstalmentCondition.MID_TERM_EVALUATION),
             ("30000.00", InstalmentCondition.FINAL_ACCEPTANCE)), start=1):
        contract.instalments.append(Instalment(position=position, amount=Decimal(amount), condition=condition,
                                               percent=Decimal(amount) / 1000))
    db.session.flush()
    project = contract.project
    services.record_automatic_stage(project, ProjectStage.IN_SERVICE, actor(officer), "合同履约开始")
    return {"officer": officer, "finance": finance, "contract": contract, "project": project, "bureau": bureau,
            "supplier": supplier, "item": item}


def refused(w, target) -> set[str]:
    with pytest.raises(services.TransitionRefused) as excinfo:
        services.change_stage(w["project"], target, actor(w["officer"]), TODAY)
    return {c.code for c in excinfo.value.checks}


def option(w, target) -> services.TransitionOption:
    return next(o for o in services.readiness(w["project"], TODAY) if o.transition.target == target)


def pay(w, position, amount, on):
    instalment = next(i for i in w["contract"].instalments if i.position == position)
    payments.record_payment(instalment, on, Decimal(amount), f"PZ-{position}-{amount}", None, actor(w["finance"]),
                            TODAY)


def open_notice(w):
    contract, officer = w["contract"], w["officer"]
    day = date(2027, 3, 1)
    inspection = oversight.record_inspection(contract, InspectionData(
        InspectionKind.ON_SITE, day, date(2027, 2, 1), date(2027, 2, 28), "民政局 王芳", "绥江县居家养老服务站"),
        actor(officer), day)
    finding = oversight.add_finding(contract, Severity.MAJOR, "签到表缺少服务对象签字", day, actor(officer), day,
                                    inspection=inspection)
    return oversight.issue_notice(finding, day, 5, "补齐签到表并整改签字制度", actor(officer), day)


def test_a_project_walks_from_in_service_to_closed(world):
    w, officer = world, world["officer"]
    project, contract = w["project"], w["contract"]
    notice = open_notice(w)

    # → accepted: no acceptance, then a draft, then a failed one, then a passed one
    assert refused(w, ProjectStage.ACCEPTED) == {"acceptance_concluded"}
    assert not option(w, ProjectStage.ACCEPTED).ready
    record = acceptance(contract, conclusion=None, state=AcceptanceState.DRAFT)
    assert refused(w, ProjectStage.ACCEPTED) == {"acceptance_concluded"}
    record.state, record.conclusion = AcceptanceState.CONCLUDED, Conclusion.FAILED
    db.session.flush()
    assert refused(w, ProjectStage.ACCEPTED) == {"acceptance_passed"}
    record.conclusion = Conclusion.PASSED
    db.session.flush()
    assert option(w, ProjectStage.ACCEPTED).ready
    services.change_stage(project, ProjectStage.ACCEPTED, actor(officer), TODAY)
    assert project.stage == ProjectStage.ACCEPTED

    # → evaluated_final: only a finalized final sheet counts (a mid-term one does not)
    sheet(contract, "良", "85.00", stage=Stage.MID_TERM, finalized_at=datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    assert refused(w, ProjectStage.EVALUATED_FINAL) == {"final_evaluation"}
    sheet(contract, "良", "86.00")
    services.change_stage(project, ProjectStage.EVALUATED_FINAL, actor(officer), TODAY)

    # → closed: every payable instalment paid and the rectification notice closed, all named at once
    facts = services.project_facts(project, TODAY)
    assert len(facts.unpaid_instalments) == 3 and facts.open_rectifications == (notice.number,)
    assert refused(w, ProjectStage.CLOSED) == {"payments", "rectifications"}
    pay(w, 1, "30000.00", date(2026, 3, 25))
    pay(w, 2, "40000.00", date(2026, 10, 15))
    assert refused(w, ProjectStage.CLOSED) == {"payments", "rectifications"}
    assert contract.number in services.project_facts(project, TODAY).unpaid_instalments[0]
    pay(w, 3, "30000.00", date(2027, 4, 15))
    assert refused(w, ProjectStage.CLOSED) == {"rectifications"}
    oversight.close_notice(notice, Outcome.FIXED, date(2027, 3, 20), None, actor(officer), TODAY)
    services.change_stage(project, ProjectStage.CLOSED, actor(officer), TODAY)

    assert project.stage == ProjectStage.CLOSED and project.stage.is_end
    path = [(t.from_stage, t.to_stage) for t in db.session.query(ProjectTransition)
            .filter_by(project_id=project.id).order_by(ProjectTransition.id)]
    assert path[-3:] == [(ProjectStage.IN_SERVICE, ProjectStage.ACCEPTED),
                         (ProjectStage.ACCEPTED, ProjectStage.EVALUATED_FINAL),
                         (ProjectStage.EVALUATED_FINAL, ProjectStage.CLOSED)]
    assert services.readiness(project, TODAY) == []


def test_a_fail_grade_leaves_the_final_instalment_withheld_and_still_closes(world):
    w, officer = world, world["officer"]
    project, contract = w["project"], w["contract"]
    acceptance(contract)
    services.change_stage(project, ProjectStage.ACCEPTED, actor(officer), TODAY)
    sheet(contract, "良", "85.00", stage=Stage.MID_TERM, finalized_at=datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    sheet(contract, "差", "55.00")
    services.change_stage(project, ProjectStage.EVALUATED_FINAL, actor(officer), TODAY)
    pay(w, 1, "30000.00", date(2026, 3, 25))
    pay(w, 2, "40000.00", date(2026, 10, 15))
    checks = {c.code: c for c in option(w, ProjectStage.CLOSED).checks}
    assert checks["payments"].met and not checks["payments_withheld"].blocking
    assert "30,000.00" in checks["payments_withheld"].detail
    services.change_stage(project, ProjectStage.CLOSED, actor(officer), TODAY)
    assert project.stage == ProjectStage.CLOSED


def test_a_waiting_instalment_holds_the_project_open(world):
    w = world
    project = w["project"]
    project.stage = ProjectStage.EVALUATED_FINAL  # no evaluation at all: the mid-term and final parts wait
    db.session.flush()
    pay(w, 1, "30000.00", date(2026, 3, 25))
    assert refused(w, ProjectStage.CLOSED) == {"payments"}
    assert len(services.project_facts(project, TODAY).unpaid_instalments) == 2
    assert project.stage == ProjectStage.EVALUATED_FINAL
    assert not option(w, ProjectStage.CLOSED).ready


# --- the local 差 rule at the award ---------------------------------------------------------------

@pytest.fixture
def award(world):
    """A new purchase evaluated and offered to the supplier whose earlier contract was graded 差 on 2026-12-10."""
    sheet(world["contract"], "差", "50.00", finalized_at=datetime(2026, 12, 10, 2, 0, tzinfo=UTC))
    project = make_project(world["bureau"], year=2027, stage=ProjectStage.EVALUATED,
                           award_supplier_id=world["supplier"].id, award_decided_on=date(2027, 3, 1),
                           award_notice_on=date(2027, 3, 2))
    return project


def eligible_check(project):
    facts = services.project_facts(project, TODAY)
    return facts, next(c for c in stages.checklist(facts, ProjectStage.AWARDED) if c.code == "award_eligible")


def test_fail_grade_is_a_warning_at_award_while_the_local_rule_is_off(award):
    facts, check = eligible_check(award)
    assert check.met
    assert any("差" in w for w in facts.award_warnings)


def test_fail_grade_refuses_the_award_in_the_next_year_when_the_local_rule_is_on(award, world):
    store_setting("award.fail_disqualifies_next_year", True, None, utcnow())
    facts, check = eligible_check(award)
    assert not check.met
    assert "2026-12-10" in check.detail and "2027" in check.detail
    assert not any("差" in w for w in facts.award_warnings)


def test_the_local_rule_lapses_after_the_next_year(award, world):
    store_setting("award.fail_disqualifies_next_year", True, None, utcnow())
    award.award_decided_on, award.award_notice_on = date(2028, 1, 3), date(2028, 1, 4)
    db.session.flush()
    facts, check = eligible_check(award)
    assert check.met and facts.award_warnings


# --- the project page ----------------------------------------------------------------------------

def test_the_project_page_shows_the_acceptance_checklist_and_the_button_once_ready(world, client):
    from tests.factories import login_as

    w = world
    project_id = w["project"].id
    login_as(client, w["officer"])
    html = client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert 'id="option-accepted"' in html and 'data-check="acceptance_concluded" data-state="unmet"' in html
    assert "第四十一条" in html
    button = html.split('id="transition-accepted"', 1)[1].split(">", 1)[0]
    assert "disabled" in button

    acceptance(w["contract"])
    db.session.commit()
    html = client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert 'data-check="acceptance_passed" data-state="met"' in html
    button = html.split('id="transition-accepted"', 1)[1].split(">", 1)[0]
    assert "disabled" not in button
    version = db.session.get(type(w["project"]), project_id).version
    response = client.post(f"/projects/{project_id}/stage",
                           data={"target": "accepted", "version": version, "reason": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(w["project"]), project_id).stage == ProjectStage.ACCEPTED
