"""Service-list pages as an officer uses them."""

import io
import re
from decimal import Decimal

import pytest
from flask_babel import gettext
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from procurement.auth.roles import Role
from procurement.catalog.excel import COLUMNS
from procurement.catalog.models import CatalogItem, ListKind, ListStatus
from procurement.extensions import db
from tests.factories import category, login_as, make_item, make_list, make_user, target_group


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def officer(client):
    user = make_user(Role.OFFICER, region_code="530626")
    login_as(client, user)
    return user


@pytest.fixture
def county_list():
    lst = make_list(region_code="530626", year=2026)
    db.session.commit()
    return lst


def form_data(**overrides):
    data = {
        "code": "SJ-S01-100", "category": str(category("S01").id), "name": "居家上门照料服务",
        "content": "上门协助起居、清洁和安全巡查。", "target_groups": [str(target_group("TK").id)],
        "standard": "每次不少于60分钟。", "frequency": "4次/月", "duration_minutes": "60", "unit": "visit",
        "reference_price": "45.00", "qualifications": ["CARE_WORKER"], "indicators": "服务人次、满意度",
    }
    data.update(overrides)
    return data


def field_error(html, field_id):
    """The error messages rendered right after the input of a field."""
    match = re.search(rf'id="{field_id}".*?((?:<div class="invalid-feedback d-block">.*?</div>\s*)+)', html, re.S)
    return re.findall(r'invalid-feedback d-block">(.*?)</div>', match.group(1)) if match else []


def test_officer_sees_the_county_list_with_search_and_filters(client, officer, county_list):
    make_item(county_list, code="SJ-1", name="居家上门照料服务", category=category("S01"))
    make_item(county_list, code="SJ-2", name="儿童心理疏导", category=category("S07"), target_groups=[target_group("ET")])
    db.session.commit()
    page = text(client.get("/catalog/"))
    assert "居家上门照料服务" in page and "儿童心理疏导" in page
    filtered = text(client.get(f"/catalog/?scope=530626&year=2026&category={category('S07').id}"))
    assert "儿童心理疏导" in filtered and "居家上门照料服务" not in filtered
    searched = text(client.get("/catalog/?scope=530626&year=2026&q=照料"))
    assert "居家上门照料服务" in searched and "儿童心理疏导" not in searched


def test_pagination_and_sorting(client, officer, county_list, app):
    for n in range(app.config["PAGE_SIZE"] + 5):
        make_item(county_list, code=f"P-{n:03d}", reference_price=Decimal(100 + n))
    db.session.commit()
    first = text(client.get("/catalog/?scope=530626&year=2026"))
    assert "P-000" in first and "P-054" not in first
    second = text(client.get("/catalog/?scope=530626&year=2026&page=2"))
    assert "P-054" in second and "P-000" not in second
    by_price = text(client.get("/catalog/?scope=530626&year=2026&sort=-price"))
    assert by_price.index("P-054") < by_price.index("P-053")


@pytest.mark.parametrize("query", ["page=abc", "page=-5", "page=99999999999999999999", "category=x", "group=%00",
                                   "year=abc", "scope=../../etc", "sort=drop table", "q=" + "长" * 500,
                                   "version=-1"])
def test_strange_query_arguments_never_fail(client, officer, county_list, query):
    assert client.get("/catalog/?" + query).status_code == 200


def test_adding_an_item_through_the_form(client, officer, county_list):
    response = client.post(f"/catalog/lists/{county_list.id}/items/new", data=form_data())
    assert response.status_code == 302
    item = db.session.execute(select(CatalogItem).where(CatalogItem.code == "SJ-S01-100")).scalar_one()
    assert item.reference_price == Decimal("45.00") and item.frequency == "4次/月"
    assert [g.code for g in item.target_groups] == ["TK"] and item.qualifications == ["CARE_WORKER"]


@pytest.mark.parametrize(
    ("field", "value", "msgid"),
    [
        ("reference_price", "-5", "The price must be more than 0 and at most 1,000,000.00 yuan."),
        ("reference_price", "0", "The price must be more than 0 and at most 1,000,000.00 yuan."),
        ("reference_price", "99999999", "The price must be more than 0 and at most 1,000,000.00 yuan."),
        ("reference_price", "45.123", "An amount has at most two decimals (fen)."),
        ("reference_price", "四十五", "Enter an amount in yuan, e.g. 1350.00."),
        ("reference_price", "NaN", "Enter an amount in yuan, e.g. 1350.00."),
        ("reference_price", "1e999999", "Enter an amount in yuan, e.g. 1350.00."),
        ("duration_minutes", "2000", "Between 1 and 1440 minutes."),
        ("duration_minutes", "1.5", "Enter a whole number."),
        ("name", "", "Enter the service name."),
        ("name", "长" * 65, "At most 64 characters."),
        ("target_groups", [], "Choose at least one target group."),
        ("indicators", "", "Name at least one output indicator."),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(client, officer, county_list, field, value, msgid):
    response = client.post(f"/catalog/lists/{county_list.id}/items/new", data=form_data(**{field: value}))
    assert response.status_code == 200
    assert gettext(msgid) in field_error(text(response), field)
    assert db.session.scalar(select(func.count()).select_from(CatalogItem)) == 0


def test_bad_frequency_and_code_messages_come_from_the_rules(client, officer, county_list):
    response = text(client.post(f"/catalog/lists/{county_list.id}/items/new",
                                data=form_data(frequency="经常", code="有 空格")))
    assert any("4次/月" in e for e in field_error(response, "frequency"))
    assert field_error(response, "code")


def test_negative_list_item_is_refused_next_to_the_name_with_its_clause(client, officer, county_list):
    response = text(client.post(f"/catalog/lists/{county_list.id}/items/new",
                                data=form_data(name="低保对象审核确认服务")))
    errors = field_error(response, "name")
    assert errors and "第十条" in errors[0]


def test_second_save_gets_a_conflict_and_keeps_the_typed_values(app, client, officer, county_list):
    item = make_item(county_list, code="SJ-S01-100", name="原名称")
    db.session.commit()
    other = app.test_client()
    login_as(other, make_user(Role.OFFICER, region_code="530626", display_name="王芳"))
    mine = text(client.get(f"/catalog/items/{item.id}/edit"))
    version = re.search(r'name="version" type="hidden" value="(\d+)"', mine).group(1)
    theirs = other.get(f"/catalog/items/{item.id}/edit")
    assert theirs.status_code == 200
    assert other.post(f"/catalog/items/{item.id}/edit",
                      data=form_data(name="王芳改的名称", version=version)).status_code == 302
    conflict = client.post(f"/catalog/items/{item.id}/edit", data=form_data(name="我改的名称", version=version))
    assert conflict.status_code == 409
    page = text(conflict)
    assert gettext("Someone else saved this item while you were editing it.") in page
    assert "王芳" in page and "王芳改的名称" in page and 'value="我改的名称"' in page
    db.session.refresh(item)
    assert item.name == "王芳改的名称"
    # Saving again, knowingly, overwrites.
    new_version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    assert client.post(f"/catalog/items/{item.id}/edit",
                       data=form_data(name="我改的名称", version=new_version)).status_code == 302
    db.session.refresh(item)
    assert item.name == "我改的名称"


def test_supplier_can_read_but_not_change_the_list(client, county_list):
    item = make_item(county_list)
    login_as(client, make_user(Role.SUPPLIER))  # commits
    assert client.get("/catalog/").status_code == 200
    assert client.get(f"/catalog/items/{item.id}").status_code == 200
    assert client.get(f"/catalog/items/{item.id}/edit").status_code == 403
    assert client.post(f"/catalog/lists/{county_list.id}/items/new", data=form_data()).status_code == 403


def test_published_reference_list_offers_no_editing(client):
    reference = make_list(ListKind.REFERENCE, status=ListStatus.PUBLISHED)
    item = make_item(reference)
    login_as(client, make_user(Role.OFFICER, region_code="530000"))
    assert client.get(f"/catalog/items/{item.id}/edit").status_code == 403
    page = text(client.get("/catalog/?scope=ref&year=2026"))
    assert f"/catalog/items/{item.id}/edit" not in page


def test_county_creates_its_list_and_adopts_items(client, officer):
    reference = make_list(ListKind.REFERENCE, status=ListStatus.PUBLISHED, year=2026)
    item = make_item(reference, code="YN-S07-001", name="心理疏导服务")
    db.session.commit()
    created = client.post("/catalog/lists", data={"year": "2026"})
    assert created.status_code == 302 and "/adopt" in created.headers["Location"]
    adopt_page = client.get(created.headers["Location"])
    assert "心理疏导服务" in text(adopt_page)
    adopted = client.post(created.headers["Location"], data={"items": [str(item.id)]})
    assert adopted.status_code == 302
    copy = db.session.execute(select(CatalogItem).where(CatalogItem.source_item_id == item.id)).scalar_one()
    assert copy.name == "心理疏导服务"


# --- Excel -------------------------------------------------------------------------------

HEADERS = [h for _f, h, _w, _r in COLUMNS]
GOOD_ROW = ["SJ-X-001", "照料护理", "居家上门照料服务", "上门协助起居。", "特困供养人员、城乡低保对象", "每次不少于60分钟。",
            "4次/月", 60, "次", 45, "护理员证", "服务人次、满意度"]


def workbook_bytes(rows, headers=HEADERS):
    wb = Workbook()
    ws = wb.active
    ws.title = "服务清单"
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def upload(client, list_id, content, name="清单.xlsx"):
    return client.post(f"/catalog/lists/{list_id}/import", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_import_with_a_bad_row_reports_it_and_imports_nothing(client, officer, county_list):
    bad = list(GOOD_ROW)
    bad[0], bad[9], bad[4] = "SJ-X-002", "-3", "外星人"
    response = upload(client, county_list.id, workbook_bytes([GOOD_ROW, bad]))
    assert response.status_code == 400
    page = text(response)
    assert gettext("Row %(n)s", n=3) in page
    assert "参考单价（元）" in page and gettext("The price must be more than 0 and at most 1,000,000.00 yuan.") in page
    assert "外星人" in page
    assert gettext("Row %(n)s", n=2) not in page
    assert db.session.scalar(select(func.count()).select_from(CatalogItem)) == 0


def test_fixed_file_imports_and_updates_by_code(client, officer, county_list):
    existing = make_item(county_list, code="SJ-X-001", name="旧名称")
    db.session.commit()
    second = list(GOOD_ROW)
    second[0], second[2] = "SJ-X-002", "助浴服务"
    response = upload(client, county_list.id, workbook_bytes([GOOD_ROW, second]))
    assert response.status_code == 302
    db.session.refresh(existing)
    assert existing.name == "居家上门照料服务"
    assert db.session.scalar(select(func.count()).select_from(CatalogItem)) == 2


@pytest.mark.parametrize(
    ("content", "name", "msgid"),
    [
        (b"not a spreadsheet", "x.xlsx", "The file is not an Excel workbook (.xlsx). Save it as .xlsx and try again."),
        (b"PK\x03\x04broken", "x.xlsx", "The file is not an Excel workbook (.xlsx). Save it as .xlsx and try again."),
    ],
)
def test_a_file_that_is_not_a_workbook_gets_a_message(client, officer, county_list, content, name, msgid):
    response = upload(client, county_list.id, content, name)
    assert response.status_code == 400
    assert gettext(msgid) in text(response)


def test_missing_columns_are_named(client, officer, county_list):
    response = upload(client, county_list.id, workbook_bytes([GOOD_ROW[:3]], headers=HEADERS[:3]))
    assert response.status_code == 400
    assert "服务标准" in text(response)


def test_duplicate_codes_in_one_file_are_reported(client, officer, county_list):
    response = upload(client, county_list.id, workbook_bytes([GOOD_ROW, GOOD_ROW]))
    assert gettext("The code %(code)s appears again (first in row %(row)s).", code="SJ-X-001", row=2) in text(response)


def test_export_neutralizes_formulas_and_round_trips(client, officer, county_list):
    make_item(county_list, code="SJ-E-1", name="=HYPERLINK(\"http://evil\",\"点我\")", content="+86 电话回访",
              indicators=["@SUM(A1)", "满意度"])
    make_item(county_list, code="SJ-E-2", name="助餐服务", content="-送餐上门")
    db.session.commit()
    response = client.get(f"/catalog/lists/{county_list.id}/export.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data))["服务清单"]
    cells = [c.value for row in sheet.iter_rows(min_row=2) for c in row]
    for value in cells:
        if isinstance(value, str):
            assert not value.startswith(("=", "+", "-", "@")), value
    assert "'=HYPERLINK(\"http://evil\",\"点我\")" in cells
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    # The export is a valid import file: reimporting changes nothing.
    reimport = upload(client, county_list.id, response.data)
    assert reimport.status_code == 302
    followed = client.get(reimport.headers["Location"])
    assert gettext("Import complete: %(c)s items added, %(u)s updated, %(n)s unchanged.", c=0, u=0, n=2) in text(followed)


def test_export_follows_the_filter(client, officer, county_list):
    make_item(county_list, code="F-1", category=category("S01"))
    make_item(county_list, code="F-2", category=category("S07"))
    db.session.commit()
    response = client.get(f"/catalog/lists/{county_list.id}/export.xlsx?category={category('S07').id}")
    sheet = load_workbook(io.BytesIO(response.data))["服务清单"]
    assert [r[0].value for r in sheet.iter_rows(min_row=2)] == ["F-2"]


def test_template_has_titles_instructions_and_dropdowns(client, officer):
    response = client.get("/catalog/import-template.xlsx")
    wb = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in wb["服务清单"][1]] == HEADERS
    assert "填写说明" in wb.sheetnames
    assert wb["服务清单"].data_validations.dataValidation
