"""The shipped contract template, rendered from a real contract's context: the right text in the right section."""

import re

import pytest
from sqlalchemy import select

from contracts import services
from contracts.context import build_context
from contracts.models import Contract
from contracts.rendering import render_body
from procurement.demo.seed import seed_demo
from procurement.extensions import db


@pytest.fixture
def sections():
    seed_demo()
    db.session.commit()
    contract = db.session.execute(select(Contract).where(Contract.document_id.is_not(None))).scalars().first()
    version = contract.template_version
    html = render_body(version.body, build_context(contract), services.version_schema(version), strict=True)
    head, *rest = re.split(r"<h2>", html)
    parts = {"head": head}
    for part in rest:
        title, _sep, body = part.partition("</h2>")
        parts[re.sub(r"\s+", "", title)] = body
    return contract, parts


def _section(parts, start):
    return next(body for title, body in parts.items() if title.startswith(start))


def test_the_parties_with_their_credit_codes_come_first(sections):
    contract, parts = sections
    head = parts["head"]
    assert contract.number in head and contract.title in head
    purchaser, supplier = head.index("甲方（购买主体）"), head.index("乙方（承接主体）")
    assert purchaser < head.index(contract.purchaser.credit_code) < supplier < head.index(contract.supplier.credit_code)
    assert "竞争性磋商" in head  # the procurement method of the demo project


def test_every_required_section_is_there_in_order():
    """DOMAIN §4: service content, beneficiaries, term and place, price, payment, staff, reporting, supervision and
    acceptance, evaluation, personal information, change and termination, breach, disputes, annexes."""
    body = services.shipped_files("service_contract")[0]
    headings = [re.sub(r"\s+", "", h) for h in re.findall(r"<h2>(.*?)</h2>", body)]
    expected = ["服务内容", "服务对象", "服务期限和地点", "合同价款", "付款方式", "人员要求", "报告义务", "监督管理和验收",
                "绩效评价", "个人信息保护", "合同的变更和解除", "违约责任", "争议解决", "附件"]
    positions = [next(i for i, h in enumerate(headings) if name in h) for name in expected]
    assert positions == sorted(positions)
    assert body.count("盖章处") == 2  # a seal area for each party


def test_price_section_has_the_amount_in_figures_and_capital_numerals(sections):
    contract, parts = sections
    price = _section(parts, "第四条")
    assert f"{contract.amount:,.2f}" in price and "人民币叁拾万肆仟元整" in price


def test_payment_section_lists_each_instalment_with_its_condition(sections):
    contract, parts = sections
    payment = _section(parts, "第五条")
    for instalment in contract.instalments:
        assert f"{instalment.amount:,.2f}" in payment
    assert payment.count("<tr>") == len(contract.instalments) + 1  # and the header row
    assert "合同签订后" in payment and "中期绩效评价合格后" in payment and "验收及期末绩效评价后" in payment
    assert "每日0.05%" in payment  # overdue interest (保障中小企业款项支付条例 第十七条)


def test_items_acceptance_and_personal_information_sections(sections):
    contract, parts = sections
    items = _section(parts, "第一条")
    for line in contract.lines:
        assert line.item.code in items and line.item.name in items
    assert "邀请服务对象参与并出具意见" in _section(parts, "第八条")  # 实施条例 第四十五条
    privacy = _section(parts, "第十条")
    assert "第二十一条" in privacy and "不得转委托" in privacy and "返还" in privacy and "删除" in privacy
    evaluation = _section(parts, "第九条")
    assert "按评价得分占100分的比例支付" in evaluation


def test_values_are_escaped_not_interpreted(sections):
    contract, _parts = sections
    context = build_context(contract)
    context["staff_requirements"] = "<script>alert(1)</script>社工3名"
    version = contract.template_version
    html = render_body(version.body, context, services.version_schema(version), strict=True)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;社工3名" in html
