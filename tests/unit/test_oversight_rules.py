"""Pure supervision rules: the rectification deadline in working days, the random sample, the rates."""

import random
from datetime import date
from decimal import Decimal

import pytest

from procurement.rules import oversight
from procurement.rules.workdays import WorkCalendar

# 2026: National Day 1–7 October off, Saturday 10 October worked (调休)
CAL_2026 = WorkCalendar.build(holidays=[date(2026, 10, d) for d in range(1, 8)], workdays=[date(2026, 10, 10)],
                              known_years=[2026])


@pytest.mark.parametrize("issued, days, due, estimated", [
    (date(2026, 6, 10), 5, date(2026, 6, 17), False),  # Wednesday + 5 working days: over one weekend
    (date(2026, 6, 12), 1, date(2026, 6, 15), False),  # issued on a Friday: Monday
    (date(2026, 9, 30), 3, date(2026, 10, 10), False),  # across National Day, ending on the worked Saturday
    (date(2026, 9, 30), 1, date(2026, 10, 8), False),
    (date(2026, 12, 30), 5, date(2027, 1, 6), True),  # reaches 2027, whose schedule is not entered: flagged
])
def test_notice_due_counts_working_days(issued, days, due, estimated):
    deadline = oversight.notice_due(CAL_2026, issued, days)
    assert (deadline.day, deadline.estimated) == (due, estimated)


def test_draw_sample_is_distinct_members_of_the_population():
    population = list(range(100, 130)) * 2  # duplicates (several deliveries) count once
    sample = oversight.draw_sample(population, 10, random.Random(7))
    assert len(sample) == 10 == len(set(sample)) and set(sample) <= set(population)
    assert oversight.draw_sample([3, 1, 2, 2], 10) == [1, 2, 3]  # asking for more takes everyone once
    assert oversight.draw_sample([], 5) == []


def test_draw_sample_is_uniform_enough():
    counts = dict.fromkeys(range(10), 0)
    rng = random.Random(1)
    for _ in range(2000):
        for member in oversight.draw_sample(range(10), 3, rng):
            counts[member] += 1
    assert all(500 < n < 700 for n in counts.values()), counts  # 600 expected each


@pytest.mark.parametrize("part, whole, expected", [
    (1, 2, Decimal("50.0")), (2, 3, Decimal("66.7")), (1, 3, Decimal("33.3")), (0, 5, Decimal("0.0")),
    (5, 5, Decimal("100.0")), (1, 0, None),
])
def test_rate_is_a_half_up_percentage(part, whole, expected):
    assert oversight.rate(part, whole) == expected
