"""Journeys through the real browser, as an officer would walk them."""

import re

import pyotp
import pytest
from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from procurement import crypto
from procurement.auth.models import User
from procurement.auth.roles import Role
from procurement.catalog.excel import COLUMNS
from procurement.catalog.models import CatalogItem
from procurement.demo.seed import DEMO_PASSWORD
from procurement.extensions import db
from tests.factories import PASSWORD, make_user


def log_in(page, username, password=DEMO_PASSWORD):
    page.goto("/auth/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def import_file(tmp_path, rows, name):
    wb = Workbook()
    ws = wb.active
    ws.title = "服务清单"
    ws.append([h for _f, h, _w, _r in COLUMNS])
    for row in rows:
        ws.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


ROW = ["SJ-L-101", "生活帮扶", "高龄困难老人助浴服务", "为行动不便的高龄特困老人提供上门助浴。", "特困供养人员、城乡低保对象",
       "每次不少于45分钟，水温和防滑措施到位，服务后签字确认。", "2次/月", 45, "次", 60, "护理员证", "服务人次、满意度"]


def test_officer_manages_the_county_service_list(page, shot, tmp_path):
    log_in(page, "officer")
    expect(page.get_by_role("heading", name=re.compile("欢迎"))).to_be_visible()
    shot(page, "home-officer")

    page.get_by_role("link", name="服务清单", exact=True).first.click()
    expect(page.get_by_role("heading", name=re.compile("绥江县"))).to_be_visible()
    expect(page.get_by_role("link", name="居家上门照料服务").first).to_be_visible()
    shot(page, "catalog-list", full_page=False)

    # Search and filter
    page.get_by_label("关键词").fill("心理")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("table.table-items tbody tr").first).to_contain_text("心理")

    # Add an item through the form, with one mistake first
    page.goto("/catalog/")
    page.get_by_role("link", name="新增事项").click()
    page.get_by_label("编码").fill("SJ-L-100")
    page.get_by_label("服务类别").select_option(label="S12 生活帮扶")
    page.get_by_label("服务名称").fill("困难家庭助洁服务")
    page.get_by_label("服务内容").fill("为失能、半失能困难老人家庭提供居室清洁、衣物清洗。")
    page.get_by_label("特困供养人员").check()
    page.get_by_label("服务标准").fill("每次不少于90分钟，清洁后由服务对象签字确认。")
    page.get_by_label("服务频次").fill("2次/月")
    page.get_by_label("每次时长（分钟）").fill("90")
    page.get_by_label("计量单位").select_option(label="次")
    page.get_by_label("参考单价（元）").fill("-80")
    page.get_by_label("产出指标").fill("服务人次、满意度")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("价格必须大于0")
    shot(page, "catalog-item-form-error")
    page.get_by_label("参考单价（元）").fill("80.00")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", name=re.compile("困难家庭助洁服务"))).to_be_visible()
    expect(page.get_by_text("¥80.00")).to_be_visible()
    shot(page, "catalog-item-detail")

    # Import a file with one bad row: nothing is imported, the row's error is shown
    bad = list(ROW)
    bad[0], bad[9] = "SJ-L-102", "免费"
    page.goto("/catalog/")
    page.get_by_role("link", name="从Excel导入").click()
    page.get_by_label("Excel文件（.xlsx）").set_input_files(import_file(tmp_path, [ROW, bad], "bad.xlsx"))
    page.get_by_role("button", name="检查并导入").click()
    errors = page.locator("table.import-errors")
    expect(errors).to_contain_text("第3行")
    expect(errors).to_contain_text("参考单价（元）")
    shot(page, "catalog-import-errors")
    assert db.session.execute(select(CatalogItem).where(CatalogItem.code == "SJ-L-101")).first() is None

    # Fix the row and import again
    fixed = list(bad)
    fixed[9] = "55.50"
    page.get_by_label("Excel文件（.xlsx）").set_input_files(import_file(tmp_path, [ROW, fixed], "fixed.xlsx"))
    page.get_by_role("button", name="检查并导入").click()
    expect(page.locator(".alert-success")).to_contain_text("新增 2 项")

    # Export the filtered list and read the file
    page.get_by_label("关键词").fill("助浴")
    page.get_by_role("button", name="查询").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出Excel").click()
    path = tmp_path / "export.xlsx"
    download_info.value.save_as(path)
    sheet = load_workbook(path)["服务清单"]
    codes = [r[0].value for r in sheet.iter_rows(min_row=2)]
    assert "SJ-L-101" in codes and "SJ-L-100" not in codes


def test_officer_enrols_the_second_factor_and_logs_in_with_it(app, page, shot):
    from procurement.rules.clock import utcnow
    from procurement.settings import store_setting

    store_setting("mfa.enforced", True, None, utcnow())
    user = make_user(Role.OFFICER, username="lihua", display_name="李华")
    db.session.commit()
    log_in(page, "lihua", PASSWORD)
    expect(page.get_by_role("heading", name="设置双因素认证")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("二维码"))).to_be_visible()
    shot(page, "totp-enrol")
    db.session.expire_all()
    secret = crypto.decrypt(db.session.get(User, user.id).totp_secret)
    page.get_by_label("验证码").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=re.compile("确认")).click()
    expect(page.get_by_role("heading", name=re.compile("欢迎"))).to_be_visible()


def test_tablet_layout_and_english_switch(browser, live_server, shot):
    context = browser.new_context(base_url=live_server, viewport={"width": 820, "height": 1180}, locale="zh-CN")
    page = context.new_page()
    log_in(page, "officer")
    page.goto("/catalog/")
    expect(page.locator("table.table-items")).to_be_visible()
    shot(page, "catalog-list-tablet", full_page=False)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="Add an item")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    context.close()


def test_supplier_sees_no_officer_functions(page):
    log_in(page, "supplier")
    nav = page.locator("#mainnav")
    expect(nav.get_by_role("link", name="服务清单")).to_be_visible()
    expect(nav.get_by_role("link", name="审计日志")).to_have_count(0)
    expect(nav.get_by_role("link", name="承接主体")).to_have_count(0)
    page.goto("/catalog/")
    expect(page.get_by_role("link", name="新增事项")).to_have_count(0)


PAGES = {
    "officer": [("/orgs/suppliers", "suppliers"), ("/catalog/negative-list", "negative-list"),
                ("/orgs/regions", "regions")],
    "finance": [("/orgs/suppliers", None)],
    "sysadmin": [("/admin/users", "admin-users"), ("/admin/settings/system", None), ("/orgs/organizations", None)],
    "secadmin": [("/admin/roles", "admin-roles"), ("/admin/settings/security", "security-settings")],
    "auditor": [("/audit/", "audit-log")],
    "supplier": [("/orgs/own", "supplier-own")],
}


@pytest.mark.parametrize("username", list(PAGES))
def test_each_role_reaches_its_pages_in_the_navigation(page, shot, username):
    """Every page of the role's navigation opens in the browser without script or CSP errors."""
    log_in(page, username)
    expect(page.get_by_role("heading", name=re.compile("欢迎"))).to_be_visible()
    for link in page.locator("#mainnav a.nav-link[href^='/'], #mainnav a.dropdown-item[href^='/']").all():
        href = link.get_attribute("href")
        response = page.request.get(href)
        assert response.status == 200, href
    for url, name in PAGES[username]:
        page.goto(url)
        expect(page.locator("h1").first).to_be_visible()
        if name:
            shot(page, name, full_page=False)


def test_officer_opens_a_supplier_and_sees_its_eligibility(page, shot):
    log_in(page, "officer")
    page.goto("/orgs/suppliers")
    page.get_by_role("link", name="昭通市康宁养老服务有限公司").click()
    expect(page.get_by_text("昭财采处〔2026〕12号")).to_be_visible()
    shot(page, "supplier-detail")
