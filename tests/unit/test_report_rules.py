"""Reporting periods of a contract and the checks of one delivery row (DOMAIN §5)."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from procurement.rules.reports import (
    MAX_ROW_QUANTITY,
    NOTE_MAX,
    WORKER_MAX,
    ReportPeriod,
    RowFacts,
    period_of,
    report_periods,
    row_problems,
)

# --- periods ------------------------------------------------------------------------------------------


def spans(periods):
    return [(p.start, p.end) for p in periods]


def test_monthly_periods_are_cut_to_the_term_at_both_ends():
    periods = report_periods(date(2026, 4, 15), date(2026, 7, 10), quarterly=False)
    assert spans(periods) == [
        (date(2026, 4, 15), date(2026, 4, 30)),
        (date(2026, 5, 1), date(2026, 5, 31)),
        (date(2026, 6, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2026, 7, 10)),
    ]


def test_monthly_periods_of_a_full_year_term():
    periods = report_periods(date(2026, 4, 1), date(2027, 3, 31), quarterly=False)
    assert len(periods) == 12
    assert periods[0] == ReportPeriod(date(2026, 4, 1), date(2026, 4, 30))
    assert periods[-1] == ReportPeriod(date(2027, 3, 1), date(2027, 3, 31))
    # February of a common year, and the periods follow each other without a gap
    assert ReportPeriod(date(2027, 2, 1), date(2027, 2, 28)) in periods
    for before, after in zip(periods, periods[1:], strict=False):
        assert (after.start - before.end).days == 1


def test_a_leap_february():
    periods = report_periods(date(2028, 2, 1), date(2028, 2, 29), quarterly=False)
    assert spans(periods) == [(date(2028, 2, 1), date(2028, 2, 29))]


def test_quarterly_periods_are_calendar_quarters_cut_to_the_term():
    periods = report_periods(date(2026, 5, 10), date(2027, 2, 15), quarterly=True)
    assert spans(periods) == [
        (date(2026, 5, 10), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2026, 9, 30)),
        (date(2026, 10, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2027, 2, 15)),
    ]


def test_quarterly_periods_of_a_term_on_quarter_bounds():
    periods = report_periods(date(2026, 4, 1), date(2027, 3, 31), quarterly=True)
    assert spans(periods) == [
        (date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2026, 9, 30)),
        (date(2026, 10, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2027, 3, 31)),
    ]


@pytest.mark.parametrize("quarterly", [False, True])
def test_a_term_inside_one_month_gives_one_period(quarterly):
    periods = report_periods(date(2026, 8, 5), date(2026, 8, 20), quarterly=quarterly)
    assert spans(periods) == [(date(2026, 8, 5), date(2026, 8, 20))]


def test_a_one_day_term():
    assert spans(report_periods(date(2026, 8, 5), date(2026, 8, 5), quarterly=False)) == [
        (date(2026, 8, 5), date(2026, 8, 5))]


def test_december_to_january_changes_the_year():
    periods = report_periods(date(2026, 12, 10), date(2027, 1, 20), quarterly=False)
    assert spans(periods) == [(date(2026, 12, 10), date(2026, 12, 31)), (date(2027, 1, 1), date(2027, 1, 20))]
    quarters = report_periods(date(2026, 11, 1), date(2027, 1, 20), quarterly=True)
    assert spans(quarters) == [(date(2026, 11, 1), date(2026, 12, 31)), (date(2027, 1, 1), date(2027, 1, 20))]


def test_period_of_a_day():
    periods = report_periods(date(2026, 4, 15), date(2026, 7, 10), quarterly=False)
    assert period_of(periods, date(2026, 4, 15)) == periods[0]
    assert period_of(periods, date(2026, 4, 30)) == periods[0]
    assert period_of(periods, date(2026, 5, 1)) == periods[1]
    assert period_of(periods, date(2026, 7, 10)) == periods[3]
    assert period_of(periods, date(2026, 4, 14)) is None
    assert period_of(periods, date(2026, 7, 11)) is None


def test_period_key_and_contains():
    period = ReportPeriod(date(2026, 5, 1), date(2026, 5, 31))
    assert period.key == "2026-05-01"
    assert period.contains(date(2026, 5, 1)) and period.contains(date(2026, 5, 31))
    assert not period.contains(date(2026, 4, 30)) and not period.contains(date(2026, 6, 1))


# --- one delivery row -----------------------------------------------------------------------------------

TERM = (date(2026, 4, 1), date(2027, 3, 31))
MAY = ReportPeriod(date(2026, 5, 1), date(2026, 5, 31))
GOOD = RowFacts(beneficiary_known=True, beneficiary_assigned=True, item_in_contract=True,
                delivered_on=date(2026, 5, 12), quantity=Decimal("1.5"), worker="李娟", note="")


def problems(**changes):
    return row_problems(replace(GOOD, **changes), MAY, *TERM)


def fields(**changes):
    return [field for field, _message in problems(**changes)]


def test_a_good_row_has_no_problem():
    assert problems() == []
    assert fields(quantity=MAX_ROW_QUANTITY) == []
    assert fields(quantity=Decimal("0.01")) == []
    assert fields(worker="x" * WORKER_MAX, note="y" * NOTE_MAX) == []
    assert fields(delivered_on=MAY.start) == [] and fields(delivered_on=MAY.end) == []


def test_unknown_beneficiary():
    found = problems(beneficiary_known=False, beneficiary_assigned=False)
    assert [f for f, _m in found] == ["beneficiary"]
    # an unknown person is told apart from one not assigned (the messages are translated: compare, don't read)
    assert found != problems(beneficiary_assigned=False)


def test_beneficiary_not_assigned():
    assert fields(beneficiary_assigned=False) == ["beneficiary"]


def test_item_not_in_contract():
    assert fields(item_in_contract=False) == ["item"]


def test_date_missing():
    assert fields(delivered_on=None) == ["delivered_on"]


@pytest.mark.parametrize("day", [date(2026, 3, 31), date(2027, 4, 1)])
def test_date_outside_the_term(day):
    found = problems(delivered_on=day)
    assert [f for f, _m in found] == ["delivered_on"]
    assert found != problems(delivered_on=date(2026, 6, 1))  # outside the term, not merely outside the period


@pytest.mark.parametrize("day", [date(2026, 4, 30), date(2026, 6, 1)])
def test_date_outside_the_period(day):
    found = problems(delivered_on=day)
    assert [f for f, _m in found] == ["delivered_on"]
    assert "2026-05-01" in found[0][1] and "2026-05-31" in found[0][1]


@pytest.mark.parametrize("quantity", [None, Decimal("0"), Decimal("-1"), Decimal("24.01"), Decimal("25")])
def test_quantity_out_of_bounds(quantity):
    assert fields(quantity=quantity) == ["quantity"]


def test_quantity_with_three_decimals():
    found = problems(quantity=Decimal("1.234"))
    assert [f for f, _m in found] == ["quantity"]
    assert found != problems(quantity=Decimal("25"))  # its own message, not the bounds
    assert fields(quantity=Decimal("1.230")) == []  # a trailing zero is still two places


@pytest.mark.parametrize("worker", ["", "   "])
def test_worker_missing(worker):
    assert fields(worker=worker) == ["worker"]


def test_worker_too_long():
    assert fields(worker="x" * (WORKER_MAX + 1)) == ["worker"]


def test_note_too_long():
    assert fields(note="x" * (NOTE_MAX + 1)) == ["note"]


def test_every_problem_at_once():
    found = fields(beneficiary_known=False, beneficiary_assigned=False, item_in_contract=False, delivered_on=None,
                   quantity=Decimal("0"), worker="", note="x" * (NOTE_MAX + 1))
    assert found == ["beneficiary", "item", "delivered_on", "quantity", "worker", "note"]


def test_a_date_after_today_is_refused():
    today = date(2026, 5, 12)
    assert row_problems(GOOD, MAY, *TERM, today) == []  # today itself is fine
    found = row_problems(replace(GOOD, delivered_on=date(2026, 5, 13)), MAY, *TERM, today)
    assert [f for f, _m in found] == ["delivered_on"]
    outside = row_problems(replace(GOOD, delivered_on=date(2026, 6, 1)), MAY, *TERM, date(2026, 7, 1))
    assert [f for f, _m in outside] == ["delivered_on"] and found != outside  # its own message
    assert row_problems(replace(GOOD, delivered_on=None), MAY, *TERM, today)[0][0] == "delivered_on"
