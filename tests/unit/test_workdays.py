"""Deadline arithmetic over China's working-day calendar, with the 2025/2026 State Council schedules."""

from datetime import date

import pytest

from procurement.projects.holidays import schedule_days
from procurement.rules.procurement import PERIODS
from procurement.rules.workdays import WorkCalendar, add_calendar_days, add_working_days, working_days_between

CAL = WorkCalendar.build(
    holidays=[d for y in (2025, 2026) for d, kind, _n in schedule_days(y) if kind == "holiday"],
    workdays=[d for y in (2025, 2026) for d, kind, _n in schedule_days(y) if kind == "workday"],
    known_years=[2025, 2026],
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 27), True),  # Friday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),  # Saturday worked (调休)
        (date(2026, 9, 20), True),  # Sunday worked
        (date(2026, 2, 14), True),  # Saturday worked before Spring Festival
        (date(2026, 2, 17), False),  # Spring Festival
        (date(2025, 1, 26), True),  # Sunday worked
        (date(2025, 10, 8), False),
    ],
)
def test_working_days_follow_the_schedule(day, working):
    assert CAL.is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 25), 2, date(2026, 11, 27)),  # Wed + 2 → Fri
        (date(2026, 11, 26), 2, date(2026, 11, 30)),  # Thu + 2 → Mon (weekend skipped)
        (date(2026, 11, 27), 0, date(2026, 11, 27)),
        (date(2026, 9, 29), 2, date(2026, 10, 8)),  # Tue: 30 Sep, then National Day to 7 Oct, 8 Oct
        (date(2026, 9, 30), 7, date(2026, 10, 15)),  # 8, 9, 10 (Sat worked), 12, 13, 14, 15
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # Fri → Sunday 20 Sep is a working day
        (date(2026, 2, 12), 2, date(2026, 2, 14)),  # Thu: 13 Fri, 14 Sat worked
        (date(2025, 12, 30), 2, date(2026, 1, 4)),  # 31 Dec, then 1-3 Jan off, 4 Jan (Sun) worked
    ],
)
def test_add_working_days(start, days, expected):
    result = add_working_days(CAL, start, days)
    assert result.day == expected and not result.estimated


def test_spring_festival_span_by_hand():
    # 2026-02-13 (Fri) + 5 working days: 14 (Sat, worked), 24 (Tue), 25, 26, 27 → 27 Feb
    assert add_working_days(CAL, date(2026, 2, 13), 5).day == date(2026, 2, 27)


def test_a_year_without_a_schedule_is_counted_on_weekends_and_flagged():
    result = add_working_days(CAL, date(2027, 9, 29), 2)
    assert result.day == date(2027, 10, 1) and result.estimated  # National Day 2027 unknown
    crossing = add_working_days(CAL, date(2026, 12, 30), 3)
    assert crossing.day == date(2027, 1, 4) and crossing.estimated
    assert not add_working_days(CAL, date(2026, 12, 1), 3).estimated


@pytest.mark.parametrize(
    ("start", "days", "roll", "expected"),
    [
        (date(2026, 11, 1), 20, False, date(2026, 11, 21)),  # a minimum: no rolling
        (date(2026, 9, 3), 30, True, date(2026, 10, 8)),  # 3 Oct is a holiday → next working day
        (date(2026, 9, 3), 30, False, date(2026, 10, 3)),
        (date(2026, 10, 29), 30, True, date(2026, 11, 30)),  # 28 Nov Saturday → Monday 30 Nov
    ],
)
def test_add_calendar_days(start, days, roll, expected):
    assert add_calendar_days(CAL, start, days, roll_to_working_day=roll).day == expected


def test_working_days_between():
    assert working_days_between(CAL, date(2026, 9, 30), date(2026, 10, 10)) == (3, False)  # 8, 9, 10
    assert working_days_between(CAL, date(2026, 11, 27), date(2026, 11, 27)) == (0, False)


@pytest.mark.parametrize(
    ("key", "start", "expected"),
    [
        ("tender_response", date(2026, 11, 2), date(2026, 11, 22)),  # ≥ 20 calendar days
        ("consultation_response", date(2026, 9, 28), date(2026, 10, 8)),  # ≥ 10 calendar days, holidays count
        ("negotiation_response", date(2026, 9, 29), date(2026, 10, 9)),  # ≥ 3 working days: 30 Sep, 8, 9 Oct
        ("single_source_notice", date(2026, 4, 30), date(2026, 5, 11)),  # 5 wd: 6, 7, 8, 9 (Sat worked), 11
        ("award_notice", date(2026, 6, 18), date(2026, 6, 23)),  # ≤ 2 wd across 端午: 22, 23
        ("contract_signing", date(2026, 9, 3), date(2026, 10, 8)),  # ≤ 30 days, rolled past National Day
        ("contract_publication", date(2026, 2, 13), date(2026, 2, 24)),  # 14 (worked), 24
        ("contract_filing", date(2026, 1, 1), date(2026, 1, 12)),  # 4 (Sun worked), 5, 6, 7, 8, 9, 12
        ("challenge", date(2026, 5, 6), date(2026, 5, 14)),  # ≤ 7 wd: 7, 8, 9 (Sat worked), 11, 12, 13, 14
    ],
)
def test_every_statutory_period(key, start, expected):
    period = PERIODS[key]
    assert period.end(CAL, start).day == expected
