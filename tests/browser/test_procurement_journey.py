"""An officer runs a purchase in the browser: from catalog items to the award, held up by the checklist."""

from datetime import timedelta

from playwright.sync_api import expect

from procurement.rules.clock import beijing_today
from tests.browser.test_journeys import log_in


def submit(page):
    """The form's main button (the page's only primary submit button in <main>)."""
    page.locator("main form[method=post] button[type=submit].btn-primary").first.click()


def choose(select, text):
    """Pick the option of a <select> whose label contains ``text``."""
    select.select_option(value=select.locator("option", has_text=text).first.get_attribute("value"))


def transition_button(page, target):
    return page.locator(f"#transition-{target}")


def test_officer_runs_a_purchase_from_catalog_items_to_the_award(page, shot):
    today = beijing_today()
    issued, deadline = today - timedelta(days=12), today - timedelta(days=1)
    log_in(page, "officer")

    # A new project of the bureau, on a budget line that shows what remains.
    page.get_by_role("link", name="采购项目", exact=True).click()
    page.get_by_role("link", name="新建采购项目").click()
    page.get_by_label("项目名称").fill("2026年绥江县独居老人助浴服务项目")
    page.get_by_label("预算年度").fill(str(today.year))
    budget = page.get_by_label("预算指标")
    budget.select_option(index=1)
    expect(budget.locator("option").nth(1)).to_contain_text("¥")
    page.get_by_label("项目说明").fill("为行动不便的独居特困老人提供上门助浴服务。")
    page.get_by_label("预计受益人数").fill("80")
    page.get_by_label("服务开始日期").fill(f"{today.year}-12-01")
    page.get_by_label("服务结束日期").fill(f"{today.year}-12-31")
    page.get_by_label("服务地点").fill("绥江县中城镇")
    submit(page)
    expect(page.locator("h1")).to_contain_text("独居老人助浴服务项目")

    # The checklist holds the budget confirmation back: no items, no targets, no method yet.
    confirm = transition_button(page, "approved")
    expect(confirm).to_be_disabled()
    expect(page.locator("[data-check='lines']")).to_be_visible()
    shot(page, "project-checklist-blocked")

    # Items from the county's adopted service list, at the reference price.
    page.get_by_role("link", name="新增服务事项").click()
    choose(page.get_by_label("服务事项"), "助浴")
    page.get_by_label("数量").fill("400")
    submit(page)
    expect(page.locator("main")).to_contain_text("助浴")
    page.get_by_role("link", name="新增绩效目标").click()
    page.get_by_label("指标").fill("助浴服务人次")
    page.get_by_label("目标值").fill("400")
    page.get_by_label("单位", exact=True).fill("人次")
    submit(page)
    expect(transition_button(page, "approved")).to_be_disabled()  # still no method

    # The methods the amount allows, each with its reason; 竞争性磋商 is chosen.
    page.get_by_role("link", name="选择采购方式").click()
    expect(page.locator("#method-options")).to_contain_text("竞争性磋商")
    expect(page.locator("#method-options")).to_contain_text("国办发〔2019〕55号")
    shot(page, "project-methods")
    page.get_by_label("采购方式", exact=True).select_option(label="竞争性磋商")
    submit(page)

    confirm = transition_button(page, "approved")
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(page.locator("h1")).to_contain_text("预算已落实")

    # Announcement: a deadline shorter than ten calendar days is refused with the rule.
    project_url = page.url
    page.goto(project_url + "/announcement")
    page.get_by_label("采购文件发出日期").fill(issued.isoformat())
    page.get_by_label("响应截止时间").fill((issued + timedelta(days=5)).isoformat())
    submit(page)
    expect(page.locator(".invalid-feedback").first).to_contain_text((issued + timedelta(days=10)).isoformat())
    page.get_by_label("响应截止时间").fill(deadline.isoformat())
    submit(page)
    transition_button(page, "announced").click()
    expect(page.locator("h1")).to_contain_text("已公告")

    # Two responses (磋商 may continue with two), then the committee's result.
    for supplier in ("绥江县阳光社会工作服务中心", "云南省社会工作协会"):
        page.goto(project_url + "/bids/new")
        choose(page.get_by_label("承接主体"), supplier)
        page.get_by_label("提交日期").fill((deadline - timedelta(days=1)).isoformat())
        page.get_by_label("报价（元）").fill("23000.00" if "阳光" in supplier else "23600.00")
        submit(page)
    expect(transition_button(page, "evaluated")).to_be_disabled()  # no evaluation result yet
    page.goto(project_url + "/evaluation")
    page.get_by_label("评审日期").fill(deadline.isoformat())
    page.locator("main textarea").first.fill("评审委员会推荐绥江县阳光社会工作服务中心为第一成交候选人。")
    submit(page)
    transition_button(page, "evaluated").click()
    expect(page.locator("h1")).to_contain_text("已评审")

    # The award, with each bidder's eligibility shown on the award page.
    page.goto(project_url + "/award")
    choose(page.get_by_label("确定的承接主体"), "绥江县阳光社会工作服务中心")
    page.get_by_label("确定承接主体日期").fill(today.isoformat())
    page.get_by_label("中标公告发布日期").fill(today.isoformat())
    submit(page)
    award = transition_button(page, "awarded")
    expect(award).to_be_enabled()
    award.click()
    expect(page.locator("h1")).to_contain_text("已确定承接主体")
    expect(page.locator("main")).to_contain_text("绥江县阳光社会工作服务中心")
    shot(page, "project-awarded")

    # The contract must now be signed within 30 days: it is on "my deadlines".
    page.get_by_role("link", name="我的期限").click()
    expect(page.locator("main")).to_contain_text("独居老人助浴服务项目")
    shot(page, "deadlines", full_page=False)
