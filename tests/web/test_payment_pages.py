"""The payment pages: finance's overview across its region, a contract's instalments with the record form, the
contract page's card, the band rule. Messages are asserted as the page renders them (``shown``)."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from contracts.models import ContractState, Instalment, InstalmentCondition
from evaluation.models import Payment, PaymentTerms, Scheme, Sheet, SheetKind, SheetState, Stage
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.rules.clock import beijing_today
from tests.contract_factories import make_contract
from tests.evaluation_factories import published_scheme
from tests.factories import login_as, make_user
from tests.project_factories import county_items, make_bureau, registered_supplier

TODAY = beijing_today()
D = timedelta(days=1)


def text(response) -> str:
    return response.get_data(as_text=True)


def shown(msgid: str, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


def field_errors(page: str, field_id: str) -> list[str]:
    start = page.find(f'id="{field_id}"')
    if start < 0:
        return []
    end = min(i for i in (page.find("<label", start), page.find("</form>", start), len(page)) if i >= 0)
    return re.findall(r'invalid-feedback d-block">(.*?)</div>', page[start:end], re.S)


def scheme() -> Scheme:
    return published_scheme()


def finalize(contract, total, grade, days_ago):
    """A finalized purchaser's mid-term sheet, finalized ``days_ago`` days ago (noon in Beijing)."""
    day = TODAY - days_ago * D
    sheet = Sheet(contract_id=contract.id, scheme_id=scheme().id, stage=Stage.MID_TERM, kind=SheetKind.PURCHASER,
                  period_start=contract.term_start, period_end=contract.term_start + 30 * D,
                  state=SheetState.FINALIZED, total=Decimal(total), grade=grade,
                  finalized_at=datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC))
    db.session.add(sheet)
    db.session.flush()
    return sheet


@pytest.fixture
def world():
    bureau = make_bureau("530626", name="绥江县民政局")
    officer = make_user(Role.OFFICER, organization=bureau)
    finance = make_user(Role.FINANCE, region_code="530626")
    supplier = registered_supplier()
    supplier_user = make_user(Role.SUPPLIER, organization=supplier)
    _list, (item,) = county_items()
    contract = make_contract(bureau, supplier, item, state=ContractState.IN_SERVICE, amount="100000.00",
                             signed_on=TODAY - 100 * D)
    contract.instalments.clear()
    db.session.flush()
    contract.instalments.extend([
        Instalment(position=1, percent=Decimal("30.00"), amount=Decimal("30000.00"),
                   condition=InstalmentCondition.ON_SIGNING),
        Instalment(position=2, percent=Decimal("70.00"), amount=Decimal("70000.00"),
                   condition=InstalmentCondition.MID_TERM_EVALUATION),
    ])
    db.session.flush()
    finalize(contract, "75.00", "中", days_ago=10)  # 52500 payable, 17500 withheld, due in 20 days
    db.session.commit()
    return {"officer": officer, "finance": finance, "supplier": supplier_user, "contract": contract}


def totals(page: str) -> dict:
    return {name: Decimal(value) for name, value in re.findall(r'data-total="(\w+)" data-value="([\d.]+)"', page)}


def test_finance_overview_totals(client, world):
    login_as(client, world["finance"])
    page = text(client.get("/payments"))
    # signing instalment: signed 100 days ago, due after 30 → 70 days overdue on 30000
    assert totals(page) == {"due": Decimal("52500.00"), "overdue": Decimal("30000.00"),
                            "withheld": Decimal("17500.00"), "interest": Decimal("1050.00")}
    assert page.count(f'data-contract="{world["contract"].number}"') == 2
    overdue_only = text(client.get("/payments?state=overdue"))
    assert overdue_only.count(f'data-contract="{world["contract"].number}"') == 1
    assert text(client.get("/payments?state=nonsense&purchaser=abc")).count('data-contract=') == 2


def test_home_card_for_finance(client, world):
    login_as(client, world["finance"])
    page = text(client.get("/"))
    assert 'id="home-payments"' in page and "/payments" in page


def test_record_payment_then_withheld_remainder(client, world):
    login_as(client, world["finance"])
    contract = world["contract"]
    second = contract.instalments[1]
    response = client.post(f"/payments/contracts/{contract.id}", data={
        "instalment": str(second.id), "paid_on": TODAY.isoformat(), "amount": "52,500.00", "voucher": "PZ-2026-01"})
    assert response.status_code == 302
    assert db.session.execute(select(Payment)).scalar_one().amount == Decimal("52500.00")
    page = text(client.get(f"/payments/contracts/{contract.id}"))
    row = page[page.index('data-instalment="2"'):]
    assert 'data-state="withheld"' in row[:row.index("</tr>")]
    assert 'data-withheld="17500.00"' in row


def test_record_payment_errors_next_to_fields(client, world):
    login_as(client, world["finance"])
    contract = world["contract"]
    second = contract.instalments[1]
    client.post(f"/payments/contracts/{contract.id}", data={
        "instalment": str(second.id), "paid_on": TODAY.isoformat(), "amount": "100.00", "voucher": "PZ-1"})
    response = client.post(f"/payments/contracts/{contract.id}", data={
        "instalment": str(second.id), "paid_on": (TODAY + D).isoformat(), "amount": "60000.00", "voucher": "PZ-1"})
    assert response.status_code == 400
    page = text(response)
    assert field_errors(page, "paid_on") == [shown("The date of payment cannot be in the future.")]
    assert field_errors(page, "voucher") == [shown("This voucher number is already recorded on this contract.")]
    assert shown("The amount is more than what is still payable on this instalment (%(remaining)s).",
                 remaining="¥52,400.00") in field_errors(page, "amount")
    bad = client.post(f"/payments/contracts/{contract.id}", data={
        "instalment": str(second.id), "paid_on": "not a date", "amount": "12.345", "voucher": ""})
    assert bad.status_code == 400
    assert field_errors(text(bad), "amount")
    assert db.session.execute(select(Payment)).scalars().all().__len__() == 1


def test_officer_sees_but_cannot_record(client, world):
    login_as(client, world["officer"])
    contract = world["contract"]
    page = text(client.get(f"/payments/contracts/{contract.id}"))
    assert 'id="payment-form"' not in page and 'id="terms-form"' in page
    response = client.post(f"/payments/contracts/{contract.id}", data={
        "instalment": str(contract.instalments[0].id), "paid_on": TODAY.isoformat(), "amount": "1.00",
        "voucher": "X"})
    assert response.status_code == 403
    assert db.session.execute(select(Payment)).first() is None


def test_officer_sets_the_band_rule(client, world):
    login_as(client, world["officer"])
    contract = world["contract"]
    bad = client.post(f"/payments/contracts/{contract.id}/terms", data={
        "band_excellent": "full", "band_good": "full", "band_fair": "half", "band_poor": "withhold"})
    assert bad.status_code == 400
    assert field_errors(text(bad), "band_fair") == [shown("Unknown payment effect for the grade %(grade)s.",
                                                          grade="中")]
    ok = client.post(f"/payments/contracts/{contract.id}/terms", data={
        "band_excellent": "full", "band_good": "full", "band_fair": "full", "band_poor": "withhold"})
    assert ok.status_code == 302
    assert db.session.execute(select(PaymentTerms)).scalar_one().bands["中"] == "full"
    login_as(client, world["finance"])
    assert totals(text(client.get("/payments")))["withheld"] == 0


def test_supplier_cannot_see_payments(client, world):
    login_as(client, world["supplier"])
    assert client.get("/payments").status_code == 403
    assert client.get(f"/payments/contracts/{world['contract'].id}").status_code == 403
    page = text(client.get(f"/contracts/{world['contract'].id}"))
    assert 'id="contract-payment-lines"' not in page


def test_contract_page_card(client, world):
    login_as(client, world["finance"])
    page = text(client.get(f"/contracts/{world['contract'].id}"))
    assert 'id="contract-payment-lines"' in page
    assert 'data-payable="52500.00"' in page and 'data-withheld="17500.00"' in page


def test_other_region_finance_gets_404(client, world):
    login_as(client, make_user(Role.FINANCE, region_code="530102"))
    assert client.get(f"/payments/contracts/{world['contract'].id}").status_code == 404
    assert totals(text(client.get("/payments")))["due"] == 0


def test_stale_band_rule_save_is_a_conflict(client, world):
    login_as(client, world["officer"])
    contract = world["contract"]
    rule = {"band_excellent": "full", "band_good": "full", "band_fair": "pro_rata", "band_poor": "withhold"}
    assert client.post(f"/payments/contracts/{contract.id}/terms", data=rule).status_code == 302
    version = db.session.execute(select(PaymentTerms)).scalar_one().version
    assert client.post(f"/payments/contracts/{contract.id}/terms",
                       data={**rule, "band_good": "pro_rata", "version": str(version)}).status_code == 302
    stale = client.post(f"/payments/contracts/{contract.id}/terms",
                        data={**rule, "band_fair": "withhold", "version": str(version)})
    assert stale.status_code == 409
    assert db.session.execute(select(PaymentTerms)).scalar_one().bands["中"] == "pro_rata"
