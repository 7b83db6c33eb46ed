"""Pure rules of supervision: the rectification deadline, the follow-up sample, the evidence summary."""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from procurement.rules.workdays import Deadline, WorkCalendar, add_working_days

#: A rectification deadline is set in working days by the notice (DOMAIN §5); beyond two months it is no notice.
MIN_WORKING_DAYS, MAX_WORKING_DAYS = 1, 60
#: How many served beneficiaries one phone follow-up may sample.
MIN_SAMPLE, MAX_SAMPLE = 1, 50


def notice_due(calendar: WorkCalendar, issued_on, working_days: int) -> Deadline:
    """The last day to answer a notice issued on ``issued_on`` with ``working_days`` working days."""
    return add_working_days(calendar, issued_on, working_days)


def draw_sample(population: Sequence[int], size: int, rng: random.Random | None = None) -> list[int]:
    """``size`` distinct members of ``population`` (all of them when it is smaller), drawn uniformly.

    The default generator is the operating system's, so nobody can foresee whom the bureau will call.
    """
    pool = sorted(set(population))
    if size >= len(pool):
        return pool
    return sorted((rng or random.SystemRandom()).sample(pool, size))


def rate(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as a percentage with one decimal (half-up); ``None`` when there is nothing to count."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Evidence:
    """What supervision found about one contract in one period: the figures the evaluation scores from."""

    inspections: int
    calls_made: int  # sampled beneficiaries called
    calls_reached: int
    satisfied: int  # satisfied or basically satisfied, among those reached
    confirmed: int  # confirmed all the services reported, among those reached
    complaints: int
    complaints_substantiated: int
    findings: int
    serious_findings: int
    notices: int
    notices_closed_fixed_in_time: int  # answered by the deadline and closed as fixed
    notices_late: int  # answered after the deadline, or unanswered past it
    notices_not_fixed: int  # closed as not fixed

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return rate(self.satisfied, self.calls_reached)

    @property
    def confirmation_rate(self) -> Decimal | None:
        return rate(self.confirmed, self.calls_reached)

    @property
    def rectified_in_time_rate(self) -> Decimal | None:
        return rate(self.notices_closed_fixed_in_time, self.notices)
