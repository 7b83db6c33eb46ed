"""Procurement-project services: budget lines, projects and their content, the purchase steps, transitions.

Every rule that refuses cites its source; services flush but never commit.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from flask import g
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload, selectinload

from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Action
from procurement.catalog import services as catalog
from procurement.catalog.models import CatalogItem, ListKind, ServiceCategory
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.orgs import services as orgs
from procurement.orgs.models import Organization, OrgKind, Region
from procurement.projects.models import (
    Bid,
    BudgetLine,
    CalendarDay,
    CalendarYear,
    DayOff,
    Invitation,
    PerformanceTarget,
    Project,
    ProjectLine,
    ProjectTransition,
    TargetDirection,
)
from procurement.rules import eligibility, stages
from procurement.rules.catalog import negative_list_hits
from procurement.rules.clock import utcnow
from procurement.rules.eligibility import Severity
from procurement.rules.procurement import (
    PERIODS,
    RESPONSE_PERIOD,
    Method,
    Purchase,
    SingleSourceGround,
    Thresholds,
    method_option,
    score_total_problem,
    split_check,
)
from procurement.rules.stages import ProjectStage
from procurement.rules.workdays import WorkCalendar
from procurement.settings import get_setting

#: Purchases that ended without a contract: they release their budget and count in no split purchase.
ENDED = (ProjectStage.CANCELLED, ProjectStage.FAILED)
#: Stages that do not hold budget: a draft is a plan; confirming the budget (draft → approved) commits it.
NOT_COMMITTED = (ProjectStage.DRAFT, *ENDED)
EDITABLE = (ProjectStage.DRAFT,)
MAX_QUANTITY = 10_000_000
MAX_UNIT_PRICE = Decimal("1000000.00")
MAX_TOTAL = Decimal("100000000.00")
MAX_BUDGET = Decimal("10000000000.00")
MAX_TARGET_VALUE = Decimal("1000000000000.00")
TITLE_MAX, TEXT_MAX, PLACE_MAX, REF_MAX, INDICATOR_MAX, UNIT_MAX = 128, 4000, 256, 128, 64, 16
MAX_BENEFICIARIES = 10_000_000
CITE_BID_BUDGET = "《政府采购货物和服务招标投标管理办法》（财政部令第87号）第六十三条"
CITE_LATE_BID = "《政府采购法实施条例》第三十三条；财政部令第87号 第三十三条"


# --- context --------------------------------------------------------------------------------

def thresholds() -> Thresholds:
    return Thresholds(get_setting("procurement.decentralized_limit"), get_setting("procurement.open_tender_threshold"))


def work_calendar() -> WorkCalendar:
    """The holiday calendar as entered by the system administrator, cached for the app context."""
    cached = g.get("_work_calendar")
    if cached is None:
        days = db.session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
        years = db.session.execute(select(CalendarYear.year)).scalars().all()
        cached = WorkCalendar.build(holidays=[d for d, k in days if k == DayOff.HOLIDAY],
                                    workdays=[d for d, k in days if k == DayOff.WORKDAY], known_years=years)
        g._work_calendar = cached
    return cached


def forget_calendar() -> None:
    g.pop("_work_calendar", None)


# --- permissions ----------------------------------------------------------------------------

def can_view_project(user, project: Project) -> bool:
    return user.may(Action.PROJECT_VIEW) and orgs.in_user_subtree(user, project.bureau.region)


def can_edit_project(user, project: Project) -> bool:
    """Officers of the purchaser's region (or above) run the purchase until it ends."""
    return (user.may(Action.PROJECT_EDIT) and orgs.in_user_subtree(user, project.bureau.region)
            and not project.stage.is_end)


def can_manage_budget(user, bureau: Organization) -> bool:
    return user.may(Action.BUDGET_EDIT) and orgs.in_user_subtree(user, bureau.region)


def supplier_involved(user, project: Project) -> bool:
    """A supplier user sees a purchase it was invited to or bid in (and only its own bid)."""
    if not user.may(Action.OWN_BIDS_VIEW):
        return False
    org_id = user.organization_id
    return any(i.supplier_id == org_id for i in project.invitations) or any(b.supplier_id == org_id for b in project.bids)


def _ensure(allowed: bool) -> None:
    if not allowed:
        raise AccessDenied(_("You may not change this project."))


def _ensure_stage(project: Project, *allowed: ProjectStage) -> None:
    if project.stage not in allowed:
        raise DomainError(_("This cannot be changed while the project is “%(stage)s”.", stage=project.stage.label))


def _check_version(obj, expected_version: int | None, message: str) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise ConflictError(message)


def project_query(user):
    """Projects the user may see: those of the user's region and below."""
    return select(Project).join(Organization, Project.bureau_id == Organization.id).join(
        Region, Organization.region_id == Region.id).where(Region.path.startswith(user.organization.region.path))


@dataclass(frozen=True)
class ProjectFilter:
    q: str = ""
    stage: ProjectStage | None = None
    year: int | None = None
    method: Method | None = None
    region: Region | None = None  # a county (or prefecture) in the user's subtree
    sort: str = "-changed"


PROJECT_SORTS = {
    "-changed": (Project.stage_changed_at.desc(), Project.id.desc()),
    "changed": (Project.stage_changed_at, Project.id),
    "code": (Project.code,),
    "-code": (Project.code.desc(),),
    "-total": (Project.total.desc(), Project.code),
    "total": (Project.total, Project.code),
}


@dataclass(frozen=True)
class ProjectRow:
    """One line of the project list: plain values, so the page triggers no lazy load."""

    id: int
    code: str
    title: str
    fiscal_year: int
    method: Method | None
    total: Decimal
    stage: ProjectStage
    stage_changed_at: datetime
    bureau: str
    region: str


class _ProjectPagination(Pagination):
    def _query_items(self):
        query = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return [ProjectRow(*row) for row in db.session.execute(query)]

    def _query_count(self) -> int:
        return db.session.scalar(self._query_args["count_select"])


def _project_conditions(flt: ProjectFilter) -> list:
    conditions = []
    if flt.region is not None:
        conditions.append(Region.path.startswith(flt.region.path))
    if flt.stage is not None:
        conditions.append(Project.stage == flt.stage)
    if flt.year is not None:
        conditions.append(Project.fiscal_year == flt.year)
    if flt.method is not None:
        conditions.append(Project.method == flt.method)
    if flt.q:
        pattern = "%" + flt.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(Project.code.ilike(pattern, escape="\\"), Project.title.ilike(pattern, escape="\\")))
    return conditions


def project_page(user, flt: ProjectFilter, page: int, per_page: int) -> Pagination:
    """One page of the projects the user may see: one query for the rows (bureau and region joined), one count."""
    if not user.may(Action.PROJECT_VIEW):
        raise AccessDenied(_("You may not see these projects."))
    visible = project_query(user).where(*_project_conditions(flt))  # joins the bureau and its region
    query = (visible.with_only_columns(Project.id, Project.code, Project.title, Project.fiscal_year, Project.method,
                                       Project.total, Project.stage, Project.stage_changed_at, Organization.name,
                                       Region.name)
             .order_by(*PROJECT_SORTS.get(flt.sort, PROJECT_SORTS["-changed"])))
    count = visible.with_only_columns(func.count())
    return _ProjectPagination(page=page, per_page=per_page, error_out=False, select=query, count_select=count)


def project_years(user) -> list[int]:
    """Fiscal years that have projects the user may see, newest first."""
    return list(db.session.execute(
        project_query(user).with_only_columns(Project.fiscal_year).distinct().order_by(Project.fiscal_year.desc())
    ).scalars())


def user_regions(user) -> list[Region]:
    """The user's region and every region below it, in tree order (for the region filter)."""
    # The filter shows names by depth: the parents the region model joins by default are not needed.
    return db.session.execute(select(Region).where(Region.path.startswith(user.organization.region.path))
                              .options(lazyload(Region.parent)).order_by(Region.path)).scalars().all()


# --- budget lines ---------------------------------------------------------------------------

def _yuan(value) -> Decimal:
    """A SUM over a Money column: the column type already turns the stored fen into yuan."""
    return Decimal(value or 0).quantize(Decimal("0.01"))


def committed(line: BudgetLine, exclude: Project | None = None) -> Decimal:
    """What the line's projects with a confirmed budget take from it.

    Drafts commit nothing yet, and cancelled and failed purchases release their share.
    """
    query = select(func.sum(Project.total)).where(
        Project.budget_line_id == line.id, Project.stage.not_in(NOT_COMMITTED))
    if exclude is not None and exclude.id is not None:
        query = query.where(Project.id != exclude.id)
    return _yuan(db.session.scalar(query))


def remaining(line: BudgetLine, exclude: Project | None = None) -> Decimal:
    return line.amount - committed(line, exclude)


@dataclass(frozen=True)
class BudgetUsage:
    committed: Decimal = Decimal("0.00")
    projects: int = 0


def budget_usage(line_ids) -> dict[int, BudgetUsage]:
    """Committed amount and number of projects of each line, in two grouped queries."""
    ids = list({i for i in line_ids})
    if not ids:
        return {}
    sums = dict(db.session.execute(
        select(Project.budget_line_id, func.sum(Project.total)).where(
            Project.budget_line_id.in_(ids), Project.stage.not_in(NOT_COMMITTED)).group_by(Project.budget_line_id)).all())
    counts = dict(db.session.execute(
        select(Project.budget_line_id, func.count()).where(Project.budget_line_id.in_(ids))
        .group_by(Project.budget_line_id)).all())
    return {i: BudgetUsage(_yuan(sums.get(i)), counts.get(i, 0)) for i in ids}


def budget_line_query(user, year: int | None = None):
    """Budget lines of the bureaus in the user's region and below, newest year first."""
    query = (select(BudgetLine).join(Organization, BudgetLine.bureau_id == Organization.id)
             .join(Region, Organization.region_id == Region.id)
             .where(Region.path.startswith(user.organization.region.path)))
    if year is not None:
        query = query.where(BudgetLine.fiscal_year == year)
    return query.order_by(BudgetLine.fiscal_year.desc(), Region.code, Organization.name, BudgetLine.name, BudgetLine.id)


def budget_years(user) -> list[int]:
    return list(db.session.execute(
        budget_line_query(user).with_only_columns(BudgetLine.fiscal_year).order_by(None).distinct()
        .order_by(BudgetLine.fiscal_year.desc())).scalars())


def budget_lines_for(bureau: Organization, year: int | None = None) -> list[BudgetLine]:
    query = select(BudgetLine).where(BudgetLine.bureau_id == bureau.id)
    if year is not None:
        query = query.where(BudgetLine.fiscal_year == year)
    return db.session.execute(query.order_by(BudgetLine.fiscal_year.desc(), BudgetLine.name)).scalars().all()


BUDGET_FIELDS = ("fiscal_year", "funding_source", "name", "amount", "approval_ref", "approved_on", "note")


def save_budget_line(bureau: Organization, data: dict, actor: Actor, line: BudgetLine | None = None,
                     expected_version: int | None = None) -> BudgetLine:
    """Create or change a budget line.

    Raises:
        ConflictError: someone saved the line since it was loaded.
        DomainError: the name is taken for the year, or the amount is below what projects already commit.
    """
    _ensure(can_manage_budget(actor.user, bureau))
    if line is not None:
        _check_version(line, expected_version, _("Someone else saved this budget line while you were editing it."))
    if not Decimal("0.01") <= data["amount"] <= MAX_BUDGET:
        raise DomainError(_("The amount must be more than 0 and at most %(max)s.", max=f"¥{MAX_BUDGET:,.2f}"),
                          field="amount")
    if not 2000 <= data["fiscal_year"] <= 2100:
        raise DomainError(_("Enter a year between 2000 and 2100."), field="fiscal_year")
    if not (data.get("approval_ref") or "").strip():
        raise DomainError(_("Enter the reference of the budget approval."), field="approval_ref")
    taken = db.session.execute(select(BudgetLine).where(
        BudgetLine.bureau_id == bureau.id, BudgetLine.fiscal_year == data["fiscal_year"], BudgetLine.name == data["name"],
        BudgetLine.id != (line.id if line is not None else -1))).scalar_one_or_none()
    if taken is not None:
        raise DomainError(_("%(year)s already has a budget line named “%(name)s”.", year=data["fiscal_year"],
                            name=data["name"]), field="name")
    if line is not None:
        used = committed(line)
        if data["amount"] < used:
            raise DomainError(_("Projects already commit %(used)s of this line; the amount cannot be lower.",
                                used=f"¥{used:,.2f}"), field="amount", citation=stages.CITE_BUDGET)
        if data["fiscal_year"] != line.fiscal_year and db.session.scalar(
                select(func.count()).select_from(Project).where(Project.budget_line_id == line.id)):
            raise DomainError(_("The year of a budget line used by projects cannot change."), field="fiscal_year")
    before = None if line is None else {k: str(getattr(line, k)) for k in BUDGET_FIELDS}
    if line is None:
        line = BudgetLine(bureau=bureau, created_by_id=actor.user_id, created_at=utcnow())
        db.session.add(line)
    for key in BUDGET_FIELDS:
        setattr(line, key, data[key])
    line.updated_at = utcnow()
    db.session.flush()
    after = {k: str(getattr(line, k)) for k in BUDGET_FIELDS}
    append_audit(actor, "project.budget_create" if before is None else "project.budget_update", line,
                 detail={k: after[k] for k in BUDGET_FIELDS if before is None or before[k] != after[k]})
    return line


# --- projects -------------------------------------------------------------------------------

PROJECT_FIELDS = ("title", "fiscal_year", "budget_line", "description", "expected_beneficiaries", "service_start",
                  "service_end", "service_place")


def _next_code(bureau: Organization, year: int) -> str:
    prefix = f"{bureau.region.code}-{year}-"
    # Longest first: after -999 comes -1000, which sorts before it as text.
    last = db.session.scalar(select(Project.code).where(Project.code.startswith(prefix))
                             .order_by(func.length(Project.code).desc(), Project.code.desc()).limit(1))
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:03d}"


def _check_project_data(bureau: Organization, data: dict, project: Project | None = None) -> None:
    if not (data.get("title") or "").strip():
        raise DomainError(_("Enter the title."), field="title")
    if not 2000 <= data["fiscal_year"] <= 2100:
        raise DomainError(_("Enter a year between 2000 and 2100."), field="fiscal_year")
    beneficiaries = data.get("expected_beneficiaries")
    if beneficiaries is not None and not 0 <= beneficiaries <= MAX_BENEFICIARIES:
        raise DomainError(_("Between 0 and %(max)s.", max=f"{MAX_BENEFICIARIES:,}"), field="expected_beneficiaries")
    if project is not None and data["fiscal_year"] != project.fiscal_year and project.lines:
        # The items come from the county list of the project's year.
        raise DomainError(_("The fiscal year cannot change while the project lists service items; remove them first."),
                          field="fiscal_year")
    line = data.get("budget_line")
    if line is not None:
        if line.bureau_id != bureau.id:
            raise DomainError(_("The budget line belongs to another bureau."), field="budget_line")
        if line.fiscal_year != data["fiscal_year"]:
            raise DomainError(_("The budget line is of %(year)s; the project is of another fiscal year.",
                                year=line.fiscal_year), field="budget_line")
    if data.get("service_start") and data.get("service_end") and data["service_end"] < data["service_start"]:
        raise DomainError(_("The service period must end on or after its start."), field="service_end")


def create_project(data: dict, actor: Actor) -> Project:
    """A new draft project of the actor's bureau.

    Raises:
        DomainError: the actor does not belong to a civil-affairs bureau, or the data is inconsistent.
    """
    bureau = actor.user.organization
    if not actor.user.may(Action.PROJECT_EDIT) or bureau.kind != OrgKind.BUREAU:
        raise AccessDenied(_("Only officers of a civil-affairs bureau create procurement projects."))
    _check_project_data(bureau, data)
    for _attempt in range(5):
        # Two officers of a county may create projects at the same moment: the second one takes the next number.
        project = Project(bureau=bureau, code=_next_code(bureau, data["fiscal_year"]), stage=ProjectStage.DRAFT,
                          total=Decimal("0.00"), created_by_id=actor.user_id, created_at=utcnow(),
                          stage_changed_at=utcnow())
        _apply_project(project, data)
        try:
            with db.session.begin_nested():
                db.session.add(project)
        except IntegrityError:
            continue
        break
    else:
        raise ConflictError(_("Many projects are being created at this moment; please save again."))
    append_audit(actor, "project.create", project, detail={"code": project.code, "title": project.title})
    return project


def _apply_project(project: Project, data: dict) -> None:
    for key in PROJECT_FIELDS:
        setattr(project, key, data[key])
    project.updated_at = utcnow()


def update_project(project: Project, data: dict, actor: Actor, expected_version: int | None = None) -> None:
    """Raises:
        ConflictError: someone saved the project since it was loaded.
        DomainError: the project is past draft, or the data is inconsistent.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    _check_version(project, expected_version, _("Someone else saved this project while you were editing it."))
    _check_project_data(project.bureau, data, project)
    before = {k: str(getattr(project, k)) for k in PROJECT_FIELDS}
    _apply_project(project, data)
    db.session.flush()
    after = {k: str(getattr(project, k)) for k in PROJECT_FIELDS}
    append_audit(actor, "project.update", project, detail={k: after[k] for k in PROJECT_FIELDS if before[k] != after[k]})


def _display(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, BudgetLine):
        return f"{value.fiscal_year} · {value.name}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"¥{value:,.2f}"
    return str(value)


def project_values(project: Project) -> dict[str, str]:
    """The editable fields as shown to a person comparing two versions."""
    return {k: _display(getattr(project, k)) for k in PROJECT_FIELDS}


def project_data_values(data: dict) -> dict[str, str]:
    return {k: _display(data.get(k)) for k in PROJECT_FIELDS}


def budget_values(line: BudgetLine) -> dict[str, str]:
    return {k: _display(getattr(line, k).label if k == "funding_source" else getattr(line, k)) for k in BUDGET_FIELDS}


def budget_data_values(data: dict) -> dict[str, str]:
    return {k: _display(data[k].label if k == "funding_source" else data.get(k)) for k in BUDGET_FIELDS}


def last_change(obj) -> AuditRecord | None:
    """The newest audit record of a project or budget line (who saved it last, for a conflict message)."""
    return db.session.execute(
        select(AuditRecord).where(AuditRecord.object_type == obj.__tablename__, AuditRecord.object_id == str(obj.id),
                                  AuditRecord.outcome == "success")
        .order_by(AuditRecord.seq.desc()).limit(1)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    who: str
    action: str  # "stage" for a transition, else the audit action code
    from_stage: ProjectStage | None = None
    to_stage: ProjectStage | None = None
    reason: str | None = None
    detail: dict = field(default_factory=dict)


def timeline(project: Project) -> list[TimelineEntry]:
    """Transitions and audited changes of the project, newest first."""
    from procurement.audit.queries import display_names

    transitions = db.session.execute(
        select(ProjectTransition).where(ProjectTransition.project_id == project.id)
        .options(selectinload(ProjectTransition.actor))).scalars().all()
    records = db.session.execute(
        select(AuditRecord).where(AuditRecord.object_type == Project.__tablename__,
                                  AuditRecord.object_id == str(project.id),
                                  # the transitions table says the same with the stages, from the same transaction
                                  AuditRecord.action != "project.stage")).scalars().all()
    names = display_names(r.user_id for r in records)
    keyed = [((t.at.replace(microsecond=0), 1, t.id),
              TimelineEntry(t.at, t.actor.display_name if t.actor else "", "stage", t.from_stage, t.to_stage, t.reason))
             for t in transitions]
    keyed += [((r.at, 0, r.seq), TimelineEntry(r.at, names.get(r.user_id, r.username or ""), r.action,
                                                detail=r.detail or {}))
              for r in records]
    # Audit times are whole seconds: within a second the log's order holds, and a transition comes after the
    # changes that led to it.
    keyed.sort(key=lambda pair: pair[0], reverse=True)
    return [entry for _key, entry in keyed]


def ended_from(project: Project) -> ProjectStage | None:
    """For a cancelled or failed project, the stage it was in when it ended."""
    if project.stage not in ENDED:
        return None
    return db.session.scalar(select(ProjectTransition.from_stage).where(
        ProjectTransition.project_id == project.id, ProjectTransition.to_stage == project.stage)
        .order_by(ProjectTransition.id.desc()).limit(1))


def indicator_suggestions(project: Project) -> list[str]:
    """The output indicators of the project's items, for the target form."""
    seen: dict[str, None] = {}
    for line in project.lines:
        for name in line.item.indicators or ():
            seen.setdefault(name, None)
    return list(seen)


def adopted_items(project: Project) -> list[CatalogItem]:
    """Active items of the bureau's county list for the project's year: what the project may buy."""
    service_list = catalog.local_list(project.bureau.region, project.fiscal_year)
    return catalog.items_of(service_list) if service_list is not None else []


def _recompute_total(project: Project) -> None:
    db.session.flush()
    project.total = _yuan(db.session.scalar(select(func.sum(ProjectLine.amount)).where(
        ProjectLine.project_id == project.id, ProjectLine.removed.is_(False))))
    project.updated_at = utcnow()
    db.session.flush()
    db.session.expire(project, ["lines"])


def add_line(project: Project, item: CatalogItem, quantity: int, unit_price: Decimal, actor: Actor) -> ProjectLine:
    """Add a catalog item × quantity × unit price.

    Raises:
        DomainError: the item is not on the county's adopted list, is on the negative list, or the
            quantity or total is out of bounds.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    service_list = item.service_list
    if (service_list.kind != ListKind.LOCAL or service_list.region_id != project.bureau.region_id
            or service_list.year != project.fiscal_year or not item.active):
        raise DomainError(_("Only active items of the county's %(year)s service list can be purchased.",
                            year=project.fiscal_year), field="item", citation=stages.CITE_CATALOG)
    hits = negative_list_hits([item.name, item.content], catalog.negative_rules())
    if hits:
        raise DomainError(_("“%(keyword)s” is on the negative list (%(entry)s) and may not be purchased: %(clause)s.",
                            keyword=hits[0].keyword, entry=hits[0].rule.name, clause=hits[0].rule.clause),
                          field="item", citation=hits[0].rule.clause)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(_("The quantity must be between 1 and %(max)s.", max=f"{MAX_QUANTITY:,}"), field="quantity")
    if not Decimal("0.01") <= unit_price <= MAX_UNIT_PRICE:
        raise DomainError(_("The price must be more than 0 and at most 1,000,000.00 yuan."), field="unit_price")
    amount = (unit_price * quantity).quantize(Decimal("0.01"))
    if project.total + amount > MAX_TOTAL:
        raise DomainError(_("The project total would exceed %(max)s; split the need into separate budget decisions.",
                            max=f"¥{MAX_TOTAL:,.2f}"), field="quantity")
    position = db.session.scalar(select(func.coalesce(func.max(ProjectLine.position), 0)).where(
        ProjectLine.project_id == project.id)) + 1
    line = ProjectLine(project=project, item=item, quantity=quantity, unit_price=unit_price, amount=amount,
                       position=position, removed=False)
    db.session.add(line)
    _recompute_total(project)
    append_audit(actor, "project.line_add", project, detail={"item": item.code, "quantity": quantity,
                                                              "unit_price": str(unit_price), "amount": str(amount)})
    return line


def remove_line(line: ProjectLine, actor: Actor) -> None:
    """Take a line out of a draft (kept on record, no longer counted)."""
    project = line.project
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    if line.removed:
        return
    line.removed = True
    _recompute_total(project)
    append_audit(actor, "project.line_remove", project, detail={"item": line.item.code, "amount": str(line.amount)})


def add_target(project: Project, indicator: str, direction: TargetDirection, value: Decimal, unit: str,
               actor: Actor) -> PerformanceTarget:
    """A performance target (绩效目标) of a draft.

    Raises:
        DomainError: the indicator or unit is missing or too long, or the value is negative or absurd.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    indicator, unit = (indicator or "").strip(), (unit or "").strip()
    if not indicator or len(indicator) > INDICATOR_MAX:
        raise DomainError(_("Name the indicator (at most 64 characters)."), field="indicator")
    if not unit or len(unit) > UNIT_MAX:
        raise DomainError(_("Give the unit (at most 16 characters)."), field="unit")
    if not Decimal("0") <= value <= MAX_TARGET_VALUE or value != value.quantize(Decimal("0.01")):
        raise DomainError(_("The target value must be 0 or more, with at most two decimals."), field="target_value")
    position = db.session.scalar(select(func.coalesce(func.max(PerformanceTarget.position), 0)).where(
        PerformanceTarget.project_id == project.id)) + 1
    target = PerformanceTarget(project_id=project.id, indicator=indicator, direction=direction, target_value=value,
                               unit=unit, position=position, removed=False)
    db.session.add(target)
    db.session.flush()
    db.session.expire(project, ["targets"])
    append_audit(actor, "project.target_add", project, detail={"indicator": indicator, "direction": direction.value,
                                                                "value": str(value), "unit": unit})
    return target


def remove_target(target: PerformanceTarget, actor: Actor) -> None:
    """Take a target out of a draft (kept on record, no longer counted)."""
    project = db.session.get(Project, target.project_id)
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    if target.removed:
        return
    target.removed = True
    db.session.flush()
    db.session.expire(project, ["targets"])
    append_audit(actor, "project.target_remove", project, detail={"indicator": target.indicator})


# --- method ---------------------------------------------------------------------------------

def set_method(project: Project, data: dict, actor: Actor, expected_version: int | None = None) -> None:
    """Choose the procurement method, with the approval or single-source ground it needs.

    Raises:
        DomainError: the amount does not allow the method, or a required approval or ground is missing.
        ConflictError: someone saved the project since it was loaded.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    _check_version(project, expected_version, _("Someone else saved this project while you were editing it."))
    method: Method = data["method"]
    option = method_option(project.total, thresholds(), method)
    if not option.allowed:
        raise DomainError(option.reason, field="method", citation=option.citation)
    today = data["today"]
    if option.needs_approval:
        missing = [f for f in ("method_approval_by", "method_approval_ref", "method_approval_on") if not data.get(f)]
        if missing:
            raise DomainError(_("Above the open-tender threshold this method needs the finance department's approval: "
                                "record who approved, the document number and the date."), field=missing[0],
                              citation=option.citation)
        if data["method_approval_on"] > today:
            raise DomainError(_("The approval date cannot be in the future."), field="method_approval_on")
    if method == Method.SINGLE_SOURCE:
        if not data.get("single_source_ground"):
            raise DomainError(_("Single source needs one of its statutory grounds."), field="single_source_ground",
                              citation=option.citation)
        if not (data.get("single_source_reason") or "").strip():
            raise DomainError(_("Explain why the ground applies."), field="single_source_reason")
    project.method = method
    keep_approval = option.needs_approval
    project.method_approval_by = data.get("method_approval_by") if keep_approval else None
    project.method_approval_ref = data.get("method_approval_ref") if keep_approval else None
    project.method_approval_on = data.get("method_approval_on") if keep_approval else None
    single = method == Method.SINGLE_SOURCE
    project.single_source_ground = SingleSourceGround(data["single_source_ground"]) if single else None
    project.single_source_reason = data.get("single_source_reason") if single else None
    project.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "project.method", project, detail={
        "method": method.value, "total": str(project.total), "approval_ref": project.method_approval_ref,
        "single_source_ground": project.single_source_ground.value if project.single_source_ground else None})


def record_split_approval(project: Project, ref: str, on: date, note: str, actor: Actor, today: date,
                          expected_version: int | None = None) -> None:
    """A budget adjustment or approval that allows purchases of one category to add up past the threshold.

    Raises:
        DomainError: no reference, or a date in the future.
        ConflictError: someone saved the project since it was loaded.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, *EDITABLE)
    _check_version(project, expected_version, _("Someone else saved this project while you were editing it."))
    ref = (ref or "").strip()
    if not ref or len(ref) > REF_MAX:
        raise DomainError(_("Enter the document number of the adjustment or approval."), field="split_approval_ref")
    if on > today:
        raise DomainError(_("The approval date cannot be in the future."), field="split_approval_on")
    project.split_approval_ref, project.split_approval_on, project.split_approval_note = ref, on, note
    project.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "project.split_approval", project, detail={"ref": ref, "on": on.isoformat()})


def category_amounts(project: Project) -> dict[ServiceCategory, Decimal]:
    amounts: dict = {}
    for line in project.lines:
        amounts[line.item.category] = amounts.get(line.item.category, Decimal("0.00")) + line.amount
    return amounts


def split_results(project: Project):
    """For each category of the project, the other non-open purchases of the same year and budget line."""
    if project.budget_line_id is None or project.method == Method.OPEN_TENDER:
        return ()
    # Purchases that count are those whose budget is confirmed: a draft is not a purchase yet, so the
    # purchase that takes the sum past the threshold is the one refused.
    others = db.session.execute(
        select(Project).where(Project.budget_line_id == project.budget_line_id, Project.fiscal_year == project.fiscal_year,
                              Project.id != project.id, Project.stage.not_in(NOT_COMMITTED),
                              (Project.method.is_(None)) | (Project.method != Method.OPEN_TENDER))
        .options(selectinload(Project.lines))
    ).scalars().all()
    threshold = thresholds().open_tender_threshold
    results = []
    for category, amount in category_amounts(project).items():
        purchases = []
        for other in others:
            share = sum((line.amount for line in other.lines if line.item.category_id == category.id), Decimal("0.00"))
            if share > 0:
                purchases.append(Purchase(other.code, other.title, share))
        results.append(split_check(category.name, amount, purchases, threshold, bool(project.split_approval_ref)))
    return tuple(results)


# --- the purchase ---------------------------------------------------------------------------

def record_announcement(project: Project, issued_on: date, deadline: date | None, ref: str | None, actor: Actor,
                        expected_version: int | None = None) -> None:
    """The date the documents were issued and the response deadline, checked against the minimum period.

    Raises:
        DomainError: the deadline is before the issue date or earlier than the statutory minimum.
        ConflictError: someone saved the project since it was loaded.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.APPROVED)
    _check_version(project, expected_version, _("Someone else saved this project while you were editing it."))
    key = RESPONSE_PERIOD.get(project.method)
    if key is not None and deadline is None:
        raise DomainError(_("Enter the response deadline."), field="response_deadline")
    if deadline is not None and deadline < issued_on:
        raise DomainError(_("The deadline cannot be before the documents are issued."), field="response_deadline")
    if key is not None:
        period = PERIODS[key]
        earliest = period.end(work_calendar(), issued_on)
        if deadline < earliest.day:
            raise DomainError(_("%(period)s: at least %(days)s %(kind)s days; the deadline can be %(day)s at the earliest.",
                                period=period.label, days=period.days,
                                kind=_("working") if period.kind.value == "working" else _("calendar"),
                                day=earliest.day.isoformat()), field="response_deadline", citation=period.citation)
    project.documents_issued_on, project.response_deadline, project.announcement_ref = issued_on, deadline, ref
    project.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "project.announcement", project, detail={
        "issued_on": issued_on.isoformat(), "deadline": deadline.isoformat() if deadline else None, "ref": ref})


def record_notice(project: Project, start: date, end: date, actor: Actor, expected_version: int | None = None) -> None:
    """The single-source public notice (at least 5 working days above the open-tender threshold).

    Raises:
        ConflictError: someone saved the project since it was loaded.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.DRAFT, ProjectStage.APPROVED)
    _check_version(project, expected_version, _("Someone else saved this project while you were editing it."))
    if project.method != Method.SINGLE_SOURCE:
        raise DomainError(_("A public notice is recorded for single-source purchases."))
    if end < start:
        raise DomainError(_("The notice must end on or after its start."), field="notice_end")
    period = PERIODS["single_source_notice"]
    earliest = period.end(work_calendar(), start)
    if project.total >= thresholds().open_tender_threshold and end < earliest.day:
        raise DomainError(_("The notice must run at least 5 working days: until %(day)s at the earliest.",
                            day=earliest.day.isoformat()), field="notice_end", citation=period.citation)
    project.notice_start, project.notice_end = start, end
    project.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "project.notice", project, detail={"start": start.isoformat(), "end": end.isoformat()})


def _supplier_refusals(supplier: Organization, on: date) -> list[str]:
    return [p.message for p in orgs.supplier_eligibility(supplier, on) if p.severity == Severity.REFUSAL]


def invite_supplier(project: Project, supplier: Organization, invited_on: date, actor: Actor) -> Invitation:
    """Raises:
        DomainError: the supplier is not eligible, or already invited.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.APPROVED, ProjectStage.ANNOUNCED)
    if supplier.kind != OrgKind.SUPPLIER:
        raise DomainError(_("Choose a registered supplier."), field="supplier")
    refusals = _supplier_refusals(supplier, invited_on)
    if refusals:
        raise DomainError(_("%(name)s cannot be invited: %(why)s", name=supplier.name, why="；".join(refusals)),
                          field="supplier", citation=stages.CITE_AWARD)
    if any(i.supplier_id == supplier.id for i in project.invitations):
        raise DomainError(_("%(name)s is already invited.", name=supplier.name), field="supplier")
    invitation = Invitation(project=project, supplier=supplier, invited_on=invited_on)
    db.session.add(invitation)
    db.session.flush()
    append_audit(actor, "project.invite", project, detail={"supplier": supplier.id, "name": supplier.name,
                                                            "on": invited_on.isoformat()})
    return invitation


def record_bid(project: Project, data: dict, actor: Actor) -> Bid:
    """A bid or response received before the deadline, from an eligible supplier.

    Raises:
        DomainError: late, before the documents were issued, above the budget, from an ineligible or
            uninvited supplier, or recorded twice.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.ANNOUNCED)
    supplier: Organization = data["supplier"]
    submitted_on: date = data["submitted_on"]
    if supplier.kind != OrgKind.SUPPLIER:
        raise DomainError(_("Choose a registered supplier."), field="supplier")
    if any(b.supplier_id == supplier.id for b in project.bids):
        raise DomainError(_("A bid of %(name)s is already recorded.", name=supplier.name), field="supplier")
    if project.method == Method.INVITED_TENDER and not any(i.supplier_id == supplier.id for i in project.invitations):
        raise DomainError(_("%(name)s was not invited to this invited tender.", name=supplier.name), field="supplier",
                          citation="《政府采购法》第三十四条")
    refusals = _supplier_refusals(supplier, submitted_on)
    if refusals:
        raise DomainError(_("The bid of %(name)s cannot be accepted: %(why)s", name=supplier.name, why="；".join(refusals)),
                          field="supplier", citation=stages.CITE_AWARD)
    if project.documents_issued_on and submitted_on < project.documents_issued_on:
        raise DomainError(_("A bid cannot be submitted before the documents were issued (%(day)s).",
                            day=project.documents_issued_on.isoformat()), field="submitted_on")
    if project.response_deadline and submitted_on > project.response_deadline:
        raise DomainError(_("Submitted after the deadline of %(day)s: a late bid is refused.",
                            day=project.response_deadline.isoformat()), field="submitted_on", citation=CITE_LATE_BID)
    _check_total_score(data)
    if data["price"] > project.total:
        raise DomainError(_("The price exceeds the project's budget of %(total)s: such a bid is invalid.",
                            total=f"¥{project.total:,.2f}"), field="price", citation=CITE_BID_BUDGET)
    bid = Bid(project=project, supplier=supplier, submitted_on=submitted_on, price=data["price"],
              technical_score=data.get("technical_score"), price_score=data.get("price_score"),
              total_score=data.get("total_score"), note=data.get("note"))
    db.session.add(bid)
    db.session.flush()
    append_audit(actor, "project.bid", project, detail={"supplier": supplier.id, "name": supplier.name,
                                                         "price": str(bid.price), "total_score": str(bid.total_score)})
    return bid


def _check_total_score(data: dict) -> None:
    problem = score_total_problem(data.get("technical_score"), data.get("price_score"), data.get("total_score"))
    if problem:
        raise DomainError(problem, field="total_score")


def score_bid(bid: Bid, data: dict, actor: Actor, expected_version: int | None = None) -> None:
    """The evaluation committee's scores of one bid.

    Bids carry no version of their own: a score is part of the project's evaluation, so scoring saves the
    project too and the form checks the project's version.

    Raises:
        DomainError: the total is not the technical score plus the price score.
        ConflictError: someone saved the project (or scored one of its bids) since it was loaded.
    """
    project = bid.project
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.ANNOUNCED, ProjectStage.EVALUATED)
    _check_version(project, expected_version, _("Someone else saved the scores of this project while you were editing them."))
    _check_total_score(data)
    bid.technical_score, bid.price_score, bid.total_score = data["technical_score"], data["price_score"], data["total_score"]
    project.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "project.bid_score", project, detail={"supplier": bid.supplier_id, "total_score": str(bid.total_score)})


def record_evaluation(project: Project, evaluated_on: date, result: str, actor: Actor,
                      expected_version: int | None = None) -> None:
    """Raises:
        DomainError: the evaluation date is before the response deadline.
        ConflictError: someone saved the project since it was loaded.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.ANNOUNCED)
    _check_version(project, expected_version, _("Someone else saved this project while you were editing it."))
    if project.response_deadline and evaluated_on < project.response_deadline:
        raise DomainError(_("The evaluation cannot take place before the response deadline of %(day)s.",
                            day=project.response_deadline.isoformat()), field="evaluated_on")
    project.evaluated_on, project.evaluation_result = evaluated_on, result
    project.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "project.evaluation", project, detail={"on": evaluated_on.isoformat()})


def record_award(project: Project, supplier: Organization, decided_on: date, notice_on: date, actor: Actor,
                 expected_version: int | None = None) -> None:
    """Raises:
        DomainError: the supplier did not bid, or the dates are out of order.
        ConflictError: someone saved the project since it was loaded.
    """
    _ensure(can_edit_project(actor.user, project))
    _ensure_stage(project, ProjectStage.EVALUATED)
    _check_version(project, expected_version, _("Someone else saved this project while you were editing it."))
    if not any(b.supplier_id == supplier.id for b in project.bids):
        raise DomainError(_("The award goes to one of the bidders."), field="supplier")
    if project.evaluated_on and decided_on < project.evaluated_on:
        raise DomainError(_("The award cannot be decided before the evaluation of %(day)s.",
                            day=project.evaluated_on.isoformat()), field="award_decided_on")
    if notice_on < decided_on:
        raise DomainError(_("The award notice cannot come before the decision."), field="award_notice_on")
    project.award_supplier_id, project.award_decided_on, project.award_notice_on = supplier.id, decided_on, notice_on
    project.updated_at = utcnow()
    db.session.flush()
    db.session.expire(project, ["award_supplier"])
    append_audit(actor, "project.award", project, detail={"supplier": supplier.id, "name": supplier.name,
                                                           "decided_on": decided_on.isoformat(),
                                                           "notice_on": notice_on.isoformat()})


# --- facts and transitions ------------------------------------------------------------------

def project_facts(project: Project, today: date) -> stages.ProjectFacts:
    """Everything the stage guards look at, read from the database."""
    calendar = work_calendar()
    on_list = {item.id for item in adopted_items(project)}
    rules = catalog.negative_rules()
    negative = []
    for line in project.lines:
        for hit in negative_list_hits([line.item.name, line.item.content], rules):
            negative.append(stages.NegativeFinding(line.item.code, hit.rule.name, hit.rule.clause))
    for hit in negative_list_hits([project.title, project.description or ""], rules):
        negative.append(stages.NegativeFinding("description", hit.rule.name, hit.rule.clause))
    bids = tuple(stages.BidFacts(b.supplier.name, b.supplier.legal_representative) for b in project.bids)
    award_problems, award_warnings = (), ()
    if project.award_supplier_id is not None:
        on = project.award_decided_on or today
        problems = award_eligibility(project.award_supplier, on)
        award_problems = tuple(p.message for p in problems if p.severity == Severity.REFUSAL)
        award_warnings = tuple(p.message for p in problems if p.severity != Severity.REFUSAL)
    line = project.budget_line
    return stages.ProjectFacts(
        stage=project.stage, today=today, calendar=calendar, thresholds=thresholds(), total=project.total,
        lines=len(project.lines), budget_line=line is not None,
        budget_remaining=remaining(line, exclude=project) if line is not None else None,
        items_off_list=tuple(ln.item.code for ln in project.lines if ln.item_id not in on_list),
        negative=tuple(negative), targets=len(project.targets), expected_beneficiaries=project.expected_beneficiaries,
        service_start=project.service_start, service_end=project.service_end, service_place=project.service_place,
        method=project.method, method_approval=bool(project.method_approval_ref and project.method_approval_on),
        single_source_ground=project.single_source_ground.value if project.single_source_ground else None,
        notice_start=project.notice_start, notice_end=project.notice_end,
        # A split purchase is judged when its budget is confirmed; once committed, later purchases are judged
        # against it, not it against them.
        splits=split_results(project) if project.stage == ProjectStage.DRAFT else (),
        documents_issued_on=project.documents_issued_on, response_deadline=project.response_deadline,
        invitations=len(project.invitations), bids=bids, evaluated_on=project.evaluated_on,
        evaluation_result=project.evaluation_result,
        award_supplier=project.award_supplier.name if project.award_supplier_id else None,
        award_decided_on=project.award_decided_on, award_notice_on=project.award_notice_on,
        award_problems=award_problems, award_warnings=award_warnings,
        **(_closing_facts(project, today) if project.stage in CLOSING_STAGES else {}),
    )


#: Stages whose guards look at the contract's acceptance, final evaluation, payments and rectifications.
CLOSING_STAGES = (ProjectStage.IN_SERVICE, ProjectStage.ACCEPTED, ProjectStage.EVALUATED_FINAL)


def award_eligibility(supplier: Organization, on: date, format_date=date.isoformat) -> list[eligibility.Problem]:
    """Every eligibility problem of awarding ``supplier`` on ``on``, with its last final grade and the local 差 rule
    (setting ``award.fail_disqualifies_next_year``: a refusal when on, a warning when off)."""
    from evaluation.services import last_final_result  # evaluation builds on procurement: imported when used

    grade, graded_on = last_final_result(supplier.id, on)
    facts = replace(orgs.supplier_facts(supplier, grade), last_grade_on=graded_on,
                    fail_disqualifies=bool(get_setting("award.fail_disqualifies_next_year")))
    return eligibility.supplier_problems(facts, on, format_date=format_date)


def _closing_facts(project: Project, today: date) -> dict:
    """The main contract's acceptance, final evaluation, instalments and open rectification notices."""
    from contracts.models import Contract, ContractState
    from evaluation import payments
    from evaluation.models import Stage
    from evaluation.services import effective_sheet
    from procurement.acceptance.models import Acceptance
    from procurement.oversight.models import NoticeState, RectificationNotice

    main = db.session.execute(select(Contract).where(Contract.project_id == project.id,
                                                     Contract.parent_id.is_(None))).scalar()
    if main is None:
        return {}
    acceptance = db.session.execute(select(Acceptance).where(Acceptance.contract_id == main.id)).scalar()
    sheet = effective_sheet(main, Stage.FINAL)
    contracts = [main] + list(db.session.execute(
        select(Contract).where(Contract.parent_id == main.id, Contract.state != ContractState.DRAFT)
        .order_by(Contract.id)).scalars())
    unpaid, withheld = [], []
    for contract in contracts:
        for ln in payments.instalment_lines(contract, today):
            name = _("%(number)s instalment %(n)s (%(amount)s)", number=contract.number, n=ln.instalment.position,
                     amount=f"¥{ln.instalment.amount:,.2f}")
            if ln.state in (payments.DUE, payments.OVERDUE, payments.WAITING):
                unpaid.append(f"{name}: {ln.state_label}")
            elif ln.withheld > 0:
                withheld.append(_("%(name)s: %(amount)s withheld", name=name, amount=f"¥{ln.withheld:,.2f}"))
    notices = db.session.execute(
        select(RectificationNotice.number).where(RectificationNotice.contract_id.in_([c.id for c in contracts]),
                                                 RectificationNotice.state != NoticeState.CLOSED)
        .order_by(RectificationNotice.number)).scalars().all()
    return {
        "contract_number": main.number,
        "acceptance_state": acceptance.state.value if acceptance is not None else None,
        "acceptance_conclusion": acceptance.conclusion.value if acceptance is not None and acceptance.conclusion else None,
        "final_grade": sheet.grade if sheet is not None else None,
        "unpaid_instalments": tuple(unpaid),
        "withheld_instalments": tuple(withheld),
        "open_rectifications": tuple(notices),
    }


@dataclass
class TransitionOption:
    transition: stages.Transition
    checks: list[stages.Check]

    @property
    def ready(self) -> bool:
        return not stages.unmet(self.checks)



def readiness(project: Project, today: date) -> list[TransitionOption]:
    """Each transition open from the current stage with its checklist (for the project page)."""
    facts = project_facts(project, today)
    return [TransitionOption(t, stages.checklist(facts, t.target))
            for t in stages.next_transitions(project.stage)]


class TransitionRefused(DomainError):
    def __init__(self, message: str, checks=()):
        super().__init__(message)
        self.checks = list(checks)


def change_stage(project: Project, target: ProjectStage, actor: Actor, today: date, reason: str | None = None,
                 expected_version: int | None = None) -> ProjectTransition:
    """Move the project to ``target`` if every precondition holds; record and audit the transition.

    Raises:
        TransitionRefused: with every unmet precondition and its citation.
        ConflictError: someone changed the project since it was loaded.
    """
    _ensure(can_edit_project(actor.user, project))
    _check_version(project, expected_version, _("Someone else changed this project; look at it again before you go on."))
    if target == ProjectStage.APPROVED and project.budget_line_id is not None:
        # Hold the budget line while its remaining amount is checked, so two projects cannot both take the last yuan.
        db.session.execute(select(BudgetLine).where(BudgetLine.id == project.budget_line_id).with_for_update()).first()
    facts = project_facts(project, today)
    refusal = stages.can_transition(facts, target, actor.user.role, reason)
    if refusal.not_allowed:
        raise TransitionRefused(_("A project cannot go from “%(a)s” to “%(b)s”.", a=project.stage.label, b=target.label))
    if refusal.role:
        raise AccessDenied(_("You may not change this project."))
    if refusal.reason_missing:
        raise DomainError(_("Give the reason; it is kept with the project's record."), field="reason",
                          citation=stages.CITE_REASON)
    if refusal.checks:
        raise TransitionRefused(_("Not yet: %(n)s preconditions are not met.", n=len(refusal.checks)), refusal.checks)
    source = project.stage
    now = utcnow()
    project.stage = target
    project.stage_changed_at = now
    if target in ENDED:
        project.stage_reason = reason.strip()
    record = ProjectTransition(project_id=project.id, from_stage=source, to_stage=target, at=now,
                               actor_id=actor.user_id, reason=(reason or "").strip() or None)
    db.session.add(record)
    db.session.flush()
    append_audit(actor, "project.stage", project, detail={"from": source.value, "to": target.value,
                                                           "reason": record.reason})
    return record


def record_automatic_stage(project: Project, target: ProjectStage, actor: Actor, reason: str) -> ProjectTransition:
    """Move the project along a transition another record makes (signing its contract, starting the service).

    Raises:
        DomainError: the project is not in the stage that transition starts from.
    """
    transition = stages.TRANSITIONS.get((project.stage, target))
    if transition is None or not transition.automatic:
        raise DomainError(_("A project cannot go from “%(a)s” to “%(b)s”.", a=project.stage.label, b=target.label))
    source, now = project.stage, utcnow()
    project.stage = target
    project.stage_changed_at = now
    record = ProjectTransition(project_id=project.id, from_stage=source, to_stage=target, at=now,
                               actor_id=actor.user_id, reason=reason)
    db.session.add(record)
    db.session.flush()
    append_audit(actor, "project.stage", project, detail={"from": source.value, "to": target.value, "reason": reason})
    return record


# --- deadlines ------------------------------------------------------------------------------

#: Not a statutory limit but the day bids are opened, listed so officers plan for it.
RESPONSES_STEP = "responses"
RESPONSES_CITATION = "《政府采购法》第四十二条"
#: Steps on "my deadlines"; other areas add theirs with their providers (see DEADLINE_PROVIDERS).
PROJECT_DEADLINE_STEPS = ("award_notice", "contract_signing", "challenge", RESPONSES_STEP)
DEADLINE_STEPS = list(PROJECT_DEADLINE_STEPS)


#: Steps other areas add (key → (msgid of the label, msgid of what sets the deadline)), e.g. rectification notices.
EXTRA_STEPS: dict[str, tuple[str, str]] = {}


def step_label(step: str) -> str:
    if step in EXTRA_STEPS:
        return _(EXTRA_STEPS[step][0])
    if step == RESPONSES_STEP:
        return _("Responses close; evaluation follows")
    return PERIODS[step].label


@dataclass(frozen=True, slots=True)
class Deadline:
    """One deadline of a project; the step's label is translated only when a row is shown."""

    project_id: int
    code: str
    title: str
    bureau: str
    step: str  # a key of PERIODS, or RESPONSES_STEP
    start: date
    due: date
    estimated: bool
    done_on: date | None
    state: str  # done / done_late / due / overdue
    contract_id: int | None = None  # a contract's deadline (publication, filing): the row links to the contract
    url_endpoint: str | None = None  # … or to this page (a rectification notice), with these arguments
    url_args: tuple = ()

    @property
    def label(self) -> str:
        return step_label(self.step)

    @property
    def citation(self) -> str:
        if self.step in EXTRA_STEPS:
            return _(EXTRA_STEPS[self.step][1])
        return RESPONSES_CITATION if self.step == RESPONSES_STEP else PERIODS[self.step].citation


#: Other areas add their own deadlines (the contracts: publication and filing) with functions of the same
#: signature as :func:`deadline_rows`, registered when their blueprint is (``create_app``).
DEADLINE_PROVIDERS: list = []


def all_deadline_rows(user, today: date, include_done: bool = False) -> list[Deadline]:
    rows = deadline_rows(user, today, include_done)
    for provider in DEADLINE_PROVIDERS:
        rows.extend(provider(user, today, include_done))
    return rows


def deadline_rows(user, today: date, include_done: bool = False) -> list[Deadline]:
    """Statutory deadlines of the projects in the user's region: what is due, overdue (and done).

    Computed for a province's worth of projects per request: due days once per (period, start day),
    labels translated only for the rows shown.
    """
    calendar = work_calendar()
    query = (project_query(user).where(Project.stage.in_((ProjectStage.ANNOUNCED, ProjectStage.EVALUATED,
                                                           ProjectStage.AWARDED)))
             .with_only_columns(Project.id, Project.code, Project.title, Organization.name, Project.stage,
                                Project.response_deadline, Project.award_decided_on, Project.award_notice_on))
    ends: dict = {}

    def end(key: str, start: date):
        found = ends.get((key, start))
        if found is None:
            found = ends[(key, start)] = PERIODS[key].end(calendar, start)
        return found

    rows = []
    add = rows.append
    for pid, code, title, bureau, stage, response_deadline, decided_on, notice_on in db.session.execute(query):
        if stage == ProjectStage.EVALUATED and decided_on is not None:
            due = end("award_notice", decided_on)
            add(Deadline(pid, code, title, bureau, "award_notice", decided_on, due.day, due.estimated, None,
                         "due" if today <= due.day else "overdue"))
        if notice_on is not None:
            # Done only once published (awarded): while evaluated, the notice date is a plan.
            if decided_on is not None and include_done and stage == ProjectStage.AWARDED:
                due = end("award_notice", decided_on)
                add(Deadline(pid, code, title, bureau, "award_notice", decided_on, due.day, due.estimated, notice_on,
                             "done" if notice_on <= due.day else "done_late"))
            if stage == ProjectStage.AWARDED:
                due = end("contract_signing", notice_on)
                add(Deadline(pid, code, title, bureau, "contract_signing", notice_on, due.day, due.estimated, None,
                             "due" if today <= due.day else "overdue"))
                due = end("challenge", notice_on)
                if today <= due.day:  # the window is open: suppliers may still challenge
                    add(Deadline(pid, code, title, bureau, "challenge", notice_on, due.day, due.estimated, None, "due"))
        if stage == ProjectStage.ANNOUNCED and response_deadline is not None and today <= response_deadline:
            add(Deadline(pid, code, title, bureau, RESPONSES_STEP, response_deadline, response_deadline,
                         not calendar.knows(response_deadline), None, "due"))
    return rows


# --- what suppliers may see ---------------------------------------------------------------

_PUBLIC_STAGES = frozenset(stages.STAGE_ORDER[stages.STAGE_ORDER.index(ProjectStage.AWARDED):])


def public_award(project: Project, today: date) -> tuple[str, date] | None:
    """The awarded supplier's name and the notice date, once the award notice is out; otherwise nothing."""
    if (project.stage in _PUBLIC_STAGES and project.award_supplier_id is not None and project.award_notice_on is not None
            and project.award_notice_on <= today):
        return project.award_supplier.name, project.award_notice_on
    return None
