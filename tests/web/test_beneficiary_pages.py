"""The beneficiary pages (服务对象): registry, audited reveals, supplier visibility, assignment on the contract page.

Messages are asserted as the page renders them (``shown(msgid)``: the app's language, HTML-escaped).
"""

import re
from datetime import timedelta

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import func, select

from contracts.models import ContractState
from procurement import crypto
from procurement.audit.models import AuditRecord
from procurement.auth.roles import Role
from procurement.beneficiaries import services
from procurement.beneficiaries.models import Assignment, Beneficiary, LegalBasis
from procurement.catalog.models import CatalogItem
from procurement.extensions import db
from procurement.orgs.models import RegionLevel
from procurement.orgs.services import create_region
from procurement.rules.clock import beijing_today
from procurement.rules.identifiers import cid_check_char
from tests.contract_factories import make_contract
from tests.factories import login_as, make_user, region, target_group
from tests.project_factories import actor, county_items, make_bureau, registered_supplier

TODAY = beijing_today()
D = timedelta(days=1)


def cid(body: str) -> str:
    return body + cid_check_char(body)


ADULT = cid("53062619800101123")
OTHER_ADULT = cid("53062619750505456")


def text(response) -> str:
    return response.get_data(as_text=True)


def shown(msgid: str, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


def field_errors(page: str, field_id: str) -> list[str]:
    """The error messages rendered after one field (up to the next label or the end of the form)."""
    start = page.find(f'id="{field_id}"')
    if start < 0:
        return []
    end = min(i for i in (page.find("<label", start), page.find("</form>", start), len(page)) if i >= 0)
    return re.findall(r'invalid-feedback d-block">(.*?)</div>', page[start:end], re.S)


def form_data(**overrides) -> dict:
    data = {"name": "李秀英", "id_number": ADULT, "region": "530626", "category": str(target_group("TK").id),
            "address": "绥江县中城镇1号", "phone": "13800001111", "household": "独居", "needs_assessment": "需上门照料",
            "health_notes": "高血压，需每日服药", "guardian_name": "", "guardian_relation": "", "guardian_phone": "",
            "legal_basis": LegalBasis.LEGAL_DUTY.value, "legal_basis_note": "绥民发〔2026〕3号"}
    return {**data, **overrides}


def register(officer, number=ADULT, name="李秀英", health_notes="高血压") -> Beneficiary:
    data = services.BeneficiaryData(name=name, id_number=number, category_id=target_group("TK").id,
                                    region=region("530626"), health_notes=health_notes,
                                    legal_basis=LegalBasis.LEGAL_DUTY)
    record = services.create_beneficiary(data, actor(officer), TODAY)
    db.session.commit()
    return record


def running_contract(bureau, supplier, **overrides):
    item = db.session.execute(select(CatalogItem)).scalars().first()
    if item is None:
        _list, (item,) = county_items()
    return make_contract(bureau, supplier, item, state=ContractState.IN_SERVICE, term_start=TODAY - 30 * D,
                         term_end=TODAY + 300 * D, **overrides)


@pytest.fixture
def bureau():
    return make_bureau("530626", name="绥江县民政局")


@pytest.fixture
def officer(bureau):
    return make_user(Role.OFFICER, organization=bureau)


# --- registering -----------------------------------------------------------------------------------

def test_register_then_the_list_shows_the_masked_number_only(client, officer):
    login_as(client, officer)
    response = client.post("/beneficiaries/new", data=form_data())
    assert response.status_code == 302
    record = db.session.execute(select(Beneficiary)).scalar_one()
    assert record.id_masked != ADULT and crypto.decrypt(record.id_number_enc) == ADULT
    for url in ("/beneficiaries/", f"/beneficiaries/{record.id}", f"/beneficiaries/{record.id}/edit"):
        page = text(client.get(url))
        assert record.id_masked in page
        assert ADULT not in page
        assert "高血压" not in page
    # a search by the exact number (POST, see test_an_id_number_search_keeps_the_number_out_of_urls) finds the person
    page = text(client.post("/beneficiaries/search", data={"id_number": ADULT}))
    assert f'data-beneficiary="{record.id}"' in page
    page = text(client.get("/beneficiaries/", query_string={"q": "王"}))
    assert f'data-beneficiary="{record.id}"' not in page
    page = text(client.get("/beneficiaries/", query_string={"category": "999999", "page": "x"}))
    assert page.count("data-beneficiary=") == 0


def test_duplicate_id_number_is_refused_naming_the_existing_record(client, officer):
    existing = register(officer)
    login_as(client, officer)
    response = client.post("/beneficiaries/new", data=form_data(name="另一人"))
    assert response.status_code == 400
    errors = field_errors(text(response), "id_number")
    assert errors == [shown("This ID number is already registered (%(name)s, %(masked)s, %(bureau)s).",
                            name=existing.name, masked=existing.id_masked, bureau="绥江县民政局")]
    assert db.session.scalar(select(func.count()).select_from(Beneficiary)) == 1


def test_a_child_without_guardian_is_refused_next_to_the_guardian_fields(client, officer):
    child = cid(f"530626{TODAY.year - 8}0101123")
    login_as(client, officer)
    response = client.post("/beneficiaries/new", data=form_data(id_number=child,
                                                                legal_basis=LegalBasis.GUARDIAN_CONSENT.value))
    assert response.status_code == 400
    page = text(response)
    message = shown("A child under %(n)s needs a guardian on record: name, relation and phone.", n=14)
    for field in ("guardian_name", "guardian_relation", "guardian_phone"):
        assert len(field_errors(page, field)) == 1 and message in field_errors(page, field)[0]
    assert field_errors(page, "id_number") == []
    response = client.post("/beneficiaries/new", data=form_data(
        id_number=child, guardian_name="李父", guardian_relation="父亲", guardian_phone="13900002222"))
    assert response.status_code == 302


def test_a_wrong_check_digit_is_refused_next_to_the_id_number(client, officer):
    wrong = ADULT[:17] + ("0" if ADULT[17] != "0" else "1")
    login_as(client, officer)
    response = client.post("/beneficiaries/new", data=form_data(id_number=wrong, name=""))
    assert response.status_code == 400
    page = text(response)
    assert len(field_errors(page, "id_number")) == 1
    assert field_errors(page, "name") == [shown("Enter the name.")]
    assert db.session.scalar(select(func.count()).select_from(Beneficiary)) == 0


# --- reveal ----------------------------------------------------------------------------------------

def test_reveal_shows_the_full_number_once_and_is_audited(client, officer):
    record = register(officer)
    login_as(client, officer)
    page = text(client.get(f"/beneficiaries/{record.id}"))
    assert shown("Show the full ID number") in page and shown("Recorded, hidden") in page
    response = client.post(f"/beneficiaries/{record.id}/reveal", data={"what": "id_number"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert ADULT in text(response)
    audits = db.session.execute(select(AuditRecord).where(AuditRecord.action == "beneficiary.reveal")).scalars().all()
    assert len(audits) == 1
    # not kept anywhere: the next plain view is masked again
    assert ADULT not in text(client.get(f"/beneficiaries/{record.id}"))
    response = client.post(f"/beneficiaries/{record.id}/reveal", data={"what": "health_notes"})
    assert "高血压" in text(response) and ADULT not in text(response)
    assert client.post(f"/beneficiaries/{record.id}/reveal", data={"what": "address"}).status_code == 400


# --- suppliers and finance --------------------------------------------------------------------------

def test_a_supplier_sees_only_the_people_of_its_running_contracts(client, officer, bureau):
    supplier = registered_supplier()
    other_supplier = registered_supplier()
    mine, not_assigned, theirs = (register(officer, ADULT, "甲"), register(officer, OTHER_ADULT, "乙"),
                                  register(officer, cid("53062619900303789"), "丙"))
    contract = running_contract(bureau, supplier)
    services.assign(contract, mine, actor(officer), TODAY)
    services.assign(running_contract(bureau, other_supplier), theirs, actor(officer), TODAY)
    db.session.commit()
    user = make_user(Role.SUPPLIER, organization=supplier)
    login_as(client, user)
    page = text(client.get("/beneficiaries/"))
    assert f'data-beneficiary="{mine.id}"' in page
    assert f'data-beneficiary="{not_assigned.id}"' not in page and f'data-beneficiary="{theirs.id}"' not in page
    page = text(client.get(f"/beneficiaries/{mine.id}"))
    assert mine.id_masked in page and ADULT not in page
    assert shown("Show the full ID number") not in page
    assert client.get(f"/beneficiaries/{not_assigned.id}").status_code == 404
    assert client.get(f"/beneficiaries/{theirs.id}").status_code == 404
    assert client.post(f"/beneficiaries/{mine.id}/reveal", data={"what": "id_number"}).status_code == 403
    assert client.get("/beneficiaries/new").status_code == 403
    assert client.get(f"/beneficiaries/{mine.id}/edit").status_code == 403
    # the contract page shows the supplier its assigned people, masked, without the assignment form
    page = text(client.get(f"/contracts/{contract.id}"))
    assert 'id="beneficiaries"' in page and mine.id_masked in page and ADULT not in page
    assert 'id="assign-form"' not in page


def test_finance_has_no_access(client, officer):
    record = register(officer)
    login_as(client, make_user(Role.FINANCE))
    for url in ("/beneficiaries/", f"/beneficiaries/{record.id}", "/beneficiaries/new"):
        assert client.get(url).status_code == 403
    assert client.post(f"/beneficiaries/{record.id}/reveal", data={"what": "id_number"}).status_code == 403


def test_an_officer_of_another_county_gets_404(client, officer):
    record = register(officer)
    create_region("530627", "威信县", RegionLevel.COUNTY, region("530600"),
                  actor(make_user(Role.SYSADMIN, region_code="530000")))
    login_as(client, make_user(Role.OFFICER, organization=make_bureau("530627")))
    assert client.get(f"/beneficiaries/{record.id}").status_code == 404
    assert client.post(f"/beneficiaries/{record.id}/reveal", data={"what": "id_number"}).status_code == 404


# --- editing ----------------------------------------------------------------------------------------

def test_edit_without_retyping_the_id_keeps_it_and_audits_no_reveal(client, officer):
    record = register(officer)
    login_as(client, officer)
    page = text(client.get(f"/beneficiaries/{record.id}/edit"))
    assert ADULT not in page and "高血压" not in page
    response = client.post(f"/beneficiaries/{record.id}/edit", data=form_data(
        id_number="", health_notes="", name="李秀英（改）", version=str(record.version)))
    assert response.status_code == 302, field_errors(text(response), "id_number")
    db.session.expire_all()
    record = db.session.get(Beneficiary, record.id)
    assert record.name == "李秀英（改）"
    assert crypto.decrypt(record.id_number_enc) == ADULT
    assert crypto.decrypt(record.health_notes_enc) == "高血压"
    assert db.session.scalar(select(func.count()).select_from(AuditRecord)
                             .where(AuditRecord.action == "beneficiary.reveal")) == 0
    # a stale version is a conflict
    response = client.post(f"/beneficiaries/{record.id}/edit", data=form_data(id_number="", version="1"))
    assert response.status_code == 409


# --- assignment on the contract page ----------------------------------------------------------------

def test_assign_by_id_number_and_end_with_a_reason(client, officer, bureau):
    record = register(officer)
    contract = running_contract(bureau, registered_supplier())
    db.session.commit()
    login_as(client, officer)
    page = text(client.get(f"/contracts/{contract.id}"))
    assert 'id="assign-form"' in page
    unknown = cid("53062619600606321")
    response = client.post(f"/beneficiaries/assign/{contract.id}", data={"id_number": unknown})
    assert response.status_code == 400
    assert field_errors(text(response), "id_number") == [
        shown("No beneficiary of your region has this ID number. Register the person first.")]
    response = client.post(f"/beneficiaries/assign/{contract.id}", data={"id_number": ADULT})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/contracts/{contract.id}#beneficiaries")
    assignment = db.session.execute(select(Assignment)).scalar_one()
    page = text(client.get(f"/contracts/{contract.id}"))
    assert f'data-assignment="{assignment.id}"' in page and record.id_masked in page and ADULT not in page
    # twice: refused and flashed
    client.post(f"/beneficiaries/assign/{contract.id}", data={"id_number": ADULT})
    assert shown("%(name)s is already assigned to this contract.", name=record.name) in text(
        client.get(f"/contracts/{contract.id}"))
    # ending needs a reason
    client.post(f"/beneficiaries/assignments/{assignment.id}/end", data={"reason": " "})
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).ended_on is None
    response = client.post(f"/beneficiaries/assignments/{assignment.id}/end", data={"reason": "迁出本县"})
    assert response.status_code == 302
    db.session.expire_all()
    ended = db.session.get(Assignment, assignment.id)
    assert ended.ended_on == TODAY and ended.end_reason == "迁出本县"
    assert db.session.scalar(select(func.count()).select_from(AuditRecord)
                             .where(AuditRecord.action == "beneficiary.unassign")) == 1


def test_finance_sees_no_beneficiary_card_on_the_contract_page(client, officer, bureau):
    record = register(officer)
    contract = running_contract(bureau, registered_supplier())
    services.assign(contract, record, actor(officer), TODAY)
    db.session.commit()
    login_as(client, make_user(Role.FINANCE))
    response = client.get(f"/contracts/{contract.id}")
    assert response.status_code == 200
    assert 'id="beneficiaries"' not in text(response) and record.id_masked not in text(response)


def test_hostile_input_never_fails(client, officer, bureau):
    from tests.web.test_no_server_errors import GARBAGE_ROUNDS, FormFields, hostile_data

    record = register(officer)
    contract = running_contract(bureau, registered_supplier())
    assignment = services.assign(contract, record, actor(officer), TODAY)
    db.session.commit()
    login_as(client, officer)
    for url, form_page in (("/beneficiaries/new", "/beneficiaries/new"),
                           (f"/beneficiaries/{record.id}/edit", f"/beneficiaries/{record.id}/edit"),
                           (f"/beneficiaries/assign/{contract.id}", f"/contracts/{contract.id}"),
                           (f"/beneficiaries/assignments/{assignment.id}/end", f"/contracts/{contract.id}"),
                           (f"/beneficiaries/{record.id}/reveal", f"/beneficiaries/{record.id}"),
                           ("/beneficiaries/search", "/beneficiaries/")):
        parser = FormFields()
        parser.feed(text(client.get(form_page)))
        for garbage in GARBAGE_ROUNDS:
            response = client.post(url, data=hostile_data(parser.fields, garbage), content_type="multipart/form-data")
            assert response.status_code < 500, url
    for query in ("page=99999999999999999999&category=abc&q=%25%5F", "q=" + "9" * 400, "category=-1"):
        assert client.get("/beneficiaries/?" + query).status_code in (200, 302)  # digits: sent back without them


def test_an_id_number_search_keeps_the_number_out_of_urls(client, officer):
    record, other = register(officer), register(officer, OTHER_ADULT, "王芳")
    login_as(client, officer)
    # by POST: the answer is the list itself, with the one person; no redirect, and the number is not echoed back
    response = client.post("/beneficiaries/search", data={"id_number": ADULT.lower()})
    page = text(response)
    assert response.status_code == 200 and "Location" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert f'data-beneficiary="{record.id}"' in page and f'data-beneficiary="{other.id}"' not in page
    assert ADULT not in page and ADULT.lower() not in page
    assert re.search(r'<form method="post" action="/beneficiaries/search"', page)
    # every link and form action of the answer is free of the number
    assert not [url for url in re.findall(r'(?:href|action)="([^"]*)"', page) if ADULT[:6] + ADULT[6:14] in url]
    # a wrong number is refused next to the field, with nothing listed
    response = client.post("/beneficiaries/search", data={"id_number": ADULT[:-1] + ("0" if ADULT[-1] != "0" else "1")})
    assert response.status_code == 400
    assert field_errors(text(response), "id_number") and "data-beneficiary=" not in text(response)
    # by GET the number is not searched: back to the list without it, with a word about the ID number search
    for typed in (ADULT, ADULT[:14], f"李 {ADULT}"):
        response = client.get("/beneficiaries/", query_string={"q": typed, "category": "7"})
        assert response.status_code == 302 and ADULT[:10] not in response.headers["Location"]
        assert response.headers["Location"].startswith("/beneficiaries/?category=7")
    page = text(client.get(response.headers["Location"]))
    assert shown("An ID number is not searched from the address bar (it would be kept in logs and the browser "
                 "history): use the ID number search below.") in page
    assert ADULT not in page
    page = text(client.get("/beneficiaries/", query_string={"q": "王"}))
    assert f'data-beneficiary="{other.id}"' in page and f'data-beneficiary="{record.id}"' not in page
    # a supplier searches the same way, within its own people only
    supplier = make_user(Role.SUPPLIER, organization=registered_supplier())
    login_as(client, supplier)
    response = client.post("/beneficiaries/search", data={"id_number": ADULT})
    assert response.status_code == 200 and "data-beneficiary=" not in text(response)
