"""Reporting periods of a contract and the checks of one delivery row (DOMAIN §5). Pure: no Flask, no database."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from procurement.i18n import gettext as _

#: The most of one delivery row: hours, visits or person-months of one beneficiary on one day.
MAX_ROW_QUANTITY = Decimal("24")
WORKER_MAX, NOTE_MAX = 64, 256


@dataclass(frozen=True)
class ReportPeriod:
    start: date
    end: date

    @property
    def key(self) -> str:
        return self.start.isoformat()

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def _month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def report_periods(term_start: date, term_end: date, quarterly: bool) -> list[ReportPeriod]:
    """Calendar months (or quarters) of the term, the first and last cut to the term."""
    periods = []
    months = 3 if quarterly else 1
    start = date(term_start.year, (term_start.month - 1) // months * months + 1, 1)
    while start <= term_end:
        last_month = start.month + months - 1
        end = _month_end(date(start.year, last_month, 1))
        periods.append(ReportPeriod(max(start, term_start), min(end, term_end)))
        start = end + timedelta(days=1)
    return periods


def period_of(periods: list[ReportPeriod], day: date) -> ReportPeriod | None:
    return next((p for p in periods if p.contains(day)), None)


@dataclass(frozen=True)
class RowFacts:
    """One delivery row as typed or imported, with what the service looked up for it."""

    beneficiary_known: bool  # the ID number is registered
    beneficiary_assigned: bool  # …and assigned to this contract on that day
    item_in_contract: bool
    delivered_on: date | None
    quantity: Decimal | None
    worker: str
    note: str


def row_problems(facts: RowFacts, period: ReportPeriod, term_start: date, term_end: date,
                 today: date | None = None) -> list[tuple[str, str]]:
    """Every problem of a row as (field, message); with ``today`` (Beijing time), a later date is refused."""
    problems = []
    if not facts.beneficiary_known:
        problems.append(("beneficiary", _("No beneficiary is registered with this ID number.")))
    elif not facts.beneficiary_assigned:
        problems.append(("beneficiary", _("This beneficiary is not assigned to the contract on that day.")))
    if not facts.item_in_contract:
        problems.append(("item", _("This service item is not in the contract.")))
    if facts.delivered_on is None:
        problems.append(("delivered_on", _("Enter the date of the service.")))
    elif today is not None and facts.delivered_on > today:
        problems.append(("delivered_on", _("The date is in the future: a service is reported once delivered.")))
    elif not (term_start <= facts.delivered_on <= term_end):
        problems.append(("delivered_on", _("The date is outside the contract's term.")))
    elif not period.contains(facts.delivered_on):
        problems.append(("delivered_on", _("The date is outside the report's period (%(start)s to %(end)s).",
                                           start=period.start.isoformat(), end=period.end.isoformat())))
    if facts.quantity is None or facts.quantity <= 0 or facts.quantity > MAX_ROW_QUANTITY:
        problems.append(("quantity", _("A quantity above 0 and at most %(n)s.", n=MAX_ROW_QUANTITY)))
    elif facts.quantity != facts.quantity.quantize(Decimal("0.01")):
        problems.append(("quantity", _("At most two decimals.")))
    if not facts.worker.strip():
        problems.append(("worker", _("Who delivered the service?")))
    elif len(facts.worker) > WORKER_MAX:
        problems.append(("worker", _("At most %(n)s characters.", n=WORKER_MAX)))
    if len(facts.note) > NOTE_MAX:
        problems.append(("note", _("At most %(n)s characters.", n=NOTE_MAX)))
    return problems
