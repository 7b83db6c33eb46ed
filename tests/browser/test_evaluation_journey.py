"""Evaluating and paying, as issue 6 walks it: the officer opens a third-party mid-term sheet and assigns a
panel of three, each evaluator declares and scores, the officer finalizes, finance downloads the PDF, records
a payment and sees the withheld remainder of a 中 grade."""

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from contracts.models import Contract, ContractState, IssuedDocument
from evaluation.models import Indicator, Rule, Sheet, SheetState
from evaluation.payment import payable
from evaluation.services import not_computable
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.rules.clock import beijing_today
from tests.browser.test_delivery_journey import switch_to
from tests.factories import PASSWORD, make_user


def _download(page, locator) -> bytes:
    with page.expect_download() as info:
        locator.click()
    return Path(info.value.path()).read_bytes()


def test_a_panel_scores_the_officer_finalizes_and_finance_pays_the_share_of_a_middling_grade(page, shot):
    today = beijing_today()
    contract = db.session.execute(select(Contract).where(Contract.state == ContractState.IN_SERVICE)).scalars().first()
    panel = [make_user(Role.EVALUATOR, username=f"panel{n}", display_name=name)
             for n, name in enumerate(("赵评审", "钱评审", "孙评审"), start=1)]
    db.session.commit()
    page.on("dialog", lambda dialog: dialog.accept())

    # --- the officer opens a third-party mid-term sheet and assigns the panel -----------------------------
    switch_to(page, "officer")
    page.goto(f"/evaluation/contract/{contract.id}/new")
    page.get_by_label("阶段", exact=True).select_option("mid_term")
    page.get_by_label("评价方式").select_option("third_party")
    page.get_by_label("评价期间起").fill(contract.term_start.isoformat())
    page.get_by_label("评价期间止").fill(today.isoformat())
    page.get_by_label("评估机构").fill("云南某社会服务评估中心")
    page.locator("#open-sheet-form button[type=submit]").click()
    expect(page.locator("#sheet-title")).to_be_visible()
    sheet_url = page.url
    for user in panel:
        page.locator("#assign-form select").select_option(str(user.id))
        page.locator("#assign-form button[type=submit]").click()
    expect(page.locator("#progress tbody tr")).to_have_count(3)
    page.locator("#start-form button[type=submit]").click()
    # the demo contract has just started: no report period has ended and nobody was called back yet, so the
    # timeliness and satisfaction leaves cannot be computed; the officer sets them, with the reason
    sheet = db.session.execute(select(Sheet).where(Sheet.contract_id == contract.id)).scalar_one()
    db.session.refresh(sheet)
    blocked = [c.indicator_id for c in sheet.computed if not_computable(c)]
    assert blocked
    for indicator in blocked:
        form = page.locator(f'.override-form:has(input[name=indicator][value="{indicator}"])')
        maximum = db.session.get(Indicator, indicator).max_points
        form.locator("input[name=points]").fill(str((maximum * Decimal("0.8")).quantize(Decimal("0.01"))))
        form.locator("textarea[name=reason]").fill("服务刚开始，尚无可计算的数据；按现场检查情况评定。")
        form.locator("button[type=submit]").click()
        expect(page.locator("#sheet-title")).to_be_visible()
    shot(page, "evaluation-sheet-officer", full_page=False)

    # --- each evaluator declares no conflict of interest and scores the manual indicators -------------
    manual = [i for i in db.session.execute(select(Indicator).where(Indicator.scheme_id == sheet.scheme_id))
              .scalars() if i.rule == Rule.MANUAL]
    db.session.expire_all()
    computed = sum(c.points if c.override_points is None else c.override_points
                   for c in db.session.get(Sheet, sheet.id).computed)
    # the panel scores the manual indicators so that the sheet lands around 66 points: a 中
    middle = (Decimal(66) - computed) / sum(i.max_points for i in manual)
    assert Decimal("0.3") < middle < Decimal("0.96"), (computed, middle)
    for user, share in zip(panel, (middle + Decimal("0.03"), middle, middle - Decimal("0.03")), strict=True):
        switch_to_user(page, user.username)
        page.goto(sheet_url)
        expect(page.locator("#declaration-text")).to_contain_text(contract.supplier.name)
        page.locator("#declare-form input[type=checkbox]").check()
        page.locator("#declare-form button[type=submit]").click()
        for indicator in manual:
            points = (indicator.max_points * share).quantize(Decimal("0.01"), ROUND_HALF_UP)
            page.locator(f"#points_{indicator.id}").fill(str(points))
            page.locator(f"#comment_{indicator.id}").fill("台账基本齐全，个别记录不完整。")
        page.locator("#score-form button[name=submit]").click()
        expect(page.locator("#submitted-note")).to_be_visible()

    # --- the officer finalizes: consolidated, graded 中, locked, PDF issued -----------------------------
    switch_to(page, "officer")
    page.goto(sheet_url)
    page.locator("#finalize-form button[type=submit]").click()
    expect(page.locator("#sheet-grade")).to_have_text("中")
    db.session.refresh(sheet)
    assert sheet.state == SheetState.FINALIZED and 60 <= sheet.total < 80

    # --- finance downloads the PDF, records the payment and sees the withheld remainder -----------------
    switch_to(page, "finance")
    page.goto(sheet_url)
    data = _download(page, page.locator("#sheet-pdf"))
    assert data == db.session.get(IssuedDocument, sheet.document_id).pdf and data.startswith(b"%PDF-")
    mid_term = next(i for i in contract.instalments if i.condition.value == "mid_term")
    due, withheld = payable(mid_term.amount, "中", sheet.total)
    assert withheld > 0
    page.goto(f"/payments/contracts/{contract.id}")
    row = page.locator(f'tr[data-instalment="{mid_term.position}"]')
    expect(row.locator("[data-grade]")).to_have_text("中")
    expect(row.locator("[data-payable]")).to_have_attribute("data-payable", str(due))
    expect(row.locator("[data-withheld]")).to_have_attribute("data-withheld", str(withheld))
    page.locator("#payment-form").get_by_label("付款期次").select_option(str(mid_term.id))
    page.locator("#payment-form").get_by_label("付款日期").fill(today.isoformat())
    page.locator("#payment-form").get_by_label("金额（元）").fill(str(due + Decimal("0.01")))  # one fen too much: refused next to the field
    page.locator("#payment-form").get_by_label("凭证号").fill("绥财支〔2026〕118号")
    page.locator("#payment-form button[type=submit]").click()
    expect(page.locator("#payment-form .invalid-feedback")).to_be_visible()
    page.locator("#payment-form").get_by_label("金额（元）").fill(str(due))
    page.locator("#payment-form button[type=submit]").click()
    expect(row.locator("[data-paid]")).to_have_attribute("data-paid", str(due))
    expect(row.locator("[data-withheld]")).to_have_attribute("data-withheld", str(withheld))
    shot(page, "payments-contract")


def switch_to_user(page, username: str) -> None:
    from tests.browser.test_journeys import log_in

    page.context.clear_cookies()
    log_in(page, username, PASSWORD)
