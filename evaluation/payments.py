"""Payments after the evaluation (DOMAIN §6 effect on payment, §7 money and time): services.

What each instalment of a contract pays once its condition is met — the grade of the effective evaluation
sheet under the contract's band rule (:class:`evaluation.models.PaymentTerms`) — when it falls due, what is
overdue (with interest) and what is withheld; finance of the purchaser's region records the payments.

Conditions: ``ON_SIGNING`` is met on the signing date; ``MID_TERM_EVALUATION`` when the effective mid-term
sheet is finalized; ``FINAL_ACCEPTANCE`` when the effective final sheet is finalized *and* the acceptance is
concluded with a passing conclusion (the later of the two days); ``OTHER`` has no record in the app that says
when it is met, so it is treated like ``ON_SIGNING`` (payable in full from the signing date).

The effective sheet of a stage is the finalized one (never superseded) of the third-party panel if there is
one, else the purchaser's; a supplier's self-evaluation never sets a payment.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from contracts.models import Contract, ContractState, Instalment, InstalmentCondition
from evaluation import payment
from evaluation.models import Payment, PaymentTerms, Sheet, SheetKind, SheetState, Stage
from procurement.acceptance.models import Acceptance, AcceptanceState, Conclusion
from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Action
from procurement.errors import AccessDenied, ConflictError, DomainError, InvalidInput
from procurement.extensions import db
from procurement.i18n import N_
from procurement.i18n import gettext as _
from procurement.orgs import services as orgs
from procurement.orgs.models import Organization, Region
from procurement.rules.clock import beijing_date

ZERO = Decimal("0.00")

# Instalment states
WAITING, DUE, OVERDUE, PAID, WITHHELD = "waiting", "due", "overdue", "paid", "withheld"
STATES = (WAITING, DUE, OVERDUE, PAID, WITHHELD)
STATE_MSGIDS = {
    WAITING: N_("Waiting for the condition"),
    DUE: N_("Due"),
    OVERDUE: N_("Overdue"),
    PAID: N_("Paid"),
    WITHHELD: N_("Withheld pending rectification"),
}


def state_label(state: str) -> str:
    return _(STATE_MSGIDS[state])


class PaymentInvalid(InvalidInput):
    """Every problem at once, each with its field."""


# --- who may do what ----------------------------------------------------------------------------

def _in_region(user, contract: Contract) -> bool:
    return orgs.in_user_subtree(user, contract.purchaser.region)


def can_view_payments(user, contract: Contract) -> bool:
    return user.may(Action.PAYMENT_VIEW) and _in_region(user, contract)


def can_record_payment(user, contract: Contract) -> bool:
    return user.may(Action.PAYMENT_RECORD) and _in_region(user, contract)


def can_edit_terms(user, contract: Contract) -> bool:
    return ((user.may(Action.EVALUATION_MANAGE) or user.may(Action.CONTRACT_EDIT)) and _in_region(user, contract))


# --- which evaluation counts --------------------------------------------------------------------

def effective_sheet(contract: Contract, stage: Stage) -> Sheet | None:
    """The finalized sheet of a stage that sets the payment: the third-party one if any, else the purchaser's."""
    sheets = db.session.execute(
        select(Sheet).where(Sheet.contract_id == contract.id, Sheet.stage == stage,
                            Sheet.state == SheetState.FINALIZED,
                            Sheet.kind.in_((SheetKind.THIRD_PARTY, SheetKind.PURCHASER)))
        .order_by(Sheet.number.desc(), Sheet.id.desc())
    ).scalars().all()
    for kind in (SheetKind.THIRD_PARTY, SheetKind.PURCHASER):
        for sheet in sheets:
            if sheet.kind == kind:
                return sheet
    return None


def concluded_acceptance(contract: Contract) -> Acceptance | None:
    """The contract's acceptance once concluded (or published) with a passing conclusion."""
    record = db.session.execute(select(Acceptance).where(Acceptance.contract_id == contract.id)).scalar_one_or_none()
    if record is None or record.state not in (AcceptanceState.CONCLUDED, AcceptanceState.PUBLISHED):
        return None
    if record.conclusion == Conclusion.FAILED:
        return None
    return record


def basis(contract: Contract, condition: InstalmentCondition) -> tuple[str | None, Decimal | None, date] | None:
    """``(grade, total, met_on)`` of an instalment condition, or None while it is not met."""
    if condition in (InstalmentCondition.ON_SIGNING, InstalmentCondition.OTHER):
        if contract.state == ContractState.DRAFT or contract.signed_on is None:
            return None
        return None, None, contract.signed_on
    if condition == InstalmentCondition.MID_TERM_EVALUATION:
        sheet = effective_sheet(contract, Stage.MID_TERM)
        if sheet is None:
            return None
        return sheet.grade, sheet.total, beijing_date(sheet.finalized_at)
    sheet = effective_sheet(contract, Stage.FINAL)
    acceptance = concluded_acceptance(contract)
    if sheet is None or acceptance is None:
        return None
    return sheet.grade, sheet.total, max(acceptance.accepted_on, beijing_date(sheet.finalized_at))


# --- the band rule -------------------------------------------------------------------------------

def terms_of(contract: Contract) -> PaymentTerms | None:
    return db.session.execute(select(PaymentTerms).where(PaymentTerms.contract_id == contract.id)).scalar_one_or_none()


def bands_of(contract: Contract) -> dict:
    terms = terms_of(contract)
    return dict(terms.bands) if terms is not None else dict(payment.DEFAULT_PAYMENT_BANDS)


def _evaluation_payments(contract: Contract) -> int:
    return db.session.scalar(
        select(func.count(Payment.id)).join(Instalment, Payment.instalment_id == Instalment.id)
        .where(Payment.contract_id == contract.id,
               Instalment.condition.in_((InstalmentCondition.MID_TERM_EVALUATION,
                                         InstalmentCondition.FINAL_ACCEPTANCE)))) or 0


def terms_locked(contract: Contract) -> bool:
    """The band rule is fixed once a payment depending on an evaluation has been made."""
    return _evaluation_payments(contract) > 0


def set_payment_terms(contract: Contract, bands: dict, note: str | None, actor: Actor,
                      expected_version: int | None = None) -> PaymentTerms:
    """The contract's officer sets its band rule (grade → full / pro_rata / withhold)."""
    if not can_edit_terms(actor.user, contract):
        raise AccessDenied(_("You may not change the payment rule of this contract."))
    if terms_locked(contract):
        raise DomainError(_("The payment rule cannot change after a payment that depends on an evaluation."))
    problems = list(payment.validate_payment_bands(bands))  # the field is the grade (优/良/中/差)
    note = (note or "").strip() or None
    if note is not None and len(note) > 256:
        problems.append(("note", _("At most %(n)s characters.", n=256)))
    if problems:
        raise PaymentInvalid(problems)
    terms = terms_of(contract)
    before = dict(terms.bands) if terms is not None else dict(payment.DEFAULT_PAYMENT_BANDS)
    if terms is None:
        terms = PaymentTerms(contract_id=contract.id, bands=dict(bands), note=note)
        try:
            with db.session.begin_nested():  # two officers saving the first rule at once: one wins, one is told
                db.session.add(terms)
        except IntegrityError:
            raise ConflictError(_("Someone else changed the payment rule meanwhile; check it and save again.")) from None
    else:
        if expected_version is not None and terms.version != expected_version:
            raise ConflictError(_("Someone else changed the payment rule meanwhile; check it and save again."))
        terms.bands = dict(bands)
        terms.note = note
    db.session.flush()
    append_audit(actor, "payment.terms", contract, detail={"before": before, "after": dict(bands), "note": note})
    db.session.flush()
    return terms


# --- what each instalment pays -------------------------------------------------------------------

@dataclass
class Line:
    instalment: Instalment
    condition_label: str
    met_on: date | None
    grade: str | None
    total: Decimal | None
    effect: str | None  # full / pro_rata / withhold, None while waiting
    payable: Decimal  # 0 while waiting
    withheld: Decimal
    paid: Decimal
    due_on: date | None
    state: str
    days_overdue: int
    interest: Decimal

    @property
    def outstanding(self) -> Decimal:
        return max(self.payable - self.paid, ZERO)

    @property
    def state_label(self) -> str:
        return state_label(self.state)

    @property
    def effect_label(self) -> str | None:
        return _(payment.EFFECT_LABELS[self.effect]) if self.effect else None


def paid_on_instalment(instalment: Instalment) -> Decimal:
    value = db.session.scalar(select(func.coalesce(func.sum(Payment.amount), 0))
                              .where(Payment.instalment_id == instalment.id))
    return Decimal(value or 0).quantize(payment.FEN)


def paid_on_contract(contract: Contract) -> Decimal:
    value = db.session.scalar(select(func.coalesce(func.sum(Payment.amount), 0))
                              .where(Payment.contract_id == contract.id))
    return Decimal(value or 0).quantize(payment.FEN)


def payments_of(contract: Contract) -> list[Payment]:
    return db.session.execute(select(Payment).where(Payment.contract_id == contract.id)
                              .order_by(Payment.paid_on, Payment.id)).scalars().all()


def _line(contract: Contract, instalment: Instalment, bands: dict, paid: Decimal, today: date,
          cache: dict) -> Line:
    key = instalment.condition
    if key not in cache:
        cache[key] = basis(contract, instalment.condition)
    found = cache[key]
    label = instalment.condition.label
    if found is None:
        return Line(instalment, label, None, None, None, None, ZERO, ZERO, paid, None, WAITING, 0, ZERO)
    grade, total, met_on = found
    payable_amount, withheld = payment.payable(instalment.amount, grade, total, bands)
    effect = payment.effect_of(grade, bands)
    due_on = payment.due_date(met_on, contract.payment_days)
    unpaid = max(payable_amount - paid, ZERO)
    days, interest = 0, ZERO
    if unpaid > 0:
        state = OVERDUE if today > due_on else DUE
        if state == OVERDUE:
            days = payment.days_late(due_on, today)
            interest = payment.overdue_interest(unpaid, due_on, today, contract.late_interest_per_day)
    elif withheld > 0:
        state = WITHHELD
    else:
        state = PAID
    return Line(instalment, label, met_on, grade, total, effect, payable_amount, withheld, paid, due_on, state,
                days, interest)


def instalment_lines(contract: Contract, today: date) -> list[Line]:
    """Each instalment of the contract with what it pays, has paid, when it is due and its state."""
    bands = bands_of(contract)
    paid = dict(db.session.execute(
        select(Payment.instalment_id, func.sum(Payment.amount)).where(Payment.contract_id == contract.id)
        .group_by(Payment.instalment_id)).all())
    cache: dict = {}
    return [_line(contract, instalment, bands, Decimal(paid.get(instalment.id) or 0).quantize(payment.FEN), today,
                  cache)
            for instalment in contract.instalments]


@dataclass
class Totals:
    due: Decimal = ZERO
    overdue: Decimal = ZERO
    withheld: Decimal = ZERO
    interest: Decimal = ZERO

    def add(self, line: Line) -> None:
        if line.state == DUE:
            self.due += line.outstanding
        elif line.state == OVERDUE:
            self.overdue += line.outstanding
            self.interest += line.interest
        self.withheld += line.withheld


@dataclass
class OverviewRow:
    contract: Contract
    line: Line


def region_contracts(user, purchaser_id: int | None = None):
    """Signed contracts whose purchaser is in the user's region."""
    query = (select(Contract).join(Organization, Contract.purchaser_id == Organization.id)
             .join(Region, Organization.region_id == Region.id)
             .where(Region.path.startswith(user.organization.region.path),
                    Contract.state != ContractState.DRAFT)
             .order_by(Contract.number))
    if purchaser_id is not None:
        query = query.where(Contract.purchaser_id == purchaser_id)
    return db.session.execute(query).scalars().unique().all()


def _shown(line: Line, state: str | None) -> bool:
    """Whether the overview lists a line: due, overdue, or with a withheld part (under a state filter, only those)."""
    if state == WITHHELD:
        return line.withheld > 0
    if state in (DUE, OVERDUE):
        return line.state == state
    return line.state in (DUE, OVERDUE, WITHHELD) or line.withheld > 0


def overview(user, today: date, state: str | None = None, purchaser_id: int | None = None
             ) -> tuple[list[OverviewRow], Totals]:
    """Instalments due, overdue or withheld across the user's region, with totals (of the rows shown)."""
    if not user.may(Action.PAYMENT_VIEW):
        return [], Totals()
    rows, totals = [], Totals()
    for contract in region_contracts(user, purchaser_id):
        for line in instalment_lines(contract, today):
            if _shown(line, state):
                rows.append(OverviewRow(contract, line))
                totals.add(line)
    rows.sort(key=lambda row: (row.line.due_on or today, row.contract.number, row.line.instalment.position))
    return rows, totals


def purchasers(user) -> list[Organization]:
    """Purchasers of the region's signed contracts, for the overview's filter."""
    ids = {contract.purchaser_id for contract in region_contracts(user)}
    if not ids:
        return []
    return db.session.execute(select(Organization).where(Organization.id.in_(ids)).order_by(Organization.name)
                              ).scalars().all()


# --- recording a payment -------------------------------------------------------------------------

def record_payment(instalment: Instalment, paid_on: date | None, amount, voucher: str | None, note: str | None,
                   actor: Actor, today: date) -> Payment:
    """Finance of the purchaser's region records a payment on an instalment; every problem at once."""
    contract = db.session.get(Contract, instalment.contract_id)
    if not can_record_payment(actor.user, contract):
        raise AccessDenied(_("You may not record payments of this contract."))
    problems: list[tuple[str, str]] = []
    line = next(line for line in instalment_lines(contract, today) if line.instalment.id == instalment.id)
    if line.state == WAITING:
        problems.append(("amount", _("This instalment is not payable yet: its condition is not met.")))
    if paid_on is None:
        problems.append(("paid_on", _("Enter the date of payment.")))
    elif paid_on > today:
        problems.append(("paid_on", _("The date of payment cannot be in the future.")))
    elif line.met_on is not None and paid_on < line.met_on:
        problems.append(("paid_on", _("The date of payment cannot be before the condition was met (%(day)s).",
                                      day=line.met_on.isoformat())))
    voucher = (voucher or "").strip()
    if not voucher:
        problems.append(("voucher", _("Enter the voucher number.")))
    elif len(voucher) > 64:
        problems.append(("voucher", _("At most %(n)s characters.", n=64)))
    elif db.session.scalar(select(Payment.id).where(Payment.contract_id == contract.id, Payment.voucher == voucher)):
        problems.append(("voucher", _("This voucher number is already recorded on this contract.")))
    note = (note or "").strip() or None
    if note is not None and len(note) > 256:
        problems.append(("note", _("At most %(n)s characters.", n=256)))
    if amount is None:
        problems.append(("amount", _("Enter an amount in yuan.")))
    elif line.state != WAITING:
        problems.extend(payment.check_payment(amount, line.payable, line.paid, contract.amount,
                                              paid_on_contract(contract)))
    if problems:
        raise PaymentInvalid(problems)
    record = Payment(contract_id=contract.id, instalment_id=instalment.id, paid_on=paid_on,
                     amount=Decimal(amount).quantize(payment.FEN), voucher=voucher, note=note,
                     recorded_by_id=actor.user.id)
    db.session.add(record)
    db.session.flush()
    append_audit(actor, "payment.record", record,
                 detail={"contract": contract.number, "instalment": instalment.position, "paid_on": paid_on.isoformat(),
                         "amount": str(record.amount), "voucher": voucher})
    db.session.flush()
    return record


# --- the finance card of the home page ----------------------------------------------------------

def home_totals(user, today: date) -> Totals:
    return overview(user, today)[1]
