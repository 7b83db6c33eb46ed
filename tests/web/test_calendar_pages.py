"""The working-day calendar pages: officers read which years are entered; the system administrator maintains them."""

import html
import re
from datetime import date

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from procurement.audit.models import AuditRecord
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.projects.models import CalendarDay, CalendarYear, DayOff
from procurement.rules.clock import beijing_today
from tests.factories import login_as, make_user

THIS_YEAR = beijing_today().year


def text(response) -> str:
    return response.get_data(as_text=True)


def shown(msgid: str, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


def field_errors(page: str, field_id: str) -> list[str]:
    start = page.find(f'id="{field_id}"')
    if start < 0:
        return []
    end = min(i for i in (page.find("<label", start), page.find("</form>", start), len(page)) if i >= 0)
    return [html.unescape(m) for m in re.findall(r'invalid-feedback d-block">(.*?)</div>', page[start:end], re.S)]


@pytest.fixture
def sysadmin(client):
    user = make_user(Role.SYSADMIN, region_code="530000")
    login_as(client, user)
    return user


def test_officers_see_which_years_are_entered(client):
    login_as(client, make_user(Role.OFFICER))
    page = text(client.get("/projects/calendar"))
    assert "国务院办公厅关于2026年部分节假日安排的通知" in page
    for year in (THIS_YEAR, THIS_YEAR + 1):
        entered = db.session.get(CalendarYear, year) is not None
        marker = re.search(rf'data-year="{year}">(.*?)</div>', page, re.S).group(1)
        expected = "%(year)s is entered." if entered else "%(year)s is not entered yet: its working-day deadlines are estimated."
        assert shown(expected, year=year) in marker
    assert f"/projects/calendar/{THIS_YEAR}" not in page  # no editing links for officers
    assert client.get(f"/projects/calendar/{THIS_YEAR}").status_code == 403
    assert client.post(f"/projects/calendar/{THIS_YEAR}", data={"action": "year", "year-source": "x"}).status_code == 403


@pytest.mark.parametrize("role", [Role.SUPPLIER, Role.FINANCE, Role.EVALUATOR, Role.SECADMIN, Role.AUDITADMIN])
def test_other_roles_do_not_see_the_calendar(client, role):
    login_as(client, make_user(role))
    assert client.get("/projects/calendar").status_code == 403
    assert client.get("/projects/calendar/2027").status_code == 403


def test_the_administrator_enters_a_year_and_its_days(client, sysadmin):
    page = text(client.get("/projects/calendar/2027"))
    assert 'id="not-entered"' in page
    response = client.post("/projects/calendar/2027", data={"action": "add", "day-day": "2027-02-08", "day-kind": "holiday",
                                                            "day-name": "春节"})
    assert response.status_code == 302 and response.location.endswith("/projects/calendar/2027")
    response = client.post("/projects/calendar/2027", data={"action": "add", "day-day": "2027-02-06",
                                                            "day-kind": "workday", "day-name": "春节调休"})
    assert response.status_code == 302
    response = client.post("/projects/calendar/2027", data={"action": "year",
                                                            "year-source": "国务院办公厅关于2027年部分节假日安排的通知"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CalendarYear, 2027).source == "国务院办公厅关于2027年部分节假日安排的通知"
    assert db.session.get(CalendarDay, date(2027, 2, 8)).kind == DayOff.HOLIDAY
    page = text(client.get("/projects/calendar/2027"))
    assert 'id="entered"' in page and 'data-day="2027-02-08"' in page and 'data-day="2027-02-06"' in page
    response = client.post("/projects/calendar/2027", data={"action": "remove", "remove-day": "2027-02-08"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CalendarDay, date(2027, 2, 8)) is None
    actions = db.session.execute(select(AuditRecord.action).where(AuditRecord.action.startswith("calendar."))
                                 .order_by(AuditRecord.seq)).scalars().all()
    assert actions == ["calendar.day_add", "calendar.day_add", "calendar.year", "calendar.day_remove"]


@pytest.mark.parametrize("data, field, msgid, variables", [
    ({"day-day": "2027-02-06", "day-kind": "holiday", "day-name": "春节"}, "day-day",
     "%(day)s is a Saturday or Sunday and off anyway: list only the weekdays of a holiday.", {"day": "2027-02-06"}),
    ({"day-day": "2027-02-08", "day-kind": "workday", "day-name": "春节调休"}, "day-day",
     "%(day)s is a weekday and a working day anyway: an adjusted working day is a Saturday or Sunday worked instead.",
     {"day": "2027-02-08"}),
    ({"day-day": "2028-01-03", "day-kind": "holiday", "day-name": "元旦"}, "day-day", "The day must be in %(year)s.",
     {"year": 2027}),
    ({"day-day": "2027-02-30", "day-kind": "holiday", "day-name": "春节"}, "day-day", "Enter a date like 2026-03-01.", {}),
    ({"day-day": "2027-02-08", "day-kind": "holiday", "day-name": ""}, "day-name", "Enter the name, e.g. 春节 or 春节调休.", {}),
    ({"day-day": "2027-02-08", "day-kind": "holiday", "day-name": "节" * 33}, "day-name", "At most 32 characters.", {}),
])
def test_a_bad_day_gets_a_message(client, sysadmin, data, field, msgid, variables):
    response = client.post("/projects/calendar/2027", data={"action": "add", **data})
    assert response.status_code == 400
    assert field_errors(text(response), field) == [gettext(msgid, **variables)]
    assert db.session.execute(select(CalendarDay).where(CalendarDay.day >= date(2027, 1, 1))).first() is None


def test_garbage_is_refused_without_a_server_error(client, sysadmin):
    assert client.post("/projects/calendar/2027", data={"action": "../../etc"}).status_code == 400
    assert client.post("/projects/calendar/2027", data={"action": "remove", "remove-day": "abc"}).status_code == 400
    response = client.post("/projects/calendar/2027", data={"action": "remove", "remove-day": "2027-03-03"})
    assert response.status_code == 400 and shown("%(day)s is not listed.", day="2027-03-03") in text(response)
    response = client.post("/projects/calendar/2027", data={"action": "year", "year-source": "   "})
    assert response.status_code == 400
    assert field_errors(text(response), "year-source") == [gettext("Enter the source of the schedule.")]
    assert client.get("/projects/calendar/1999").status_code == 404
    assert client.get("/projects/calendar/99999").status_code == 404
    assert db.session.get(CalendarYear, 2027) is None



@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_the_calendar_forms_carry_their_tokens(client, app_config):
    login_as(client, make_user(Role.SYSADMIN, region_code="530000"))
    page = text(client.get("/projects/calendar/2026"))
    tokens = dict(re.findall(r'name="(\w+-csrf_token)" type="hidden" value="([^"]+)"', page))
    assert {"day-csrf_token", "year-csrf_token", "remove-csrf_token"} <= set(tokens)
    response = client.post("/projects/calendar/2026", data={"action": "remove", "remove-day": "2026-10-07",
                                                            "remove-csrf_token": tokens["remove-csrf_token"]})
    assert response.status_code == 302
    response = client.post("/projects/calendar/2026", data={"action": "add", "day-day": "2026-10-07", "day-kind": "holiday",
                                                            "day-name": "国庆节", "day-csrf_token": tokens["day-csrf_token"]})
    assert response.status_code == 302
    assert client.post("/projects/calendar/2026", data={"action": "remove", "remove-day": "2026-10-07"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(CalendarDay, date(2026, 10, 7)) is not None


def test_entering_a_year_makes_its_deadlines_exact_on_the_step_pages(client):
    from procurement.rules.procurement import Method
    from tests.project_factories import make_bureau, make_staged_project

    bureau = make_bureau("530626")
    officer = make_user(Role.OFFICER, organization=bureau)
    admin = make_user(Role.SYSADMIN, region_code="530000")
    project = make_staged_project(bureau=bureau, method=Method.NEGOTIATION, documents_issued_on=date(2027, 9, 30))
    login_as(client, officer)
    page = text(client.get(f"/projects/{project.id}/announcement"))
    assert 'id="estimated"' in page and "2027年10月5日" in page  # Thu 30 Sep + 3 working days, weekends only
    login_as(client, admin)
    for day in ("2027-10-01", "2027-10-04", "2027-10-05", "2027-10-06", "2027-10-07"):
        client.post("/projects/calendar/2027", data={"action": "add", "day-day": day, "day-kind": "holiday", "day-name": "国庆节"})
    client.post("/projects/calendar/2027", data={"action": "add", "day-day": "2027-10-09", "day-kind": "workday",
                                                 "day-name": "国庆节调休"})
    client.post("/projects/calendar/2027", data={"action": "year", "year-source": "国务院办公厅关于2027年部分节假日安排的通知"})
    login_as(client, officer)
    page = text(client.get(f"/projects/{project.id}/announcement"))
    assert 'id="estimated"' not in page and "2027年10月11日" in page  # 8, 9 (Saturday worked), 11 October
