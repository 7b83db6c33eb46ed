"""Service reports: periods, delivery rows, narrative, expenditures, attachments, submission and review (DOMAIN §5)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from contracts.models import Contract, ContractState
from procurement.audit.models import AuditRecord
from procurement.auth.models import User
from procurement.auth.roles import Role
from procurement.beneficiaries import services as people
from procurement.beneficiaries.models import Assignment, Beneficiary, LegalBasis
from procurement.beneficiaries.services import BeneficiaryData
from procurement.catalog.models import CatalogItem, ServiceList, TargetGroup
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from procurement.rules.identifiers import cid_check_char
from procurement.supervision import services
from procurement.supervision.models import DeliveryRow, Expenditure, ReportAttachment, ReportState, ServiceReport
from procurement.supervision.services import ReportInvalid, RowInput
from tests.contract_factories import make_contract
from tests.factories import make_item, make_org, make_supplier, make_user, region
from tests.project_factories import actor, county_items

START = date(2026, 4, 1)  # the factory contracts' term: 2026-04-01 … 2027-03-31, monthly reports
MAY, JUNE = date(2026, 5, 1), date(2026, 6, 1)
TODAY = date(2026, 6, 15)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def app_config(tmp_path):
    return {"FILE_STORE": str(tmp_path / "files")}  # attachments stay out of the instance folder


def cid(body: str) -> str:
    return body + cid_check_char(body)


ANNA, BO, CHEN, DING = (cid(f"5306261980010112{n}") for n in (3, 4, 5, 6))


def officer(region_code="530626") -> User:
    user = make_user(Role.OFFICER, region_code=region_code)
    if user.organization.kind != OrgKind.BUREAU:
        user.organization = make_org(OrgKind.BUREAU, region_code)
        db.session.flush()
    return user


@dataclass
class World:
    officer: User
    writer: User  # a user of the contract's supplier
    contract: Contract
    item: CatalogItem
    service_list: ServiceList
    people: dict  # ID number → Beneficiary

    def assign(self, number, on=START) -> Assignment:
        return people.assign(self.contract, self.people[number], actor(self.officer), on)


def register(user, number) -> Beneficiary:
    category = db.session.execute(select(TargetGroup.id).limit(1)).scalar_one()
    data = BeneficiaryData(name=f"受益人{number[-4:]}", id_number=number, category_id=category,
                           region=region(user.organization.region.code), legal_basis=LegalBasis.LEGAL_DUTY)
    return people.create_beneficiary(data, actor(user), START)


@pytest.fixture
def world() -> World:
    boss = officer()
    supplier = make_supplier()
    writer = make_user(Role.SUPPLIER, organization=supplier)
    service_list, (item,) = county_items()
    contract = make_contract(boss.organization, supplier, item, state=ContractState.IN_SERVICE)
    registered = {number: register(boss, number) for number in (ANNA, BO, CHEN, DING)}
    w = World(boss, writer, contract, item, service_list, registered)
    w.assign(ANNA)
    w.assign(BO)
    return w


def open_(w: World, start=MAY, today=TODAY) -> ServiceReport:
    return services.open_report(w.contract, start, actor(w.writer), today)


def row(w: World, number=ANNA, on=date(2026, 5, 12), quantity="2", worker="李娟", **overrides) -> RowInput:
    values = {"id_number": number, "item_code": w.item.code, "delivered_on": on,
              "quantity": Decimal(quantity) if quantity is not None else None, "worker": worker}
    return RowInput(**{**values, **overrides})


def row_total() -> int:
    return db.session.scalar(select(func.count()).select_from(DeliveryRow))


def audits(action) -> list[AuditRecord]:
    return list(db.session.execute(select(AuditRecord).where(AuditRecord.action == action)).scalars())


def submitted(w: World, start=MAY, rows=((ANNA, date(2026, 5, 12)),)) -> ServiceReport:
    report = open_(w, start)
    for number, on in rows:
        services.add_row(report, row(w, number, on), actor(w.writer))
    services.save_narrative(report, "本月完成上门照料服务。", actor(w.writer))
    assert services.submit_report(report, actor(w.writer))
    return report


# --- opening a report ---------------------------------------------------------------------------------

def test_open_report_makes_one_draft_per_period(world):
    report = open_(world)
    assert report.state == ReportState.DRAFT
    assert (report.period_start, report.period_end) == (MAY, date(2026, 5, 31))
    assert open_(world).id == report.id  # twice: the same report
    june = open_(world, JUNE)
    assert june.id != report.id and june.period_end == date(2026, 6, 30)
    assert db.session.scalar(select(func.count()).select_from(ServiceReport)) == 2
    assert len(audits("report.create")) == 2


def test_open_report_refuses_a_future_period_and_a_date_that_is_no_period_start(world):
    assert open_(world, JUNE, today=JUNE).period_start == JUNE  # the period has started today
    with pytest.raises(DomainError):
        open_(world, date(2026, 7, 1))  # not started on TODAY
    with pytest.raises(DomainError):
        open_(world, date(2026, 5, 2))  # inside a period, not its start
    with pytest.raises(DomainError):
        open_(world, date(2026, 3, 1))  # before the term
    assert db.session.scalar(select(func.count()).select_from(ServiceReport)) == 1


def test_a_user_of_another_supplier_may_not_open_a_report(world):
    stranger = make_user(Role.SUPPLIER, organization=make_supplier())
    with pytest.raises(AccessDenied):
        services.open_report(world.contract, MAY, actor(stranger), TODAY)
    with pytest.raises(AccessDenied):  # nor the officer: the supplier writes its reports
        services.open_report(world.contract, MAY, actor(world.officer), TODAY)
    report = open_(world)
    with pytest.raises(AccessDenied):
        services.add_row(report, row(world), actor(stranger))
    assert row_total() == 0


def test_reports_are_written_only_while_the_contract_runs():
    boss = officer()
    supplier = make_supplier()
    writer = make_user(Role.SUPPLIER, organization=supplier)
    _list, (item,) = county_items()
    draft = make_contract(boss.organization, supplier, item, state=ContractState.DRAFT)
    with pytest.raises(AccessDenied):
        services.open_report(draft, MAY, actor(writer), TODAY)


# --- delivery rows -----------------------------------------------------------------------------------

def test_a_good_row_is_saved(world):
    report = open_(world)
    record = services.add_row(report, row(world, quantity="1.50", worker="  李娟  ", note=" 老人状况良好 "),
                              actor(world.writer))
    db.session.expire_all()
    saved = db.session.get(DeliveryRow, record.id)
    assert saved.beneficiary_id == world.people[ANNA].id and saved.item_id == world.item.id
    assert saved.delivered_on == date(2026, 5, 12) and saved.quantity == Decimal("1.50")
    assert (saved.worker, saved.note) == ("李娟", "老人状况良好")
    assert services.row_count(report) == 1 and [r.id for r in services.rows_of(report)] == [record.id]
    assert len(audits("report.row_add")) == 1


def _refused(w: World, report, field, **overrides):
    with pytest.raises(ReportInvalid) as caught:
        services.add_row(report, row(w, **overrides), actor(w.writer))
    assert caught.value.field == field
    assert field in [f for f, _m in caught.value.problems]
    assert row_total() == 0
    return caught.value


def test_an_unknown_id_number_is_refused(world):
    report = open_(world)
    _refused(world, report, "beneficiary", id_number=cid("53062619900101123"))  # valid, not registered
    _refused(world, report, "beneficiary", id_number="123")  # not an ID number at all


def test_a_person_not_assigned_is_refused(world):
    _refused(world, open_(world), "beneficiary", id_number=CHEN)  # registered, never assigned


def test_a_person_assigned_after_that_day_is_refused(world):
    world.assign(CHEN, on=date(2026, 5, 20))
    report = open_(world)
    _refused(world, report, "beneficiary", id_number=CHEN, on=date(2026, 5, 19))
    services.add_row(report, row(world, CHEN, date(2026, 5, 20)), actor(world.writer))  # from that day on


def test_a_person_whose_assignment_ended_before_that_day_is_refused(world):
    assignment = world.assign(CHEN)
    people.end_assignment(assignment, "迁出本县", actor(world.officer), date(2026, 5, 10))
    report = open_(world)
    _refused(world, report, "beneficiary", id_number=CHEN, on=date(2026, 5, 11))
    services.add_row(report, row(world, CHEN, date(2026, 5, 10)), actor(world.writer))  # the last day still counts


def test_an_item_not_in_the_contract_is_refused(world):
    other = make_item(world.service_list)
    _refused(world, open_(world), "item", item_code=other.code)
    _refused(world, open_(world), "item", item_code="")


def test_a_date_outside_the_period_is_refused(world):
    report = open_(world)
    _refused(world, report, "delivered_on", on=date(2026, 4, 30))
    _refused(world, report, "delivered_on", on=date(2026, 6, 1))
    _refused(world, report, "delivered_on", on=None)


def test_every_problem_of_a_row_at_once(world):
    error = _refused(world, open_(world), "beneficiary", id_number=CHEN, item_code="NOPE", on=date(2026, 6, 1),
                     quantity="0", worker="")
    assert [f for f, _m in error.problems] == ["beneficiary", "item", "delivered_on", "quantity", "worker"]


def test_the_same_row_twice_is_one_row(world):
    report = open_(world)
    services.add_row(report, row(world), actor(world.writer))
    with pytest.raises(ReportInvalid) as caught:
        services.add_row(report, row(world, worker=" 李娟 "), actor(world.writer))
    assert caught.value.field == "delivered_on"
    assert row_total() == 1
    # another worker, day or person is another delivery
    services.add_row(report, row(world, worker="王芳"), actor(world.writer))
    services.add_row(report, row(world, on=date(2026, 5, 13)), actor(world.writer))
    services.add_row(report, row(world, BO), actor(world.writer))
    assert row_total() == 4


def test_the_database_refuses_a_duplicate_delivery(world):
    report = open_(world)
    first = services.add_row(report, row(world), actor(world.writer))
    db.session.commit()
    db.session.add(DeliveryRow(report_id=report.id, beneficiary_id=first.beneficiary_id, item_id=first.item_id,
                               delivered_on=first.delivered_on, quantity=Decimal("3"), worker=first.worker))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert row_total() == 1


def test_remove_row(world):
    report = open_(world)
    record = services.add_row(report, row(world), actor(world.writer))
    services.remove_row(record, actor(world.writer))
    assert row_total() == 0
    assert len(audits("report.row_remove")) == 1


# --- narrative, expenditures, attachments -------------------------------------------------------------

def test_save_narrative(world):
    report = open_(world)
    services.save_narrative(report, "  本月服务情况。  ", actor(world.writer))
    assert report.narrative == "本月服务情况。"
    services.save_narrative(report, "   ", actor(world.writer))
    assert report.narrative is None
    with pytest.raises(DomainError) as caught:
        services.save_narrative(report, "字" * (services.NARRATIVE_MAX + 1), actor(world.writer))
    assert caught.value.field == "narrative"


def test_expenditures_validate_amount_and_purpose(world):
    report = open_(world)
    who = actor(world.writer)
    for amount in (None, Decimal("0"), Decimal("-5"), services.MAX_EXPENDITURE + Decimal("0.01")):
        with pytest.raises(ReportInvalid) as caught:
            services.add_expenditure(report, "交通", amount, None, who)
        assert [f for f, _m in caught.value.problems] == ["amount"]
    for purpose in ("", "   ", "x" * (services.PURPOSE_MAX + 1)):
        with pytest.raises(ReportInvalid) as caught:
            services.add_expenditure(report, purpose, Decimal("10"), None, who)
        assert [f for f, _m in caught.value.problems] == ["purpose"]
    with pytest.raises(ReportInvalid) as caught:
        services.add_expenditure(report, "", None, "x" * (services.REASON_MAX + 1), who)
    assert [f for f, _m in caught.value.problems] == ["purpose", "amount", "note"]
    assert db.session.scalar(select(func.count()).select_from(Expenditure)) == 0
    record = services.add_expenditure(report, " 人员工资 ", Decimal("3200.50"), " 两名社工 ", who)
    db.session.expire_all()
    saved = db.session.get(Expenditure, record.id)
    assert (saved.purpose, saved.amount, saved.note) == ("人员工资", Decimal("3200.50"), "两名社工")
    services.remove_expenditure(saved, who)
    assert db.session.scalar(select(func.count()).select_from(Expenditure)) == 0


def test_attachments_are_checked_by_content(world):
    report = open_(world)
    who = actor(world.writer)
    record = services.add_attachment(report, PNG, "签到表.png", who)
    assert (record.media_type, record.size, record.name) == ("image/png", len(PNG), "签到表.png")
    for data in (b"just some text, not an image", b""):
        with pytest.raises(DomainError) as caught:
            services.add_attachment(report, data, "fake.png", who)
        assert caught.value.field == "attachment"
    with pytest.raises(DomainError) as caught:
        services.add_attachment(report, PNG, "again.png", who)  # the same content again
    assert caught.value.field == "attachment"
    assert db.session.scalar(select(func.count()).select_from(ReportAttachment)) == 1


# --- submission --------------------------------------------------------------------------------------

def test_submit_needs_rows_and_a_narrative(world):
    report = open_(world)
    with pytest.raises(ReportInvalid) as caught:
        services.submit_report(report, actor(world.writer))
    assert sorted(f for f, _m in caught.value.problems) == ["narrative", "rows"]
    assert report.state == ReportState.DRAFT and report.submitted_at is None
    services.add_row(report, row(world), actor(world.writer))
    with pytest.raises(ReportInvalid) as caught:
        services.submit_report(report, actor(world.writer))
    assert [f for f, _m in caught.value.problems] == ["narrative"]


def test_a_second_submission_changes_nothing(world):
    report = submitted(world)
    assert report.state == ReportState.SUBMITTED and report.submitted_by_id == world.writer.id
    db.session.commit()
    at, version = report.submitted_at, report.version
    assert services.submit_report(report, actor(world.writer)) is False
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(ServiceReport, report.id)
    assert again.state == ReportState.SUBMITTED and again.submitted_at == at and again.version == version
    assert len(audits("report.submit")) == 1
    # a submitted report waits for the officer: the supplier no longer changes it
    with pytest.raises(DomainError):
        services.add_row(again, row(world, BO), actor(world.writer))


def test_a_stale_version_is_a_conflict(world):
    report = open_(world)
    services.add_row(report, row(world), actor(world.writer))
    services.save_narrative(report, "本月", actor(world.writer))
    db.session.commit()
    stale = report.version - 1 if report.version > 1 else report.version + 1
    with pytest.raises(ConflictError):
        services.save_narrative(report, "别人改过", actor(world.writer), expected_version=stale)
    with pytest.raises(ConflictError):
        services.submit_report(report, actor(world.writer), expected_version=stale)
    assert report.state == ReportState.DRAFT
    assert services.submit_report(report, actor(world.writer), expected_version=report.version)
    with pytest.raises(ConflictError):
        services.accept_report(report, actor(world.officer), expected_version=stale)
    with pytest.raises(ConflictError):
        services.return_report(report, "请补充", {}, actor(world.officer), expected_version=stale)
    assert report.state == ReportState.SUBMITTED


# --- review --------------------------------------------------------------------------------------------

def test_return_without_any_reason_is_refused(world):
    report = submitted(world)
    first = services.rows_of(report)[0]
    for reason, row_reasons in ((None, {}), ("   ", {first.id: "  "}), ("", {first.id: None})):
        with pytest.raises(DomainError) as caught:
            services.return_report(report, reason, row_reasons, actor(world.officer))
        assert caught.value.field == "reason"
    assert report.state == ReportState.SUBMITTED


def test_a_reason_for_a_row_of_another_report_is_no_reason(world):
    may = submitted(world)
    june = submitted(world, JUNE, rows=((ANNA, date(2026, 6, 3)),))
    june_row = services.rows_of(june)[0]
    with pytest.raises(DomainError):
        services.return_report(may, None, {june_row.id: "签名不清"}, actor(world.officer))
    assert may.state == ReportState.SUBMITTED and june_row.return_reason is None


def test_return_with_row_reasons_then_resubmit(world):
    report = submitted(world, rows=((ANNA, date(2026, 5, 12)), (BO, date(2026, 5, 13))))
    anna_row, bo_row = services.rows_of(report)
    services.return_report(report, None, {anna_row.id: " 签名缺失 "}, actor(world.officer))
    assert report.state == ReportState.RETURNED and report.return_reason is None
    assert report.reviewed_by_id == world.officer.id and report.reviewed_at is not None
    assert (anna_row.return_reason, bo_row.return_reason) == ("签名缺失", None)
    assert len(audits("report.return")) == 1

    # the supplier corrects the report (a day later: the first submission is what counts for timeliness)
    first = report.first_submitted_at
    assert first is not None and first == report.submitted_at
    report.submitted_at = report.first_submitted_at = first - timedelta(days=1)
    assert report.state.supplier_may_edit
    services.remove_row(anna_row, actor(world.writer))
    services.add_row(report, row(world, ANNA, date(2026, 5, 14)), actor(world.writer))
    assert services.submit_report(report, actor(world.writer))
    assert report.state == ReportState.RESUBMITTED
    assert report.first_submitted_at == first - timedelta(days=1) < report.submitted_at
    assert services.submit_report(report, actor(world.writer)) is False

    # returned again, for another row: the earlier reasons are gone
    services.return_report(report, "请补充说明", {bo_row.id: "日期有误"}, actor(world.officer))
    db.session.expire_all()
    reasons = {r.id: r.return_reason for r in services.rows_of(report)}
    assert reasons[bo_row.id] == "日期有误"
    assert [reason for row_id, reason in reasons.items() if row_id != bo_row.id] == [None]
    assert report.return_reason == "请补充说明"


def test_accept_locks_the_report(world):
    report = submitted(world)
    services.accept_report(report, actor(world.officer))
    assert report.state == ReportState.ACCEPTED and report.reviewed_by_id == world.officer.id
    who = actor(world.writer)
    first = services.rows_of(report)[0]
    for attempt in (lambda: services.add_row(report, row(world, BO), who),
                    lambda: services.remove_row(first, who),
                    lambda: services.save_narrative(report, "改", who),
                    lambda: services.add_expenditure(report, "交通", Decimal("10"), None, who),
                    lambda: services.add_attachment(report, PNG, "a.png", who),
                    lambda: services.submit_report(report, who)):
        with pytest.raises(DomainError) as caught:
            attempt()
        assert not isinstance(caught.value, AccessDenied)  # refused by the state, not by who asks
    for attempt in (lambda: services.accept_report(report, actor(world.officer)),
                    lambda: services.return_report(report, "再看看", {}, actor(world.officer))):
        with pytest.raises(DomainError):
            attempt()
    assert services.row_count(report) == 1 and report.state == ReportState.ACCEPTED


def test_a_draft_is_not_reviewed(world):
    report = open_(world)
    with pytest.raises(DomainError):
        services.accept_report(report, actor(world.officer))
    with pytest.raises(DomainError):
        services.return_report(report, "请补充", {}, actor(world.officer))
    assert report.state == ReportState.DRAFT


def test_officers_of_another_county_may_not_review(world):
    report = submitted(world)
    stranger = officer("530102")
    with pytest.raises(AccessDenied):
        services.accept_report(report, actor(stranger))
    with pytest.raises(AccessDenied):
        services.return_report(report, "请补充", {}, actor(stranger))
    with pytest.raises(AccessDenied):  # nor the supplier
        services.accept_report(report, actor(world.writer))
    assert report.state == ReportState.SUBMITTED
    assert services.can_review(world.officer, report) and not services.can_review(stranger, report)


# --- what was delivered -----------------------------------------------------------------------------

def test_only_accepted_reports_count(world):
    may = open_(world)
    for number, on, quantity in ((ANNA, date(2026, 5, 4), "2"), (ANNA, date(2026, 5, 11), "1.25"),
                                 (BO, date(2026, 5, 4), "3")):
        services.add_row(may, row(world, number, on, quantity), actor(world.writer))
    services.save_narrative(may, "五月", actor(world.writer))
    services.submit_report(may, actor(world.writer))
    june = submitted(world, JUNE, rows=((ANNA, date(2026, 6, 3)),))  # submitted, never accepted

    (progress,) = services.delivered_by_item(world.contract)
    assert progress.delivered == Decimal("0") and services.beneficiaries_reached(world.contract) == 0

    services.accept_report(may, actor(world.officer))
    (progress,) = services.delivered_by_item(world.contract)
    assert progress.code == world.item.code and progress.contracted == 100
    assert progress.delivered == Decimal("6.25") and progress.rate == Decimal("6.3")
    assert services.beneficiaries_reached(world.contract) == 2  # three rows, two people
    assert june.state == ReportState.SUBMITTED and services.row_count(june) == 1


def test_a_delivery_after_today_in_beijing_is_refused(world, monkeypatch):
    monkeypatch.setattr(services, "beijing_today", lambda: date(2026, 5, 12))
    report = open_(world)
    services.add_row(report, row(world, on=date(2026, 5, 12)), actor(world.writer))  # today is fine
    with pytest.raises(ReportInvalid) as caught:
        services.add_row(report, row(world, on=date(2026, 5, 13)), actor(world.writer))
    assert [f for f, _m in caught.value.problems] == ["delivered_on"]
    assert "今天" in caught.value.problems[0][1] or "future" in caught.value.problems[0][1]
    assert row_total() == 1


def test_the_contract_figures_count_accepted_and_awaiting_reports_by_period(world):
    world.assign(CHEN)
    may = submitted(world, rows=((ANNA, date(2026, 5, 12)), (BO, date(2026, 5, 13))))  # 2 each
    services.accept_report(may, actor(world.officer))
    submitted(world, JUNE, rows=((CHEN, date(2026, 6, 2)),))
    progress, trend = services.delivery_figures(world.contract, date(2026, 7, 15))
    assert progress == services.delivered_by_item(world.contract)  # the same figures as the item table's
    by_start = {entry.period.start: entry for entry in trend}
    assert max(by_start) == date(2026, 7, 1)  # periods up to today only
    assert (by_start[MAY].accepted, by_start[MAY].pending, by_start[MAY].served) == (4, 0, 2)
    assert (by_start[JUNE].accepted, by_start[JUNE].pending, by_start[JUNE].served) == (0, 2, 1)
    assert by_start[date(2026, 7, 1)].served == 0 and by_start[date(2026, 7, 1)].accepted == 0
