"""The upload of delivery rows on the service-report page: Excel or CSV, every row checked, all or nothing.

Messages are asserted as the page renders them (``shown(msgid)``: the app's language, HTML-escaped).
"""

import csv
import io
import re
from datetime import timedelta

import pytest
from flask_babel import gettext
from markupsafe import escape
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from contracts.models import ContractState
from procurement.auth.roles import Role
from procurement.beneficiaries import services as beneficiaries
from procurement.beneficiaries.models import LegalBasis
from procurement.extensions import db
from procurement.rules.clock import beijing_today
from procurement.rules.identifiers import cid_check_char
from procurement.supervision import imports, services
from procurement.supervision.models import DeliveryRow, ImportJob, ImportState, ServiceReport
from tests.contract_factories import make_contract
from tests.factories import login_as, make_user, region, target_group
from tests.project_factories import actor, county_items, make_bureau, registered_supplier

TODAY = beijing_today()
D = timedelta(days=1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    assignment.assigned_on = contract.term_start
    period = next(p for p in services.periods_of(contract) if p.contains(TODAY))
    writer = make_user(Role.SUPPLIER, organization=supplier)
    stranger = make_user(Role.SUPPLIER, organization=registered_supplier())
    db.session.commit()
    return {"contract": contract, "item": item, "officer": officer, "writer": writer, "stranger": stranger,
            "period": period}


def good_rows(world, count: int = 2) -> list[list]:
    """``count`` different deliveries (one a day, from the start of the period) of the assigned person."""
    start = world["period"].start
    return [[ADULT, world["item"].code, (start + n * D).isoformat(), 1, "社工甲", ""] for n in range(count)]


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(imports.COLUMNS))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(imports.COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def rows() -> int:
    return db.session.scalar(select(func.count()).select_from(DeliveryRow))


def open_report(client, world) -> ServiceReport:
    response = client.post(f"/reports/open/{world['contract'].id}", data={"period": world["period"].key})
    assert response.status_code == 302
    return db.session.execute(select(ServiceReport)).scalar_one()


def upload(client, report, data: bytes, name: str):
    return client.post(f"/reports/{report.id}/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def last_job() -> ImportJob:
    db.session.expire_all()
    return db.session.execute(select(ImportJob).order_by(ImportJob.id.desc()).limit(1)).scalar_one()


def imported(client, report, data: bytes, name: str) -> ImportJob:
    response = upload(client, report, data, name)
    assert response.status_code == 302, text(response)
    job = last_job()
    assert response.headers["Location"].endswith(f"/reports/imports/{job.id}")
    return job


def error_sheet(data: bytes) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data))
    return [tuple(row) for row in workbook["错误"].iter_rows(values_only=True)]


def test_the_template_downloads_with_the_header(client, world):
    login_as(client, world["writer"])
    report = open_report(client, world)
    page = text(client.get(f"/reports/{report.id}"))
    assert 'id="import-form"' in page and shown("Upload rows from Excel or CSV") in page
    assert "/reports/import-template.xlsx" in page
    response = client.get("/reports/import-template.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    header = next(load_workbook(io.BytesIO(response.data)).worksheets[0].iter_rows(values_only=True))
    assert tuple(header) == imports.COLUMNS


def test_a_good_workbook_is_imported(client, world):
    login_as(client, world["writer"])
    report = open_report(client, world)
    job = imported(client, report, xlsx(good_rows(world, 3)), "九月.xlsx")
    assert job.state == ImportState.DONE and job.imported == 3 and job.error_count == 0
    assert rows() == 3
    page = text(client.get(f"/reports/imports/{job.id}"))
    assert shown("%(n)s rows imported.", n="3") in page and 'data-refresh' not in page
    assert f'href="/reports/{report.id}#rows"' in page
    # the report page lists the job
    page = text(client.get(f"/reports/{report.id}"))
    assert f'data-import-job="{job.id}"' in page and shown("Imported") in page


def test_a_good_csv_is_imported(client, world):
    login_as(client, world["writer"])
    report = open_report(client, world)
    job = imported(client, report, csv_bytes(good_rows(world, 2)), "rows.csv")
    assert job.state == ImportState.DONE and job.imported == 2
    assert rows() == 2


def test_one_bad_row_imports_nothing_and_the_error_file_says_why(client, world):
    login_as(client, world["writer"])
    report = open_report(client, world)
    data = good_rows(world, 2)
    data.append([UNKNOWN, world["item"].code, world["period"].start.isoformat(), 1, "社工甲", ""])
    job = imported(client, report, xlsx(data), "bad.xlsx")
    assert job.state == ImportState.REFUSED and job.error_count == 1 and job.imported == 0
    assert rows() == 0
    page = text(client.get(f"/reports/imports/{job.id}"))
    assert shown("Nothing was imported: correct the rows and upload the whole file again.") in page
    assert f"/reports/imports/{job.id}/errors.xlsx" in page
    page = text(client.get(f"/reports/{report.id}"))
    assert shown("Refused: bad rows") in page and f"/reports/imports/{job.id}/errors.xlsx" in page
    response = client.get(f"/reports/imports/{job.id}/errors.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    errors = error_sheet(response.data)
    assert errors[1][0] == 4 and errors[1][1] == imports.COLUMNS[0] and errors[1][2] == UNKNOWN
    assert errors[1][3] == gettext("No beneficiary is registered with this ID number.")
    assert re.search(r"[\u4e00-\u9fff]", errors[1][3])  # the reason is in Chinese
    # the contract's officer may read the job and its error file; another supplier may not
    login_as(client, world["officer"])
    assert client.get(f"/reports/imports/{job.id}").status_code == 200
    assert client.get(f"/reports/imports/{job.id}/errors.xlsx").status_code == 200
    login_as(client, world["stranger"])
    assert client.get(f"/reports/imports/{job.id}").status_code == 404
    assert client.get(f"/reports/imports/{job.id}/errors.xlsx").status_code == 404


def test_a_formula_is_reported_in_the_error_file(client, world):
    login_as(client, world["writer"])
    report = open_report(client, world)
    data = good_rows(world, 1)
    data[0][5] = "=1+1"
    job = imported(client, report, xlsx(data), "formula.xlsx")
    assert job.state == ImportState.REFUSED and rows() == 0
    errors = error_sheet(client.get(f"/reports/imports/{job.id}/errors.xlsx").data)
    assert (2, imports.COLUMNS[5], "'=1+1", gettext("Formulas are not accepted; enter the value itself.")) in errors


@pytest.mark.parametrize(("data", "name", "msgid"), [
    (PNG, "照片.xlsx", "Only Excel (.xlsx) or CSV files can be imported (checked by their content)."),
    ("身份证号码,服务项目编码\n这不是表格".encode(), "notes.xlsx",
     "“%(name)s” is named .xlsx but is not an Excel workbook; save it again as .xlsx or CSV."),
    (b"", "empty.xlsx", "The file is empty."),
])
def test_a_file_that_is_not_a_table_is_refused_next_to_the_field(client, world, data, name, msgid):
    login_as(client, world["writer"])
    report = open_report(client, world)
    response = upload(client, report, data, name)
    assert response.status_code == 400
    assert field_errors(text(response), "file") == [shown(msgid, name=name)]
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0 and rows() == 0


def test_no_file_chosen(client, world):
    login_as(client, world["writer"])
    report = open_report(client, world)
    response = client.post(f"/reports/{report.id}/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert field_errors(text(response), "file") == [shown("Choose a file.")]
    # a text field named "file" is not a file
    response = client.post(f"/reports/{report.id}/import", data={"file": "=1+1" * 100})
    assert response.status_code == 400
    assert field_errors(text(response), "file") == [shown("Choose a file.")]


def test_the_same_file_twice_is_refused_the_second_time(client, world):
    login_as(client, world["writer"])
    report = open_report(client, world)
    data = xlsx(good_rows(world, 2))
    assert imported(client, report, data, "a.xlsx").state == ImportState.DONE
    assert rows() == 2
    job = imported(client, report, data, "a.xlsx")
    assert job.state == ImportState.REFUSED and job.error_count == 2
    assert rows() == 2
    errors = error_sheet(client.get(f"/reports/imports/{job.id}/errors.xlsx").data)
    assert errors[1][3] == gettext("The same delivery appears twice (or is already in the report).")


def test_others_may_not_upload_or_see_the_jobs(client, world):
    login_as(client, world["writer"])
    report = open_report(client, world)
    job = imported(client, report, xlsx(good_rows(world, 1)), "a.xlsx")
    login_as(client, world["stranger"])
    assert client.get(f"/reports/imports/{job.id}").status_code == 404
    assert upload(client, report, xlsx(good_rows(world, 1)), "b.xlsx").status_code == 404
    login_as(client, world["officer"])
    assert upload(client, report, xlsx(good_rows(world, 1)), "b.xlsx").status_code == 403
    page = text(client.get(f"/reports/{report.id}"))
    assert 'id="import-form"' not in page
    assert client.get("/reports/import-template.xlsx").status_code == 403
    assert rows() == 1
    assert client.get("/reports/imports/999999").status_code == 404


def test_a_large_file_is_queued_and_its_page_refreshes_until_done(client, world, monkeypatch):
    from procurement import tasks

    queued = []
    run_task = tasks.import_delivery_rows
    monkeypatch.setattr(imports, "BACKGROUND_BYTES", 0)
    monkeypatch.setitem(client.application.config, "HUEY_IMMEDIATE", False)
    monkeypatch.setattr(tasks, "import_delivery_rows", queued.append)
    login_as(client, world["writer"])
    report = open_report(client, world)
    job = imported(client, report, xlsx(good_rows(world, 2)), "big.xlsx")
    assert queued == [job.id] and job.state == ImportState.QUEUED and rows() == 0
    page = text(client.get(f"/reports/imports/{job.id}"))
    assert 'data-refresh="2"' in page and "<progress" in page and shown("Waiting") in page
    # the worker runs it
    assert run_task.call_local(job.id) == ImportState.DONE.value
    assert rows() == 2
    page = text(client.get(f"/reports/imports/{job.id}"))
    assert "data-refresh" not in page and shown("%(n)s rows imported.", n="2") in page
