"""Delivering the service, as the issue walks it: the supplier uploads a monthly report with one bad row,
downloads the error file, fixes the row and submits; the officer returns it with a reason; the supplier
resubmits; the officer accepts; an inspection finds a problem; the rectification is answered and closed."""

from datetime import timedelta
from pathlib import Path

from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from contracts.models import Contract, ContractState
from procurement.demo.beneficiaries import PEOPLE
from procurement.extensions import db
from procurement.oversight.models import NoticeState, RectificationNotice
from procurement.rules.clock import beijing_today
from procurement.rules.identifiers import cid_check_char
from procurement.supervision.imports import COLUMNS
from procurement.supervision.models import ReportState, ServiceReport
from procurement.supervision.services import periods_of
from tests.browser.test_journeys import log_in

PDF = b"%PDF-1.4\n% the corrected sign-in sheets\n%%EOF\n"


def demo_id(index: int) -> str:
    _name, born, seq, *_rest = PEOPLE[index]
    body = f"530626{born}{seq}"
    return body + cid_check_char(body)


def workbook(path: Path, rows) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def switch_to(page, username: str) -> None:
    page.context.clear_cookies()  # a new session: the login page of a logged-in user sends them home
    log_in(page, username)


def _download(page, locator) -> bytes:
    with page.expect_download() as info:
        locator.click()
    return Path(info.value.path()).read_bytes()


def test_a_month_of_service_reported_reviewed_inspected_and_rectified(page, shot, tmp_path):
    today = beijing_today()
    contract = db.session.execute(select(Contract).where(Contract.state == ContractState.IN_SERVICE)).scalars().first()
    period = next(p for p in periods_of(contract) if p.contains(today))
    item = contract.lines[0].item.code
    days = [max(period.start, today - timedelta(days=n)) for n in (0, 1, 2)]
    good = [[demo_id(0), item, days[0].isoformat(), 1, "陈静", "上门心理疏导"],
            [demo_id(1), item, days[1].isoformat(), 1, "陈静", None],
            [demo_id(2), item, days[2].isoformat(), 2, "刘洋", "喘息服务"]]
    unassigned = demo_id(9)  # registered, but not assigned to this contract
    page.on("dialog", lambda dialog: dialog.accept())

    # --- the supplier opens the month's report and uploads a file with one bad row ----------------------------
    log_in(page, "supplier")
    page.goto(f"/contracts/{contract.id}")
    page.locator(f'tr[data-period="{period.key}"] button').click()
    expect(page.locator("#report-header")).to_be_visible()
    report_url = page.url
    bad_file = workbook(tmp_path / "本月服务.xlsx", good + [[unassigned, item, days[0].isoformat(), 1, "陈静", None]])
    page.locator("#import-form input[type=file]").set_input_files(str(bad_file))
    page.locator("#import-form button[type=submit]").click()
    expect(page.locator("#import-job")).to_have_attribute("data-state", "refused")
    expect(page.locator("#import-problems")).to_have_text("1")
    shot(page, "report-import-refused", full_page=False)
    errors_file = tmp_path / "错误报告.xlsx"
    errors_file.write_bytes(_download(page, page.locator("#import-error-file")))
    sheet = load_workbook(errors_file).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert any("分派" in c for c in cells), cells  # the reason: not assigned to the contract
    assert any(str(5) == c for c in cells)  # the line of the bad row in the file (header is line 1)
    # fix: that person is not ours to serve; upload the file without the row
    fixed = workbook(tmp_path / "本月服务-修改.xlsx", good)
    page.goto(report_url)
    page.locator("#import-form input[type=file]").set_input_files(str(fixed))
    page.locator("#import-form button[type=submit]").click()
    expect(page.locator("#import-job")).to_have_attribute("data-state", "done")
    expect(page.locator("#import-imported")).to_have_text("3")
    page.goto(report_url)
    page.locator("#narrative-form textarea").fill("本月为3户困境家庭提供上门心理疏导和喘息服务共4次。")
    page.locator("#narrative-form button[type=submit]").click()
    page.locator("#submit-form button[type=submit]").click()
    expect(page.locator("#report-header")).to_contain_text("已提交")

    # --- the officer returns it with a reason; the supplier resubmits; the officer accepts --------------
    switch_to(page, "officer")
    page.goto(report_url)
    page.locator("#return-form textarea").fill("请在叙述中写明喘息服务的时长。")
    page.locator("#return-form button[type=submit]").click()
    expect(page.locator("#return-reason")).to_contain_text("喘息服务的时长")
    switch_to(page, "supplier")
    page.goto(report_url)
    expect(page.locator("#return-reason")).to_contain_text("喘息服务的时长")
    page.locator("#narrative-form textarea").fill("本月为3户困境家庭提供上门心理疏导3次、喘息服务1次（共2小时）。")
    page.locator("#narrative-form button[type=submit]").click()
    page.locator("#submit-form button[type=submit]").click()
    expect(page.locator("#report-header")).to_contain_text("重新提交")
    switch_to(page, "officer")
    page.goto(report_url)
    page.locator("#accept-form button[type=submit]").click()
    expect(page.locator("#report-header")).to_contain_text("审核通过")
    report = db.session.execute(select(ServiceReport).where(ServiceReport.contract_id == contract.id)).scalar_one()
    db.session.refresh(report)
    assert report.state == ReportState.ACCEPTED
    page.goto(f"/contracts/{contract.id}")
    expect(page.locator(f'#delivered tr[data-item="{item}"] [data-delivered]')).to_have_attribute("data-delivered", "4")

    # --- an on-site inspection finds a problem; a rectification notice goes out -------------------------
    page.goto(f"/supervision/contracts/{contract.id}/inspections/new")
    page.get_by_label("检查方式").select_option("on_site")
    page.get_by_label("检查人员").fill("绥江县民政局 王建国")
    page.get_by_label("地点").fill("凤池社区居家养老服务站")
    page.locator(".inspection-form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("现场检查")
    page.locator(".finding-form").get_by_label("严重程度").select_option("major")
    page.locator(".finding-form").get_by_label("问题描述").fill("喘息服务没有服务对象家属签字。")
    page.locator(".finding-form button[type=submit]").click()
    page.get_by_label("整改期限（工作日）").fill("5")
    page.get_by_label("整改要求").fill("补齐家属签字，提交签到表。")
    page.locator(".notice-form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("整改通知")
    notice_url = page.url
    shot(page, "rectification-issued", full_page=False)

    # --- the supplier sees it on its home page and answers with evidence --------------------------------
    switch_to(page, "supplier")
    page.goto("/")
    expect(page.locator("#home-rectifications")).to_contain_text("ZG-")
    page.goto(notice_url)
    evidence = tmp_path / "签到表.pdf"
    evidence.write_bytes(PDF)
    page.locator(".evidence-form input[type=file]").set_input_files(str(evidence))
    page.locator(".evidence-form button[type=submit]").click()
    expect(page.locator(".evidence-list")).to_contain_text("签到表.pdf")
    page.locator(".answer-form textarea").fill("已补齐家属签字，并建立服务后当场签字制度。")
    page.locator(".answer-form button[type=submit]").click()
    expect(page.locator(".notice-state")).to_contain_text("已回复")

    # --- the officer re-inspects and closes it as fixed ---------------------------------------------
    switch_to(page, "officer")
    page.goto(notice_url)
    page.locator(".close-notice-form").get_by_label("复查结论").select_option("fixed")
    page.locator(".close-notice-form button[type=submit]").click()
    expect(page.locator("#outcome")).to_have_text("已整改")
    shot(page, "rectification-closed")
    notice = db.session.execute(select(RectificationNotice).where(RectificationNotice.contract_id == contract.id)
                                .order_by(RectificationNotice.id.desc())).scalars().first()
    db.session.refresh(notice)
    assert notice.state == NoticeState.CLOSED and notice.answered_on == today
