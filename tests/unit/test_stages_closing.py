"""The end of the purchase's stage machine (DOMAIN §3, §5, §6): in service → accepted → evaluated → closed."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from procurement.auth.roles import Role
from procurement.rules import stages
from procurement.rules.procurement import Thresholds
from procurement.rules.stages import ProjectFacts, ProjectStage
from procurement.rules.workdays import WorkCalendar

S = ProjectStage
IN_SERVICE = ProjectFacts(stage=S.IN_SERVICE, today=date(2027, 4, 20), calendar=WorkCalendar.build(known_years=[2027]),
                          thresholds=Thresholds(Decimal("1000000.00"), Decimal("2000000.00")),
                          contract_number="HT-2026-001", acceptance_state="concluded", acceptance_conclusion="passed",
                          final_grade="良")
ACCEPTED = replace(IN_SERVICE, stage=S.ACCEPTED)
EVALUATED_FINAL = replace(IN_SERVICE, stage=S.EVALUATED_FINAL)


def unmet(facts, target):
    return {c.code for c in stages.unmet(stages.checklist(facts, target))}


def test_the_end_of_the_purchase_is_in_the_table_and_made_by_officers_with_a_button():
    for source, target in ((S.IN_SERVICE, S.ACCEPTED), (S.ACCEPTED, S.EVALUATED_FINAL), (S.EVALUATED_FINAL, S.CLOSED)):
        transition = stages.TRANSITIONS[(source, target)]
        assert not transition.automatic and transition.roles == frozenset({Role.OFFICER})
        assert transition in stages.next_transitions(source)
        assert transition.label


@pytest.mark.parametrize(
    ("facts", "target", "codes"),
    [
        # → accepted
        (IN_SERVICE, S.ACCEPTED, set()),
        (replace(IN_SERVICE, acceptance_state="published"), S.ACCEPTED, set()),
        (replace(IN_SERVICE, acceptance_conclusion="conditional"), S.ACCEPTED, set()),
        (replace(IN_SERVICE, acceptance_state=None, acceptance_conclusion=None), S.ACCEPTED, {"acceptance_concluded"}),
        (replace(IN_SERVICE, acceptance_state="draft", acceptance_conclusion=None), S.ACCEPTED,
         {"acceptance_concluded"}),
        (replace(IN_SERVICE, acceptance_conclusion="failed"), S.ACCEPTED, {"acceptance_passed"}),
        (replace(IN_SERVICE, acceptance_state="published", acceptance_conclusion="failed"), S.ACCEPTED,
         {"acceptance_passed"}),
        (replace(IN_SERVICE, contract_number=None), S.ACCEPTED, {"main_contract"}),
        # → evaluated_final
        (ACCEPTED, S.EVALUATED_FINAL, set()),
        (replace(ACCEPTED, final_grade="差"), S.EVALUATED_FINAL, set()),  # a fail is recorded, not blocked
        (replace(ACCEPTED, final_grade=None), S.EVALUATED_FINAL, {"final_evaluation"}),
        (replace(ACCEPTED, contract_number=None), S.EVALUATED_FINAL, {"main_contract"}),
        # → closed
        (EVALUATED_FINAL, S.CLOSED, set()),
        (replace(EVALUATED_FINAL, withheld_instalments=("第3期：¥30,000.00 暂扣",)), S.CLOSED, set()),
        (replace(EVALUATED_FINAL, unpaid_instalments=("第2期：逾期",)), S.CLOSED, {"payments"}),
        (replace(EVALUATED_FINAL, open_rectifications=("ZG-2026-001",)), S.CLOSED, {"rectifications"}),
        (replace(EVALUATED_FINAL, unpaid_instalments=("第1期：待付",), open_rectifications=("ZG-1", "ZG-2")), S.CLOSED,
         {"payments", "rectifications"}),
        (replace(EVALUATED_FINAL, contract_number=None), S.CLOSED, {"main_contract"}),
    ],
)
def test_closing_guards(facts, target, codes):
    assert unmet(facts, target) == codes
    refusal = stages.can_transition(facts, target, Role.OFFICER, None)
    assert bool(refusal) == bool(codes)
    assert {c.code for c in refusal.checks} == codes


@pytest.mark.parametrize(("facts", "target"), [(IN_SERVICE, S.ACCEPTED), (ACCEPTED, S.EVALUATED_FINAL),
                                               (EVALUATED_FINAL, S.CLOSED)])
def test_every_check_cites_its_rule(facts, target):
    worst = replace(facts, acceptance_state="draft", final_grade=None, unpaid_instalments=("x",),
                    open_rectifications=("y",))
    for f in (facts, worst, replace(facts, contract_number=None)):
        for check in stages.checklist(f, target):
            assert check.citation, check.code


def test_acceptance_cites_the_procurement_law_on_acceptance():
    (check,) = stages.checklist(replace(IN_SERVICE, acceptance_state=None), S.ACCEPTED)
    assert "第四十一条" in check.citation and "HT-2026-001" in check.detail


def test_open_notices_and_unpaid_instalments_are_named():
    facts = replace(EVALUATED_FINAL, unpaid_instalments=("HT 第2期：逾期",), open_rectifications=("ZG-7",))
    by_code = {c.code: c for c in stages.checklist(facts, S.CLOSED)}
    assert "第2期" in by_code["payments"].detail
    assert "ZG-7" in by_code["rectifications"].detail


def test_a_fail_grade_and_withheld_amounts_are_notes_not_blocks():
    checks = stages.checklist(replace(ACCEPTED, final_grade="差"), S.EVALUATED_FINAL)
    note = next(c for c in checks if c.code == "final_grade_fail")
    assert not note.blocking
    checks = stages.checklist(replace(EVALUATED_FINAL, withheld_instalments=("暂扣",)), S.CLOSED)
    assert not next(c for c in checks if c.code == "payments_withheld").blocking


@pytest.mark.parametrize(("source", "target"), [(S.IN_SERVICE, S.CLOSED), (S.IN_SERVICE, S.EVALUATED_FINAL),
                                                (S.ACCEPTED, S.CLOSED), (S.CLOSED, S.IN_SERVICE),
                                                (S.IN_SERVICE, S.CANCELLED), (S.CONTRACTED, S.ACCEPTED)])
def test_no_skipping_to_the_end(source, target):
    assert stages.can_transition(replace(IN_SERVICE, stage=source), target, Role.OFFICER, "x").not_allowed


@pytest.mark.parametrize("role", [r for r in Role if r != Role.OFFICER])
def test_only_officers_close(role):
    assert stages.can_transition(EVALUATED_FINAL, S.CLOSED, role, None).role


def test_closed_is_an_end_with_no_further_step():
    assert S.CLOSED.is_end and stages.next_transitions(S.CLOSED) == []
