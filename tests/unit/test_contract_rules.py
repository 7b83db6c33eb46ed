"""The rules a contract must satisfy: term, bond, instalments, supplementary amounts, the signing window."""

from datetime import date
from decimal import Decimal

import pytest

from contracts import rules
from contracts.rules import InstalmentPlan
from procurement.projects.holidays import schedule_days
from procurement.rules.money import split_by_percent
from procurement.rules.workdays import WorkCalendar

CAL = WorkCalendar.build(
    holidays=[d for y in (2025, 2026) for d, kind, _n in schedule_days(y) if kind == "holiday"],
    workdays=[d for y in (2025, 2026) for d, kind, _n in schedule_days(y) if kind == "workday"],
    known_years=[2025, 2026],
)


def fields(problems) -> list[str]:
    return [p.field for p in problems]


# --- the service term (102号令 第二十四条) ----------------------------------------------------------

@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 1, 1), date(2026, 12, 31), 12),
        (date(2026, 1, 1), date(2027, 1, 1), 13),  # one day more starts a thirteenth month
        (date(2026, 4, 1), date(2027, 3, 31), 12),
        (date(2026, 1, 1), date(2026, 1, 1), 1),
        (date(2026, 1, 15), date(2026, 2, 14), 1),
        (date(2026, 1, 15), date(2026, 2, 15), 2),
        # month ends
        (date(2026, 1, 31), date(2026, 2, 28), 1),
        (date(2026, 1, 31), date(2027, 1, 30), 12),
        (date(2026, 1, 31), date(2027, 1, 31), 13),
        (date(2026, 3, 31), date(2026, 4, 30), 1),
        (date(2026, 5, 31), date(2026, 6, 30), 1),
        (date(2026, 2, 28), date(2027, 2, 27), 12),
        (date(2026, 2, 28), date(2027, 2, 28), 13),
        (date(2025, 12, 31), date(2026, 12, 30), 12),
        (date(2026, 1, 1), date(2028, 12, 31), 36),
        (date(2026, 1, 1), date(2029, 1, 1), 37),
    ],
)
def test_term_months_counts_started_months(start, end, months):
    assert rules.term_months(start, end) == months


def test_a_twelve_month_term_needs_no_justification():
    assert rules.check_term(date(2026, 1, 1), date(2026, 12, 31), None) == []


@pytest.mark.parametrize("justification", [None, "", "   "])
def test_a_longer_term_needs_the_recorded_justification(justification):
    problems = rules.check_term(date(2026, 1, 1), date(2027, 1, 1), justification)
    assert fields(problems) == ["long_term_justification"]
    assert "第二十四条" in problems[0].citation


def test_a_justified_longer_term_is_accepted_up_to_36_months():
    reason = "服务需求长期稳定、持续性强，已纳入中期财政规划，价格变化幅度小。"
    assert rules.check_term(date(2026, 1, 1), date(2027, 1, 1), reason) == []
    assert rules.check_term(date(2026, 1, 1), date(2028, 12, 31), reason) == []


def test_more_than_36_months_is_refused_even_with_a_justification():
    problems = rules.check_term(date(2026, 1, 1), date(2029, 1, 1), "理由充分")
    assert fields(problems) == ["term_end"]
    assert "第二十四条" in problems[0].citation


def test_a_term_cannot_end_before_it_starts_or_lack_a_day():
    assert fields(rules.check_term(date(2026, 4, 1), date(2026, 3, 31), None)) == ["term_end"]
    assert fields(rules.check_term(None, date(2026, 3, 31), None)) == ["term_end"]
    assert fields(rules.check_term(date(2026, 4, 1), None, None)) == ["term_end"]


# --- performance bond (实施条例 第四十八条) ------------------------------------------------------------

@pytest.mark.parametrize("percent", [None, Decimal("0"), Decimal("5"), Decimal("10"), Decimal("10.00")])
def test_a_bond_of_at_most_ten_percent_is_accepted(percent):
    assert rules.check_bond(percent) == []


def test_a_bond_above_ten_percent_is_refused_with_the_clause():
    problems = rules.check_bond(Decimal("10.01"))
    assert fields(problems) == ["bond_percent"]
    assert "第四十八条" in problems[0].citation


def test_a_negative_bond_is_refused():
    assert fields(rules.check_bond(Decimal("-1"))) == ["bond_percent"]


def test_the_bond_amount_is_rounded_to_the_fen():
    assert rules.bond_amount(Decimal("2098000.00"), Decimal("5")) == Decimal("104900.00")
    assert rules.bond_amount(Decimal("123456.75"), Decimal("2.5")) == Decimal("3086.42")  # 3086.41875


# --- payment terms (保障中小企业款项支付条例) ----------------------------------------------------------

@pytest.mark.parametrize(("days", "interest", "expected"), [
    (30, Decimal("0.05"), []),
    (60, Decimal("0"), []),
    (61, Decimal("0.05"), ["payment_days"]),
    (0, Decimal("0.05"), ["payment_days"]),
    (None, None, ["payment_days", "late_interest_per_day"]),
    (30, Decimal("1.01"), ["late_interest_per_day"]),
    (30, Decimal("-0.01"), ["late_interest_per_day"]),
])
def test_payment_within_60_days_and_a_daily_interest_up_to_one_percent(days, interest, expected):
    assert fields(rules.check_payment_terms(days, interest)) == expected


# --- instalments ----------------------------------------------------------------------------------

def plans(percents, amounts) -> list[InstalmentPlan]:
    return [InstalmentPlan(Decimal(p), Decimal(a)) for p, a in zip(percents, amounts, strict=True)]


def test_thirty_forty_thirty_of_the_demo_amount_is_accepted():
    total = Decimal("2098000.00")
    assert rules.check_instalments(total, plans((30, 40, 30), ("629400.00", "839200.00", "629400.00"))) == []


def test_thirds_split_by_percent_are_accepted():
    percents = [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    amounts = split_by_percent(Decimal("100.00"), percents)
    assert amounts == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert rules.check_instalments(Decimal("100.00"), plans(percents, amounts)) == []


@pytest.mark.parametrize(("total", "percents"), [
    ("123456.75", ("30", "30", "40")),  # 30 % is 37,037.025: both first rounded up, the last takes a fen less
    ("1000.50", ("1", "1", "98")),
    ("1234567.89", ("8.33",) * 11 + ("8.37",)),  # twelve monthly payments
    ("0.03", ("33.33", "33.33", "33.34")),
])
def test_every_split_the_generator_makes_is_accepted(total, percents):
    """Whatever split_by_percent gives (the last instalment takes what rounding leaves) passes the check."""
    total, percents = Decimal(total), [Decimal(p) for p in percents]
    amounts = split_by_percent(total, percents)
    assert rules.check_instalments(total, plans(percents, amounts)) == []


def test_percentages_must_add_up_to_exactly_100():
    problems = rules.check_instalments(Decimal("100.00"), plans((30, 40, 29), ("30.00", "40.00", "29.00")))
    assert fields(problems) == ["instalments", "instalments"]  # 99 percent, and 99 yuan of 100
    assert problems[0].citation == rules.CITE_CONTENT


def test_amounts_a_fen_off_their_percentage_are_refused():
    total = Decimal("2098000.00")
    # the sum is right, but the first two do not match their percentages
    problems = rules.check_instalments(total, plans((30, 40, 30), ("629400.01", "839199.99", "629400.00")))
    assert fields(problems) == ["instalments", "instalments"]
    # the last a fen too much: the sum is wrong
    problems = rules.check_instalments(total, plans((30, 40, 30), ("629400.00", "839200.00", "629400.01")))
    assert set(fields(problems)) == {"instalments"}
    assert rules.CITE_CONTENT in {p.citation for p in problems}


def test_fractions_of_a_fen_nothing_and_no_instalments_are_refused():
    assert fields(rules.check_instalments(Decimal("100.00"), plans((50, 50), ("50.005", "49.995")))) == \
        ["instalments", "instalments"]
    assert fields(rules.check_instalments(Decimal("100.00"), plans((100, 0), ("100.00", "0.00")))) == ["instalments"]
    assert fields(rules.check_instalments(Decimal("100.00"), [])) == ["instalments"]


# --- supplementary contracts (政府采购法 第四十九条) -------------------------------------------------------

def test_supplementary_contracts_may_add_exactly_ten_percent():
    assert rules.check_supplementary(Decimal("2098000.00"), Decimal("0.00"), Decimal("209800.00")) == []
    assert rules.check_supplementary(Decimal("2098000.00"), Decimal("100000.00"), Decimal("109800.00")) == []


def test_supplementary_contracts_together_over_ten_percent_are_refused():
    problems = rules.check_supplementary(Decimal("2098000.00"), Decimal("0.00"), Decimal("209800.01"))
    assert fields(problems) == ["amount"]
    assert "第四十九条" in problems[0].citation
    # each alone is under the limit; together they are not
    problems = rules.check_supplementary(Decimal("2098000.00"), Decimal("150000.00"), Decimal("60000.00"))
    assert fields(problems) == ["amount"]
    assert "第四十九条" in problems[0].citation


def test_a_supplementary_contract_adds_something():
    assert fields(rules.check_supplementary(Decimal("2098000.00"), Decimal("0.00"), Decimal("0.00"))) == ["amount"]


# --- signing within 30 days of the award notice (政府采购法 第四十六条) ------------------------------------

@pytest.mark.parametrize(("today", "state"), [
    (date(2026, 3, 10), "ok"),
    (date(2026, 3, 24), "ok"),  # eight days left
    (date(2026, 3, 25), "warning"),  # a week left
    (date(2026, 4, 1), "warning"),  # the last day
    (date(2026, 4, 2), "overdue"),
])
def test_the_signing_window_is_30_days_from_the_award_notice(today, state):
    window = rules.signing_window(CAL, date(2026, 3, 2), today)
    assert (window.due, window.state, window.estimated) == (date(2026, 4, 1), state, False)


def test_a_signing_limit_on_a_holiday_moves_to_the_next_working_day():
    window = rules.signing_window(CAL, date(2026, 9, 5), date(2026, 10, 7))  # 30 days: 5 October, National Day
    assert (window.due, window.state) == (date(2026, 10, 8), "warning")


def test_a_signing_window_in_a_year_without_its_calendar_is_estimated():
    assert rules.signing_window(CAL, date(2031, 3, 3), date(2031, 3, 4)).estimated


def test_a_contract_is_signed_after_the_notice_and_not_in_the_future():
    notice, today = date(2026, 3, 2), date(2026, 3, 20)
    assert rules.check_signing_date(CAL, notice, date(2026, 3, 2), today) == []
    assert rules.check_signing_date(CAL, notice, date(2026, 4, 20), date(2026, 4, 30)) == []  # late is allowed
    early = rules.check_signing_date(CAL, notice, date(2026, 3, 1), today)
    assert fields(early) == ["signed_on"] and early[0].citation == rules.CITE_SIGNING
    assert fields(rules.check_signing_date(CAL, notice, date(2026, 3, 21), today)) == ["signed_on"]
