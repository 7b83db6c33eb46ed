"""The home page counts the contracts each role may see: the region's for officers, a supplier's own."""

from contracts.models import ContractState
from procurement.auth.roles import Role
from procurement.extensions import db
from tests.contract_factories import make_contract
from tests.factories import login_as, make_item, make_list, make_supplier, make_user


def test_officer_sees_the_regions_contracts_by_state_and_a_supplier_its_own(client):
    officer = make_user(Role.OFFICER, region_code="530626")
    item = make_item(make_list(region_code="530626", year=2026))
    ours, theirs = make_supplier("530626", name="阳光中心"), make_supplier("530626", name="同心中心")
    make_contract(officer.organization, ours, item, state=ContractState.SIGNED)
    make_contract(officer.organization, ours, item, state=ContractState.DRAFT)
    make_contract(officer.organization, theirs, item, state=ContractState.IN_SERVICE)
    supplier_user = make_user(Role.SUPPLIER, organization=ours)
    db.session.commit()

    login_as(client, officer)
    page = client.get("/").get_data(as_text=True)
    assert "草稿 1" in page and "已签订 1" in page and "履约中 1" in page

    login_as(client, supplier_user)
    page = client.get("/").get_data(as_text=True)
    assert "我的合同" in page and "已签订 1" in page
    assert "草稿" not in page and "履约中" not in page  # its draft is not shown to it, nor another's contract
