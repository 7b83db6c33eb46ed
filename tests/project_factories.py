"""Factories of budget lines, procurement projects, suppliers, invitations and bids.

``make_*`` add rows directly (fast, any state); ``ready_draft`` builds a draft through the services,
the way an officer would, complete enough to have its budget confirmed.
"""

from datetime import date, timedelta
from decimal import Decimal

from procurement.audit.services import Actor
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.orgs.models import Organization, OrgKind, Qualification, SupplierBan
from procurement.projects import services
from procurement.projects.models import Bid, BudgetLine, FundingSource, Invitation, Project, ProjectLine, TargetDirection
from procurement.rules.clock import beijing_today, utcnow
from procurement.rules.procurement import Method
from procurement.rules.stages import ProjectStage
from tests.factories import make_item, make_list, make_org, make_supplier, make_user

YEAR = 2026


def actor(user) -> Actor:
    return Actor(user, "127.0.0.1")


def make_budget_line(bureau, year=YEAR, amount="1000000.00", **overrides) -> BudgetLine:
    defaults = {"bureau": bureau, "fiscal_year": year, "funding_source": FundingSource.COUNTY_BUDGET,
                "name": f"社会救助购买服务 {next_number()}", "amount": Decimal(amount),
                "approval_ref": "绥财预〔2026〕12号", "approved_on": date(year, 1, 15), "created_at": utcnow(),
                "updated_at": utcnow()}
    line = BudgetLine(**{**defaults, **overrides})
    db.session.add(line)
    db.session.flush()
    return line


_numbers = iter(range(1, 10**9))


def next_number() -> int:
    return next(_numbers)


def make_project(bureau, year=YEAR, budget_line=None, stage=ProjectStage.DRAFT, total="0.00", **overrides) -> Project:
    n = next_number()
    defaults = {"bureau": bureau, "code": f"{bureau.region.code}-{year}-T{n:05d}", "title": f"测试项目{n}",
                "fiscal_year": year, "budget_line": budget_line, "stage": stage, "total": Decimal(total),
                "created_at": utcnow(), "updated_at": utcnow(), "stage_changed_at": utcnow()}
    if stage in (ProjectStage.CANCELLED, ProjectStage.FAILED):
        defaults["stage_reason"] = "测试"
    if stage != ProjectStage.DRAFT and budget_line is None:  # only a draft may lack its budget
        defaults["budget_line"] = make_budget_line(bureau, year, amount="100000000.00")
    project = Project(**{**defaults, **overrides})
    db.session.add(project)
    db.session.flush()
    return project


def make_line(project, item, quantity=10, unit_price=None) -> ProjectLine:
    price = Decimal(unit_price) if unit_price is not None else item.reference_price
    line = ProjectLine(project=project, item=item, quantity=quantity, unit_price=price, amount=price * quantity,
                       position=next_number(), removed=False)
    db.session.add(line)
    project.total = project.total + line.amount
    db.session.flush()
    return line


def county_items(region_code="530626", year=YEAR, n=1, **overrides):
    """An in-use county list of the year with ``n`` items."""
    service_list = make_list(region_code=region_code, year=year)
    return service_list, [make_item(service_list, **overrides) for _ in range(n)]


def ready_draft(officer, budget_line, item, quantity=100, unit_price="45.00", method=Method.SIMPLIFIED,
                **method_data) -> Project:
    """A draft of the officer's bureau that passes every check of draft → approved (given enough budget)."""
    who = actor(officer)
    project = services.create_project({
        "title": "居家照料服务采购", "fiscal_year": budget_line.fiscal_year, "budget_line": budget_line,
        "description": "为特困供养人员提供上门照料。", "expected_beneficiaries": 120,
        "service_start": date(budget_line.fiscal_year, 1, 1), "service_end": date(budget_line.fiscal_year, 12, 31),
        "service_place": "绥江县各乡镇"}, who)
    services.add_line(project, item, quantity, Decimal(unit_price), who)
    services.add_target(project, "服务人次", TargetDirection.AT_LEAST, Decimal("1000"), "人次", who)
    services.set_method(project, {"method": method, "today": beijing_today(), **method_data}, who)
    db.session.flush()
    return project


# --- projects at a given stage (steps, deadlines, calendar) -----------------------------------

def make_bureau(region_code="530626", **overrides) -> Organization:
    return make_org(OrgKind.BUREAU, region_code, **overrides)


def make_staged_project(bureau: Organization | None = None, stage=ProjectStage.APPROVED, method=Method.CONSULTATION,
                        total=Decimal("500000.00"), year=YEAR, **overrides) -> Project:
    """A complete project (a new 绥江 bureau by default) already at ``stage``, to start a test at its step."""
    bureau = bureau or make_bureau()
    values = {"budget_line": make_budget_line(bureau, year, amount="1200000.00"), "method": method,
              "expected_beneficiaries": 300, "service_start": date(year, 7, 1), "service_end": date(year, 12, 31),
              "service_place": "绥江县"}
    return make_project(bureau, year, stage=stage, total=str(total), **{**values, **overrides})


def registered_supplier(region_code="530626", **overrides) -> Organization:
    """A supplier with a valid registration certificate, eligible on any date from 2020 to 2035."""
    supplier = make_supplier(region_code, **overrides)
    supplier.qualifications.append(Qualification(name="民办非企业单位登记证书", number=supplier.credit_code,
                                                 issuer="绥江县民政局", valid_from=date(2020, 1, 1),
                                                 valid_until=date(2035, 12, 31)))
    db.session.flush()
    return supplier


def ban(supplier: Organization, starts: date, ends: date, reason="提供虚假材料谋取中标") -> SupplierBan:
    recorder = make_user(Role.OFFICER)
    record = SupplierBan(organization=supplier, starts_on=starts, ends_on=ends, reason=reason, recorded_at=utcnow(),
                         recorded_by_id=recorder.id)
    db.session.add(record)
    db.session.flush()
    return record


def invite(project: Project, supplier: Organization, on: date) -> Invitation:
    invitation = Invitation(project=project, supplier=supplier, invited_on=on)
    db.session.add(invitation)
    db.session.flush()
    return invitation


def make_bid(project: Project, supplier: Organization, price=Decimal("450000.00"), submitted_on: date | None = None,
             **overrides) -> Bid:
    submitted_on = submitted_on or project.response_deadline or date(2026, 6, 1)
    bid = Bid(project=project, supplier=supplier, price=price, submitted_on=submitted_on, created_at=utcnow(), **overrides)
    db.session.add(bid)
    db.session.flush()
    db.session.expire(project, ["bids"])
    return bid


def announced(issued_on: date, deadline: date, **overrides) -> Project:
    return make_staged_project(stage=ProjectStage.ANNOUNCED, documents_issued_on=issued_on, response_deadline=deadline,
                        **overrides)


def days(n: int) -> timedelta:
    return timedelta(days=n)
