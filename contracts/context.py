"""From a contract's records to the plain values its template is rendered with (and the PDF carries).

Only strings, integers, lists and dicts: the context is stored as JSON with the issued document,
attached to the PDF, and is all a sandboxed template can see. A value the records do not have is
left out, so the preview marks it and issuing refuses it. Contracts are Chinese documents: the
values are formatted in Chinese whatever the interface language.
"""

from datetime import date
from decimal import Decimal

from flask_babel import force_locale

from contracts.models import Contract, ContractState
from contracts.rules import bond_amount, term_months
from procurement.rules.money import to_capital

ANNEXES = ("服务清单及服务标准", "绩效目标及评价指标", "采购文件及承接主体响应文件", "中标（成交）通知书")


def cn_date(day: date | None) -> str | None:
    return f"{day.year}年{day.month}月{day.day}日" if day else None


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:,.2f}"


def percent(value: Decimal) -> str:
    """30.00 → "30", 33.33 → "33.33"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _text(value) -> str | None:
    value = (value or "").strip() if isinstance(value, str) else value
    return value or None


def _org(prefix: str, org) -> dict:
    contact = " ".join(v for v in (org.contact_name, org.contact_phone) if v)
    bank = "，".join(v for v in (org.bank_account_name, org.bank_name, org.bank_account_no) if v)
    return {
        f"{prefix}_name": org.name,
        f"{prefix}_credit_code": org.credit_code,
        f"{prefix}_address": _text(org.address),
        f"{prefix}_representative": _text(org.legal_representative),
        f"{prefix}_contact": _text(contact),
        f"{prefix}_bank": _text(bank),
    }


def build_context(contract: Contract) -> dict:
    """The contract's values for its template; keys without a value are left out."""
    with force_locale("zh_CN"):
        return _build(contract)


def _build(contract: Contract) -> dict:
    project = contract.project
    items = []
    for number, line in enumerate(contract.lines, 1):
        item = line.item
        items.append({
            "number": number,
            "code": item.code,
            "name": item.name,
            "category": item.category.name,
            "content": item.content,
            "standard": item.standard,
            "frequency": str(item.frequency),
            "unit": str(item.unit.label),
            "quantity": line.quantity,
            "unit_price": money(line.unit_price),
            "amount": money(line.amount),
        })
    groups = []
    for line in contract.lines:
        for group in line.item.target_groups:
            if group.name not in groups:
                groups.append(group.name)
    instalments = [{
        "number": i.position,
        "percent": percent(i.percent),
        "amount": money(i.amount),
        "amount_capital": to_capital(i.amount),
        "condition": str(i.condition.label) + (f"（{i.condition_note}）" if i.condition_note else ""),
    } for i in contract.instalments]
    targets = [{"indicator": t.indicator, "target": f"{t.direction.symbol} {percent(t.target_value)} {t.unit}"}
               for t in project.targets]
    context = {
        "contract_number": contract.number,
        "contract_title": contract.title,
        "project_code": project.code,
        "project_title": project.title,
        "fiscal_year": project.fiscal_year,
        "procurement_method": str(project.method.label) if project.method else None,
        "award_notice_date": cn_date(project.award_notice_on),
        **_org("purchaser", contract.purchaser),
        **_org("supplier", contract.supplier),
        "items": items,
        "target_groups": "、".join(groups) or None,
        "expected_beneficiaries": project.expected_beneficiaries,
        "beneficiary_assignment": _text(contract.beneficiary_assignment),
        "service_place": _text(contract.service_place),
        "term_start": cn_date(contract.term_start),
        "term_end": cn_date(contract.term_end),
        "term_months": term_months(contract.term_start, contract.term_end),
        "long_term_justification": _text(contract.long_term_justification),
        "amount": money(contract.amount),
        "amount_capital": to_capital(contract.amount),
        "instalments": instalments,
        "payment_days": contract.payment_days,
        "late_interest": percent(contract.late_interest_per_day) + "%",
        "bond_percent": percent(contract.bond_percent) + "%" if contract.bond_percent else None,
        "bond_amount": money(bond_amount(contract.amount, contract.bond_percent)) if contract.bond_percent else None,
        "bond_capital": to_capital(bond_amount(contract.amount, contract.bond_percent)) if contract.bond_percent else None,
        "report_frequency": str(contract.report_frequency.label),
        "staff_requirements": _text(contract.staff_requirements),
        "targets": targets,
        "special_terms": _text(contract.special_terms),
        "purchaser_signatory": _text(contract.purchaser_signatory),
        "supplier_signatory": _text(contract.supplier_signatory),
        "signed_on": cn_date(contract.signed_on),
        "annexes": [{"number": n, "title": t} for n, t in enumerate(ANNEXES, 1)],
    }
    if contract.parent is not None:
        parent = contract.parent
        others = sum((c.amount for c in parent.supplements if c.id != contract.id and c.state != ContractState.DRAFT),
                     Decimal("0.00"))
        new_total = parent.amount + others + contract.amount
        context.update({
            "parent_number": parent.number,
            "parent_signed_on": cn_date(parent.signed_on),
            "parent_amount": money(parent.amount),
            "change_reason": _text(contract.change_reason),
            "new_total": money(new_total),
            "new_total_capital": to_capital(new_total),
        })
    return {key: value for key, value in context.items() if value is not None and value != ""}
