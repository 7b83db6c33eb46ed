"""Pure rules of paying an instalment after an evaluation (DOMAIN §6 effect on payment, §7 money and time).

No database and no Flask. Amounts are ``Decimal`` yuan; each computed amount is rounded half-up to the fen
once. Dates are calendar dates (Beijing); DOMAIN §7 does not move a due date that falls on a day off, so
neither does :func:`due_date`.
"""

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from evaluation.scoring import GRADES, HUNDRED, to_decimal
from procurement.i18n import N_
from procurement.i18n import gettext as _

FEN = Decimal("0.01")

FULL, PRO_RATA, WITHHOLD = "full", "pro_rata", "withhold"
EFFECTS = (FULL, PRO_RATA, WITHHOLD)
EFFECT_LABELS = {
    FULL: N_("Paid in full"),
    PRO_RATA: N_("Paid in proportion to the score"),
    WITHHOLD: N_("Withheld pending rectification"),
}

#: DOMAIN §6 (local practice, configurable per contract in evaluation.models.PaymentTerms.bands).
DEFAULT_PAYMENT_BANDS = {"优": FULL, "良": FULL, "中": PRO_RATA, "差": WITHHOLD}

DEFAULT_PAYMENT_DAYS = 30
MAX_PAYMENT_DAYS = 60
#: Overdue interest, percent per day, unless the contract sets another rate.
DEFAULT_INTEREST_PERCENT_PER_DAY = Decimal("0.05")


def _fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def _amount(value, what: str) -> Decimal:
    number = to_decimal(value, what)
    if number < 0:
        raise ValueError(f"{what} cannot be negative")
    if number != number.quantize(FEN):
        raise ValueError(f"{what} has more than two decimals")
    return number


def validate_payment_bands(bands) -> list[tuple[str, str]]:
    """Problems of a contract's band rule as ``(grade, message)``: every grade once, a known effect each."""
    if not isinstance(bands, Mapping):
        return [("", _("The payment rule must give an effect for each grade."))]
    problems = []
    for grade_name in GRADES:
        effect = bands.get(grade_name)
        if effect is None:
            problems.append((grade_name, _("No payment effect for the grade %(grade)s.", grade=grade_name)))
        elif effect not in EFFECTS:
            problems.append((grade_name, _("Unknown payment effect for the grade %(grade)s.", grade=grade_name)))
    for key in bands:
        if key not in GRADES:
            problems.append((str(key), _("%(grade)s is not a grade.", grade=key)))
    return problems


def effect_of(grade: str | None, bands: Mapping[str, str] | None = None) -> str:
    """``full`` / ``pro_rata`` / ``withhold`` for a grade under the band rule; no grade → ``full``."""
    if grade is None:
        return FULL
    rule = DEFAULT_PAYMENT_BANDS if bands is None else bands
    if validate_payment_bands(rule):
        raise ValueError(f"invalid payment bands: {rule!r}")
    if grade not in GRADES:
        raise ValueError(f"unknown grade {grade!r}")
    return rule[grade]


def payable(instalment_amount: Decimal, grade: str | None, total: Decimal | None,
            bands: Mapping[str, str] | None = None) -> tuple[Decimal, Decimal]:
    """``(payable, withheld)`` of an instalment under the contract's band rule (DOMAIN §6).

    full → the whole amount; pro_rata → amount × total ÷ 100, half-up to the fen once; withhold → 0.
    The withheld remainder is amount − payable, exact to the fen.

    ``grade=None`` means the instalment does not depend on an evaluation (e.g. paid on signing): it is
    payable in full. An instalment that depends on an evaluation whose sheet is not finalized yet is not
    due at all — the caller must not ask this function about it.

    Raises:
        ValueError: a negative amount or one with more than two decimals; an unknown grade; invalid bands;
            a pro-rata grade without a total, or a total outside 0..100.
    """
    amount = _amount(instalment_amount, "instalment_amount")
    effect = effect_of(grade, bands)
    if effect == FULL:
        paid = amount
    elif effect == WITHHOLD:
        paid = Decimal("0.00")
    else:
        if total is None:
            raise ValueError("a pro-rata payment needs the total score")
        score = to_decimal(total, "total")
        if score < 0 or score > HUNDRED:
            raise ValueError("a total must be between 0 and 100")
        paid = _fen(amount * score / HUNDRED)
    paid = paid.quantize(FEN)
    return paid, (amount - paid).quantize(FEN)


def due_date(condition_met_on: date, payment_days: int = DEFAULT_PAYMENT_DAYS) -> date:
    """The day an instalment falls due: ``payment_days`` calendar days after its condition was met.

    30 days by default, at most 60 if the contract says so. A due date on a weekend or holiday is not moved
    (DOMAIN §7 counts calendar days and says nothing about moving it).

    Raises:
        ValueError: fewer than 1 or more than 60 days.
    """
    if not isinstance(condition_met_on, date):
        raise TypeError("condition_met_on must be a date")
    if isinstance(payment_days, bool) or not isinstance(payment_days, int):
        raise TypeError("payment_days must be an int")
    if payment_days < 1 or payment_days > MAX_PAYMENT_DAYS:
        raise ValueError(f"payment days must be between 1 and {MAX_PAYMENT_DAYS}, not {payment_days}")
    return condition_met_on + timedelta(days=payment_days)


def days_late(due: date, paid_on_or_today: date) -> int:
    """Calendar days after the due date (0 when paid on or before it)."""
    return max((paid_on_or_today - due).days, 0)


def overdue_interest(amount: Decimal, due: date, paid_on_or_today: date,
                     rate_percent_per_day: Decimal = DEFAULT_INTEREST_PERCENT_PER_DAY) -> Decimal:
    """Simple daily interest for the days after ``due``: amount × rate% × days, half-up to the fen once.

    Raises:
        ValueError: a negative amount or rate.
    """
    principal = _amount(amount, "amount")
    rate = to_decimal(rate_percent_per_day, "rate_percent_per_day")
    if rate < 0:
        raise ValueError("an interest rate cannot be negative")
    days = days_late(due, paid_on_or_today)
    if days == 0:
        return Decimal("0.00")
    return _fen(principal * rate * days / HUNDRED)


def check_payment(amount, payable_amount, already_paid_on_instalment, contract_amount,
                  already_paid_on_contract) -> list[tuple[str, str]]:
    """Problems of a payment finance is recording, as ``(field, message)``; an empty list means it may be paid.

    A payment is more than zero, at most two decimals, not more than what is still payable on the instalment
    (payable − already paid on it), and does not take the contract's payments above the contract amount.
    """
    try:
        value = to_decimal(amount, "amount")
    except (TypeError, ValueError):
        return [("amount", _("Enter an amount in yuan."))]
    if value <= 0:
        return [("amount", _("The amount must be greater than zero."))]
    if value != value.quantize(FEN):
        return [("amount", _("An amount has at most two decimals (fen)."))]
    problems = []
    remaining = to_decimal(payable_amount, "payable") - to_decimal(already_paid_on_instalment, "paid")
    if value > remaining:
        problems.append(("amount", _(
            "The amount is more than what is still payable on this instalment (%(remaining)s).",
            remaining=_money(max(remaining, Decimal(0))))))
    left = to_decimal(contract_amount, "contract_amount") - to_decimal(already_paid_on_contract, "paid")
    if value > left:
        problems.append(("amount", _(
            "Payments would exceed the contract amount: at most %(left)s remains to be paid.",
            left=_money(max(left, Decimal(0))))))
    return problems


def _money(value: Decimal) -> str:
    return f"¥{value.quantize(FEN):,.2f}"
