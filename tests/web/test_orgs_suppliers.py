"""The supplier registry as officers, finance staff and supplier users use it."""

import html
import re
from datetime import date, timedelta

import pytest
from flask_babel import gettext
from sqlalchemy import event, func, insert, select

from procurement.audit.services import Actor
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.orgs import services
from procurement.orgs.models import Organization, OrgKind, OrgType, Qualification, SupplierBan, organization_service_region
from procurement.rules.clock import beijing_today
from procurement.rules.eligibility import ORDER_102_8
from procurement.rules.identifiers import check_uscc
from tests.factories import login_as, make_supplier, make_user, region, valid_uscc


def text(response) -> str:
    return response.get_data(as_text=True)


def field_errors(page: str, field_id: str) -> list[str]:
    """The error messages rendered in the wrapper of one field (up to the next field's label)."""
    start = page.find(f'id="{field_id}"')
    if start < 0:
        return []
    end = min(i for i in (page.find("<label", start), page.find("</form>", start), len(page)) if i >= 0)
    return [html.unescape(m) for m in re.findall(r'invalid-feedback d-block">(.*?)</div>', page[start:end], re.S)]


def reload(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


@pytest.fixture
def officer(client):
    user = make_user(Role.OFFICER, region_code="530626")
    login_as(client, user)
    return user


def form(**overrides) -> dict:
    data = {
        "name": "绥江县助老社会工作服务中心", "credit_code": valid_uscc("52", "530626"), "org_type": "social_service",
        "region": "530626", "legal_representative": "陈静", "address": "绥江县中城镇新滩社区", "contact_name": "陈静",
        "contact_phone": "13987001234", "contact_email": "", "bank_account_name": "", "bank_name": "",
        "bank_account_no": "", "service_regions": ["530626"], "note": "",
    }
    data.update(overrides)
    return data


def suppliers_named(name):
    return db.session.execute(select(Organization).where(Organization.name == name)).scalars().all()


# --- access -----------------------------------------------------------------------------

def test_a_supplier_user_never_reaches_the_registry_or_another_suppliers_page(client):
    own = make_supplier(name="绥江县阳光社会工作服务中心")
    other = make_supplier(name="文山市彩云社会工作服务中心")
    user = make_user(Role.SUPPLIER, organization=own)
    login_as(client, user)
    assert client.get("/orgs/suppliers").status_code == 403
    assert client.get(f"/orgs/suppliers/{other.id}").status_code == 403
    assert client.get(f"/orgs/suppliers/{own.id}").status_code == 403
    assert client.get(f"/orgs/suppliers/{other.id}/edit").status_code == 403
    assert client.post(f"/orgs/suppliers/{other.id}/active", data={"active": "0"}).status_code == 403
    assert reload(Organization, other.id).active
    page = text(client.get("/orgs/own"))
    assert "绥江县阳光社会工作服务中心" in page and "文山市彩云社会工作服务中心" not in page


def test_finance_reads_the_registry_but_cannot_change_it(client):
    supplier = make_supplier(name="绥江县阳光社会工作服务中心", bank_account_no="6222021234567890",
                             bank_name="农行", bank_account_name="绥江县阳光社会工作服务中心")
    login_as(client, make_user(Role.FINANCE, region_code="530626"))
    assert "绥江县阳光社会工作服务中心" in text(client.get("/orgs/suppliers"))
    detail = text(client.get(f"/orgs/suppliers/{supplier.id}"))
    assert "6222021234567890" in detail  # finance pays: full account
    assert f"/orgs/suppliers/{supplier.id}/edit" not in detail
    assert client.get("/orgs/suppliers/new").status_code == 403
    assert client.get(f"/orgs/suppliers/{supplier.id}/bans/new").status_code == 403


def test_an_officer_outside_the_region_cannot_edit(client):
    supplier = make_supplier("532601", name="文山市彩云社会工作服务中心")
    supplier.service_regions = [region("532601")]
    supplier.bank_account_no = "6222021234567890"
    login_as(client, make_user(Role.OFFICER, region_code="530626"))
    detail = text(client.get(f"/orgs/suppliers/{supplier.id}"))
    assert "文山市彩云社会工作服务中心" in detail  # the registry is public across the province
    assert f"/orgs/suppliers/{supplier.id}/edit" not in detail and "6222021234567890" not in detail and "****7890" in detail
    assert client.get(f"/orgs/suppliers/{supplier.id}/edit").status_code == 403
    response = client.post(f"/orgs/suppliers/{supplier.id}/edit", data=form(name="改名", credit_code=supplier.credit_code,
                                                                          region="532601", service_regions=["532601"]))
    assert response.status_code == 403
    assert reload(Organization, supplier.id).name == "文山市彩云社会工作服务中心"
    assert client.get(f"/orgs/suppliers/{supplier.id}/qualifications/new").status_code == 403
    assert client.post(f"/orgs/suppliers/{supplier.id}/bans/new", data={
        "starts_on": "2026-03-01", "ends_on": "2027-02-28", "reason": "x"}).status_code == 403


def test_a_bureau_is_not_a_supplier_page(client, officer):
    assert client.get(f"/orgs/suppliers/{officer.organization_id}").status_code == 404
    assert client.get("/orgs/suppliers/999999").status_code == 404


# --- registering ------------------------------------------------------------------------

def test_an_officer_registers_a_supplier(client, officer):
    code = valid_uscc("52", "530626")
    response = client.post("/orgs/suppliers/new", data=form(credit_code=code.lower()[:6] + " " + code.lower()[6:],
                                                            contact_phone="0870-7621012",
                                                            service_regions=["530626", "532601"]))
    assert response.status_code == 302
    (org,) = suppliers_named("绥江县助老社会工作服务中心")
    assert org.credit_code == code and org.org_type == OrgType.SOCIAL_SERVICE
    assert [r.code for r in org.service_regions] == ["530626", "532601"]
    assert response.location.endswith(f"/orgs/suppliers/{org.id}")


def test_a_public_institution_of_class_1_is_refused_with_the_rule_next_to_the_type(client, officer):
    response = client.post("/orgs/suppliers/new", data=form(org_type="public_institution_1", credit_code=valid_uscc("12")))
    assert response.status_code == 400
    errors = field_errors(text(response), "org_type")
    expected = gettext("A public institution of class 1 (公益一类事业单位) may not be a supplier of government-purchased services.")
    assert errors and expected in errors[0] and ORDER_102_8 in errors[0]
    assert suppliers_named("绥江县助老社会工作服务中心") == []


def test_government_is_not_offered_as_a_supplier_type(client, officer):
    page = text(client.get("/orgs/suppliers/new"))
    assert 'value="public_institution_1"' in page and 'value="government"' not in page
    response = client.post("/orgs/suppliers/new", data=form(org_type="government", credit_code=valid_uscc("11")))
    assert response.status_code == 400 and field_errors(text(response), "org_type")


def test_a_duplicate_credit_code_names_the_registered_organization(client, officer):
    existing = make_supplier(name="绥江县阳光社会工作服务中心")
    db.session.commit()
    response = client.post("/orgs/suppliers/new", data=form(credit_code=existing.credit_code.lower()))
    assert response.status_code == 400
    assert field_errors(text(response), "credit_code") == [
        gettext("This unified social credit code is already registered as “%(name)s”.", name="绥江县阳光社会工作服务中心")]
    assert suppliers_named("绥江县助老社会工作服务中心") == []


@pytest.mark.parametrize("bad", ["52530626MJ000001", "52530626MJ0000O1X", "52530626MJ00000199"])
def test_a_malformed_credit_code_shows_the_check_message_next_to_the_field(client, officer, bad):
    with pytest.raises(ValueError) as raised:
        check_uscc(bad)
    response = client.post("/orgs/suppliers/new", data=form(credit_code=bad))
    assert response.status_code == 400
    assert field_errors(text(response), "credit_code") == [str(raised.value)]


def test_a_civil_affairs_code_that_disagrees_with_the_type_is_refused(client, officer):
    response = client.post("/orgs/suppliers/new", data=form(credit_code=valid_uscc("51"), org_type="foundation"))
    assert response.status_code == 400
    errors = field_errors(text(response), "org_type")
    assert errors and "“1”" in errors[0]


@pytest.mark.parametrize(("field", "value", "msgid"), [
    ("contact_phone", "12345", "Enter a mobile number (11 digits, e.g. 13800000000) or a landline with its area code "
                               "(e.g. 0871-63131000)."),
    ("bank_account_no", "6222-abc", "A bank account number has 8 to 30 digits."),
    ("contact_email", "li@", "Enter an e-mail address like name@example.cn."),
    ("legal_representative", "", "Enter the legal representative."),
])
def test_bad_contact_and_bank_data_is_explained_next_to_the_field(client, officer, field, value, msgid):
    response = client.post("/orgs/suppliers/new", data=form(**{field: value}))
    assert response.status_code == 400
    assert field_errors(text(response), field) == [gettext(msgid)]


def test_an_account_number_needs_its_bank(client, officer):
    response = client.post("/orgs/suppliers/new", data=form(bank_account_no="6222021234567890", bank_account_name="某中心"))
    assert response.status_code == 400
    assert field_errors(text(response), "bank_name") == [gettext("Enter the bank of the account.")]


def test_garbage_in_selects_is_a_message_not_a_crash(client, officer):
    response = client.post("/orgs/suppliers/new", data=form(region="999999", service_regions=["x"], org_type="nope"))
    assert response.status_code == 400
    page = text(response)
    assert field_errors(page, "region") and field_errors(page, "service_regions") and field_errors(page, "org_type")


# --- editing ----------------------------------------------------------------------------

def test_a_stale_save_shows_the_other_persons_values_and_keeps_mine(client, officer):
    org = make_supplier(name="绥江县阳光社会工作服务中心", legal_representative="陈静")
    org.service_regions = [region("530626")]
    db.session.commit()
    loaded = org.version
    colleague = make_user(Role.OFFICER, region_code="530626", display_name="王同事")
    services.save_supplier({**services.organization_values(org), "region": org.region, "org_type": org.org_type,
                            "service_regions": list(org.service_regions), "legal_representative": "李四"},
                           Actor(colleague, "10.0.0.2"), org=org, expected_version=loaded)
    db.session.commit()
    response = client.post(f"/orgs/suppliers/{org.id}/edit", data=form(
        version=str(loaded), name="绥江县阳光社工中心", credit_code=org.credit_code, legal_representative="张三"))
    assert response.status_code == 409
    page = text(response)
    assert gettext("Someone else saved this supplier while you were editing it.") in page
    conflict = page[page.index('id="conflict"'):page.index("</table>", page.index('id="conflict"'))]
    assert "李四" in conflict and "张三" in conflict and "王同事" in conflict
    assert 'value="张三"' in page and 'value="绥江县阳光社工中心"' in page  # my input is kept
    assert reload(Organization, org.id).legal_representative == "李四"
    # Saving again, now against the current version, overwrites on purpose.
    current = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    again = client.post(f"/orgs/suppliers/{org.id}/edit", data=form(
        version=current, name="绥江县阳光社工中心", credit_code=org.credit_code, legal_representative="张三"))
    assert again.status_code == 302
    assert reload(Organization, org.id).legal_representative == "张三"


def test_the_edit_form_is_filled_with_the_record(client, officer):
    org = make_supplier(name="绥江县阳光社会工作服务中心", contact_phone="0870-7621012")
    org.service_regions = [region("530626"), region("532601")]
    db.session.commit()
    page = text(client.get(f"/orgs/suppliers/{org.id}/edit"))
    assert 'value="绥江县阳光社会工作服务中心"' in page and 'value="0870-7621012"' in page
    assert re.search(r'<option selected value="532601">|<option value="532601" selected>', page)


def test_deactivating_and_reactivating(client, officer):
    org = make_supplier(name="绥江县阳光社会工作服务中心")
    db.session.commit()
    response = client.post(f"/orgs/suppliers/{org.id}/active", data={"active": "0"}, follow_redirects=True)
    assert gettext("%(name)s has been deactivated; it stays on record.", name=org.name) in text(response)
    assert not reload(Organization, org.id).active
    assert "绥江县阳光社会工作服务中心" not in text(client.get("/orgs/suppliers"))
    assert "绥江县阳光社会工作服务中心" in text(client.get("/orgs/suppliers?status=inactive"))
    client.post(f"/orgs/suppliers/{org.id}/active", data={"active": "1"})
    assert reload(Organization, org.id).active


# --- certificates and bans ----------------------------------------------------------------

def test_a_certificate_is_added_and_its_state_shown(client, officer):
    org = make_supplier()
    db.session.commit()
    soon = beijing_today() + timedelta(days=10)
    response = client.post(f"/orgs/suppliers/{org.id}/qualifications/new", data={
        "name": "养老机构备案回执", "number": "SJ-YL-2023-007", "issuer": "绥江县民政局",
        "valid_from": "2023/1/1", "valid_until": soon.isoformat()})
    assert response.status_code == 302
    detail = text(client.get(f"/orgs/suppliers/{org.id}"))
    assert "养老机构备案回执" in detail and gettext("Expiring soon") in detail
    listing = text(client.get("/orgs/suppliers?flag=expiring"))
    assert org.name in listing


def test_a_certificate_cannot_end_before_it_starts(client, officer):
    org = make_supplier()
    db.session.commit()
    response = client.post(f"/orgs/suppliers/{org.id}/qualifications/new", data={
        "name": "登记证书", "valid_from": "2026-01-02", "valid_until": "2026-01-01"})
    assert response.status_code == 400
    assert field_errors(text(response), "valid_until") == [gettext("The end of validity cannot be before its start.")]
    bad_date = client.post(f"/orgs/suppliers/{org.id}/qualifications/new", data={"name": "登记证书", "valid_from": "2026-02-30"})
    assert field_errors(text(bad_date), "valid_from") == [gettext("Enter a date like 2026-03-01.")]


def test_a_certificate_of_another_supplier_is_not_found(client, officer):
    mine, other = make_supplier(), make_supplier()
    q = Qualification(organization=other, name="证", valid_from=date(2020, 1, 1))
    db.session.add(q)
    db.session.commit()
    assert client.get(f"/orgs/suppliers/{mine.id}/qualifications/{q.id}/edit").status_code == 404


def test_a_ban_longer_than_three_years_is_refused_citing_article_77(client, officer):
    org = make_supplier()
    db.session.commit()
    response = client.post(f"/orgs/suppliers/{org.id}/bans/new", data={
        "starts_on": "2026-03-01", "ends_on": "2029-03-02", "reason": "提供虚假材料谋取中标"})
    assert response.status_code == 400
    assert field_errors(text(response), "ends_on") == [gettext(
        "A procurement ban lasts at most 3 years (%(citation)s); the last possible day is %(last)s.",
        citation="《中华人民共和国政府采购法》第七十七条", last="2029-03-01")]
    assert db.session.scalar(select(func.count()).select_from(SupplierBan)) == 0


def test_a_ban_needs_a_reason(client, officer):
    org = make_supplier()
    db.session.commit()
    response = client.post(f"/orgs/suppliers/{org.id}/bans/new", data={"starts_on": "2026-03-01", "ends_on": "2027-02-28"})
    assert field_errors(text(response), "reason") == [gettext("Enter the reason for the ban (the violation and the decision).")]


def test_a_ban_covers_its_last_day_in_the_registry_and_the_eligibility(client, officer):
    org = make_supplier(name="昭通市康宁养老服务有限公司")
    db.session.commit()
    today = beijing_today()
    response = client.post(f"/orgs/suppliers/{org.id}/bans/new", data={
        "starts_on": (today - timedelta(days=365)).isoformat(), "ends_on": today.isoformat(),
        "reason": "提供虚假材料谋取中标", "document_ref": "昭财采处〔2026〕12号"})
    assert response.status_code == 302
    assert "昭通市康宁养老服务有限公司" in text(client.get("/orgs/suppliers?flag=banned"))
    detail = text(client.get(f"/orgs/suppliers/{org.id}"))
    assert 'data-code="banned"' in detail and "昭财采处〔2026〕12号" in detail
    tomorrow = text(client.get(f"/orgs/suppliers/{org.id}?on={(today + timedelta(days=1)).isoformat()}"))
    assert 'data-code="banned"' not in tomorrow


def test_the_detail_page_shows_every_field_and_the_eligibility(client, officer):
    org = make_supplier(name="绥江县阳光社会工作服务中心", org_type=OrgType.SOCIAL_SERVICE, address="绥江县中城镇新滩社区",
                        contact_email="yg@example.cn", note="2019年成立")
    org.service_regions = [region("530626")]
    org.qualifications.append(Qualification(name="民办非企业单位登记证书", number="N-1", issuer="绥江县民政局",
                                            valid_from=date(2020, 1, 1), valid_until=date(2021, 1, 1)))
    db.session.commit()
    page = text(client.get(f"/orgs/suppliers/{org.id}"))
    for value in (org.credit_code, org.legal_representative, "绥江县中城镇新滩社区", "yg@example.cn", "2019年成立",
                  "云南省昭通市绥江县", "民办非企业单位登记证书", "N-1"):
        assert value in page
    assert 'data-code="qualification_expired"' in page
    assert gettext("This supplier may not be awarded a purchase on this date.") in page


# --- the list ---------------------------------------------------------------------------------

def test_the_list_searches_filters_and_pages(client, officer, app):
    for n in range(app.config["PAGE_SIZE"] + 3):
        make_supplier(name=f"服务中心{n:03d}")
    make_supplier(name="绥江县阳光社会工作服务中心", legal_representative="陈静")
    db.session.commit()
    first = text(client.get("/orgs/suppliers"))
    assert "服务中心000" in first and "服务中心052" not in first
    assert "服务中心052" in text(client.get("/orgs/suppliers?page=2"))
    searched = text(client.get("/orgs/suppliers?q=陈静"))
    assert "绥江县阳光社会工作服务中心" in searched and "服务中心000" not in searched


@pytest.mark.parametrize("query", ["page=abc", "page=-1", "page=99999999999999999999", "org_type=x", "region=%00",
                                   "flag=drop", "status=x", "sort=;", "q=" + "长" * 500, "q=%25_%5C"])
def test_odd_query_arguments_never_crash_the_list(client, officer, query):
    assert client.get(f"/orgs/suppliers?{query}").status_code == 200


INLINE = re.compile(r"""<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=""", re.I)


def test_registry_pages_have_no_inline_script_or_style(client, officer):
    org = make_supplier()
    q = Qualification(organization=org, name="证", valid_from=date(2020, 1, 1))
    db.session.add(q)
    db.session.commit()
    for url in ("/orgs/suppliers", f"/orgs/suppliers/{org.id}", "/orgs/suppliers/new", f"/orgs/suppliers/{org.id}/edit",
                f"/orgs/suppliers/{org.id}/qualifications/new", f"/orgs/suppliers/{org.id}/qualifications/{q.id}/edit",
                f"/orgs/suppliers/{org.id}/bans/new", "/orgs/own", "/orgs/regions", "/orgs/organizations"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert not INLINE.search(text(response)), (url, INLINE.search(text(response)).group(0))


def test_own_organization_of_an_officer_shows_the_bureau(client, officer):
    page = text(client.get("/orgs/own"))
    assert officer.organization.name in page and officer.organization.credit_code in page


@pytest.fixture
def statements(app):
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(db.engine, "before_cursor_execute", count)


def _bulk_suppliers(n: int, recorder_id: int, start: int = 0):
    """Many suppliers quickly, each with service regions, a certificate and a ban."""
    today = beijing_today()
    county, other = region("530626").id, region("532601").id
    rows = [{"kind": OrgKind.SUPPLIER, "name": f"承接主体{start + i:05d}", "credit_code": valid_uscc("52"),
             "org_type": OrgType.SOCIAL_SERVICE, "region_id": county, "legal_representative": f"法人{i}",
             "address": "地址", "contact_name": "联系人", "contact_phone": "13800000000", "active": True, "version": 1}
            for i in range(n)]
    ids = [db.session.execute(insert(Organization).values(**row).returning(Organization.id)).scalar_one() for row in rows]
    db.session.execute(insert(organization_service_region), [{"organization_id": i, "region_id": r}
                                                              for i in ids for r in (county, other)])
    db.session.execute(insert(Qualification), [{"organization_id": i, "name": "登记证书", "valid_from": date(2021, 1, 1),
                                                "valid_until": today + timedelta(days=i % 60)} for i in ids])
    db.session.execute(insert(SupplierBan), [{"organization_id": i, "starts_on": today - timedelta(days=30),
                                              "ends_on": today + timedelta(days=335), "reason": "x",
                                              "recorded_by_id": recorder_id} for i in ids[::7]])
    db.session.commit()


def test_the_list_page_costs_the_same_queries_for_10_or_50_rows(client, officer, statements):
    _bulk_suppliers(10, officer.id)
    client.get("/orgs/suppliers")
    statements.clear()
    client.get("/orgs/suppliers")
    few = len(statements)
    _bulk_suppliers(60, officer.id, start=10)
    statements.clear()
    page = text(client.get("/orgs/suppliers"))
    assert page.count("/orgs/suppliers/") >= 50
    assert len(statements) == few
