"""The contract pages as officers, finance staff and suppliers use them.

Messages are asserted as the page renders them: ``shown(msgid)`` translates the English msgid into the
app's default language (Simplified Chinese once the catalogue has it, the msgid until then), so the
tests hold before and after the translations are merged.
"""

import hashlib
import html
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from contracts import services
from contracts.models import Contract, ContractState
from procurement.audit.models import AuditRecord
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.rules.clock import beijing_today
from procurement.rules.stages import ProjectStage
from tests.factories import login_as, make_user
from tests.project_factories import (
    actor,
    county_items,
    make_bid,
    make_bureau,
    make_line,
    make_staged_project,
    registered_supplier,
)

TODAY = beijing_today()
D = timedelta(days=1)


def text(response) -> str:
    return response.get_data(as_text=True)


def shown(msgid: str, **variables) -> str:
    """A message as the page renders it (the app's language, HTML-escaped)."""
    return str(escape(gettext(msgid, **variables)))


def field_errors(page: str, field_id: str) -> list[str]:
    """The error messages rendered after one field (up to the next label or the end of the form)."""
    start = page.find(f'id="{field_id}"')
    if start < 0:
        return []
    end = min(i for i in (page.find("<label", start), page.find("</form>", start), len(page)) if i >= 0)
    return re.findall(r'invalid-feedback d-block">(.*?)</div>', page[start:end], re.S)


def top_problems(page: str) -> str:
    match = re.search(r'id="form-problems">(.*?)</div>', page, re.S)
    return match.group(1) if match else ""


def reload(contract_id) -> Contract:
    db.session.expire_all()
    return db.session.get(Contract, contract_id)


# --- the world: an awarded purchase of a 绥江 bureau ----------------------------------------------

@pytest.fixture
def bureau():
    return make_bureau("530626", name="绥江县民政局", address="绥江县中城镇民政路1号", legal_representative="张局长",
                       contact_name="李科长", contact_phone="0870-7620000")


@pytest.fixture
def officer(bureau):
    return make_user(Role.OFFICER, organization=bureau)


@pytest.fixture
def supplier():
    return registered_supplier(name="绥江县阳光社会工作服务中心")


@pytest.fixture
def awarded(bureau, supplier):
    """Two service items, 45,000 + 20,000 yuan, awarded to ``supplier`` at that price two days ago."""
    _list, items = county_items(n=2)
    project = make_staged_project(bureau=bureau, stage=ProjectStage.AWARDED, total=Decimal("0.00"),
                                  award_supplier_id=supplier.id, award_decided_on=TODAY - 3 * D,
                                  award_notice_on=TODAY - 2 * D)
    make_line(project, items[0], quantity=1000, unit_price="45.00")
    make_line(project, items[1], quantity=200, unit_price="100.00")
    make_bid(project, supplier, price=Decimal("65000.00"), submitted_on=TODAY - 20 * D)
    db.session.commit()
    return project


@pytest.fixture
def draft(officer, awarded):
    contract = services.generate_contract(awarded, actor(officer), TODAY)
    db.session.commit()
    return contract


def ready(contract, officer):
    """Fill the one required value a generated draft lacks, so it can be signed."""
    data = {**services.contract_values(contract), "staff_requirements": "持证社会工作者不少于2名。"}
    services.update_contract(contract, data, actor(officer))
    db.session.commit()
    return contract


@pytest.fixture
def signed(officer, draft):
    services.sign_contract(ready(draft, officer), TODAY, "张局长", "王主任", None, actor(officer), TODAY)
    db.session.commit()
    return draft


def edit_data(contract, **changes) -> dict:
    values = services.contract_values(contract)
    data = {name: ("" if value is None else str(value)) for name, value in values.items()}
    data.update(version=str(contract.version), report_frequency=contract.report_frequency.value)
    data.update({k: str(v) for k, v in changes.items()})
    return data


# --- generating ---------------------------------------------------------------------------------

def test_an_awarded_project_generates_a_prefilled_draft(client, officer, awarded, supplier):
    login_as(client, officer)
    page = text(client.get(f"/projects/{awarded.id}"))
    assert 'id="generate-contract"' in page

    response = client.post(f"/contracts/generate/{awarded.id}")
    assert response.status_code == 302
    contract = db.session.execute(select(Contract).where(Contract.project_id == awarded.id)).scalar_one()
    assert response.headers["Location"].endswith(f"/contracts/{contract.id}")
    assert contract.state == ContractState.DRAFT
    assert (contract.purchaser_id, contract.supplier_id) == (awarded.bureau_id, supplier.id)
    assert [(line.quantity, line.unit_price) for line in contract.lines] == [(1000, Decimal("45.00")),
                                                                              (200, Decimal("100.00"))]
    assert contract.amount == Decimal("65000.00")
    assert sum(i.percent for i in contract.instalments) == 100

    page = text(client.get(f"/contracts/{contract.id}"))
    assert contract.number in page and supplier.credit_code in page and awarded.bureau.credit_code in page
    assert "人民币陆万伍仟元整" in page  # the amount in capital numerals
    assert 'id="signing-window"' in page and 'id="sign-link"' in page
    # the missing staff requirements hold the signing up, shown in the checklist
    assert 'data-field="placeholder"' in page and "staff_requirements" in page
    # the project now links to its contract instead of offering to generate one
    page = text(client.get(f"/projects/{awarded.id}"))
    assert 'id="generate-contract"' not in page and f"/contracts/{contract.id}" in page

    again = client.post(f"/contracts/generate/{awarded.id}", follow_redirects=True)
    assert shown("This project already has its contract.") in text(again)
    assert db.session.scalar(select(db.func.count()).select_from(Contract)) == 1


def test_a_project_not_yet_awarded_generates_nothing(client, officer, bureau):
    project = make_staged_project(bureau=bureau, stage=ProjectStage.EVALUATED)
    login_as(client, officer)
    assert 'id="generate-contract"' not in text(client.get(f"/projects/{project.id}"))
    response = client.post(f"/contracts/generate/{project.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/projects/{project.id}")
    assert db.session.scalar(select(db.func.count()).select_from(Contract)) == 0
    assert client.post("/contracts/generate/999999").status_code == 404


# --- editing a draft -----------------------------------------------------------------------------

def test_a_term_over_twelve_months_needs_its_justification(client, officer, draft):
    login_as(client, officer)
    response = client.post(f"/contracts/{draft.id}/edit", data=edit_data(
        draft, term_start=date(2026, 7, 1), term_end=date(2027, 7, 31), long_term_justification=""))
    assert response.status_code == 400
    expected = shown("A term over %(n)s months (this one: %(m)s) needs the recorded justification that the service "
                     "is stable, continuous, backed by the budget and stable in price.", n=12, m=13)
    errors = field_errors(text(response), "long_term_justification")
    assert len(errors) == 1 and expected in errors[0]
    assert reload(draft.id).term_end == draft.term_end

    response = client.post(f"/contracts/{draft.id}/edit", data=edit_data(
        draft, term_start=date(2026, 7, 1), term_end=date(2027, 7, 31),
        long_term_justification="服务长期稳定、预算有保障、价格稳定。"))
    assert response.status_code == 302
    assert reload(draft.id).term_end == date(2027, 7, 31)


def test_the_performance_bond_is_at_most_ten_percent(client, officer, draft):
    login_as(client, officer)
    response = client.post(f"/contracts/{draft.id}/edit", data=edit_data(draft, bond_percent="11"))
    assert response.status_code == 400
    errors = field_errors(text(response), "bond_percent")
    assert errors and shown("The performance bond is at most %(n)s percent of the contract amount.",
                            n=Decimal("10")) in errors[0]
    assert reload(draft.id).bond_percent == 0

    response = client.post(f"/contracts/{draft.id}/edit", data=edit_data(draft, bond_percent="5%"))
    assert response.status_code == 302
    assert reload(draft.id).bond_percent == Decimal("5.00")
    assert "¥3,250.00" in text(client.get(f"/contracts/{draft.id}"))  # 5 percent of 65,000


def test_a_stale_edit_is_a_conflict(client, officer, draft):
    login_as(client, officer)
    data = edit_data(draft, title="新标题")
    services.update_contract(draft, {**services.contract_values(draft), "special_terms": "另一人写的条款"},
                             actor(officer))
    db.session.commit()
    response = client.post(f"/contracts/{draft.id}/edit", data=data)
    assert response.status_code == 409
    assert shown("Someone else changed this record; look at it again before you go on.") in text(response)
    assert reload(draft.id).title != "新标题"


def test_instalments_must_add_up_to_one_hundred_percent(client, officer, draft):
    login_as(client, officer)
    before = [(i.percent, i.amount) for i in draft.instalments]
    page = text(client.get(f"/contracts/{draft.id}/instalments"))
    assert 'name="percent_12"' in page and 'value="30.00"' in page
    response = client.post(f"/contracts/{draft.id}/instalments", data={
        "version": draft.version, "percent_1": "30", "condition_1": "on_signing",
        "percent_2": "60%", "condition_2": "final"})
    assert response.status_code == 400
    assert shown("The instalments add up to %(p)s percent; they must add up to exactly 100 percent.",
                 p="90") in top_problems(text(response))
    assert [(i.percent, i.amount) for i in reload(draft.id).instalments] == before

    response = client.post(f"/contracts/{draft.id}/instalments", data={
        "version": draft.version, "percent_1": "30", "condition_1": "on_signing", "percent_3": "70",
        "condition_3": "final"})  # the empty second row is ignored
    assert response.status_code == 302
    assert [(i.percent, i.amount) for i in reload(draft.id).instalments] == [
        (Decimal("30.00"), Decimal("19500.00")), (Decimal("70.00"), Decimal("45500.00"))]


def test_line_prices_show_the_awarded_price_and_refuse_bad_values(client, officer, draft):
    login_as(client, officer)
    first, second = draft.lines
    page = text(client.get(f"/contracts/{draft.id}/lines"))
    assert 'id="awarded-price"' in page and "¥65,000.00" in page
    response = client.post(f"/contracts/{draft.id}/lines", data={
        "version": draft.version, f"quantity_{first.id}": "0", f"price_{first.id}": "45",
        f"quantity_{second.id}": "200", f"price_{second.id}": "abc"})
    assert response.status_code == 400
    page = text(response)
    assert field_errors(page, f"quantity_{first.id}") and field_errors(page, f"price_{second.id}")
    response = client.post(f"/contracts/{draft.id}/lines", data={
        "version": draft.version, f"quantity_{first.id}": "900", f"price_{first.id}": "45",
        f"quantity_{second.id}": "200", f"price_{second.id}": "100"})
    assert response.status_code == 302
    contract = reload(draft.id)
    assert contract.amount == Decimal("60500.00")
    # the amount no longer matches the award: the checklist says so
    assert 'data-field="lines"' in text(client.get(f"/contracts/{draft.id}"))


# --- preview ------------------------------------------------------------------------------------

def test_the_preview_frame_is_sandboxed_and_marks_missing_values(client, officer, draft):
    login_as(client, officer)
    page = text(client.get(f"/contracts/{draft.id}/preview"))
    assert 'data-placeholder="staff_requirements"' in page
    assert re.search(rf'<iframe[^>]*\bsandbox\b[^>]*src="/contracts/{draft.id}/preview.html"', page)

    frame = client.get(f"/contracts/{draft.id}/preview.html")
    assert frame.status_code == 200 and frame.mimetype == "text/html"
    assert frame.headers["Content-Security-Policy"] == ("default-src 'none'; style-src 'unsafe-inline'; "
                                                        "img-src data:; sandbox")
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert re.search(r'<span class="placeholder-missing" title="staff_requirements">', text(frame))


# --- signing and after --------------------------------------------------------------------------

def test_a_scan_that_is_not_a_pdf_or_image_is_refused(client, officer, draft):
    ready(draft, officer)
    login_as(client, officer)
    response = client.post(f"/contracts/{draft.id}/sign", content_type="multipart/form-data", data={
        "version": draft.version, "signed_on": TODAY.isoformat(), "purchaser_signatory": "张局长",
        "supplier_signatory": "王主任", "scan": (io.BytesIO(b"just some text, not a scan"), "scan.pdf")})
    assert response.status_code == 400
    errors = field_errors(text(response), "scan")
    assert errors == [shown("Only PDF, JPEG or PNG files are accepted (checked by their content).")]
    contract = reload(draft.id)
    assert contract.state == ContractState.DRAFT and contract.document_id is None


def test_signing_with_problems_lists_every_one(client, officer, draft):
    login_as(client, officer)
    page = text(client.get(f"/contracts/{draft.id}/sign"))
    assert 'data-field="placeholder"' in page and 'type="submit"' in page and "disabled" not in page
    response = client.post(f"/contracts/{draft.id}/sign", data={
        "version": draft.version, "signed_on": (TODAY + D).isoformat(), "purchaser_signatory": "张局长",
        "supplier_signatory": "王主任"})
    assert response.status_code == 400
    page = text(response)
    assert shown("The signing date cannot be in the future.") in field_errors(page, "signed_on")[0]
    assert reload(draft.id).state == ContractState.DRAFT


def test_signing_issues_the_pdf_that_every_party_downloads(client, officer, draft, supplier, bureau):
    ready(draft, officer)
    login_as(client, officer)
    scan = b"%PDF-1.4 sealed paper copy"
    response = client.post(f"/contracts/{draft.id}/sign", content_type="multipart/form-data", data={
        "version": draft.version, "signed_on": TODAY.isoformat(), "purchaser_signatory": "张局长",
        "supplier_signatory": "王主任", "scan": (io.BytesIO(scan), "盖章扫描件.pdf")})
    assert response.status_code == 302, text(response)
    contract = reload(draft.id)
    assert contract.state == ContractState.SIGNED and contract.project.stage == ProjectStage.CONTRACTED
    sha256 = contract.document.sha256

    page = text(client.get(f"/contracts/{draft.id}"))
    assert sha256 in page and 'data-step="contract_publication"' in page and 'id="publish-form"' in page
    assert 'id="sign-link"' not in page and 'id="supplement-link"' in page

    pdf = client.get(f"/contracts/{draft.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == f"attachment; filename*=UTF-8''{contract.number}.pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == sha256
    assert client.get(f"/contracts/{draft.id}/scan").data == scan

    # the supplier of the contract sees it and downloads the same bytes; another supplier does not
    login_as(client, make_user(Role.SUPPLIER, organization=supplier))
    assert contract.number in text(client.get("/contracts/"))
    page = text(client.get(f"/contracts/{draft.id}"))
    assert 'id="publish-form"' not in page and 'id="supplement-link"' not in page
    assert hashlib.sha256(client.get(f"/contracts/{draft.id}/pdf").data).hexdigest() == sha256
    login_as(client, make_user(Role.SUPPLIER, organization=registered_supplier()))
    assert contract.number not in text(client.get("/contracts/"))
    for url in ("", "/pdf", "/preview", "/preview.html", "/scan"):
        assert client.get(f"/contracts/{draft.id}{url}").status_code == 404, url

    # finance of the region sees it in the list and downloads it, read-only
    login_as(client, make_user(Role.FINANCE, region_code="530626"))
    page = text(client.get("/contracts/?state=signed&q=" + contract.number[-6:]))
    assert contract.number in page and 'data-deadline-state="due"' in page
    assert hashlib.sha256(client.get(f"/contracts/{draft.id}/pdf").data).hexdigest() == sha256
    assert 'id="publish-form"' not in text(client.get(f"/contracts/{draft.id}"))
    assert client.get(f"/contracts/{draft.id}/edit").status_code == 403

    downloads = db.session.execute(select(AuditRecord.detail).where(AuditRecord.action == "contract.download")
                                   ).scalars().all()
    assert len(downloads) == 3 and all(d["sha256"] == sha256 for d in downloads)


def test_a_signed_contract_cannot_be_changed(client, officer, signed):
    login_as(client, officer)
    before = (signed.title, signed.version)
    for page in ("edit", "lines", "instalments", "sign"):
        response = client.get(f"/contracts/{signed.id}/{page}")
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/contracts/{signed.id}")
    response = client.post(f"/contracts/{signed.id}/edit", data=edit_data(signed, title="改过的标题"),
                           follow_redirects=True)
    assert shown("The contract is “%(state)s”; a signed contract can no longer be changed.",
                 state=ContractState.SIGNED.label) in text(response)
    contract = reload(signed.id)
    assert (contract.title, contract.version) == before
    # a signed contract's PDF is its issued bytes, not a new rendering
    assert hashlib.sha256(client.get(f"/contracts/{signed.id}/pdf").data).hexdigest() == contract.document.sha256


def test_publication_filing_and_service_start_are_recorded_in_order(client, officer, signed):
    login_as(client, officer)
    response = client.post(f"/contracts/{signed.id}/publish", data={
        "version": signed.version, "published_on": (TODAY - 5 * D).isoformat(), "publication_ref": "中国政府采购网"})
    assert response.status_code == 400
    assert field_errors(text(response), "published_on") == [
        shown("Not before the contract was signed (%(day)s).", day=TODAY)]
    response = client.post(f"/contracts/{signed.id}/publish", data={
        "version": signed.version, "published_on": TODAY.isoformat(), "publication_ref": " "})
    assert response.status_code == 400 and field_errors(text(response), "publication_ref")
    assert client.post(f"/contracts/{signed.id}/file", data={"filed_on": TODAY.isoformat()}).status_code == 400

    response = client.post(f"/contracts/{signed.id}/publish", data={
        "version": signed.version, "published_on": TODAY.isoformat(), "publication_ref": "中国政府采购网"})
    assert response.status_code == 302
    assert 'id="file-form"' in text(client.get(f"/contracts/{signed.id}"))
    contract = reload(signed.id)
    assert client.post(f"/contracts/{signed.id}/file", data={
        "version": contract.version, "filed_on": TODAY.isoformat(), "filing_ref": "绥财备〔2026〕1号"}).status_code == 302
    contract = reload(signed.id)
    assert client.post(f"/contracts/{signed.id}/start", data={
        "version": contract.version, "started_on": TODAY.isoformat()}).status_code == 302
    contract = reload(signed.id)
    assert contract.state == ContractState.IN_SERVICE and contract.project.stage == ProjectStage.IN_SERVICE


def test_a_supplementary_contract_adds_at_most_ten_percent(client, officer, signed):
    login_as(client, officer)
    first, second = signed.lines
    page = text(client.get(f"/contracts/{signed.id}/supplement"))
    assert f'name="qty_{first.id}"' in page
    response = client.post(f"/contracts/{signed.id}/supplement", data={
        "change_reason": "服务对象增加", f"qty_{first.id}": "200", f"qty_{second.id}": ""})  # 9,000 > 6,500
    assert response.status_code == 400
    assert shown("Supplementary contracts may add at most %(limit)s yuan in total (10 percent of %(original)s); "
                 "%(earlier)s is already added.", limit=Decimal("6500.00"), original=Decimal("65000.00"),
                 earlier=Decimal("0.00")) in html.unescape(top_problems(text(response))).replace("&", "&amp;")
    response = client.post(f"/contracts/{signed.id}/supplement", data={
        "change_reason": "服务对象增加", f"qty_{first.id}": "100"})
    assert response.status_code == 302
    supplement = db.session.execute(select(Contract).where(Contract.parent_id == signed.id)).scalar_one()
    assert supplement.state == ContractState.DRAFT and supplement.amount == Decimal("4500.00")
    assert response.headers["Location"].endswith(f"/contracts/{supplement.id}")


# --- who sees what -------------------------------------------------------------------------------

def test_a_draft_is_hidden_from_suppliers_and_other_counties(client, officer, draft, supplier):
    login_as(client, make_user(Role.SUPPLIER, organization=supplier))
    assert client.get(f"/contracts/{draft.id}").status_code == 404
    assert client.get(f"/contracts/{draft.id}/pdf").status_code == 404
    assert draft.number not in text(client.get("/contracts/"))
    login_as(client, make_user(Role.OFFICER, organization=make_bureau("532601")))
    assert client.get(f"/contracts/{draft.id}").status_code == 404
    assert client.get(f"/contracts/{draft.id}/edit").status_code == 404
    # finance of the county sees the draft, read-only, without its draft PDF
    login_as(client, make_user(Role.FINANCE, region_code="530626"))
    page = text(client.get(f"/contracts/{draft.id}"))
    assert 'id="sign-link"' not in page and 'id="download-pdf"' not in page
    assert client.get(f"/contracts/{draft.id}/pdf").status_code == 404
    assert client.post(f"/contracts/{draft.id}/sign", data={}).status_code == 403


def test_the_list_filters_by_state_and_text(client, officer, draft):
    login_as(client, officer)
    assert draft.number in text(client.get("/contracts/"))
    assert draft.number in text(client.get("/contracts/?state=draft&q=" + draft.number))
    assert draft.number not in text(client.get("/contracts/?state=signed"))
    assert draft.number not in text(client.get("/contracts/?q=nothing%25like"))
    for query in ("?state=bogus&page=-3", "?page=99999999999999", "?q=" + "长" * 500):
        assert client.get("/contracts/" + query).status_code == 200
