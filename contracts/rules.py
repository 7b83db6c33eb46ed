"""The rules a contract must satisfy (DOMAIN §4, §7). Pure: plain values in, problems out.

Each check returns a list of :class:`Problem` (empty when the rule holds), so a form can show
every problem at once next to its field, each with the clause that asks for it.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from procurement.i18n import gettext as _
from procurement.rules.money import FEN, to_fen
from procurement.rules.procurement import PERIODS
from procurement.rules.workdays import WorkCalendar

CITE_TERM = "《政府购买服务管理办法》（财政部令第102号）第二十四条"
CITE_BOND = "《政府采购法实施条例》第四十八条"
CITE_SUPPLEMENTARY = "《政府采购法》第四十九条"
CITE_CONTENT = "《政府购买服务管理办法》（财政部令第102号）第二十三条"
CITE_PAYMENT = "《保障中小企业款项支付条例》第九条、第十条"
CITE_INTEREST = "《保障中小企业款项支付条例》第十七条"
CITE_SIGNING = PERIODS["contract_signing"].citation

MAX_TERM_MONTHS = 12
MAX_LONG_TERM_MONTHS = 36
MAX_BOND_PERCENT = Decimal("10")
MAX_SUPPLEMENTARY_PERCENT = Decimal("10")
DEFAULT_PAYMENT_DAYS = 30
MAX_PAYMENT_DAYS = 60
DEFAULT_LATE_INTEREST = Decimal("0.05")  # percent per day


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    citation: str = ""


def term_months(start: date, end: date) -> int:
    """Whole or started months from ``start`` to ``end`` inclusive: 2026-01-01 → 2026-12-31 is 12."""
    months = (end.year - start.year) * 12 + end.month - start.month
    # a term that runs past the day before the same day of month has started another month
    if end.day >= start.day:
        months += 1
    return months


def check_term(start: date | None, end: date | None, justification: str | None) -> list[Problem]:
    if start is None or end is None:
        return [Problem("term_end", _("Give the first and the last day of the service term."), CITE_CONTENT)]
    if end < start:
        return [Problem("term_end", _("The term cannot end before it starts."))]
    months = term_months(start, end)
    if months > MAX_LONG_TERM_MONTHS:
        return [Problem("term_end", _("A service contract runs at most %(n)s months; this term is %(m)s months.",
                                      n=MAX_LONG_TERM_MONTHS, m=months), CITE_TERM)]
    if months > MAX_TERM_MONTHS and not (justification or "").strip():
        return [Problem("long_term_justification",
                        _("A term over %(n)s months (this one: %(m)s) needs the recorded justification that the "
                          "service is stable, continuous, backed by the budget and stable in price.",
                          n=MAX_TERM_MONTHS, m=months), CITE_TERM)]
    return []


def bond_amount(amount: Decimal, percent: Decimal) -> Decimal:
    return to_fen(Decimal(amount) * Decimal(percent) / 100)


def check_bond(percent: Decimal | None) -> list[Problem]:
    if percent is None:
        return []
    if percent < 0:
        return [Problem("bond_percent", _("The performance bond cannot be negative."))]
    if percent > MAX_BOND_PERCENT:
        return [Problem("bond_percent", _("The performance bond is at most %(n)s percent of the contract amount.",
                                          n=MAX_BOND_PERCENT), CITE_BOND)]
    return []


def check_payment_terms(days: int | None, interest: Decimal | None) -> list[Problem]:
    problems = []
    if days is None or days < 1 or days > MAX_PAYMENT_DAYS:
        problems.append(Problem("payment_days", _("Payment is due within 1 to %(n)s days (%(d)s unless the contract "
                                                  "says otherwise).", n=MAX_PAYMENT_DAYS, d=DEFAULT_PAYMENT_DAYS),
                                CITE_PAYMENT))
    if interest is None or interest < 0 or interest > 1:
        problems.append(Problem("late_interest_per_day", _("The overdue interest is a daily rate between 0 and 1 "
                                                           "percent (the law's default is 0.05 percent)."),
                                CITE_INTEREST))
    return problems


@dataclass(frozen=True)
class InstalmentPlan:
    percent: Decimal
    amount: Decimal


def check_instalments(total: Decimal, plans: list[InstalmentPlan]) -> list[Problem]:
    """Percentages sum to exactly 100 and amounts to the total, to the fen; each matches its percentage.

    An amount may differ from ``total × percent`` by rounding only (less than one fen), so the last
    instalment can take what rounding leaves over.
    """
    if not plans:
        return [Problem("instalments", _("Add the payment instalments; together they are the whole amount."),
                        CITE_CONTENT)]
    problems = []
    for number, plan in enumerate(plans, 1):
        if plan.percent <= 0 or plan.amount <= 0:
            problems.append(Problem("instalments", _("Instalment %(n)s must be more than nothing.", n=number)))
        elif plan.amount != plan.amount.quantize(FEN):
            problems.append(Problem("instalments", _("Instalment %(n)s has fractions of a fen.", n=number)))
        # the last takes what rounding the others leaves (up to half a fen each), so only the sum checks it
        elif number < len(plans) and abs(Decimal(total) * plan.percent / 100 - plan.amount) >= FEN:
            problems.append(Problem("instalments", _("Instalment %(n)s: %(p)s percent of the amount is %(a)s, not "
                                                     "%(b)s.", n=number, p=plan.percent,
                                                     a=to_fen(Decimal(total) * plan.percent / 100), b=plan.amount)))
    percent_sum = sum((p.percent for p in plans), Decimal(0))
    if percent_sum != 100:
        problems.append(Problem("instalments", _("The instalments add up to %(p)s percent; they must add up to exactly "
                                                 "100 percent.", p=f"{percent_sum.normalize():f}"), CITE_CONTENT))
    amount_sum = sum((p.amount for p in plans), Decimal("0.00"))
    if amount_sum != to_fen(total):
        problems.append(Problem("instalments", _("The instalments add up to %(a)s yuan; the contract amount is %(t)s "
                                                 "yuan.", a=amount_sum, t=to_fen(total)), CITE_CONTENT))
    return problems


def check_supplementary(original: Decimal, earlier: Decimal, added: Decimal) -> list[Problem]:
    """Supplementary contracts add at most 10 percent of the original amount, all of them together.

    ``earlier`` is what signed supplementary contracts already added; ``added`` is this one.
    """
    limit = to_fen(Decimal(original) * MAX_SUPPLEMENTARY_PERCENT / 100)
    if added <= 0:
        return [Problem("amount", _("A supplementary contract adds a positive amount."))]
    if earlier + added > limit:
        return [Problem("amount", _("Supplementary contracts may add at most %(limit)s yuan in total (10 percent of "
                                    "%(original)s); %(earlier)s is already added.", limit=limit, original=original,
                                    earlier=earlier), CITE_SUPPLEMENTARY)]
    return []


@dataclass(frozen=True)
class SigningWindow:
    due: date
    estimated: bool  # the due day falls in a year without a holiday calendar
    state: str  # "ok", "warning" (a week or less left), "overdue"


def signing_window(calendar: WorkCalendar, notice_on: date, today: date, warn_days: int = 7) -> SigningWindow:
    """Where the 30-day limit from the award notice stands."""
    deadline = PERIODS["contract_signing"].end(calendar, notice_on)
    if today > deadline.day:
        state = "overdue"
    elif (deadline.day - today).days <= warn_days:
        state = "warning"
    else:
        state = "ok"
    return SigningWindow(deadline.day, deadline.estimated, state)


def check_signing_date(calendar: WorkCalendar, notice_on: date, signed_on: date, today: date) -> list[Problem]:
    """A contract is signed on or after the award notice, not in the future. Late signing is allowed but noted."""
    if signed_on < notice_on:
        return [Problem("signed_on", _("A contract is signed after the award notice (%(day)s).", day=notice_on),
                        CITE_SIGNING)]
    if signed_on > today:
        return [Problem("signed_on", _("The signing date cannot be in the future."))]
    return []
