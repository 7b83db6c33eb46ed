"""Procurement methods, statutory periods and split purchases (DOMAIN §3).

Pure rules: amounts are ``Decimal`` yuan, dates are ``date``; messages go through
:mod:`procurement.i18n` (English msgid, Simplified Chinese by default).
"""

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from procurement.i18n import N_
from procurement.i18n import gettext as _
from procurement.rules.workdays import Deadline, WorkCalendar, add_calendar_days, add_working_days


class Method(enum.StrEnum):
    OPEN_TENDER = "open_tender"  # 公开招标
    INVITED_TENDER = "invited_tender"  # 邀请招标
    NEGOTIATION = "negotiation"  # 竞争性谈判
    CONSULTATION = "consultation"  # 竞争性磋商
    SINGLE_SOURCE = "single_source"  # 单一来源
    INQUIRY = "inquiry"  # 询价
    FRAMEWORK = "framework"  # 框架协议采购
    SIMPLIFIED = "simplified"  # below the decentralized limit: the bureau's internal procedure

    @property
    def label(self) -> str:
        return _(METHOD_MSGIDS[self])


METHOD_MSGIDS = {
    Method.OPEN_TENDER: N_("Open tender"),
    Method.INVITED_TENDER: N_("Invited tender"),
    Method.NEGOTIATION: N_("Competitive negotiation"),
    Method.CONSULTATION: N_("Competitive consultation"),
    Method.SINGLE_SOURCE: N_("Single source"),
    Method.INQUIRY: N_("Request for quotation"),
    Method.FRAMEWORK: N_("Framework agreement"),
    Method.SIMPLIFIED: N_("Internal simplified procedure"),
}


class SingleSourceGround(enum.StrEnum):
    """政府采购法 第三十一条."""

    ONLY_ONE = "only_one"
    EMERGENCY = "emergency"
    TOP_UP = "top_up"

    @property
    def label(self) -> str:
        return _({
            SingleSourceGround.ONLY_ONE: N_("Only one supplier can provide the service"),
            SingleSourceGround.EMERGENCY: N_("Unforeseeable emergency; no other supplier can be used"),
            SingleSourceGround.TOP_UP: N_("Addition to a contract with the same supplier, at most ten percent of it"),
        }[self])


CITE_METHODS = "国办发〔2019〕55号；《政府采购法实施条例》第二十三条"
CITE_APPROVAL = "《政府采购法实施条例》第二十三条"
CITE_SINGLE_SOURCE = "《政府采购法》第三十一条"
CITE_SINGLE_SOURCE_NOTICE = "《政府采购法实施条例》第三十八条"
CITE_SPLIT = "《政府采购法实施条例》第二十八条"
CITE_INVITED = "《政府采购法》第三十四条"
CITE_BIDDERS = "《政府采购法》第三十六条；财政部令第74号；财库〔2015〕124号"


@dataclass(frozen=True)
class Thresholds:
    decentralized_limit: Decimal = Decimal("1000000.00")  # below: the bureau's internal procedure
    open_tender_threshold: Decimal = Decimal("2000000.00")  # from here: open tender is the rule


@dataclass(frozen=True)
class MethodOption:
    method: Method
    allowed: bool
    needs_approval: bool
    reason: str
    citation: str


def method_options(amount: Decimal, thresholds: Thresholds) -> list[MethodOption]:
    """Every method with whether the amount allows it, the reason, and whether an approval is needed."""
    options = []
    below_limit = amount < thresholds.decentralized_limit
    above_open = amount >= thresholds.open_tender_threshold
    limit = f"¥{thresholds.decentralized_limit:,.2f}"
    open_threshold = f"¥{thresholds.open_tender_threshold:,.2f}"
    for method in Method:
        if method == Method.SIMPLIFIED:
            if below_limit:
                options.append(MethodOption(method, True, False, _(
                    "Below the decentralized procurement limit of %(limit)s the bureau may use its internal procedure.",
                    limit=limit), CITE_METHODS))
            else:
                options.append(MethodOption(method, False, False, _(
                    "From %(limit)s a statutory procurement method is required.", limit=limit), CITE_METHODS))
            continue
        if method == Method.OPEN_TENDER:
            reason = (_("From %(threshold)s open tender is the rule.", threshold=open_threshold) if above_open
                      else _("Always allowed."))
            options.append(MethodOption(method, True, False, reason, CITE_METHODS))
            continue
        if above_open:
            reason = _("Above the open-tender threshold of %(threshold)s this method needs the approval of the "
                       "prefecture-level finance department, recorded before the purchase starts.",
                       threshold=open_threshold)
            options.append(MethodOption(method, True, True, reason, CITE_APPROVAL))
            continue
        reason = {
            Method.INVITED_TENDER: _("Allowed; at least three suppliers must be invited."),
            Method.NEGOTIATION: _("Allowed; at least three suppliers must take part."),
            Method.CONSULTATION: _("Allowed and suited to government-purchased services; may continue with two suppliers."),
            Method.SINGLE_SOURCE: _("Allowed only on one of the statutory grounds."),
            Method.INQUIRY: _("Allowed, but rarely fits services: price is the only criterion."),
            Method.FRAMEWORK: _("Allowed; admits a pool of providers from whom services are ordered."),
        }[method]
        citation = CITE_SINGLE_SOURCE if method == Method.SINGLE_SOURCE else CITE_METHODS
        options.append(MethodOption(method, True, False, reason, citation))
    return options


def method_option(amount: Decimal, thresholds: Thresholds, method: Method) -> MethodOption:
    return next(o for o in method_options(amount, thresholds) if o.method == method)


# --- statutory periods ---------------------------------------------------------------------

class DayKind(enum.StrEnum):
    CALENDAR = "calendar"
    WORKING = "working"


@dataclass(frozen=True)
class Period:
    key: str
    msgid: str
    days: int
    kind: DayKind
    minimum: bool  # a minimum period (at least) or a maximum one (at most)
    citation: str

    @property
    def label(self) -> str:
        return _(self.msgid)

    def end(self, calendar: WorkCalendar, start: date) -> Deadline:
        """The earliest allowed day (minimum) or the last allowed day (maximum)."""
        if self.kind == DayKind.WORKING:
            return add_working_days(calendar, start, self.days)
        return add_calendar_days(calendar, start, self.days, roll_to_working_day=not self.minimum)


PERIODS = {p.key: p for p in (
    Period("tender_response", N_("Tender documents issued → bid deadline"), 20, DayKind.CALENDAR, True,
           "《政府采购法》第三十五条"),
    Period("consultation_response", N_("Consultation documents issued → first response"), 10, DayKind.CALENDAR, True,
           "财库〔2014〕214号"),
    Period("negotiation_response", N_("Negotiation or quotation documents issued → response"), 3, DayKind.WORKING, True,
           "财政部令第74号"),
    Period("framework_response", N_("Framework solicitation issued → response"), 20, DayKind.CALENDAR, True,
           "财政部令第110号"),
    Period("single_source_notice", N_("Single-source public notice"), 5, DayKind.WORKING, True, CITE_SINGLE_SOURCE_NOTICE),
    Period("award_notice", N_("Award decided → award notice and result published"), 2, DayKind.WORKING, False,
           "《政府采购法实施条例》第四十三条"),
    Period("contract_signing", N_("Award notice → contract signed"), 30, DayKind.CALENDAR, False, "《政府采购法》第四十六条"),
    Period("contract_publication", N_("Contract signed → contract published"), 2, DayKind.WORKING, False,
           "《政府采购法实施条例》第五十条"),
    Period("contract_filing", N_("Contract signed → copy filed with finance"), 7, DayKind.WORKING, False,
           "《政府采购法》第四十七条"),
    Period("challenge", N_("Challenge window after the award notice"), 7, DayKind.WORKING, False, "《政府采购法》第五十二条"),
    Period("challenge_reply", N_("Reply to a challenge"), 7, DayKind.WORKING, False, "《政府采购法》第五十三条"),
)}

RESPONSE_PERIOD = {
    Method.OPEN_TENDER: "tender_response",
    Method.INVITED_TENDER: "tender_response",
    Method.CONSULTATION: "consultation_response",
    Method.NEGOTIATION: "negotiation_response",
    Method.INQUIRY: "negotiation_response",
    Method.FRAMEWORK: "framework_response",
}

MIN_RESPONSES = {
    Method.OPEN_TENDER: 3,
    Method.INVITED_TENDER: 3,
    Method.NEGOTIATION: 3,
    Method.INQUIRY: 3,
    Method.CONSULTATION: 2,
    Method.FRAMEWORK: 2,
    Method.SINGLE_SOURCE: 1,
    Method.SIMPLIFIED: 1,
}
MIN_INVITED = 3


class DueState(enum.StrEnum):
    DONE = "done"
    DONE_LATE = "done_late"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class DueItem:
    period: Period
    start: date
    due: Deadline
    done_on: date | None
    state: DueState


def due_state(period: Period, calendar: WorkCalendar, start: date, done_on: date | None, today: date) -> DueItem:
    """Where a maximum period stands: done in time or late, or still due, or overdue."""
    due = period.end(calendar, start)
    if done_on is not None:
        state = DueState.DONE if done_on <= due.day else DueState.DONE_LATE
    else:
        state = DueState.DUE if today <= due.day else DueState.OVERDUE
    return DueItem(period, start, due, done_on, state)


# --- split purchases (化整为零) -------------------------------------------------------------

class SplitLevel(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    REFUSED = "refused"


@dataclass(frozen=True)
class Purchase:
    """Another non-open-tender purchase in the same fiscal year, budget line and category."""

    ref: str
    title: str
    amount: Decimal


@dataclass(frozen=True)
class SplitResult:
    level: SplitLevel
    category: str
    total: Decimal
    others: tuple[Purchase, ...]
    approved: bool

    @property
    def blocking(self) -> bool:
        return self.level == SplitLevel.REFUSED


def split_check(category: str, amount: Decimal, others: Iterable[Purchase], threshold: Decimal,
                approved: bool) -> SplitResult:
    """Add this purchase to the others of its group; refuse once the sum exceeds the open-tender threshold.

    A recorded budget adjustment or approval turns the refusal into a warning.  ``amount`` is this
    project's amount in the category; open-tender projects are not in ``others``.  The boundary follows
    DOMAIN §3 (实施条例 第二十八条): purchases "whose sum *exceeds* the open-tender threshold" are refused, so
    a sum exactly at the threshold is allowed (with a warning).
    """
    others = tuple(others)
    total = amount + sum((o.amount for o in others), Decimal("0.00"))
    if not others:
        level = SplitLevel.OK
    elif total > threshold and not approved:
        level = SplitLevel.REFUSED
    else:
        level = SplitLevel.WARNING
    return SplitResult(level, category, total, others, approved)


def score_total_problem(technical: Decimal | None, price: Decimal | None, total: Decimal | None) -> str | None:
    """Why a bid's total score is wrong, or None: once both parts are given, the total is their sum (to the fen of a point).

    The committee's total under the comprehensive-scoring method is the technical score plus the price score
    (财政部令第87号 第五十五条); a total that differs is a typing or adding mistake.
    """
    if technical is None or price is None:
        return None
    expected = (technical + price).quantize(Decimal("0.01"))
    if total is None or total.quantize(Decimal("0.01")) != expected:
        return _("The total score must be the technical score plus the price score: %(sum)s.", sum=f"{expected:.2f}")
    return None
