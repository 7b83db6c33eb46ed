"""Service-list rules: versions, adoption, negative list, conflicts, import."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor
from procurement.auth.roles import Role
from procurement.catalog import services
from procurement.catalog.models import ListKind, ListStatus
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.rules.catalog import FrequencyPeriod, Unit
from tests.factories import category, make_item, make_list, make_user, region, target_group


def item_data(**overrides):
    data = {
        "code": "YN-S01-900", "category": category("S01"), "name": "居家上门照料服务",
        "content": "上门协助起居、清洁和安全巡查。", "target_groups": [target_group("TK"), target_group("DB")],
        "standard": "每次不少于60分钟。", "frequency_times": 4, "frequency_period": FrequencyPeriod.MONTH,
        "duration_minutes": 60, "unit": Unit.VISIT, "reference_price": Decimal("45.00"),
        "qualifications": [], "indicators": ["服务人次"],
    }
    return {**data, **overrides}


@pytest.fixture
def county_officer(app):
    return make_user(Role.OFFICER, region_code="530626")


@pytest.fixture
def province_officer(app):
    return make_user(Role.OFFICER, region_code="530000")


def test_county_officer_adds_an_item_to_the_county_list_and_it_is_audited(county_officer):
    lst = make_list()
    item = services.save_item(lst, item_data(), Actor(county_officer, "10.0.0.5"))
    db.session.commit()
    assert item.id and item.reference_price == Decimal("45.00")
    record = db.session.execute(select(AuditRecord).where(AuditRecord.action == "catalog.item_create")).scalar_one()
    assert record.object_id == str(item.id) and record.ip == "10.0.0.5"
    assert record.detail["changed"]["reference_price"] == "45.00"


def test_officer_of_another_county_may_not_change_the_list():
    lst = make_list(region_code="530626")
    outsider = make_user(Role.OFFICER, region_code="532601")
    with pytest.raises(AccessDenied):
        services.save_item(lst, item_data(), Actor(outsider))


def test_duplicate_code_in_a_list_is_refused_naming_the_item(county_officer):
    lst = make_list()
    make_item(lst, code="YN-S01-900", name="已有事项")
    with pytest.raises(DomainError) as info:
        services.save_item(lst, item_data(code="yn-s01-900"), Actor(county_officer))
    assert info.value.field == "code" and "已有事项" in info.value.message


@pytest.mark.parametrize(
    ("name", "content", "clause_fragment"),
    [
        ("低保对象审核确认", "协助开展", "第十条"),
        ("代办救助", "负责救助资金发放到户", "第十条"),
        ("社区劳务派遣服务", "派遣人员到民政所", "第（五）项"),
    ],
)
def test_items_on_the_negative_list_are_refused_with_the_clause(county_officer, name, content, clause_fragment):
    lst = make_list()
    with pytest.raises(DomainError) as info:
        services.save_item(lst, item_data(name=name, content=content), Actor(county_officer))
    assert info.value.field == "name"
    assert clause_fragment in info.value.message and info.value.citation


def test_published_reference_version_is_read_only_and_a_new_draft_copies_it(province_officer):
    actor = Actor(province_officer)
    draft = services.create_reference_version(2026, actor)
    services.save_item(draft, item_data(), actor)
    services.publish_list(draft, actor)
    assert draft.status == ListStatus.PUBLISHED and draft.read_only
    with pytest.raises(DomainError):
        services.save_item(draft, item_data(code="YN-S01-901"), actor)
    second = services.create_reference_version(2026, actor, based_on=draft)
    assert second.version_no == 2 and second.status == ListStatus.DRAFT
    assert [i.code for i in services.items_of(second)] == ["YN-S01-900"]
    with pytest.raises(DomainError):
        services.create_reference_version(2026, actor)  # only one draft at a time
    assert services.current_reference_list(2026).id == draft.id


def test_empty_reference_version_cannot_be_published(province_officer):
    draft = services.create_reference_version(2027, Actor(province_officer))
    with pytest.raises(DomainError):
        services.publish_list(draft, Actor(province_officer))


def test_county_officer_cannot_maintain_the_reference_list(county_officer):
    with pytest.raises(AccessDenied):
        services.create_reference_version(2026, Actor(county_officer))


def test_county_adopts_published_items_and_skips_codes_it_has(province_officer, county_officer):
    reference = make_list(ListKind.REFERENCE, status=ListStatus.PUBLISHED)
    a = make_item(reference, code="R-1")
    b = make_item(reference, code="R-2")
    local = services.create_local_list(region("530626"), 2026, Actor(county_officer))
    make_item(local, code="R-2")
    result = services.adopt_items(local, [a, b], Actor(county_officer))
    assert [i.code for i in result.adopted] == ["R-1"] and [i.code for i in result.skipped] == ["R-2"]
    adopted = result.adopted[0]
    assert adopted.source_item_id == a.id
    assert adopted.list_id == local.id and adopted.target_groups == a.target_groups


def test_draft_reference_items_cannot_be_adopted(county_officer):
    draft = make_list(ListKind.REFERENCE, status=ListStatus.DRAFT)
    item = make_item(draft)
    local = make_list()
    with pytest.raises(DomainError):
        services.adopt_items(local, [item], Actor(county_officer))


def test_a_county_has_one_list_per_year(county_officer):
    services.create_local_list(region("530626"), 2026, Actor(county_officer))
    with pytest.raises(DomainError):
        services.create_local_list(region("530626"), 2026, Actor(county_officer))


def test_stale_edit_is_a_conflict_not_an_overwrite(county_officer):
    lst = make_list()
    item = make_item(lst, name="原名称")
    loaded_version = item.version
    services.save_item(lst, item_data(code=item.code, name="第一人修改"), Actor(county_officer), item=item,
                       expected_version=loaded_version)
    with pytest.raises(ConflictError):
        services.save_item(lst, item_data(code=item.code, name="第二人修改"), Actor(county_officer), item=item,
                           expected_version=loaded_version)
    assert item.name == "第一人修改"


def test_withdrawn_items_stay_on_record_and_leave_the_default_listing(county_officer):
    lst = make_list()
    item = make_item(lst)
    services.set_item_active(item, False, Actor(county_officer))
    assert services.items_of(lst) == []
    assert services.items_of(lst, include_inactive=True) == [item]


def test_filters_combine(county_officer):
    lst = make_list()
    make_item(lst, code="A", name="心理疏导", category=category("S07"), target_groups=[target_group("ET")])
    make_item(lst, code="B", name="居家照料", category=category("S01"), target_groups=[target_group("TK")])
    make_item(lst, code="C", name="心理危机干预", category=category("S07"), target_groups=[target_group("TK")])

    def codes(**kw):
        return [i.code for i in db.session.execute(services.item_query(lst, services.ItemFilter(**kw))).scalars()]

    assert codes(category_id=category("S07").id) == ["A", "C"]
    assert codes(target_group_id=target_group("TK").id) == ["B", "C"]
    assert codes(category_id=category("S07").id, target_group_id=target_group("TK").id) == ["C"]
    assert codes(q="心理") == ["A", "C"]
    assert codes(q="100%_") == []  # LIKE wildcards in the search are literal
