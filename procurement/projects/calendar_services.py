"""The working-day calendar: the State Council's holiday schedule of each year, entered by the system administrator.

Working-day deadlines (DOMAIN §3) skip the holidays and count the adjusted working weekends listed here;
a year not entered is computed on weekends alone and every deadline touching it is marked estimated.
These are reference data, not records of a purchase: a mistaken day may be removed (audited).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Action
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.projects.models import CalendarDay, CalendarYear, DayOff
from procurement.projects.services import forget_calendar
from procurement.rules.clock import utcnow

FIRST_YEAR, LAST_YEAR = 2000, 2100


def can_edit_calendar(user) -> bool:
    return user.may(Action.CALENDAR_EDIT)


def _ensure(actor: Actor) -> None:
    if actor.user is None or not can_edit_calendar(actor.user):
        raise AccessDenied(_("Only the system administrator maintains the working-day calendar."))


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DomainError(_("Enter a year between 2000 and 2100."), field="year")


@dataclass(frozen=True)
class YearSummary:
    year: int
    entered: CalendarYear | None
    holidays: int
    workdays: int


def year_summaries(years_wanted=()) -> list[YearSummary]:
    """Every entered year, every year that has days listed, plus ``years_wanted``, newest first."""
    entered = {y.year: y for y in db.session.execute(select(CalendarYear)).scalars()}
    year_of = func.extract("year", CalendarDay.day)
    counts: dict[int, dict] = {}
    for year, kind, n in db.session.execute(select(year_of, CalendarDay.kind, func.count()).group_by(year_of, CalendarDay.kind)):
        counts.setdefault(int(year), {})[kind] = n
    years = set(entered) | set(counts) | set(years_wanted)
    return [YearSummary(y, entered.get(y), counts.get(y, {}).get(DayOff.HOLIDAY, 0), counts.get(y, {}).get(DayOff.WORKDAY, 0))
            for y in sorted(years, reverse=True)]


def calendar_year(year: int) -> CalendarYear | None:
    return db.session.get(CalendarYear, year)


def year_days(year: int) -> list[CalendarDay]:
    return db.session.execute(select(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
                              .order_by(CalendarDay.day)).scalars().all()


def enter_year(year: int, source: str, actor: Actor) -> CalendarYear:
    """Mark the year's schedule as entered (or correct its source): its deadlines are exact from now on.

    Raises:
        DomainError: the year is out of range or the source is empty.
    """
    _ensure(actor)
    _check_year(year)
    source = (source or "").strip()
    if not source:
        raise DomainError(_("Enter the source of the schedule."), field="source")
    record = db.session.get(CalendarYear, year)
    before = record.source if record is not None else None
    if record is None:
        record = CalendarYear(year=year, source=source)
        db.session.add(record)
    elif before == source:
        return record
    record.source, record.updated_at, record.updated_by_id = source, utcnow(), actor.user_id
    db.session.flush()
    forget_calendar()
    append_audit(actor, "calendar.year", object_type="calendar_year", object_id=year,
                 detail={"year": year, "source": source, "before": before})
    return record


def add_day(year: int, day: date, kind: DayOff, name: str, actor: Actor) -> CalendarDay:
    """List a holiday (a weekday off) or an adjusted working day (a weekend day worked).

    Raises:
        DomainError: the day is outside the year, already listed, or its kind means nothing on that day.
    """
    _ensure(actor)
    _check_year(year)
    name = (name or "").strip()
    if day.year != year:
        raise DomainError(_("The day must be in %(year)s.", year=year), field="day")
    if not name:
        raise DomainError(_("Enter the name, e.g. 春节 or 春节调休."), field="name")
    weekend = day.weekday() >= 5
    if kind == DayOff.HOLIDAY and weekend:
        raise DomainError(_("%(day)s is a Saturday or Sunday and off anyway: list only the weekdays of a holiday.",
                            day=day.isoformat()), field="day")
    if kind == DayOff.WORKDAY and not weekend:
        raise DomainError(_("%(day)s is a weekday and a working day anyway: an adjusted working day is a Saturday or "
                            "Sunday worked instead.", day=day.isoformat()), field="day")
    existing = db.session.get(CalendarDay, day)
    if existing is not None:
        raise DomainError(_("%(day)s is already listed (%(name)s); remove it first to change it.", day=day.isoformat(),
                            name=existing.name), field="day")
    record = CalendarDay(day=day, kind=kind, name=name)
    db.session.add(record)
    db.session.flush()
    forget_calendar()
    append_audit(actor, "calendar.day_add", object_type="calendar_day", object_id=day.isoformat(),
                 detail={"day": day.isoformat(), "kind": kind.value, "name": name})
    return record


def remove_day(day: date, actor: Actor) -> None:
    """Take a mistaken day off the calendar (reference data: the audit record keeps what it was).

    Raises:
        DomainError: the day is not listed.
    """
    _ensure(actor)
    record = db.session.get(CalendarDay, day)
    if record is None:
        raise DomainError(_("%(day)s is not listed.", day=day.isoformat()), field="day")
    detail = {"day": day.isoformat(), "kind": record.kind.value, "name": record.name}
    db.session.delete(record)
    db.session.flush()
    forget_calendar()
    append_audit(actor, "calendar.day_remove", object_type="calendar_day", object_id=day.isoformat(), detail=detail)
