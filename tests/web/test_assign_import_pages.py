"""Assignment of beneficiaries to a contract by import (.xlsx or .csv of ID numbers): all or nothing."""
# ruff: noqa: F401, F811 - the fixtures of another test module are imported and requested by name

import io
import re

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from procurement.audit.models import AuditRecord
from procurement.beneficiaries import services
from procurement.beneficiaries.models import Assignment
from procurement.extensions import db
from tests.factories import login_as
from tests.project_factories import actor, registered_supplier
from tests.web.test_beneficiary_pages import (  # noqa: F401 - fixtures
    ADULT,
    OTHER_ADULT,
    TODAY,
    bureau,
    cid,
    field_errors,
    officer,
    register,
    running_contract,
    text,
)

THIRD = cid("53062619900303789")
ELSEWHERE = cid("11010119800101123")  # valid, never registered


def xlsx(rows, header=("身份证号码",)) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, contract, data: bytes, name="people.xlsx"):
    return client.post(f"/beneficiaries/assign/{contract.id}/import",
                       data={"people-file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def assigned(contract) -> int:
    return db.session.scalar(select(func.count()).select_from(Assignment).where(Assignment.contract_id == contract.id))


def error_rows(page: str) -> list[tuple[str, str]]:
    table = re.search(r'id="assign-import-errors".*?</table>', page, re.S)
    return re.findall(r'<tr data-line="(\d+)"><td>\d+</td><td>(.*?)</td>', table.group(0)) if table else []


def test_a_good_file_assigns_everyone_with_one_audit_record(client, officer, bureau):
    people = [register(officer, ADULT, "甲"), register(officer, OTHER_ADULT, "乙"), register(officer, THIRD, "丙")]
    contract = running_contract(bureau, registered_supplier())
    db.session.commit()
    login_as(client, officer)
    page = text(client.get(f"/contracts/{contract.id}"))
    assert 'id="assign-import-form"' in page and 'id="assign-import-template"' in page
    template = client.get("/beneficiaries/assign/template.xlsx")
    assert template.status_code == 200
    header = next(load_workbook(io.BytesIO(template.data)).active.iter_rows(values_only=True))
    assert header[0] == "身份证号码"

    start = max(TODAY, contract.term_start).isoformat()
    data = xlsx([(ADULT, None), (OTHER_ADULT.lower(), start), (THIRD, None)], header=("身份证号码", "开始日期"))
    response = upload(client, contract, data)
    assert response.status_code == 302 and response.headers["Location"].endswith("#beneficiaries")
    assert assigned(contract) == 3
    records = db.session.execute(select(AuditRecord).where(AuditRecord.action == "beneficiary.assign_import")).scalars()
    (record,) = list(records)
    assert '"count": 3' in str(record.detail) or (isinstance(record.detail, dict) and record.detail["count"] == 3)
    page = text(client.get(f"/contracts/{contract.id}"))
    assert all(p.id_masked in page for p in people) and ADULT not in page

    # a CSV in GB18030 with only the number column works as well
    other = running_contract(bureau, registered_supplier())
    db.session.commit()
    csv = ("身份证号码\r\n" + ADULT + "\r\n").encode("gb18030")
    assert upload(client, other, csv, "people.csv").status_code == 302 and assigned(other) == 1


def test_bad_rows_assign_nobody_and_are_listed(client, officer, bureau):
    register(officer, ADULT, "甲")
    already = register(officer, OTHER_ADULT, "乙")
    contract = running_contract(bureau, registered_supplier())
    services.assign(contract, already, actor(officer), TODAY)
    db.session.commit()
    login_as(client, officer)
    rows = [(ADULT,), ("123",), (ELSEWHERE,), (OTHER_ADULT,), (ADULT,), ("=A1",)]
    response = upload(client, contract, xlsx(rows))
    page = text(response)
    assert response.status_code == 400 and assigned(contract) == 1  # only the one assigned before
    lines = error_rows(page)
    # not an ID number, not registered, already assigned, twice in the file, a formula (and not an ID number)
    assert [line for line, _column in lines] == ["3", "4", "5", "6", "7", "7"]
    assert {column for _line, column in lines} == {"身份证号码"}
    assert field_errors(page, "people-file")  # the summary next to the file field
    assert ADULT not in page and OTHER_ADULT not in page  # numbers are shown masked
    assert not db.session.scalar(select(func.count()).select_from(AuditRecord)
                                 .where(AuditRecord.action == "beneficiary.assign_import"))


def test_a_wrong_type_or_an_empty_file_is_refused_next_to_the_field(client, officer, bureau):
    register(officer, ADULT, "甲")
    contract = running_contract(bureau, registered_supplier())
    db.session.commit()
    login_as(client, officer)
    for data, name in ((b"", "people.xlsx"), (("身份证号码\n" + ADULT).encode(), "people.xlsx"),  # text renamed .xlsx
                       (b"%PDF-1.4\n" + b"0" * 100, "people.csv"), (xlsx([]), "people.xlsx"),  # header only
                       (xlsx([(ADULT,)], header=("姓名",)), "people.xlsx")):  # not the template's header
        response = upload(client, contract, data, name)
        assert response.status_code == 400, name
        assert field_errors(text(response), "people-file"), (data[:20], name)
    response = client.post(f"/beneficiaries/assign/{contract.id}/import", data={},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and field_errors(text(response), "people-file")
    assert assigned(contract) == 0


def test_a_start_date_outside_the_term_is_refused(client, officer, bureau):
    register(officer, ADULT, "甲")
    contract = running_contract(bureau, registered_supplier())
    db.session.commit()
    login_as(client, officer)
    response = upload(client, contract, xlsx([(ADULT, "1999-01-01")], header=("身份证号码", "开始日期")))
    assert response.status_code == 400 and error_rows(text(response)) == [("2", "开始日期")]
    assert assigned(contract) == 0
