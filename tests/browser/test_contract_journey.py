"""From the award to a signed, published contract whose PDF the supplier downloads byte for byte."""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from procurement.extensions import db
from procurement.projects.models import Project
from procurement.rules.clock import beijing_today
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_journeys import log_in
from tests.browser.test_procurement_journey import choose, submit, transition_button


def _download(page, locator) -> bytes:
    with page.expect_download() as info:
        locator.click()
    return Path(info.value.path()).read_bytes()


def test_officer_takes_an_award_to_a_signed_contract_the_supplier_downloads(page, shot, tmp_path):
    today = beijing_today().isoformat()
    project = db.session.execute(select(Project).where(Project.title.contains("居家康复训练"))).scalar_one()
    page.on("dialog", lambda dialog: dialog.accept())  # "sign and issue? it can no longer be changed"
    log_in(page, "officer")

    # The award: the notice goes out today, and the project is awarded.
    page.goto(f"/projects/{project.id}/award")
    choose(page.get_by_label("确定的承接主体"), "绥江县阳光社会工作服务中心")
    page.get_by_label("中标公告发布日期").fill(today)
    submit(page)
    transition_button(page, "awarded").click()
    expect(page.locator("h1")).to_contain_text("已确定承接主体")

    # Generate: parties, items and the awarded price are filled in; the unit prices fit the bid (¥627,000.00).
    page.locator("#generate-contract").click()
    expect(page.locator("h1")).to_contain_text("合同")
    expect(page.locator("#amount")).to_contain_text("¥627,000.00")
    expect(page.locator("#amount")).to_contain_text("人民币陆拾贰万柒仟元整")
    expect(page.locator("#parties")).to_contain_text("绥江县阳光社会工作服务中心")
    contract_url = page.url

    # The preview marks what the contract still lacks: the staff requirements, in red.
    page.goto(contract_url + "/preview")
    expect(page.locator("main")).to_contain_text("人员要求")
    frame = page.frame_locator("iframe")
    expect(frame.locator(".placeholder-missing")).to_have_count(1)
    expect(frame.locator(".placeholder-missing")).to_contain_text("staff_requirements")
    expect(frame.locator("body")).to_contain_text("人民币陆拾贰万柒仟元整")
    shot(page, "contract-preview-flagged", full_page=False)

    # Fix it on the terms form; the preview is clean.
    page.goto(contract_url + "/edit")
    page.get_by_label("人员要求").fill("乙方配备康复治疗师不少于3名，均持有康复治疗师资格证书。")
    submit(page)
    page.goto(contract_url + "/preview")
    expect(page.frame_locator("iframe").locator("body")).to_contain_text("康复治疗师不少于3名")
    expect(page.frame_locator("iframe").locator(".placeholder-missing")).to_have_count(0)

    # Sign: the PDF is rendered once and its SHA-256 shown.
    page.goto(contract_url + "/sign")
    page.get_by_label("签订日期").fill(today)
    page.get_by_label("采购人签字人").fill("王建国")
    page.get_by_label("承接主体签字人").fill("陈静")
    submit(page)
    expect(page.locator("#document")).to_be_visible()
    sha256 = page.locator("#document-sha256").inner_text().strip()
    assert len(sha256) == 64
    issued = _download(page, page.locator("#download-pdf"))
    assert hashlib.sha256(issued).hexdigest() == sha256
    expect(page.locator("#contract-actions")).not_to_contain_text("编辑条款")  # a signed contract is not edited

    # Publish it (due within 2 working days of signing).
    page.locator("#publish-form input[name=published_on]").fill(today)
    page.locator("#publish-form input[name=publication_ref]").fill("中国政府采购网云南分网 合同公告")
    page.locator("#publish-form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("已公告")
    shot(page, "contract-signed")

    # The supplier logs in and downloads exactly the issued bytes.
    page.context.clear_cookies()
    log_in(page, "supplier")
    page.goto("/contracts/")
    page.locator("main table a", has_text=f"HT-{project.code}").first.click()
    expect(page.locator("h1")).to_contain_text("居家康复训练")
    supplied = _download(page, page.locator("#download-pdf"))
    assert supplied == issued

    # The first page as an image: what finance and the supplier print.
    pdf = tmp_path / "contract.pdf"
    pdf.write_bytes(supplied)
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)
    image = tmp_path / "page.png"
    assert image.stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(image, SCREENSHOTS / "contract-page-1.png")
