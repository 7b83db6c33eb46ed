"""Hostile input to every step and calendar form, in every stage a project can be in: never a server error."""

from datetime import timedelta
from decimal import Decimal

import pytest

from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.rules.clock import beijing_today
from procurement.rules.procurement import Method
from procurement.rules.stages import ProjectStage
from tests.factories import login_as, make_user
from tests.project_factories import (
    invite,
    make_bid,
    make_bureau,
    make_staged_project,
    registered_supplier,
)
from tests.web.test_no_server_errors import GARBAGE_ROUNDS, FormFields, hostile_data

TODAY = beijing_today()
D = timedelta(days=1)
STEPS = ["announcement", "notice", "invitations/new", "bids/new", "evaluation", "award"]


def _post_garbage(client, url) -> list[str]:
    page = client.get(url)
    assert page.status_code == 200, url
    parser = FormFields()
    parser.feed(page.get_data(as_text=True))
    assert parser.fields, url
    failures = []
    for garbage in GARBAGE_ROUNDS:
        response = client.post(url, data=hostile_data(parser.fields, garbage), content_type="multipart/form-data")
        if response.status_code not in (200, 302, 400, 409):
            failures.append(f"POST {url} -> {response.status_code}")
    return failures


def _project(stage, method):
    bureau = make_bureau("530626")
    officer = make_user(Role.OFFICER, organization=bureau)
    supplier = registered_supplier()
    project = make_staged_project(bureau=bureau, stage=stage, method=method, total=Decimal("2500000.00"),
                           documents_issued_on=TODAY - 30 * D, response_deadline=TODAY - 10 * D,
                           evaluated_on=TODAY - 5 * D if stage == ProjectStage.EVALUATED else None)
    invite(project, supplier, TODAY - 30 * D)
    bid = make_bid(project, supplier, submitted_on=TODAY - 11 * D)
    db.session.commit()
    return officer, project, bid


@pytest.mark.parametrize("stage, method", [
    (ProjectStage.DRAFT, Method.SINGLE_SOURCE), (ProjectStage.APPROVED, Method.INVITED_TENDER),
    (ProjectStage.ANNOUNCED, Method.NEGOTIATION), (ProjectStage.EVALUATED, Method.CONSULTATION),
])
def test_every_step_form_survives_hostile_input(client, stage, method):
    officer, project, _bid = _project(stage, method)
    login_as(client, officer)
    failures = []
    for step in STEPS:
        failures += _post_garbage(client, f"/projects/{project.id}/{step}")
    assert failures == []


def test_the_score_form_survives_hostile_input(client):
    officer, project, bid = _project(ProjectStage.ANNOUNCED, Method.CONSULTATION)
    login_as(client, officer)
    assert _post_garbage(client, f"/projects/{project.id}/bids/{bid.id}/score") == []


def test_the_calendar_survives_hostile_input(client):
    admin = make_user(Role.SYSADMIN, region_code="530000")
    login_as(client, admin)
    assert _post_garbage(client, "/projects/calendar/2026") == []  # with the days of the 2026 schedule
    assert _post_garbage(client, "/projects/calendar/2031") == []


def test_query_strings_of_the_list_pages_never_fail(client):
    hostile = "page=99999999999999999999&state=%27&step=%25%5F&bureau=%00x&year=-1"
    login_as(client, make_user(Role.OFFICER))
    for url in ("/projects/deadlines", "/projects/calendar"):
        assert client.get(f"{url}?{hostile}").status_code == 200
    login_as(client, make_user(Role.SUPPLIER))
    assert client.get(f"/projects/mine?{hostile}").status_code == 200
