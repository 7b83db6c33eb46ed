"""The monthly trend chart on the officer's contract page (server-side SVG, one bar/point per period)."""
# ruff: noqa: F401, F811 - the fixtures of another test module are imported and requested by name

import re
from decimal import Decimal

from procurement.extensions import db
from procurement.rules.clock import utcnow
from procurement.supervision import services
from procurement.supervision.models import DeliveryRow, ReportState, ServiceReport
from tests.factories import login_as
from tests.web.test_report_pages import TODAY, text, world  # noqa: F401 - the fixture


def _report(contract, period, state, person, item, quantities):
    report = ServiceReport(contract_id=contract.id, period_start=period.start, period_end=period.end, state=state,
                           submitted_at=utcnow(), reviewed_at=utcnow())
    db.session.add(report)
    db.session.flush()
    for n, quantity in enumerate(quantities):
        db.session.add(DeliveryRow(report_id=report.id, beneficiary_id=person.id, item_id=item.id,
                                   delivered_on=period.start, quantity=Decimal(quantity), worker=f"护工{n}"))
    return report


def test_the_contract_page_draws_the_trend_by_period(client, world):  # noqa: F811
    contract, item, person = world["contract"], world["item"], world["person"]
    periods = [p for p in services.periods_of(contract) if p.start <= TODAY]
    assert len(periods) >= 3
    _report(contract, periods[0], ReportState.ACCEPTED, person, item, ["2", "1.5"])
    _report(contract, periods[1], ReportState.SUBMITTED, person, item, ["4"])
    _report(contract, periods[2], ReportState.DRAFT, person, item, ["9"])  # a draft does not count
    db.session.commit()

    login_as(client, world["officer"])
    page = text(client.get(f"/contracts/{contract.id}"))
    svg = re.search(r"<svg[^>]*id=\"trend-chart\".*?</svg>", page, re.S).group(0)
    assert "<title" in svg and "aria-label=" in svg and "style=" not in svg
    accepted = dict(re.findall(r'class="chart-bar-accepted" data-period="([\d-]+)" data-value="([\d.]+)"', svg))
    pending = dict(re.findall(r'class="chart-bar-pending" data-period="([\d-]+)" data-value="([\d.]+)"', svg))
    served = dict(re.findall(r'<circle[^>]*data-period="([\d-]+)" data-value="(\d+)"', svg))
    keys = [p.key for p in periods]
    assert list(accepted) == list(pending) == list(served) == keys  # one bar and one point per period up to today
    assert accepted[keys[0]] == "3.5" and pending[keys[0]] == "0"
    assert accepted[keys[1]] == "0" and pending[keys[1]] == "4"
    assert accepted[keys[2]] == pending[keys[2]] == "0" and served[keys[2]] == "0"
    assert served[keys[0]] == served[keys[1]] == "1"
    assert f">{periods[0].start.month}" in svg  # month labels such as 5月


def test_a_supplier_sees_the_same_card_without_failing(client, world):  # noqa: F811
    login_as(client, world["writer"])
    response = client.get(f"/contracts/{world['contract'].id}")
    assert response.status_code == 200 and 'id="trend-chart"' in text(response)
