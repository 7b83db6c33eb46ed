"""Acceptance (验收) of a contract: lifecycle, refusals, locking, and a result without personal data (DOMAIN §5)."""

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from contracts.models import Contract, ContractState
from procurement.acceptance import services
from procurement.acceptance.models import Acceptance, AcceptanceState, Conclusion, StandardResult
from procurement.acceptance.services import AcceptanceData, AcceptanceInvalid
from procurement.audit.labels import ACTION_LABELS
from procurement.audit.models import AuditRecord
from procurement.auth.models import User
from procurement.auth.roles import Role
from procurement.beneficiaries import services as people
from procurement.beneficiaries.models import LegalBasis
from procurement.beneficiaries.services import BeneficiaryData
from procurement.catalog.models import CatalogItem, TargetGroup
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.orgs.models import OrgKind
from procurement.rules.identifiers import cid_check_char, mask_citizen_id
from procurement.supervision import services as reports
from procurement.supervision.services import RowInput
from tests.contract_factories import make_contract
from tests.factories import make_org, make_supplier, make_user, region
from tests.project_factories import actor, county_items

START = date(2026, 4, 1)  # the factory contracts' term: 2026-04-01 … 2027-03-31, monthly reports
MAY, JUNE = date(2026, 5, 1), date(2026, 6, 1)
TODAY = date(2026, 7, 15)
ACCEPTED_ON = date(2026, 7, 10)


def cid(body: str) -> str:
    return body + cid_check_char(body)


ANNA, BO = cid("53062619800101123"), cid("53062619450203456")
NAMES = {ANNA: "王秀兰", BO: "赵德明"}


@dataclass
class World:
    officer: User
    writer: User
    contract: Contract
    item: CatalogItem
    numbers: tuple

    def report(self, start=MAY, rows=((ANNA, date(2026, 5, 12), "3"), (BO, date(2026, 5, 13), "2")),
               accept=True):
        report = reports.open_report(self.contract, start, actor(self.writer), TODAY)
        for number, on, quantity in rows:
            reports.add_row(report, RowInput(number, self.item.code, on, Decimal(quantity), "李娟"), actor(self.writer))
        reports.save_narrative(report, "本月按计划提供服务。", actor(self.writer))
        reports.submit_report(report, actor(self.writer))
        if accept:
            reports.accept_report(report, actor(self.officer))
        return report


def acceptance_world() -> World:
    """A contract in service with two assigned beneficiaries (named, with ID numbers) and an accepted May report."""
    boss = make_user(Role.OFFICER, region_code="530626")
    if boss.organization.kind != OrgKind.BUREAU:
        boss.organization = make_org(OrgKind.BUREAU, "530626")
        db.session.flush()
    supplier = make_supplier()
    writer = make_user(Role.SUPPLIER, organization=supplier)
    _list, (item,) = county_items()
    contract = make_contract(boss.organization, supplier, item, state=ContractState.IN_SERVICE)
    category = db.session.execute(select(TargetGroup.id).limit(1)).scalar_one()
    for number, name in NAMES.items():
        person = people.create_beneficiary(BeneficiaryData(
            name=name, id_number=number, category_id=category, region=region("530626"),
            legal_basis=LegalBasis.LEGAL_DUTY), actor(boss), START)
        people.assign(contract, person, actor(boss), START)
    w = World(boss, writer, contract, item, (ANNA, BO))
    w.report()
    db.session.flush()
    return w


@pytest.fixture
def world() -> World:
    return acceptance_world()


def full_data(record: Acceptance, **overrides) -> AcceptanceData:
    values = {"accepted_on": ACCEPTED_ON, "team": "组长：张明（县民政局社会救助股）\n成员：刘芳（县财政局）",
              "method": "现场查验、资料审查、电话回访", "surveyed": 20, "satisfied": 15, "basically_satisfied": 4,
              "dissatisfied": 1, "opinion_summary": "多数服务对象对助餐服务表示满意，个别希望增加送餐频次。",
              "conclusion": Conclusion.PASSED.value, "explanation": "",
              "results": {row.id: (StandardResult.MET.value, "按标准提供") for row in record.results}}
    return AcceptanceData(**{**values, **overrides})


def opened(w: World) -> Acceptance:
    return services.open_acceptance(w.contract, ACCEPTED_ON, actor(w.officer))


def audits(action) -> list[AuditRecord]:
    return list(db.session.execute(select(AuditRecord).where(AuditRecord.action == action)).scalars())


def problem_fields(exc) -> dict:
    return dict(exc.value.problems)


# --- the lifecycle ---------------------------------------------------------------------------------

def test_lifecycle_open_fill_conclude_publish(world):
    record = opened(world)
    assert record.state == AcceptanceState.DRAFT
    # one standard per contract line, its text copied from the catalog item, delivered from accepted reports
    (row,) = record.results
    assert row.standard == world.item.standard and row.item_id == world.item.id
    assert row.contracted == Decimal(world.contract.lines[0].quantity)
    assert row.delivered == Decimal("5")
    # opening again is the same record: one per contract
    assert opened(world).id == record.id
    assert db.session.scalar(select(func.count()).select_from(Acceptance)) == 1

    services.update_acceptance(record, full_data(record), actor(world.officer))
    assert record.surveyed == 20 and record.results[0].result == StandardResult.MET
    services.conclude_acceptance(record, actor(world.officer))
    assert record.state == AcceptanceState.CONCLUDED and record.locked
    assert record.concluded_by_id == world.officer.id and record.concluded_at is not None
    services.publish_acceptance(record, date(2026, 7, 20), actor(world.officer))
    assert record.state == AcceptanceState.PUBLISHED and record.published_on == date(2026, 7, 20)
    for action in ("acceptance.create", "acceptance.update", "acceptance.conclude", "acceptance.publish"):
        assert len(audits(action)) == 1, action
        assert action in ACTION_LABELS


def test_only_a_contract_in_service_can_be_accepted(world):
    signed = make_contract(world.officer.organization, world.contract.supplier, world.item,
                           state=ContractState.FILED)
    with pytest.raises(DomainError) as exc:
        services.open_acceptance(signed, ACCEPTED_ON, actor(world.officer))
    assert exc.value.message == _("Only a contract in service can be accepted.")


def test_one_record_per_contract_in_the_database(world):
    record = opened(world)
    db.session.add(Acceptance(contract_id=record.contract_id, state=AcceptanceState.DRAFT, accepted_on=ACCEPTED_ON))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- refusals ----------------------------------------------------------------------------------------

def test_opinion_counts_must_add_up(world):
    record = opened(world)
    with pytest.raises(AcceptanceInvalid) as exc:
        services.update_acceptance(record, full_data(record, surveyed=21), actor(world.officer))
    assert problem_fields(exc)["surveyed"] == _(
        "The opinions do not add up: %(answered)s satisfied, basically satisfied and dissatisfied, "
        "but %(surveyed)s surveyed.", answered=20, surveyed=21)
    with pytest.raises(AcceptanceInvalid) as exc:
        services.update_acceptance(record, full_data(record, dissatisfied=-1), actor(world.officer))
    assert problem_fields(exc)["dissatisfied"] == _("Enter a whole number, zero or more.")


@pytest.mark.parametrize("text", [f"王秀兰（{ANNA}）反映很好", f"对象{mask_citizen_id(ANNA)}满意",
                                  f"身份证 {ANNA[:6]} {ANNA[6:14]} {ANNA[14:]}", ANNA.lower()])
def test_the_summary_refuses_citizen_id_numbers(world, text):
    record = opened(world)
    with pytest.raises(AcceptanceInvalid) as exc:
        services.update_acceptance(record, full_data(record, opinion_summary=text), actor(world.officer))
    assert problem_fields(exc)["opinion_summary"] == _(
        "The summary seems to contain a citizen ID number. The published result must hold no personal "
        "data: remove names and ID numbers.")


def test_ordinary_numbers_in_the_summary_are_fine(world):
    record = opened(world)
    text = "共回访20人，服务时长合计1350小时，联系电话见档案。"
    services.update_acceptance(record, full_data(record, opinion_summary=text), actor(world.officer))
    assert record.opinion_summary == text


def test_bad_values_are_refused_field_by_field(world):
    record = opened(world)
    row_id = record.results[0].id
    data = full_data(record, accepted_on=None, conclusion="excellent", team="甲" * 4001,
                     results={row_id: ("perfect", None)})
    with pytest.raises(AcceptanceInvalid) as exc:
        services.update_acceptance(record, data, actor(world.officer))
    fields = problem_fields(exc)
    assert fields["accepted_on"] == _("Enter the date of the acceptance.")
    assert fields["conclusion"] == _("Choose a conclusion from the list.")
    assert fields["team"] == _("At most %(n)s characters.", n=4000)
    assert fields[f"result_{row_id}"] == _("Choose a result from the list.")
    with pytest.raises(AcceptanceInvalid) as exc:
        services.update_acceptance(record, full_data(record, accepted_on=date(2026, 3, 1)), actor(world.officer))
    assert problem_fields(exc)["accepted_on"] == _(
        "The acceptance cannot be before the contract term starts (%(day)s).", day="2026-04-01")


def test_concluding_needs_every_standard_and_a_conclusion(world):
    record = opened(world)
    row_id = record.results[0].id
    services.update_acceptance(record, full_data(record, conclusion="", results={row_id: (None, "")}),
                               actor(world.officer))
    with pytest.raises(AcceptanceInvalid) as exc:
        services.conclude_acceptance(record, actor(world.officer))
    fields = problem_fields(exc)
    assert fields[f"result_{row_id}"] == _("Give the result for this service standard.")
    assert fields["conclusion"] == _("Choose the conclusion of the acceptance.")
    assert record.state == AcceptanceState.DRAFT


def test_a_conditional_pass_needs_its_explanation(world):
    record = opened(world)
    services.update_acceptance(record, full_data(record, conclusion=Conclusion.PASSED_WITH_CONDITIONS.value),
                               actor(world.officer))
    with pytest.raises(AcceptanceInvalid) as exc:
        services.conclude_acceptance(record, actor(world.officer))
    assert problem_fields(exc)["explanation"] == _("Explain the conditions or the reasons for failing.")


def test_concluding_waits_for_reports_awaiting_review(world):
    world.report(start=JUNE, rows=((ANNA, date(2026, 6, 3), "1"),), accept=False)
    record = opened(world)
    services.update_acceptance(record, full_data(record), actor(world.officer))
    with pytest.raises(AcceptanceInvalid) as exc:
        services.conclude_acceptance(record, actor(world.officer))
    assert problem_fields(exc)[""] == _(
        "%(n)s service report(s) of this contract await review: accept or return them before concluding the "
        "acceptance.", n=1)
    assert record.state == AcceptanceState.DRAFT


def test_delivered_counts_only_accepted_reports_and_is_refreshed(world):
    june = world.report(start=JUNE, rows=((ANNA, date(2026, 6, 3), "4"),), accept=False)
    record = opened(world)
    assert record.results[0].delivered == Decimal("5")
    reports.accept_report(june, actor(world.officer))
    services.update_acceptance(record, full_data(record), actor(world.officer))
    assert record.results[0].delivered == Decimal("9")


def test_locked_after_conclusion(world):
    record = opened(world)
    services.update_acceptance(record, full_data(record), actor(world.officer))
    services.conclude_acceptance(record, actor(world.officer))
    locked = _("The acceptance has been concluded and can no longer be changed.")
    with pytest.raises(DomainError) as exc:
        services.update_acceptance(record, full_data(record, surveyed=0, satisfied=0, basically_satisfied=0,
                                                     dissatisfied=0), actor(world.officer))
    assert exc.value.message == locked
    with pytest.raises(DomainError) as exc:
        services.conclude_acceptance(record, actor(world.officer))
    assert exc.value.message == locked
    assert record.surveyed == 20


def test_publishing_needs_a_conclusion_and_a_date(world):
    record = opened(world)
    with pytest.raises(DomainError) as exc:
        services.publish_acceptance(record, date(2026, 7, 20), actor(world.officer))
    assert exc.value.message == _("Conclude the acceptance before publishing its result.")
    services.update_acceptance(record, full_data(record), actor(world.officer))
    services.conclude_acceptance(record, actor(world.officer))
    with pytest.raises(DomainError) as exc:
        services.publish_acceptance(record, None, actor(world.officer))
    assert exc.value.field == "published_on" and exc.value.message == _("Enter the date of publication.")
    with pytest.raises(DomainError) as exc:
        services.publish_acceptance(record, date(2026, 7, 1), actor(world.officer))
    assert exc.value.field == "published_on"
    services.publish_acceptance(record, date(2026, 7, 20), actor(world.officer))
    with pytest.raises(DomainError) as exc:
        services.publish_acceptance(record, date(2026, 7, 21), actor(world.officer))
    assert exc.value.message == _("The result has already been published.")


def test_a_stale_version_is_a_conflict(world):
    record = opened(world)
    loaded = record.version
    services.update_acceptance(record, full_data(record), actor(world.officer), expected_version=loaded)
    with pytest.raises(ConflictError):
        services.update_acceptance(record, full_data(record, surveyed=0, satisfied=0, basically_satisfied=0,
                                                     dissatisfied=0), actor(world.officer), expected_version=loaded)
    assert record.surveyed == 20


def test_only_an_officer_of_the_region_may_change_it(world):
    record = opened(world)
    other = make_user(Role.OFFICER, organization=make_org(OrgKind.BUREAU, "532601"))
    for user in (world.writer, other, make_user(Role.FINANCE, organization=world.officer.organization)):
        with pytest.raises(AccessDenied):
            services.update_acceptance(record, full_data(record), actor(user))
        with pytest.raises(AccessDenied):
            services.conclude_acceptance(record, actor(user))
    assert services.can_view_acceptance(world.writer, record)
    stranger = make_user(Role.SUPPLIER, organization=make_supplier())
    assert not services.can_view_acceptance(stranger, record)
    assert not services.can_view_acceptance(other, record)


# --- the publishable result -------------------------------------------------------------------------

def personal_data(w: World) -> list[str]:
    values = []
    for number in w.numbers:
        values += [number, mask_citizen_id(number), number[-4:] and mask_citizen_id(number)[:6] + "*" * 8]
    return values + list(NAMES.values())


def test_the_published_result_holds_no_personal_data(world):
    record = opened(world)
    services.update_acceptance(record, full_data(record), actor(world.officer))
    services.conclude_acceptance(record, actor(world.officer))
    services.publish_acceptance(record, date(2026, 7, 20), actor(world.officer))
    result = services.public_result(record)
    flat = repr(result)
    assert result["conclusion"] == "passed" and result["opinions"]["surveyed"] == 20
    for value in personal_data(world):
        assert value not in flat


def test_the_result_pdf_is_chinese_a4_and_holds_no_personal_data(app, world):
    from procurement.acceptance.views import _pdf_response

    record = opened(world)
    services.update_acceptance(record, full_data(record), actor(world.officer))
    services.conclude_acceptance(record, actor(world.officer))
    with app.test_request_context("/"):
        response = _pdf_response(record)
        data = response.get_data() if not response.direct_passthrough else b"".join(response.response)
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages).replace(" ", "").replace("\n", "")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    assert str(Conclusion.PASSED.label) in text and world.contract.number in text
    for value in personal_data(world):
        assert value not in text
