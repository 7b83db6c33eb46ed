"""The beneficiary registry: personal data encrypted at rest, keyed lookups, masking, guardians, audited reveals,
who sees whom, and the assignment of people to contracts (DOMAIN §5, §9; 个人信息保护法 第二十八条、第三十一条)."""

import hashlib
import json
import os
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from contracts.models import ContractState
from procurement import crypto
from procurement.audit.models import AuditRecord
from procurement.auth.roles import Role
from procurement.beneficiaries import services
from procurement.beneficiaries.models import Assignment, Beneficiary, LegalBasis
from procurement.beneficiaries.services import BeneficiaryData, BeneficiaryInvalid
from procurement.catalog.models import CatalogItem, TargetGroup
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from procurement.rules.identifiers import cid_check_char
from tests.contract_factories import make_contract
from tests.factories import make_org, make_supplier, make_user, region
from tests.project_factories import actor, county_items

TODAY = date(2026, 6, 15)  # inside the factory contracts' term, 2026-04-01 … 2027-03-31
NOTES = "高血压，需定期服药"


def cid(body: str) -> str:
    """A valid 18-character ID number from its first 17 digits."""
    return body + cid_check_char(body)


ADULT = cid("53062619800101123")  # born 1980-01-01


def born_on(day: date, county="530626", seq="123") -> str:
    return cid(f"{county}{day:%Y%m%d}{seq}")


def officer(region_code="530626"):
    user = make_user(Role.OFFICER, region_code=region_code)
    if user.organization.kind != OrgKind.BUREAU:
        user.organization = make_org(OrgKind.BUREAU, region_code)
        db.session.flush()
    assert user.organization.kind == OrgKind.BUREAU
    return user


def category_id() -> int:
    return db.session.execute(select(TargetGroup.id).limit(1)).scalar_one()


def data(number=ADULT, region_code="530626", **overrides) -> BeneficiaryData:
    values = {"name": "张三", "id_number": number, "category_id": category_id(), "region": region(region_code),
              "address": "绥江县中城镇", "phone": "13800000001", "health_notes": NOTES,
              "legal_basis": LegalBasis.LEGAL_DUTY}
    return BeneficiaryData(**{**values, **overrides})


def register(user, number=ADULT, today=TODAY, **overrides) -> Beneficiary:
    return services.create_beneficiary(data(number, **overrides), actor(user), today)


def audit_rows(action=None) -> list[AuditRecord]:
    query = select(AuditRecord).order_by(AuditRecord.seq)
    if action:
        query = query.where(AuditRecord.action == action)
    return list(db.session.execute(query).scalars())


def running_contract(bureau, supplier, state=ContractState.IN_SERVICE, **overrides):
    item = db.session.execute(select(CatalogItem).limit(1)).scalar()
    if item is None:
        _list, (item,) = county_items()
    return make_contract(bureau, supplier, item, state=state, **overrides)


# --- encryption at rest -------------------------------------------------------------------------------

def _sqlite_bytes() -> bytes:
    path = db.engine.url.database
    content = b""
    for name in (path, path + "-wal"):
        if os.path.exists(name):
            with open(name, "rb") as fh:
                content += fh.read()
    return content


def test_id_number_and_health_notes_are_encrypted_at_rest():
    user = officer()
    record = register(user)
    masked = record.id_masked
    db.session.commit()

    if db.engine.dialect.name == "postgresql":
        rows = []
        for table in ("beneficiary", "audit_record"):
            rows += [r[0] for r in db.session.execute(text(f"SELECT t::text FROM {table} t"))]
        dump = "\n".join(rows)
        assert masked in dump
        assert ADULT not in dump
        assert NOTES not in dump
    else:
        raw = _sqlite_bytes()
        assert masked.encode() in raw
        assert ADULT.encode() not in raw
        assert NOTES.encode("utf-8") not in raw

    # the stored columns are Fernet tokens that the configured key opens
    db.session.expire_all()
    stored = db.session.get(Beneficiary, record.id)
    assert ADULT not in stored.id_number_enc and NOTES not in stored.health_notes_enc
    assert crypto.decrypt(stored.id_number_enc) == ADULT
    assert crypto.decrypt(stored.health_notes_enc) == NOTES


def test_audit_log_names_the_person_by_masked_number_only():
    user = officer()
    record = register(user)
    services.reveal(record, "id_number", actor(user))
    services.reveal(record, "health_notes", actor(user))
    db.session.commit()
    rows = audit_rows()
    assert {r.action for r in rows} >= {"beneficiary.create", "beneficiary.reveal"}
    for row in rows:
        detail = json.dumps(row.detail, ensure_ascii=False)
        assert ADULT not in detail
        assert NOTES not in detail
    create = audit_rows("beneficiary.create")[0]
    assert create.detail["id"] == record.id_masked


# --- keyed hash and masking ---------------------------------------------------------------------------

def test_find_by_id_number_uses_the_keyed_hash():
    number = cid("53062619800101118")
    assert number.endswith("X")  # to try the lower-case form
    user = officer()
    record = register(user, number)
    assert services.find_by_id_number(number) == record
    assert services.find_by_id_number(number.lower()) == record
    assert services.find_by_id_number(f" {number[:6]} {number[6:14]} {number[14:].lower()} ") == record
    assert services.find_by_id_number(ADULT) is None
    assert services.find_by_id_number("not a number") is None

    assert len(record.id_hash) == 64
    assert record.id_hash == crypto.keyed_hash(number)
    assert record.id_hash != hashlib.sha256(number.encode()).hexdigest()  # keyed: not guessable from the number
    # a search box with the number finds the record too
    assert db.session.execute(select(Beneficiary).where(services.filter_condition(number.lower()))).scalar() == record


def test_a_number_is_registered_once():
    user = officer()
    first = register(user)
    other_officer = officer()
    with pytest.raises(BeneficiaryInvalid) as exc:
        register(other_officer, ADULT, name="李四")
    assert "id_number" in exc.value.problems
    assert first.id_masked in exc.value.problems["id_number"]
    assert ADULT not in exc.value.problems["id_number"]
    assert db.session.execute(select(Beneficiary)).scalars().all() == [first]


def test_masked_number_shows_first_six_and_last_four():
    record = register(officer())
    assert record.id_masked == ADULT[:6] + "*" * 8 + ADULT[-4:]
    assert len(record.id_masked) == 18


# --- guardians of children ----------------------------------------------------------------------------

GUARDIAN = {"guardian_name": "张父", "guardian_relation": "父亲", "guardian_phone": "13800000002"}


def test_a_child_under_14_needs_a_guardian():
    user = officer()
    child = born_on(date(2015, 1, 1))
    with pytest.raises(BeneficiaryInvalid) as exc:
        register(user, child)
    assert {"guardian_name", "guardian_relation", "guardian_phone"} <= set(exc.value.problems)
    assert "第三十一条" in exc.value.problems["guardian_name"]

    with pytest.raises(BeneficiaryInvalid) as exc:  # every guardian field, not just one of them
        register(user, child, guardian_name="张父")
    assert {"guardian_relation", "guardian_phone"} <= set(exc.value.problems)
    assert "guardian_name" not in exc.value.problems

    record = register(user, child, **GUARDIAN)
    assert record.birth_date == date(2015, 1, 1)
    assert record.guardian_name == "张父"


def test_age_is_counted_on_the_day_given():
    user = officer()
    fourteen_today = born_on(TODAY.replace(year=TODAY.year - 14), seq="124")
    record = register(user, fourteen_today)  # no guardian needed from the 14th birthday
    assert record.guardian_name is None

    day_before_birthday = born_on(TODAY.replace(year=TODAY.year - 14) + timedelta(days=1), seq="125")
    with pytest.raises(BeneficiaryInvalid) as exc:
        register(user, day_before_birthday)
    assert "guardian_phone" in exc.value.problems
    assert register(user, day_before_birthday, today=TODAY + timedelta(days=1)).guardian_name is None


# --- reveals ------------------------------------------------------------------------------------------

def test_officer_of_the_region_reveals_and_is_audited():
    user = officer()
    record = register(user)
    assert services.reveal(record, "id_number", actor(user)) == ADULT
    assert services.reveal(record, "health_notes", actor(user)) == NOTES
    reveals = audit_rows("beneficiary.reveal")
    assert [(r.outcome, r.detail["what"], r.user_id) for r in reveals] == [
        ("success", "id_number", user.id), ("success", "health_notes", user.id)]
    for row in reveals:
        assert row.object_id == str(record.id)
        assert ADULT not in json.dumps(row.detail)


@pytest.mark.parametrize("who", ["supplier", "other_county", "finance"])
def test_others_may_not_reveal_and_the_attempt_is_audited(who):
    owner = officer()
    record = register(owner)
    if who == "supplier":
        user = make_user(Role.SUPPLIER)
        # even a supplier that serves the person under a running contract
        contract = running_contract(owner.organization, user.organization)
        services.assign(contract, record, actor(owner), TODAY)
        assert services.can_view(user, record, TODAY)
    elif who == "other_county":
        user = officer("530102")
    else:
        user = make_user(Role.FINANCE)
    with pytest.raises(AccessDenied):
        services.reveal(record, "id_number", actor(user))
    with pytest.raises(AccessDenied):
        services.reveal(record, "health_notes", actor(user))
    db.session.commit()  # the denied attempts are kept
    denied = audit_rows("beneficiary.reveal")
    assert [(r.outcome, r.user_id, r.detail["what"]) for r in denied] == [
        ("denied", user.id, "id_number"), ("denied", user.id, "health_notes")]
    assert all(ADULT not in json.dumps(r.detail) for r in denied)


def test_reveal_of_something_else_is_refused():
    user = officer()
    record = register(user)
    with pytest.raises(DomainError):
        services.reveal(record, "address", actor(user))


# --- who sees whom ------------------------------------------------------------------------------------

def visible(user, today=TODAY) -> set[int]:
    return set(db.session.execute(services.beneficiary_query(user, today).with_only_columns(Beneficiary.id)).scalars())


def test_officers_see_their_region():
    county = officer()
    record = register(county)
    elsewhere = register(officer("530102"), cid("53010219800101123"), region_code="530102")
    assert visible(county) == {record.id}
    assert services.can_view(county, record, TODAY)
    assert not services.can_view(county, elsewhere, TODAY)

    other = officer("530102")
    assert visible(other) == {elsewhere.id}
    assert not services.can_view(other, record, TODAY)
    assert not services.can_edit(other, record) and not services.can_reveal(other, record)

    province = officer("530000")  # the region and below
    assert visible(province) == {record.id, elsewhere.id}
    prefecture = officer("530600")
    assert visible(prefecture) == {record.id}


def test_supplier_sees_only_people_assigned_to_its_running_contracts():
    owner = officer()
    bureau = owner.organization
    supplier_user = make_user(Role.SUPPLIER)
    supplier = supplier_user.organization
    people = {name: register(owner, born_on(date(1980, 1, 1), seq=f"{n:03d}"), name=name)
              for n, name in enumerate(["running", "draft", "ended_term", "ended_assignment", "others", "none"])}

    running = running_contract(bureau, supplier)
    services.assign(running, people["running"], actor(owner), TODAY)

    draft = running_contract(bureau, supplier, state=ContractState.DRAFT)
    services.assign(draft, people["draft"], actor(owner), TODAY)

    ended = running_contract(bureau, supplier, term_end=date(2026, 5, 31))
    services.assign(ended, people["ended_term"], actor(owner), date(2026, 5, 1))

    left = services.assign(running, people["ended_assignment"], actor(owner), date(2026, 5, 1))
    services.end_assignment(left, "迁出本县", actor(owner), date(2026, 5, 10))

    others = running_contract(bureau, make_supplier())
    services.assign(others, people["others"], actor(owner), TODAY)

    assert visible(supplier_user) == {people["running"].id}
    for name, person in people.items():
        assert services.can_view(supplier_user, person, TODAY) is (name == "running"), name

    # the ended assignment was visible while it ran, the ended term too
    assert services.can_view(supplier_user, people["ended_assignment"], date(2026, 5, 10))
    assert services.can_view(supplier_user, people["ended_term"], date(2026, 5, 31))
    # before the contract's term starts, nothing
    assert visible(supplier_user, date(2026, 3, 31)) == set()
    # another supplier sees none of these
    assert visible(make_user(Role.SUPPLIER)) == set()


@pytest.mark.parametrize("state", [ContractState.SIGNED, ContractState.PUBLISHED, ContractState.FILED,
                                   ContractState.IN_SERVICE])
def test_every_running_state_shows_the_assigned(state):
    owner = officer()
    supplier_user = make_user(Role.SUPPLIER)
    person = register(owner)
    contract = running_contract(owner.organization, supplier_user.organization, state=state)
    services.assign(contract, person, actor(owner), TODAY)
    assert visible(supplier_user) == {person.id}


# --- assignment ---------------------------------------------------------------------------------------

def test_assign_refuses_a_person_outside_the_purchasers_region():
    province = officer("530000")  # may edit both the contract and the person
    county = officer()
    contract = running_contract(county.organization, make_supplier())
    elsewhere = register(province, cid("53010219800101123"), region_code="530102")
    with pytest.raises(DomainError) as exc:
        services.assign(contract, elsewhere, actor(province), TODAY)
    assert exc.value.field == "beneficiary"
    assert services.assignments_of(contract) == []


def test_assign_refuses_what_the_actor_may_not_edit():
    county = officer()
    contract = running_contract(county.organization, make_supplier())
    person = register(county)
    for user in (officer("530102"), make_user(Role.SUPPLIER)):
        with pytest.raises(AccessDenied):
            services.assign(contract, person, actor(user), TODAY)


def test_assign_refuses_a_duplicate_and_an_inactive_person():
    county = officer()
    contract = running_contract(county.organization, make_supplier())
    person = register(county)
    first = services.assign(contract, person, actor(county), TODAY)
    assert first.assigned_on == TODAY and first.ended_on is None
    with pytest.raises(DomainError):
        services.assign(contract, person, actor(county), TODAY + timedelta(days=3))

    inactive = register(county, cid("53062619800101124"), name="李四")
    inactive.active = False
    db.session.flush()
    with pytest.raises(DomainError) as exc:
        services.assign(contract, inactive, actor(county), TODAY)
    assert exc.value.field == "beneficiary"
    assert [a.beneficiary_id for a in services.assignments_of(contract)] == [person.id]


def test_assign_refuses_an_ended_contract_and_starts_with_the_term():
    county = officer()
    contract = running_contract(county.organization, make_supplier())
    person = register(county)
    with pytest.raises(DomainError):
        services.assign(contract, person, actor(county), date(2027, 4, 1))
    early = services.assign(contract, person, actor(county), date(2026, 3, 1))
    assert early.assigned_on == contract.term_start


def test_end_assignment_needs_a_reason_and_reassigning_reopens_the_row():
    county = officer()
    contract = running_contract(county.organization, make_supplier())
    person = register(county)
    record = services.assign(contract, person, actor(county), TODAY)
    for reason in ("", "   ", None):
        with pytest.raises(DomainError) as exc:
            services.end_assignment(record, reason, actor(county), TODAY + timedelta(days=5))
        assert exc.value.field == "reason"
    assert record.ended_on is None

    services.end_assignment(record, "  迁出本县 ", actor(county), TODAY + timedelta(days=5))
    assert (record.ended_on, record.end_reason) == (TODAY + timedelta(days=5), "迁出本县")
    with pytest.raises(DomainError):  # still runs on its last day
        services.assign(contract, person, actor(county), TODAY + timedelta(days=5))

    again = services.assign(contract, person, actor(county), TODAY + timedelta(days=30))
    assert again.id == record.id
    assert (again.assigned_on, again.ended_on, again.end_reason) == (TODAY + timedelta(days=30), None, None)
    assert len(db.session.execute(select(Assignment)).scalars().all()) == 1
    actions = [r.action for r in audit_rows() if r.action.startswith("beneficiary.") and "assign" in r.action]
    assert actions == ["beneficiary.assign", "beneficiary.unassign", "beneficiary.assign"]


# --- updates ------------------------------------------------------------------------------------------

def test_update_keeps_the_data_encrypted():
    user = officer()
    record = register(user)
    old_hash, old_masked, old_token = record.id_hash, record.id_masked, record.id_number_enc

    services.update_beneficiary(record, data(ADULT, address="绥江县南岸镇", health_notes="糖尿病"), actor(user), TODAY,
                                expected_version=1)
    assert (record.id_hash, record.id_masked) == (old_hash, old_masked)
    assert record.address == "绥江县南岸镇"
    assert crypto.decrypt(record.id_number_enc) == ADULT
    assert "糖尿病" not in record.health_notes_enc and crypto.decrypt(record.health_notes_enc) == "糖尿病"
    fields = audit_rows("beneficiary.update")[-1].detail
    assert fields["fields"] == ["address", "health_notes"]  # the names of the changed fields, not the values
    assert "糖尿病" not in json.dumps(fields, ensure_ascii=False) and NOTES not in json.dumps(fields, ensure_ascii=False)

    new_number = cid("53062619900202456")
    services.update_beneficiary(record, data(new_number), actor(user), TODAY)
    assert record.id_hash == crypto.keyed_hash(new_number) != old_hash
    assert record.id_masked == new_number[:6] + "********" + new_number[-4:] != old_masked
    assert record.id_number_enc != old_token and new_number not in record.id_number_enc
    assert crypto.decrypt(record.id_number_enc) == new_number
    assert record.birth_date == date(1990, 2, 2)
    assert services.find_by_id_number(new_number) == record
    assert services.find_by_id_number(ADULT) is None
    last = audit_rows("beneficiary.update")[-1]
    assert "id_number" in last.detail["fields"]
    assert new_number not in json.dumps(last.detail) and ADULT not in json.dumps(last.detail)

    # clearing the health notes removes the token
    services.update_beneficiary(record, data(new_number, health_notes="  ", legal_basis=LegalBasis.CONSENT),
                                actor(user), TODAY)
    assert record.health_notes_enc is None
    assert audit_rows("beneficiary.update")[-1].detail["fields"] == ["health_notes", "legal_basis"]


def test_update_refuses_a_stale_version_and_a_taken_number():
    user = officer()
    record = register(user)
    other = register(user, cid("53062619800101124"), name="李四")
    services.update_beneficiary(record, data(ADULT, phone="13900000000"), actor(user), TODAY, expected_version=1)
    assert record.version == 2
    with pytest.raises(ConflictError):
        services.update_beneficiary(record, data(ADULT, phone="13700000000"), actor(user), TODAY, expected_version=1)
    assert record.phone == "13900000000"

    with pytest.raises(BeneficiaryInvalid) as exc:
        services.update_beneficiary(other, data(ADULT, name="李四"), actor(user), TODAY)
    assert record.id_masked in exc.value.problems["id_number"]


def test_update_and_create_are_for_officers_of_the_region():
    user = officer()
    record = register(user)
    with pytest.raises(AccessDenied):
        services.update_beneficiary(record, data(ADULT), actor(officer("530102")), TODAY)
    with pytest.raises(AccessDenied):
        register(make_user(Role.SUPPLIER), cid("53062619800101124"))
    with pytest.raises(BeneficiaryInvalid) as exc:  # a region outside the officer's own
        register(user, cid("53010219800101124"), region_code="530102")
    assert "region" in exc.value.problems
