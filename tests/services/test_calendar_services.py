"""The holiday calendar: what the system administrator enters changes every working-day deadline, audited."""

from datetime import date

import pytest
from flask_babel import gettext
from sqlalchemy import select

from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor
from procurement.auth.roles import Role
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.projects import calendar_services as cal
from procurement.projects import services
from procurement.projects.models import CalendarDay, CalendarYear, DayOff
from procurement.rules.procurement import PERIODS
from tests.factories import make_user


@pytest.fixture
def admin():
    return Actor(make_user(Role.SYSADMIN, region_code="530000"), "127.0.0.1")


def audit(action):
    return db.session.execute(select(AuditRecord).where(AuditRecord.action == action)
                              .order_by(AuditRecord.seq)).scalars().all()


def test_the_known_schedules_are_loaded_with_the_reference_data():
    summaries = {s.year: s for s in cal.year_summaries()}
    assert summaries[2026].entered is not None and "2026" in summaries[2026].entered.source
    assert summaries[2026].holidays > 10 and summaries[2026].workdays == 6
    assert services.work_calendar().is_working_day(date(2026, 10, 10))  # 国庆节调休 Saturday


def test_a_2027_deadline_is_estimated_until_2027_is_entered_and_exact_afterwards(admin):
    period = PERIODS["award_notice"]
    decided = date(2027, 2, 5)  # a Friday before the 2027 Spring Festival
    before = period.end(services.work_calendar(), decided)
    assert before.estimated and before.day == date(2027, 2, 9)  # weekends only: Mon 8, Tue 9

    for day in (date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10), date(2027, 2, 11), date(2027, 2, 12)):
        cal.add_day(2027, day, DayOff.HOLIDAY, "春节", admin)
    cal.add_day(2027, date(2027, 2, 6), DayOff.WORKDAY, "春节调休", admin)
    listed = period.end(services.work_calendar(), decided)
    assert listed.estimated and listed.day == date(2027, 2, 15)  # counted at once, still marked until entered

    cal.enter_year(2027, "国务院办公厅关于2027年部分节假日安排的通知", admin)
    exact = period.end(services.work_calendar(), decided)
    assert not exact.estimated and exact.day == date(2027, 2, 15)  # Sat 6 worked, Mon 15 the second day
    assert services.work_calendar().knows(date(2027, 12, 31))


def test_every_change_is_audited(admin):
    cal.enter_year(2027, "国务院办公厅关于2027年部分节假日安排的通知", admin)
    cal.add_day(2027, date(2027, 1, 1), DayOff.HOLIDAY, "元旦", admin)
    cal.remove_day(date(2027, 1, 1), admin)
    cal.enter_year(2027, "国办发明电〔2026〕9号", admin)
    years = audit("calendar.year")
    assert [r.detail["source"] for r in years] == ["国务院办公厅关于2027年部分节假日安排的通知", "国办发明电〔2026〕9号"]
    assert years[1].detail["before"] == "国务院办公厅关于2027年部分节假日安排的通知"
    assert years[0].object_type == "calendar_year" and years[0].object_id == "2027"
    assert audit("calendar.day_add")[0].detail == {"day": "2027-01-01", "kind": "holiday", "name": "元旦"}
    removed = audit("calendar.day_remove")
    assert removed[0].detail == {"day": "2027-01-01", "kind": "holiday", "name": "元旦"} and removed[0].user_id == admin.user_id
    assert db.session.get(CalendarDay, date(2027, 1, 1)) is None
    assert db.session.get(CalendarYear, 2027).updated_by_id == admin.user_id


def test_entering_the_same_source_again_changes_nothing(admin):
    cal.enter_year(2027, "通知", admin)
    cal.enter_year(2027, " 通知 ", admin)
    assert len(audit("calendar.year")) == 1


def test_removing_a_day_changes_deadlines_at_once(admin):
    period = PERIODS["award_notice"]
    assert period.end(services.work_calendar(), date(2026, 9, 30)).day == date(2026, 10, 9)
    cal.remove_day(date(2026, 10, 7), admin)  # say 7 October had been entered by mistake
    assert period.end(services.work_calendar(), date(2026, 9, 30)).day == date(2026, 10, 8)


@pytest.mark.parametrize("year, day, kind, msgid", [
    (2027, date(2027, 2, 6), DayOff.HOLIDAY,
     "%(day)s is a Saturday or Sunday and off anyway: list only the weekdays of a holiday."),
    (2027, date(2027, 2, 8), DayOff.WORKDAY,
     "%(day)s is a weekday and a working day anyway: an adjusted working day is a Saturday or Sunday worked instead."),
])
def test_a_day_whose_kind_would_mean_nothing_is_refused(admin, year, day, kind, msgid):
    with pytest.raises(DomainError) as refused:
        cal.add_day(year, day, kind, "春节", admin)
    assert refused.value.message == gettext(msgid, day=day.isoformat()) and refused.value.field == "day"
    assert db.session.get(CalendarDay, day) is None


def test_a_day_outside_the_year_or_listed_twice_is_refused(admin):
    with pytest.raises(DomainError) as refused:
        cal.add_day(2027, date(2028, 1, 3), DayOff.HOLIDAY, "元旦", admin)
    assert refused.value.message == gettext("The day must be in %(year)s.", year=2027)
    with pytest.raises(DomainError) as refused:
        cal.add_day(2026, date(2026, 10, 1), DayOff.HOLIDAY, "国庆", admin)
    assert refused.value.message == gettext("%(day)s is already listed (%(name)s); remove it first to change it.",
                                            day="2026-10-01", name="国庆节")
    with pytest.raises(DomainError):
        cal.remove_day(date(2027, 3, 3), admin)
    with pytest.raises(DomainError):
        cal.enter_year(2027, "   ", admin)
    with pytest.raises(DomainError):
        cal.enter_year(1999, "通知", admin)


@pytest.mark.parametrize("role", [Role.OFFICER, Role.SECADMIN, Role.AUDITADMIN, Role.SUPPLIER])
def test_only_the_system_administrator_changes_the_calendar(role):
    actor = Actor(make_user(role), "127.0.0.1")
    with pytest.raises(AccessDenied):
        cal.enter_year(2027, "通知", actor)
    with pytest.raises(AccessDenied):
        cal.add_day(2027, date(2027, 1, 1), DayOff.HOLIDAY, "元旦", actor)
    with pytest.raises(AccessDenied):
        cal.remove_day(date(2026, 10, 1), actor)
    assert db.session.get(CalendarDay, date(2026, 10, 1)) is not None
