"""The stages of a procurement project and the guards of each transition (DOMAIN §3).

Pure: the service layer gathers :class:`ProjectFacts` from the database; :func:`checklist`
returns every precondition of a transition — met or not, each with the rule that asks for
it — so the page can show the whole list and the service can refuse with all of them.
"""

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from procurement.auth.roles import Role
from procurement.i18n import N_
from procurement.i18n import gettext as _
from procurement.rules.procurement import (
    CITE_APPROVAL,
    CITE_BIDDERS,
    CITE_INVITED,
    CITE_SINGLE_SOURCE,
    CITE_SINGLE_SOURCE_NOTICE,
    CITE_SPLIT,
    MIN_INVITED,
    MIN_RESPONSES,
    PERIODS,
    RESPONSE_PERIOD,
    Method,
    SplitResult,
    Thresholds,
    method_option,
)
from procurement.rules.workdays import WorkCalendar


class ProjectStage(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"  # 预算已落实
    ANNOUNCED = "announced"  # 公告
    EVALUATED = "evaluated"  # 评审
    AWARDED = "awarded"  # 确定承接主体
    CONTRACTED = "contracted"  # 合同签订
    IN_SERVICE = "in_service"  # 履约
    ACCEPTED = "accepted"  # 验收
    EVALUATED_FINAL = "evaluated_final"  # 绩效评价
    CLOSED = "closed"
    CANCELLED = "cancelled"
    FAILED = "failed"  # 流标/废标

    @property
    def label(self) -> str:
        return _(STAGE_MSGIDS[self])

    @property
    def is_end(self) -> bool:
        return self in (ProjectStage.CLOSED, ProjectStage.CANCELLED, ProjectStage.FAILED)


STAGE_MSGIDS = {
    ProjectStage.DRAFT: N_("Draft"),
    ProjectStage.APPROVED: N_("Budget confirmed"),
    ProjectStage.ANNOUNCED: N_("Announced"),
    ProjectStage.EVALUATED: N_("Evaluated"),
    ProjectStage.AWARDED: N_("Awarded"),
    ProjectStage.CONTRACTED: N_("Contract signed"),
    ProjectStage.IN_SERVICE: N_("In service"),
    ProjectStage.ACCEPTED: N_("Accepted"),
    ProjectStage.EVALUATED_FINAL: N_("Performance evaluated"),
    ProjectStage.CLOSED: N_("Closed"),
    ProjectStage.CANCELLED: N_("Cancelled"),
    ProjectStage.FAILED: N_("Failed"),
}

STAGE_ORDER = [ProjectStage.DRAFT, ProjectStage.APPROVED, ProjectStage.ANNOUNCED, ProjectStage.EVALUATED,
               ProjectStage.AWARDED, ProjectStage.CONTRACTED, ProjectStage.IN_SERVICE, ProjectStage.ACCEPTED,
               ProjectStage.EVALUATED_FINAL, ProjectStage.CLOSED]

CITE_BUDGET = "《政府购买服务管理办法》（财政部令第102号）：先有预算、后购买服务"
CITE_NEGATIVE = "《政府购买服务管理办法》（财政部令第102号）第十条"
CITE_CATALOG = "《政府购买服务管理办法》（财政部令第102号）：购买内容应在指导性目录内"
CITE_TARGETS = "《政府购买服务管理办法》（财政部令第102号）；财预〔2020〕10号：绩效目标"
CITE_AWARD = "《政府采购法》第二十二条；《政府采购法实施条例》第十八条"
CITE_AWARD_NOTICE = "《政府采购法实施条例》第四十三条"
CITE_REASON = "《政府采购法》第四十二条：采购活动记录"
CITE_ACCEPTANCE = "《政府采购法》第四十一条；《政府采购法实施条例》第四十五条"
CITE_FINAL_EVALUATION = "财预〔2020〕10号；财综〔2018〕42号"
CITE_PAYMENTS = "合同“价款与支付”条款；《保障中小企业款项支付条例》第九条、第十条"
CITE_RECTIFICATION = "合同“监督与验收”条款；《政府采购法》第四十一条"

#: Acceptance states and conclusions as the acceptance module stores them (kept as text: rules stay pure).
ACCEPTANCE_DONE = frozenset({"concluded", "published"})
ACCEPTANCE_FAILED = "failed"


@dataclass(frozen=True)
class NegativeFinding:
    where: str  # an item code, or "description"
    entry: str
    clause: str


@dataclass(frozen=True)
class BidFacts:
    supplier: str
    legal_representative: str | None
    problems: tuple[str, ...] = ()  # refusals of the supplier's eligibility on the award date
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectFacts:
    stage: ProjectStage
    today: date
    calendar: WorkCalendar
    thresholds: Thresholds
    total: Decimal = Decimal("0.00")
    lines: int = 0
    budget_line: bool = False
    budget_remaining: Decimal | None = None  # of the budget line, before this project
    items_off_list: tuple[str, ...] = ()
    negative: tuple[NegativeFinding, ...] = ()
    targets: int = 0
    expected_beneficiaries: int | None = None
    service_start: date | None = None
    service_end: date | None = None
    service_place: str | None = None
    method: Method | None = None
    method_approval: bool = False
    single_source_ground: str | None = None
    notice_start: date | None = None
    notice_end: date | None = None
    splits: tuple[SplitResult, ...] = ()
    documents_issued_on: date | None = None
    response_deadline: date | None = None
    invitations: int = 0
    bids: tuple[BidFacts, ...] = ()
    evaluated_on: date | None = None
    evaluation_result: str | None = None
    award_supplier: str | None = None
    award_decided_on: date | None = None
    award_notice_on: date | None = None
    award_problems: tuple[str, ...] = ()
    award_warnings: tuple[str, ...] = ()
    # The end of the purchase (in_service → accepted → evaluated_final → closed), from the main contract.
    contract_number: str | None = None
    acceptance_state: str | None = None  # draft / concluded / published, None without an acceptance record
    acceptance_conclusion: str | None = None  # passed / conditional / failed
    final_grade: str | None = None  # grade of the effective finalized final sheet, None while there is none
    unpaid_instalments: tuple[str, ...] = ()  # instalments still waiting, due or overdue, described
    withheld_instalments: tuple[str, ...] = ()  # withheld parts (差): they stay withheld, a note only
    open_rectifications: tuple[str, ...] = ()  # numbers of rectification notices not closed


@dataclass(frozen=True)
class Check:
    code: str
    label: str
    met: bool
    citation: str
    detail: str = ""
    blocking: bool = True  # False: a warning shown on the checklist that does not hold the project up


@dataclass(frozen=True)
class Transition:
    source: ProjectStage
    target: ProjectStage
    roles: frozenset[Role]
    needs_reason: bool = False
    checks: tuple = field(default=())  # functions ProjectFacts -> list[Check]
    automatic: bool = False  # made by another record's service (signing the contract), never by a button

    @property
    def label(self) -> str:
        return _(TRANSITION_MSGIDS.get((self.source, self.target), STAGE_MSGIDS[self.target]))


# --- checks ---------------------------------------------------------------------------------

def _money(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def budget_checks(f: ProjectFacts) -> list[Check]:
    checks = [Check("budget_line", _("A budget line is chosen"), f.budget_line, CITE_BUDGET)]
    if f.budget_line and f.budget_remaining is not None:
        enough = f.total <= f.budget_remaining
        checks.append(Check("budget_enough", _("The budget line covers the project total"), enough, CITE_BUDGET,
                            "" if enough else _("Total %(total)s, remaining on the budget line %(remaining)s.",
                                                total=_money(f.total), remaining=_money(f.budget_remaining))))
    return checks


def content_checks(f: ProjectFacts) -> list[Check]:
    checks = [
        Check("lines", _("At least one service item with quantity and price"), f.lines > 0 and f.total > 0,
              CITE_CATALOG),
        Check("on_list", _("Every item is on the county's adopted service list"), not f.items_off_list, CITE_CATALOG,
              _("Not on the list or withdrawn: %(codes)s", codes="、".join(f.items_off_list)) if f.items_off_list else ""),
    ]
    negative = "；".join(
        _("%(where)s: %(entry)s (%(clause)s)", where=n.where if n.where != "description" else _("project description"),
          entry=n.entry, clause=n.clause) for n in f.negative)
    checks.append(Check("negative_list", _("Nothing falls on the negative list"), not f.negative, CITE_NEGATIVE, negative))
    checks.append(Check("targets", _("Performance targets are set"), f.targets > 0, CITE_TARGETS))
    checks.append(Check("beneficiaries", _("Expected number of beneficiaries is given"),
                        bool(f.expected_beneficiaries and f.expected_beneficiaries > 0), CITE_TARGETS))
    period_ok = bool(f.service_start and f.service_end and f.service_end >= f.service_start
                     and (f.service_place or "").strip())
    checks.append(Check("service_period", _("Service period and place are set"), period_ok,
                        "《政府购买服务管理办法》（财政部令第102号）第二十三条"))
    return checks


def method_checks(f: ProjectFacts) -> list[Check]:
    if f.method is None:
        return [Check("method", _("A procurement method is chosen"), False, CITE_APPROVAL)]
    option = method_option(f.total, f.thresholds, f.method)
    checks = [Check("method", _("The method is allowed for the amount"), option.allowed, option.citation,
                    "" if option.allowed else option.reason)]
    if option.needs_approval:
        checks.append(Check("method_approval", _("Approval of the prefecture-level finance department is recorded"),
                            f.method_approval, CITE_APPROVAL))
    if f.method == Method.SINGLE_SOURCE:
        checks.append(Check("single_source_ground", _("A statutory ground for single source is recorded"),
                            bool(f.single_source_ground), CITE_SINGLE_SOURCE))
    for split in f.splits:
        detail = _("Non-open purchases in category %(category)s on this budget line this year add up to %(total)s: %(refs)s",
                   category=split.category, total=_money(split.total),
                   refs="、".join(f"{o.ref}（{_money(o.amount)}）" for o in split.others))
        if split.blocking:
            checks.append(Check("split", _("Not a split purchase (化整为零)"), False, CITE_SPLIT,
                                detail + " " + _("Record a budget adjustment or approval, or use open tender.")))
        elif split.others:
            checks.append(Check("split_warning", _("Other purchases of the same category on this budget line"), True,
                                CITE_SPLIT, detail, blocking=False))
    return checks


def announcement_checks(f: ProjectFacts) -> list[Check]:
    checks = [Check("documents_issued", _("Date the procurement documents were issued is recorded"),
                    f.documents_issued_on is not None, CITE_REASON)]
    if f.method == Method.INVITED_TENDER:
        checks.append(Check("invitations", _("At least %(n)s suppliers are invited", n=MIN_INVITED),
                            f.invitations >= MIN_INVITED, CITE_INVITED,
                            _("%(n)s invited so far.", n=f.invitations)))
    if f.method == Method.SINGLE_SOURCE and f.total >= f.thresholds.open_tender_threshold:
        period = PERIODS["single_source_notice"]
        ok = f.notice_start is not None and f.notice_end is not None and \
            f.notice_end >= period.end(f.calendar, f.notice_start).day
        detail = ""
        if f.notice_start is not None:
            earliest = period.end(f.calendar, f.notice_start)
            detail = _("The notice must run until at least %(day)s.", day=earliest.day.isoformat())
        checks.append(Check("single_source_notice", _("Public notice of at least 5 working days"), ok,
                            CITE_SINGLE_SOURCE_NOTICE, detail))
    key = RESPONSE_PERIOD.get(f.method)
    if key is not None:
        period = PERIODS[key]
        if f.documents_issued_on is None or f.response_deadline is None:
            checks.append(Check("response_period", _("Response deadline is set"), False, period.citation))
        else:
            earliest = period.end(f.calendar, f.documents_issued_on)
            ok = f.response_deadline >= earliest.day
            checks.append(Check("response_period", period.label, ok, period.citation,
                                _("Earliest allowed deadline: %(day)s.", day=earliest.day.isoformat())
                                + (" " + _("(computed on weekends only: no holiday calendar for that year)")
                                   if earliest.estimated else "")))
    return checks


def evaluation_checks(f: ProjectFacts) -> list[Check]:
    checks = []
    if f.response_deadline is not None:
        checks.append(Check("deadline_passed", _("The response deadline has passed"), f.today >= f.response_deadline,
                            CITE_REASON, _("Deadline %(day)s.", day=f.response_deadline.isoformat())))
    if f.method == Method.SINGLE_SOURCE and f.notice_end is not None:
        checks.append(Check("notice_over", _("The public notice period is over"), f.today > f.notice_end,
                            CITE_SINGLE_SOURCE_NOTICE))
    needed = MIN_RESPONSES.get(f.method, 1)
    checks.append(Check("responses", _("At least %(n)s responses or bids are recorded", n=needed),
                        len(f.bids) >= needed, CITE_BIDDERS, _("%(n)s recorded.", n=len(f.bids))))
    checks.append(Check("evaluation_result", _("The evaluation committee's result and date are recorded"),
                        bool(f.evaluated_on and f.evaluation_result), CITE_REASON))
    if f.evaluated_on and f.response_deadline and f.evaluated_on < f.response_deadline:
        checks.append(Check("evaluation_after_deadline", _("Evaluation took place after the response deadline"), False,
                            CITE_REASON))
    return checks


def shared_representatives(bids) -> list[tuple[str, str, str]]:
    """Pairs of bidders with the same legal representative (实施条例 第十八条)."""
    seen: dict[str, str] = {}
    pairs = []
    for bid in bids:
        rep = (bid.legal_representative or "").strip()
        if not rep:
            continue
        if rep in seen:
            pairs.append((seen[rep], bid.supplier, rep))
        else:
            seen[rep] = bid.supplier
    return pairs


def award_checks(f: ProjectFacts) -> list[Check]:
    checks = [Check("award_supplier", _("The awarded supplier is chosen among the bidders"), bool(f.award_supplier),
                    CITE_AWARD)]
    dates_ok = bool(f.award_decided_on and f.award_notice_on and f.award_notice_on >= f.award_decided_on)
    checks.append(Check("award_dates", _("Award decision and award notice dates are recorded"), dates_ok,
                        CITE_AWARD_NOTICE))
    if f.award_supplier:
        checks.append(Check("award_eligible", _("The supplier is eligible on the award date"), not f.award_problems,
                            CITE_AWARD, "；".join(f.award_problems)))
        for warning in f.award_warnings:
            checks.append(Check("award_warning", _("Warning about the supplier"), True, CITE_AWARD, warning,
                                blocking=False))
    pairs = shared_representatives(f.bids)
    checks.append(Check("legal_representatives", _("No two bidders share a legal representative"), not pairs,
                        "《政府采购法实施条例》第十八条",
                        "；".join(_("%(a)s and %(b)s: %(rep)s", a=a, b=b, rep=rep) for a, b, rep in pairs)))
    if dates_ok:
        due = PERIODS["award_notice"].end(f.calendar, f.award_decided_on)
        late = f.award_notice_on > due.day
        checks.append(Check("award_notice_in_time", _("Award notice published within 2 working days of the decision"),
                            not late, CITE_AWARD_NOTICE,
                            _("Due by %(day)s.", day=due.day.isoformat()) if late else "", blocking=False))
    return checks


def _no_contract(f: ProjectFacts) -> list[Check]:
    return [Check("main_contract", _("The project has a signed contract"), False, CITE_ACCEPTANCE)]


def acceptance_checks(f: ProjectFacts) -> list[Check]:
    """Acceptance (验收) of the main contract is concluded, or published, and did not fail."""
    if f.contract_number is None:
        return _no_contract(f)
    done = f.acceptance_state in ACCEPTANCE_DONE
    if f.acceptance_state is None:
        detail = _("Contract %(number)s has no acceptance record yet.", number=f.contract_number)
    elif not done:
        detail = _("The acceptance record of contract %(number)s is still a draft.", number=f.contract_number)
    else:
        detail = ""
    checks = [Check("acceptance_concluded", _("The acceptance of the contract is concluded"), done, CITE_ACCEPTANCE,
                    detail)]
    if done:
        passed = f.acceptance_conclusion is not None and f.acceptance_conclusion != ACCEPTANCE_FAILED
        checks.append(Check("acceptance_passed", _("The acceptance did not fail"), passed, CITE_ACCEPTANCE,
                            "" if passed else _("The acceptance concluded that the service failed; the supplier "
                                                "must put it right and a new acceptance is needed.")))
    return checks


def final_evaluation_checks(f: ProjectFacts) -> list[Check]:
    """The effective final performance evaluation sheet (third-party, else the purchaser's) is finalized."""
    if f.contract_number is None:
        return _no_contract(f)
    done = f.final_grade is not None
    checks = [Check("final_evaluation", _("The final performance evaluation is finalized"), done,
                    CITE_FINAL_EVALUATION,
                    _("Grade: %(grade)s", grade=f.final_grade) if done else
                    _("No finalized final evaluation sheet (third-party or purchaser) for contract %(number)s.",
                      number=f.contract_number))]
    if f.final_grade is not None and f.final_grade in ("差", "fail"):
        checks.append(Check("final_grade_fail", _("The final evaluation was graded 差 (fail)"), True,
                            CITE_FINAL_EVALUATION,
                            _("The instalment it conditions is withheld pending rectification, and the supplier is "
                              "flagged at its next awards."), blocking=False))
    return checks


def closing_checks(f: ProjectFacts) -> list[Check]:
    """Every instalment paid as far as payable; no rectification notice still open."""
    if f.contract_number is None:
        return _no_contract(f)
    checks = [
        Check("payments", _("Every instalment is paid as far as it is payable"), not f.unpaid_instalments,
              CITE_PAYMENTS, "；".join(f.unpaid_instalments)),
        Check("rectifications", _("No rectification notice is still open"), not f.open_rectifications,
              CITE_RECTIFICATION,
              _("Open: %(numbers)s", numbers="、".join(f.open_rectifications)) if f.open_rectifications else ""),
    ]
    if f.withheld_instalments:
        checks.append(Check("payments_withheld", _("Withheld amounts stay withheld after closing"), True,
                            CITE_PAYMENTS, "；".join(f.withheld_instalments), blocking=False))
    return checks


OFFICERS = frozenset({Role.OFFICER})

TRANSITIONS: dict[tuple[ProjectStage, ProjectStage], Transition] = {}


def _add(source, target, checks=(), needs_reason=False, automatic=False):
    TRANSITIONS[(source, target)] = Transition(source, target, OFFICERS, needs_reason, tuple(checks), automatic)


S = ProjectStage
_add(S.DRAFT, S.APPROVED, (budget_checks, content_checks, method_checks))
_add(S.APPROVED, S.DRAFT, needs_reason=True)
_add(S.APPROVED, S.ANNOUNCED, (budget_checks, method_checks, announcement_checks))
_add(S.ANNOUNCED, S.EVALUATED, (evaluation_checks,))
_add(S.EVALUATED, S.AWARDED, (award_checks,))
# Signing the contract and starting the service move the project; the contract's page does both.
_add(S.AWARDED, S.CONTRACTED, automatic=True)
_add(S.CONTRACTED, S.IN_SERVICE, automatic=True)
_add(S.IN_SERVICE, S.ACCEPTED, (acceptance_checks,))
_add(S.ACCEPTED, S.EVALUATED_FINAL, (final_evaluation_checks,))
_add(S.EVALUATED_FINAL, S.CLOSED, (closing_checks,))
for _source in (S.DRAFT, S.APPROVED, S.ANNOUNCED, S.EVALUATED):
    _add(_source, S.CANCELLED, needs_reason=True)
for _source in (S.ANNOUNCED, S.EVALUATED):
    _add(_source, S.FAILED, needs_reason=True)

TRANSITION_MSGIDS = {
    (S.DRAFT, S.APPROVED): N_("Confirm the budget"),
    (S.APPROVED, S.DRAFT): N_("Return to draft"),
    (S.APPROVED, S.ANNOUNCED): N_("Announce"),
    (S.ANNOUNCED, S.EVALUATED): N_("Record the evaluation"),
    (S.EVALUATED, S.AWARDED): N_("Award"),
    (S.IN_SERVICE, S.ACCEPTED): N_("Record the acceptance"),
    (S.ACCEPTED, S.EVALUATED_FINAL): N_("Record the final evaluation"),
    (S.EVALUATED_FINAL, S.CLOSED): N_("Close the project"),
    (S.DRAFT, S.CANCELLED): N_("Cancel the project"),
    (S.APPROVED, S.CANCELLED): N_("Cancel the project"),
    (S.ANNOUNCED, S.CANCELLED): N_("Cancel the project"),
    (S.EVALUATED, S.CANCELLED): N_("Cancel the project"),
    (S.ANNOUNCED, S.FAILED): N_("Declare failed (流标/废标)"),
    (S.EVALUATED, S.FAILED): N_("Declare failed (流标/废标)"),
}


def next_transitions(stage: ProjectStage) -> list[Transition]:
    """The transitions an officer can make from ``stage`` with the project's buttons."""
    return [t for (source, _target), t in TRANSITIONS.items() if source == stage and not t.automatic]


def checklist(facts: ProjectFacts, target: ProjectStage) -> list[Check]:
    """Every precondition of moving from the facts' stage to ``target``, met or not."""
    transition = TRANSITIONS.get((facts.stage, target))
    if transition is None:
        return []
    return [check for fn in transition.checks for check in fn(facts)]


def unmet(checks) -> list[Check]:
    return [c for c in checks if c.blocking and not c.met]


@dataclass(frozen=True)
class Refusal:
    """Why a transition may not be made: every unmet check, or a missing reason or role."""

    not_allowed: bool = False
    role: bool = False
    reason_missing: bool = False
    checks: tuple[Check, ...] = ()

    def __bool__(self) -> bool:
        return self.not_allowed or self.role or self.reason_missing or bool(self.checks)


def can_transition(facts: ProjectFacts, target: ProjectStage, role: Role | None, reason: str | None) -> Refusal:
    transition = TRANSITIONS.get((facts.stage, target))
    if transition is None or transition.automatic:
        return Refusal(not_allowed=True)
    return Refusal(
        role=role not in transition.roles,
        reason_missing=transition.needs_reason and not (reason or "").strip(),
        checks=tuple(unmet(checklist(facts, target))),
    )
