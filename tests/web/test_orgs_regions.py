"""The region tree and the organizations pages."""

import html
import re

import pytest
from flask_babel import gettext
from sqlalchemy import func, select

from procurement.audit.models import AuditRecord
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.orgs.models import Organization, OrgKind, Region
from tests.factories import login_as, make_org, make_supplier, make_user, region, valid_uscc


def text(response) -> str:
    return response.get_data(as_text=True)


def field_errors(page: str, field_id: str) -> list[str]:
    start = page.find(f'id="{field_id}"')
    if start < 0:
        return []
    end = min(i for i in (page.find("<label", start), page.find("</form>", start), len(page)) if i >= 0)
    return [html.unescape(m) for m in re.findall(r'invalid-feedback d-block">(.*?)</div>', page[start:end], re.S)]


@pytest.fixture
def sysadmin(client):
    user = make_user(Role.SYSADMIN, region_code="530000")
    login_as(client, user)
    return user


# --- regions -------------------------------------------------------------------------------

def test_the_tree_is_indented_by_level_with_organization_counts(client):
    make_org(OrgKind.BUREAU, "530626")
    make_supplier("530626")
    login_as(client, make_user(Role.OFFICER, region_code="530626"))  # a third organization in 绥江县
    page = text(client.get("/orgs/regions"))
    row = page[page.index('id="region-530626"'):]
    row = row[:row.index("</tr>")]
    assert "ps-5" in row and "绥江县" in row and re.search(r">\s*3\s*</td>", row)
    prefecture = page[page.index('id="region-530600"'):]
    assert "ps-4" in prefecture[:prefecture.index("</tr>")]
    assert page.index('id="region-530000"') < page.index('id="region-530600"') < page.index('id="region-530626"')
    assert "/orgs/regions/new" not in page  # officers only read the tree


def test_the_system_administrator_adds_a_county(client, sysadmin):
    response = client.post("/orgs/regions/new", data={"level": "county", "parent": "530600", "code": "530627",
                                                      "name": "威信县"})
    assert response.status_code == 302
    added = region("530627")
    assert added.parent.code == "530600" and added.path == "/530000/530600/530627/"
    assert "威信县" in text(client.get("/orgs/regions"))


@pytest.mark.parametrize(("data", "field", "msgid", "variables"), [
    ({"level": "county", "parent": "530600", "code": "530727"}, "code",
     "A county's code starts with the first 4 digits of its prefecture (%(prefix)s).", {"prefix": "5306"}),
    ({"level": "prefecture", "parent": "530000", "code": "520600"}, "code",
     "A prefecture's code starts with the first 2 digits of its province (%(prefix)s).", {"prefix": "53"}),
    ({"level": "prefecture", "parent": "530000", "code": "531001"}, "code",
     "A prefecture code ends in 00 and its digits 3–4 are not 00, e.g. 530600.", {}),
    ({"level": "county", "parent": "530600", "code": "53O627"}, "code",
     "A region code has exactly 6 digits (GB/T 2260), e.g. 530626.", {}),
    ({"level": "county", "parent": "530000", "code": "530627"}, "parent",
     "A prefecture belongs to a province and a county to a prefecture: the level must be one below the parent's.", {}),
])
def test_bad_region_codes_are_explained_next_to_the_field(client, sysadmin, data, field, msgid, variables):
    before = db.session.scalar(select(func.count()).select_from(Region))
    response = client.post("/orgs/regions/new", data={**data, "name": "测试"})
    assert response.status_code == 400
    assert field_errors(text(response), field) == [gettext(msgid, **variables)]
    assert db.session.scalar(select(func.count()).select_from(Region)) == before


def test_a_taken_code_names_the_region(client, sysadmin):
    response = client.post("/orgs/regions/new", data={"level": "county", "parent": "530600", "code": "530626",
                                                      "name": "重复"})
    assert field_errors(text(response), "code") == [
        gettext("The code %(code)s is already used by %(name)s.", code="530626", name="云南省昭通市绥江县")]


def test_a_region_is_renamed_not_recoded(client, sysadmin):
    county = region("530626")
    response = client.post(f"/orgs/regions/{county.id}/edit", data={"name": "绥江县（更名）", "code": "999999"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (region("530626").name, region("530626").code) == ("绥江县（更名）", "530626")
    assert db.session.scalar(select(func.count()).select_from(AuditRecord).where(
        AuditRecord.action == "orgs.region_rename")) == 1


@pytest.mark.parametrize("role", [Role.OFFICER, Role.FINANCE, Role.SECADMIN])
def test_only_the_system_administrator_changes_regions(client, role):
    login_as(client, make_user(role))
    assert client.get("/orgs/regions/new").status_code == 403
    assert client.post(f"/orgs/regions/{region('530626').id}/edit", data={"name": "x"}).status_code == 403
    db.session.expire_all()
    assert region("530626").name == "绥江县"


# --- organizations -------------------------------------------------------------------------

def org_form(**overrides):
    data = {"name": "绥江县财政局", "kind": "finance", "org_type": "government", "region": "530626",
            "credit_code": valid_uscc("11", "530626"), "legal_representative": "吴强", "address": "绥江县中城镇",
            "contact_name": "社会保障股", "contact_phone": "0870-7621088", "contact_email": "", "note": ""}
    data.update(overrides)
    return data


def test_the_system_administrator_adds_and_edits_a_finance_bureau(client, sysadmin):
    response = client.post("/orgs/organizations/new", data=org_form())
    assert response.status_code == 302
    org = db.session.execute(select(Organization).where(Organization.name == "绥江县财政局")).scalar_one()
    assert org.kind == OrgKind.FINANCE and org.region.code == "530626"
    page = text(client.get(f"/orgs/organizations/{org.id}/edit"))
    assert 'value="绥江县财政局"' in page
    response = client.post(f"/orgs/organizations/{org.id}/edit",
                           data=org_form(version=str(org.version), credit_code=org.credit_code, contact_phone="0870-7621099"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, org.id).contact_phone == "0870-7621099"


def test_an_organizations_credit_code_is_checked(client, sysadmin):
    existing = make_org(OrgKind.BUREAU, "530626", name="绥江县民政局")
    db.session.commit()
    response = client.post("/orgs/organizations/new", data=org_form(credit_code=existing.credit_code))
    assert field_errors(text(response), "credit_code") == [
        gettext("This unified social credit code is already registered as “%(name)s”.", name="绥江县民政局")]
    response = client.post("/orgs/organizations/new", data=org_form(credit_code="123"))
    assert response.status_code == 400 and field_errors(text(response), "credit_code")


def test_a_stale_organization_save_is_a_conflict(client, sysadmin):
    org = make_org(OrgKind.BUREAU, "530626", name="绥江县民政局")
    db.session.commit()
    loaded = org.version
    org.contact_phone = "0870-7620000"
    db.session.commit()
    response = client.post(f"/orgs/organizations/{org.id}/edit",
                           data=org_form(version=str(loaded), kind="bureau", name="绥江县民政局", credit_code=org.credit_code,
                                         contact_phone="0870-7621111"))
    assert response.status_code == 409
    page = text(response)
    assert gettext("Someone else saved this organization while you were editing it.") in page
    assert "0870-7620000" in page and 'value="0870-7621111"' in page


def test_a_supplier_is_not_edited_as_an_organization(client, sysadmin):
    supplier = make_supplier()
    db.session.commit()
    assert client.get(f"/orgs/organizations/{supplier.id}/edit").status_code == 404
    response = client.post("/orgs/organizations/new", data=org_form(kind="supplier"))
    assert response.status_code == 400 and field_errors(text(response), "kind")


def test_officers_see_their_region_subtree_and_cannot_edit(client):
    make_org(OrgKind.BUREAU, "530626", name="绥江县民政局")
    make_org(OrgKind.FINANCE, "530626", name="绥江县财政局")
    make_org(OrgKind.BUREAU, "532601", name="文山市民政局")
    login_as(client, make_user(Role.OFFICER, region_code="530600"))
    page = text(client.get("/orgs/organizations"))
    assert "绥江县民政局" in page and "绥江县财政局" in page and "文山市民政局" not in page
    assert "/orgs/organizations/new" not in page
    filtered = text(client.get("/orgs/organizations?kind=finance"))
    assert "绥江县财政局" in filtered and "绥江县民政局" not in filtered
    # A region outside the subtree is no way round the scope.
    assert "文山市民政局" not in text(client.get("/orgs/organizations?region=532601"))
    assert client.get("/orgs/organizations/new").status_code == 403


def test_admins_see_all_organizations_and_search_by_name(client, sysadmin):
    make_org(OrgKind.BUREAU, "530626", name="绥江县民政局")
    make_org(OrgKind.AGENCY, "530000", name="云南同创社会服务评估中心")
    db.session.commit()
    page = text(client.get("/orgs/organizations?q=评估"))
    assert "云南同创社会服务评估中心" in page and "绥江县民政局" not in page


@pytest.mark.parametrize("query", ["kind=x", "region=../", "page=-3", "q=%25%25", "inactive=yes"])
def test_odd_query_arguments_never_crash_the_organizations_list(client, sysadmin, query):
    assert client.get(f"/orgs/organizations?{query}").status_code == 200


def test_an_evaluator_sees_only_their_own_organization(client):
    user = make_user(Role.EVALUATOR)
    login_as(client, user)
    assert client.get("/orgs/organizations").status_code == 403
    assert client.get("/orgs/suppliers").status_code == 403
    assert user.organization.name in text(client.get("/orgs/own"))
