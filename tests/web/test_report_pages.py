"""The service-report pages (服务报告): the supplier writes a period's report, the officer returns or accepts it.

Messages are asserted as the page renders them (``shown(msgid)``: the app's language, HTML-escaped).
"""

import io
import re
from datetime import timedelta

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import func, select

from contracts.models import ContractState
from procurement.audit.models import AuditRecord
from procurement.auth.roles import Role
from procurement.beneficiaries import services as beneficiaries
from procurement.beneficiaries.models import LegalBasis
from procurement.extensions import db
from procurement.rules.clock import beijing_today
from procurement.rules.identifiers import cid_check_char
from procurement.supervision import services
from procurement.supervision.models import DeliveryRow, ReportAttachment, ReportState, ServiceReport
from tests.contract_factories import make_contract
from tests.factories import login_as, make_user, region, target_group
from tests.project_factories import actor, county_items, make_bureau, registered_supplier

TODAY = beijing_today()
D = timedelta(days=1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def cid(body: str) -> str:
    return body + cid_check_char(body)


ADULT = cid("53062619800101123")
UNKNOWN = cid("53062619700101999")


def text(response) -> str:
    return response.get_data(as_text=True)


def shown(msgid: str, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


def field_errors(page: str, field_id: str) -> list[str]:
    """The error messages rendered after one field (up to the next label or the end of the form)."""
    start = page.find(f'id="{field_id}"')
    if start < 0:
        return []
    end = min(i for i in (page.find("<label", start), page.find("</form>", start), len(page)) if i >= 0)
    return re.findall(r'invalid-feedback d-block">(.*?)</div>', page[start:end], re.S)


def top_problems(page: str) -> str:
    match = re.search(r'id="form-problems">(.*?)</div>', page, re.S)
    return match.group(1) if match else ""


@pytest.fixture
def world():
    bureau = make_bureau("530626", name="绥江县民政局")
    officer = make_user(Role.OFFICER, organization=bureau)
    supplier = registered_supplier()
    _list, (item,) = county_items()
    contract = make_contract(bureau, supplier, item, state=ContractState.IN_SERVICE, term_start=TODAY - 90 * D,
                             term_end=TODAY + 300 * D)
    data = beneficiaries.BeneficiaryData(name="李秀英", id_number=ADULT, category_id=target_group("TK").id,
                                         region=region("530626"), health_notes="高血压",
                                         legal_basis=LegalBasis.LEGAL_DUTY)
    person = beneficiaries.create_beneficiary(data, actor(officer), TODAY)
    assignment = beneficiaries.assign(contract, person, actor(officer), TODAY)
    assignment.assigned_on = contract.term_start  # served since the start of the term
    period = next(p for p in services.periods_of(contract) if p.contains(TODAY))
    writer = make_user(Role.SUPPLIER, organization=supplier)
    stranger = make_user(Role.SUPPLIER, organization=registered_supplier())
    db.session.commit()
    return {"contract": contract, "item": item, "officer": officer, "writer": writer, "stranger": stranger,
            "person": person, "period": period, "finance": make_user(Role.FINANCE, organization=bureau)}


def row_data(catalog_item, **overrides) -> dict:
    data = {"id_number": ADULT, "item": catalog_item.code, "delivered_on": TODAY.isoformat(), "quantity": "2",
            "worker": "张护工", "note": "助浴"}
    return {**data, **overrides}


def rows() -> int:
    return db.session.scalar(select(func.count()).select_from(DeliveryRow))


def version(report: ServiceReport) -> str:
    db.session.refresh(report)
    return str(report.version)


def open_report(client, world) -> ServiceReport:
    response = client.post(f"/reports/open/{world['contract'].id}", data={"period": world["period"].key})
    assert response.status_code == 302
    report = db.session.execute(select(ServiceReport)).scalar_one()
    assert response.headers["Location"].endswith(f"/reports/{report.id}")
    return report


def test_the_whole_cycle_of_a_report(client, world):
    contract, item, period = world["contract"], world["item"], world["period"]
    login_as(client, world["writer"])
    page = text(client.get(f"/contracts/{contract.id}"))
    assert 'id="reports"' in page and shown("not started") in page
    report = open_report(client, world)
    assert report.state == ReportState.DRAFT and report.period_start == period.start
    # opening the same period again is the same report
    open_report(client, world)
    url = f"/reports/{report.id}"

    # a good row
    response = client.post(f"{url}/rows", data=row_data(item))
    assert response.status_code == 302 and rows() == 1

    # bad rows: every problem next to its field, nothing saved
    response = client.post(f"{url}/rows", data=row_data(item, id_number=UNKNOWN, item="NOPE",
                                                         delivered_on=(period.start - D).isoformat()))
    assert response.status_code == 400
    page = text(response)
    assert field_errors(page, "id_number") == [shown("No beneficiary is registered with this ID number.")]
    assert field_errors(page, "item") == [shown("This service item is not in the contract.")]
    assert field_errors(page, "delivered_on") == [shown(
        "The date is outside the report's period (%(start)s to %(end)s).", start=period.start.isoformat(),
        end=period.end.isoformat())]
    assert rows() == 1
    # the same delivery twice
    response = client.post(f"{url}/rows", data=row_data(item))
    assert response.status_code == 400
    assert field_errors(text(response), "delivered_on") == [shown("This delivery is already in the report.")]
    assert rows() == 1

    # submitting without a narrative is refused at the top
    response = client.post(f"{url}/submit", data={"version": version(report)})
    assert response.status_code == 400
    assert shown("Describe the period's work in the narrative.") in top_problems(text(response))

    # narrative, expenditure, attachments
    assert client.post(f"{url}/narrative", data={"narrative": "本月上门服务顺利。",
                                                 "version": version(report)}).status_code == 302
    assert client.post(f"{url}/expenditures", data={"purpose": "交通", "amount": "120.50"}).status_code == 302
    response = client.post(f"{url}/attachments", data={"attachment": (io.BytesIO(PNG), "签到表.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    response = client.post(f"{url}/attachments", data={"attachment": (io.BytesIO(b"just text"),
                                                                      "fake.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert field_errors(text(response), "attachment") == [
        shown("Only PDF, JPEG or PNG files are accepted (checked by their content).")]
    attachment = db.session.execute(select(ReportAttachment)).scalar_one()
    download = client.get(f"/reports/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == PNG
    assert download.mimetype == "image/png" and download.headers["Content-Disposition"].startswith("attachment")
    page = text(client.get(url))
    assert "¥120.50" in page or "120.50" in page

    # submit twice: one state change
    loaded = version(report)
    assert client.post(f"{url}/submit", data={"version": loaded}).status_code == 302
    assert client.post(f"{url}/submit", data={"version": loaded}).status_code == 302
    db.session.refresh(report)
    assert report.state == ReportState.SUBMITTED
    assert db.session.scalar(select(func.count()).select_from(AuditRecord)
                             .where(AuditRecord.action == "report.submit")) == 1
    # a submitted report is no longer editable by the supplier
    assert 'id="row-form"' not in text(client.get(url))

    # the officer returns it with a reason on the row
    row = db.session.execute(select(DeliveryRow)).scalar_one()
    login_as(client, world["officer"])
    page = text(client.get(url))
    assert f'name="row_{row.id}"' in page and 'id="accept-form"' in page
    response = client.post(f"{url}/return", data={"version": version(report), "reason": "",
                                                  "row_99999": "not a row of this report"})
    assert response.status_code == 400
    assert field_errors(text(response), "reason") == [shown("Say what is to be corrected: overall, or next to the rows.")]
    response = client.post(f"{url}/return", data={"version": version(report), "reason": "请核对服务时长",
                                                  f"row_{row.id}": "时长超过实际"})
    assert response.status_code == 302
    db.session.refresh(report)
    assert report.state == ReportState.RETURNED

    # the supplier sees the reasons, fixes the row and resubmits
    login_as(client, world["writer"])
    page = text(client.get(url))
    assert "请核对服务时长" in page and "时长超过实际" in page and 'class="text-danger row-reason"' in page
    assert client.post(f"/reports/rows/{row.id}/remove").status_code == 302
    assert client.post(f"{url}/rows", data=row_data(item, quantity="1.5")).status_code == 302
    db.session.refresh(report)
    assert client.post(f"{url}/submit", data={"version": version(report)}).status_code == 302
    db.session.refresh(report)
    assert report.state == ReportState.RESUBMITTED

    # finance may look, not act
    login_as(client, world["finance"])
    page = text(client.get(url))
    assert client.get(url).status_code == 200 and 'id="accept-form"' not in page and 'id="row-form"' not in page
    assert client.post(f"{url}/accept", data={"version": version(report)}).status_code == 403

    # the officer accepts
    login_as(client, world["officer"])
    assert client.post(f"{url}/accept", data={"version": version(report)}).status_code == 302
    db.session.refresh(report)
    assert report.state == ReportState.ACCEPTED

    # locked: the supplier's rows stay as they are
    login_as(client, world["writer"])
    response = client.post(f"{url}/rows", data=row_data(item, delivered_on=(TODAY - D).isoformat()
                                                         if period.contains(TODAY - D) else TODAY.isoformat(),
                                                         worker="王护工"))
    assert response.status_code == 400
    assert shown("The report is “%(state)s”; it cannot be changed now.",
                 state=ReportState.ACCEPTED.label) in top_problems(text(response))
    assert rows() == 1

    # the contract page shows delivered vs contracted and the people reached
    page = text(client.get(f"/contracts/{contract.id}"))
    delivered = re.search(rf'data-item="{re.escape(item.code)}">(.*?)</tr>', page, re.S).group(1)
    assert 'data-delivered="1.5"' in delivered and "1.5 %" in delivered  # 1.5 of 100
    assert shown("Beneficiaries reached (accepted reports): %(n)s", n=1) in page


def test_another_supplier_sees_nothing(client, world):
    login_as(client, world["writer"])
    report = open_report(client, world)
    url = f"/reports/{report.id}"
    client.post(f"{url}/attachments", data={"attachment": (io.BytesIO(PNG), "a.png")},
                content_type="multipart/form-data")
    attachment = db.session.execute(select(ReportAttachment)).scalar_one()
    login_as(client, world["stranger"])
    assert client.get(url).status_code == 404
    assert client.get(f"/reports/attachments/{attachment.id}").status_code == 404
    assert client.post(f"{url}/rows", data=row_data(world["item"])).status_code == 404
    assert client.post(f"/reports/open/{world['contract'].id}",
                       data={"period": world["period"].key}).status_code == 404
    assert rows() == 0


def test_open_refuses_other_dates_and_future_periods(client, world):
    contract = world["contract"]
    login_as(client, world["writer"])
    future = next(p for p in services.periods_of(contract) if p.start > TODAY)
    for period in (future.key, "2026-13-45", "", (world["period"].start + D).isoformat()):
        response = client.post(f"/reports/open/{contract.id}", data={"period": period})
        assert response.status_code == 302 and "/contracts/" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(ServiceReport)) == 0
    page = text(client.get(f"/contracts/{contract.id}"))
    # an Open button for started periods only
    assert page.count(f'action="/reports/open/{contract.id}"') == sum(
        1 for p in services.periods_of(contract) if p.start <= TODAY)
    # the officer sees the card without Open buttons
    login_as(client, world["officer"])
    page = text(client.get(f"/contracts/{contract.id}"))
    assert 'id="reports"' in page and f'action="/reports/open/{contract.id}"' not in page
    assert client.post(f"/reports/open/{contract.id}", data={"period": world["period"].key}).status_code == 403


GARBAGE = ["", " ", "x" * 20000, "\x00", "9999-99-99", "1e999999", "NaN", "-1", "¥", "<script>", "0.001",
           "2147483648"]


def test_hostile_input_never_fails(client, world):
    login_as(client, world["writer"])
    report = open_report(client, world)
    url = f"/reports/{report.id}"
    assert client.post(f"{url}/rows", data=row_data(world["item"])).status_code == 302
    row = db.session.execute(select(DeliveryRow)).scalar_one()
    failures = []
    fields = {f"{url}/rows": ["id_number", "item", "delivered_on", "quantity", "worker", "note"],
              f"{url}/narrative": ["narrative", "version"], f"{url}/expenditures": ["purpose", "amount", "note"],
              f"{url}/attachments": ["attachment"], f"{url}/submit": ["version"],
              f"/reports/open/{world['contract'].id}": ["period"]}
    for garbage in GARBAGE:
        for target, names in fields.items():
            response = client.post(target, data=dict.fromkeys(names, garbage))
            if response.status_code >= 500:
                failures.append(f"POST {target} {garbage[:10]!r} -> {response.status_code}")
    for query in ("?page=x", "?page=-1", "?page=99999999999999999999"):
        if client.get(url + query).status_code != 200:
            failures.append(f"GET {url}{query}")
    # the officer's forms, once the report is submitted
    client.post(f"{url}/narrative", data={"narrative": "好", "version": version(report)})
    assert client.post(f"{url}/submit", data={"version": version(report)}).status_code == 302
    login_as(client, world["officer"])
    for garbage in GARBAGE:
        for target, data in ((f"{url}/return", {"reason": garbage, "version": garbage, f"row_{row.id}": garbage,
                                                "row_x": garbage, "row_" + "9" * 30: garbage}),
                             (f"{url}/accept", {"version": garbage})):
            response = client.post(target, data=data)
            if response.status_code >= 500:
                failures.append(f"POST {target} {garbage[:10]!r} -> {response.status_code}")
    assert failures == []
