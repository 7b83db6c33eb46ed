"""Payments after the evaluation (DOMAIN §6 effect on payment, §7): which sheet counts, what each instalment
pays, when it is due or overdue with interest, and finance recording payments."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from contracts.models import ContractState, Instalment, InstalmentCondition
from evaluation import payments
from evaluation.models import Payment, PaymentTerms, Sheet, SheetKind, SheetState, Stage
from procurement.acceptance.models import Acceptance, AcceptanceState, Conclusion
from procurement.audit.models import AuditRecord
from procurement.auth.roles import Role
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from procurement.rules.clock import utcnow
from tests.contract_factories import make_contract
from tests.evaluation_factories import published_scheme
from tests.factories import make_org, make_supplier, make_user
from tests.project_factories import actor, county_items

SIGNED = date(2026, 3, 20)  # the factory's signing date


# --- local helpers (a shared factory is being written elsewhere; these stay small) -----------------

def finalized_sheet(contract, total, grade, stage=Stage.MID_TERM, kind=SheetKind.PURCHASER,
                    finalized_at=datetime(2026, 9, 30, 2, 0, tzinfo=UTC), state=SheetState.FINALIZED,
                    number=1, previous=None) -> Sheet:
    sheet = Sheet(contract_id=contract.id, scheme_id=published_scheme().id, stage=stage, kind=kind,
                  period_start=date(2026, 4, 1), period_end=date(2026, 9, 30), state=state, number=number,
                  previous_id=previous.id if previous else None,
                  correction_reason="更正" if previous else None,
                  total=Decimal(total), grade=grade, finalized_at=finalized_at)
    db.session.add(sheet)
    db.session.flush()
    return sheet


def accepted(contract, on=date(2026, 11, 20), conclusion=Conclusion.PASSED,
             state=AcceptanceState.CONCLUDED) -> Acceptance:
    record = Acceptance(contract_id=contract.id, state=state, accepted_on=on, conclusion=conclusion,
                        concluded_at=utcnow())
    db.session.add(record)
    db.session.flush()
    return record


def plan(contract, *parts):
    """Replace the contract's instalments: (amount, condition) pairs."""
    contract.instalments.clear()
    db.session.flush()
    for position, (amount, condition) in enumerate(parts, start=1):
        amount = Decimal(amount)
        contract.instalments.append(Instalment(position=position, amount=amount, condition=condition,
                                               percent=(amount * 100 / contract.amount).quantize(Decimal("0.01"))))
    db.session.flush()
    return contract.instalments


@pytest.fixture
def world():
    bureau = make_org(OrgKind.BUREAU, "530626")
    officer = make_user(Role.OFFICER, organization=bureau)
    finance = make_user(Role.FINANCE, region_code="530626")
    supplier = make_supplier()
    _list, (item,) = county_items()
    contract = make_contract(bureau, supplier, item, state=ContractState.IN_SERVICE, amount="100000.00")
    plan(contract, ("30000.00", InstalmentCondition.ON_SIGNING),
         ("40000.00", InstalmentCondition.MID_TERM_EVALUATION),
         ("30000.00", InstalmentCondition.FINAL_ACCEPTANCE))
    return {"officer": officer, "finance": finance, "supplier": supplier, "contract": contract, "item": item,
            "bureau": bureau}


def line(contract, position, today=date(2026, 10, 10)):
    return next(x for x in payments.instalment_lines(contract, today) if x.instalment.position == position)


# --- which evaluation counts ----------------------------------------------------------------------

def test_signing_is_met_on_the_signing_date_without_a_grade(world):
    assert payments.basis(world["contract"], InstalmentCondition.ON_SIGNING) == (None, None, SIGNED)
    assert payments.basis(world["contract"], InstalmentCondition.OTHER) == (None, None, SIGNED)


def test_no_finalized_sheet_no_basis(world):
    contract = world["contract"]
    assert payments.basis(contract, InstalmentCondition.MID_TERM_EVALUATION) is None
    finalized_sheet(contract, "95.00", "优", kind=SheetKind.SELF)  # a self-evaluation never counts
    assert payments.basis(contract, InstalmentCondition.MID_TERM_EVALUATION) is None


def test_third_party_sheet_wins_over_the_purchasers(world):
    contract = world["contract"]
    finalized_sheet(contract, "92.00", "优", kind=SheetKind.PURCHASER)
    finalized_sheet(contract, "75.00", "中", kind=SheetKind.THIRD_PARTY)
    assert payments.basis(contract, InstalmentCondition.MID_TERM_EVALUATION) == ("中", Decimal("75.00"),
                                                                                 date(2026, 9, 30))


def test_superseded_sheet_does_not_count_its_correction_does(world):
    contract = world["contract"]
    old = finalized_sheet(contract, "55.00", "差", state=SheetState.SUPERSEDED)
    finalized_sheet(contract, "85.00", "良", number=2, previous=old)
    grade, total, _met = payments.basis(contract, InstalmentCondition.MID_TERM_EVALUATION)
    assert (grade, total) == ("良", Decimal("85.00"))


def test_finalization_day_is_the_beijing_date(world):
    contract = world["contract"]
    finalized_sheet(contract, "90.00", "优", finalized_at=datetime(2026, 9, 30, 17, 0, tzinfo=UTC))  # 01:00 on 1 Oct
    assert payments.basis(contract, InstalmentCondition.MID_TERM_EVALUATION)[2] == date(2026, 10, 1)


def test_final_needs_both_the_sheet_and_a_passed_acceptance_later_of_the_two(world):
    contract = world["contract"]
    finalized_sheet(contract, "88.00", "良", stage=Stage.FINAL,
                    finalized_at=datetime(2027, 3, 10, 2, 0, tzinfo=UTC))
    assert payments.basis(contract, InstalmentCondition.FINAL_ACCEPTANCE) is None
    accepted(contract, on=date(2027, 3, 25))
    assert payments.basis(contract, InstalmentCondition.FINAL_ACCEPTANCE) == ("良", Decimal("88.00"),
                                                                              date(2027, 3, 25))


def test_a_failed_acceptance_does_not_meet_the_final_condition(world):
    contract = world["contract"]
    finalized_sheet(contract, "88.00", "良", stage=Stage.FINAL)
    accepted(contract, conclusion=Conclusion.FAILED)
    assert payments.basis(contract, InstalmentCondition.FINAL_ACCEPTANCE) is None


# --- what each instalment pays --------------------------------------------------------------------

@pytest.mark.parametrize("grade, total, payable, withheld, state", [
    ("优", "96.50", "40000.00", "0.00", payments.DUE),
    ("良", "80.00", "40000.00", "0.00", payments.DUE),
    ("中", "73.33", "29332.00", "10668.00", payments.DUE),
    ("中", "60.00", "24000.00", "16000.00", payments.DUE),
    ("差", "59.99", "0.00", "40000.00", payments.WITHHELD),
])
def test_grade_sets_payable_and_withheld(world, grade, total, payable, withheld, state):
    contract = world["contract"]
    finalized_sheet(contract, total, grade)
    result = line(contract, 2)
    assert (result.payable, result.withheld, result.state) == (Decimal(payable), Decimal(withheld), state)
    assert result.payable + result.withheld == result.instalment.amount


def test_pro_rata_rounds_half_up_to_the_fen(world):
    contract = world["contract"]
    plan(contract, ("100000.00", InstalmentCondition.MID_TERM_EVALUATION))
    contract.instalments[0].amount = Decimal("333.33")
    db.session.flush()
    finalized_sheet(contract, "77.55", "中")
    result = line(contract, 1)
    assert result.payable == Decimal("258.50")  # 333.33 × 0.7755 = 258.497…
    assert result.withheld == Decimal("74.83")


def test_waiting_instalment_is_not_payable(world):
    result = line(world["contract"], 2)
    assert result.state == payments.WAITING and result.payable == 0 and result.due_on is None


def test_contract_band_rule_overrides_the_default(world):
    contract = world["contract"]
    payments.set_payment_terms(contract, {"优": "full", "良": "pro_rata", "中": "withhold", "差": "withhold"}, None,
                               actor(world["officer"]))
    finalized_sheet(contract, "85.00", "良")
    result = line(contract, 2)
    assert (result.payable, result.withheld) == (Decimal("34000.00"), Decimal("6000.00"))


def test_due_date_and_overdue_interest(world):
    contract = world["contract"]
    contract.payment_days = 45
    contract.late_interest_per_day = Decimal("0.05")
    finalized_sheet(contract, "90.00", "优")  # met on 2026-09-30, due on 2026-11-14
    on_time = line(contract, 2, today=date(2026, 11, 14))
    assert on_time.due_on == date(2026, 11, 14) and on_time.state == payments.DUE and on_time.interest == 0
    late = line(contract, 2, today=date(2026, 11, 24))  # 10 days: 40000 × 0.05 % × 10 = 200
    assert late.state == payments.OVERDUE and late.days_overdue == 10 and late.interest == Decimal("200.00")


def test_interest_only_on_the_unpaid_part(world):
    contract = world["contract"]
    finalized_sheet(contract, "90.00", "优")  # due 2026-10-30
    second = contract.instalments[1]
    payments.record_payment(second, date(2026, 10, 20), Decimal("30000.00"), "PZ-1", None, actor(world["finance"]),
                            date(2026, 10, 20))
    late = line(contract, 2, today=date(2026, 11, 9))  # 10 days late on 10000
    assert late.state == payments.OVERDUE and late.interest == Decimal("50.00")


# --- recording payments ---------------------------------------------------------------------------

def test_finance_records_a_payment_and_it_is_audited(world):
    contract = world["contract"]
    first = contract.instalments[0]
    record = payments.record_payment(first, date(2026, 4, 10), Decimal("30000.00"), "PZ-2026-001", "首付",
                                     actor(world["finance"]), date(2026, 4, 10))
    assert record.amount == Decimal("30000.00")
    assert line(contract, 1).state == payments.PAID
    audit = db.session.execute(select(AuditRecord).where(AuditRecord.action == "payment.record")).scalars().one()
    assert audit.detail["voucher"] == "PZ-2026-001"


def test_never_above_what_is_payable(world):
    contract = world["contract"]
    finalized_sheet(contract, "70.00", "中")  # 28000 payable of 40000
    second = contract.instalments[1]
    with pytest.raises(DomainError) as caught:
        payments.record_payment(second, date(2026, 10, 5), Decimal("28000.01"), "PZ-9", None, actor(world["finance"]),
                                date(2026, 10, 5))
    assert [field for field, _m in caught.value.problems] == ["amount"]
    payments.record_payment(second, date(2026, 10, 5), Decimal("28000.00"), "PZ-9", None, actor(world["finance"]),
                            date(2026, 10, 5))
    assert line(contract, 2).state == payments.WITHHELD  # the remainder 12000 waits for rectification


def test_withheld_instalment_cannot_be_paid(world):
    contract = world["contract"]
    finalized_sheet(contract, "50.00", "差")
    with pytest.raises(DomainError):
        payments.record_payment(contract.instalments[1], date(2026, 10, 5), Decimal("1.00"), "PZ-9", None,
                                actor(world["finance"]), date(2026, 10, 5))


def test_never_above_the_contract_amount(world):
    contract = world["contract"]
    # a (mis-planned) instalment larger than what remains of the contract
    contract.instalments[0].amount = Decimal("100000.00")
    db.session.flush()
    payments.record_payment(contract.instalments[0], date(2026, 4, 1), Decimal("90000.00"), "A", None,
                            actor(world["finance"]), date(2026, 4, 1))
    finalized_sheet(contract, "95.00", "优")
    with pytest.raises(DomainError) as caught:
        payments.record_payment(contract.instalments[1], date(2026, 10, 5), Decimal("10000.01"), "B", None,
                                actor(world["finance"]), date(2026, 10, 5))
    assert any(field == "amount" for field, _m in caught.value.problems)


def test_all_problems_at_once_next_to_their_fields(world):
    contract = world["contract"]
    payments.record_payment(contract.instalments[0], date(2026, 4, 1), Decimal("100.00"), "PZ-1", None,
                            actor(world["finance"]), date(2026, 4, 1))
    with pytest.raises(DomainError) as caught:
        payments.record_payment(contract.instalments[0], date(2026, 4, 5), Decimal("-5"), "PZ-1", None,
                                actor(world["finance"]), date(2026, 4, 2))
    fields = {field for field, _m in caught.value.problems}
    assert fields == {"paid_on", "voucher", "amount"}


@pytest.mark.parametrize("paid_on, voucher", [
    (date(2026, 3, 19), "PZ-1"),  # before the condition was met (signing on 3-20)
    (None, "PZ-1"),
    (date(2026, 4, 1), ""),
    (date(2026, 4, 1), "   "),
])
def test_date_and_voucher_required(world, paid_on, voucher):
    with pytest.raises(DomainError):
        payments.record_payment(world["contract"].instalments[0], paid_on, Decimal("10.00"), voucher, None,
                                actor(world["finance"]), date(2026, 4, 1))


def test_voucher_unique_per_contract_not_across(world):
    contract = world["contract"]
    payments.record_payment(contract.instalments[0], date(2026, 4, 1), Decimal("10.00"), "PZ-7", None,
                            actor(world["finance"]), date(2026, 4, 1))
    with pytest.raises(DomainError) as caught:
        payments.record_payment(contract.instalments[0], date(2026, 4, 1), Decimal("10.00"), "PZ-7", None,
                                actor(world["finance"]), date(2026, 4, 1))
    assert caught.value.field == "voucher"
    other = make_contract(world["bureau"], world["supplier"], world["item"], state=ContractState.IN_SERVICE)
    payments.record_payment(other.instalments[0], date(2026, 4, 1), Decimal("10.00"), "PZ-7", None,
                            actor(world["finance"]), date(2026, 4, 1))
    assert db.session.query(Payment).count() == 2


def test_only_finance_of_the_region_records(world):
    contract = world["contract"]
    first = contract.instalments[0]
    elsewhere = make_user(Role.FINANCE, region_code="530102")
    for who in (world["officer"], elsewhere):
        with pytest.raises(AccessDenied):
            payments.record_payment(first, date(2026, 4, 1), Decimal("10.00"), "PZ-1", None, actor(who),
                                    date(2026, 4, 1))


# --- the band rule --------------------------------------------------------------------------------

def test_band_rule_validated_and_audited(world):
    contract = world["contract"]
    with pytest.raises(DomainError) as caught:
        payments.set_payment_terms(contract, {"优": "full", "良": "full", "中": "half"}, None, actor(world["officer"]))
    assert {field for field, _m in caught.value.problems} == {"中", "差"}
    payments.set_payment_terms(contract, {"优": "full", "良": "full", "中": "withhold", "差": "withhold"}, "本地规则",
                               actor(world["officer"]))
    assert db.session.execute(select(PaymentTerms)).scalar_one().bands["中"] == "withhold"
    assert db.session.execute(select(AuditRecord).where(AuditRecord.action == "payment.terms")).scalars().one()


def test_band_rule_fixed_after_an_evaluation_payment(world):
    contract = world["contract"]
    finalized_sheet(contract, "90.00", "优")
    payments.record_payment(contract.instalments[1], date(2026, 10, 5), Decimal("100.00"), "PZ-1", None,
                            actor(world["finance"]), date(2026, 10, 5))
    with pytest.raises(DomainError):
        payments.set_payment_terms(contract, dict(payments.payment.DEFAULT_PAYMENT_BANDS), None,
                                   actor(world["officer"]))


def test_finance_cannot_change_the_band_rule(world):
    with pytest.raises(AccessDenied):
        payments.set_payment_terms(world["contract"], dict(payments.payment.DEFAULT_PAYMENT_BANDS), None,
                                   actor(world["finance"]))


# --- the overview -------------------------------------------------------------------------------

def test_overview_totals_across_the_region(world):
    contract = world["contract"]
    finalized_sheet(contract, "75.00", "中")  # 30000 payable, 10000 withheld; due 2026-10-30
    today = date(2026, 11, 9)  # 10 days late on both the signing instalment (due 4-19) and the mid-term one
    rows, totals = payments.overview(world["finance"], today)
    assert [(r.contract.id, r.line.instalment.position) for r in rows] == [(contract.id, 1), (contract.id, 2)]
    assert totals.due == 0
    assert totals.overdue == Decimal("60000.00")
    assert totals.withheld == Decimal("10000.00")
    # 30000 × 0.05 % × 204 days (due 2026-04-19) + 30000 × 0.05 % × 10 days
    assert totals.interest == Decimal("3060.00") + Decimal("150.00")
    assert [r.line.state for r in payments.overview(world["finance"], today, state=payments.WITHHELD)[0]] == \
        [payments.OVERDUE]
    elsewhere = make_user(Role.FINANCE, region_code="530102")
    assert payments.overview(elsewhere, today)[0] == []
