"""Deadline arithmetic on China's working-day calendar (DOMAIN §3).

Periods follow 民法典 第二百零一条: the day an event happens is not counted; counting
starts the next day.  A period in working days skips weekends and public holidays
and counts the adjusted working weekends (调休); a maximum period in calendar days
whose last day is not a working day ends on the next working day (第二百零三条).

A year whose State Council schedule has not been entered is computed on weekends
alone, and every result that touches such a year says so (``estimated``).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = frozenset()  # weekdays off (放假)
    workdays: frozenset[date] = frozenset()  # weekend days worked (调休上班)
    known_years: frozenset[int] = frozenset()  # years whose schedule has been entered

    @classmethod
    def build(cls, holidays: Iterable[date] = (), workdays: Iterable[date] = (), known_years: Iterable[int] = ()):
        return cls(frozenset(holidays), frozenset(workdays), frozenset(known_years))

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def knows(self, day: date) -> bool:
        return day.year in self.known_years


@dataclass(frozen=True)
class Deadline:
    day: date
    estimated: bool = False  # a year without an entered schedule was involved: weekends only

    def __str__(self) -> str:
        return self.day.isoformat() + (" (estimated)" if self.estimated else "")


@dataclass
class _Walk:
    calendar: WorkCalendar
    estimated: bool = field(default=False)

    def note(self, day: date) -> None:
        if not self.calendar.knows(day):
            self.estimated = True


def add_working_days(calendar: WorkCalendar, start: date, days: int) -> Deadline:
    """The day on which ``days`` working days after ``start`` have passed (start not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    walk = _Walk(calendar)
    day = start
    counted = 0
    while counted < days:
        day += ONE_DAY
        walk.note(day)
        if calendar.is_working_day(day):
            counted += 1
    return Deadline(day, walk.estimated)


def add_calendar_days(calendar: WorkCalendar, start: date, days: int, roll_to_working_day: bool = False) -> Deadline:
    """``start`` + ``days``; a maximum period ending on a day off moves to the next working day."""
    day = start + timedelta(days=days)
    walk = _Walk(calendar)
    if roll_to_working_day:
        walk.note(day)
        while not calendar.is_working_day(day):
            day += ONE_DAY
            walk.note(day)
    return Deadline(day, walk.estimated)


def working_days_between(calendar: WorkCalendar, start: date, end: date) -> tuple[int, bool]:
    """Working days after ``start`` up to and including ``end`` (0 if end ≤ start), and whether estimated."""
    walk = _Walk(calendar)
    count = 0
    day = start
    while day < end:
        day += ONE_DAY
        walk.note(day)
        if calendar.is_working_day(day):
            count += 1
    return count, walk.estimated
