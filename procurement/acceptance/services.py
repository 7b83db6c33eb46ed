"""Acceptance (验收) of a contract in service: open the record, fill it in, conclude (locks it), publish the result.

The published result carries no personal data: only the contract, the parties, the per-standard results,
the beneficiaries' opinions as counts and a summary, and the conclusion (DOMAIN §5).
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from contracts.models import Contract, ContractState
from contracts.services import can_view_contract, contract_query
from procurement.acceptance.models import Acceptance, AcceptanceResult, AcceptanceState, Conclusion, StandardResult
from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Action
from procurement.errors import AccessDenied, ConflictError, DomainError, InvalidInput
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.orgs import services as orgs
from procurement.rules.clock import utcnow
from procurement.rules.identifiers import check_citizen_id
from procurement.supervision.models import ReportState, ServiceReport
from procurement.supervision.services import delivered_by_item

TEXT_MAX = 4000
NOTE_MAX = 1000
COUNT_MAX = 1_000_000
#: 18 characters that look like a citizen ID number, full or masked (530626********123X): digits and "*",
#: the last one a digit, X or "*", not inside a longer run of digits.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z*])[0-9]{6}[0-9*]{8}[0-9*]{3}[0-9Xx*](?![0-9A-Za-z*])")


class AcceptanceInvalid(InvalidInput):
    """Every problem at once, each with its field."""


@dataclass
class AcceptanceData:
    accepted_on: date | None
    team: str | None = None
    method: str | None = None
    surveyed: int | None = 0
    satisfied: int | None = 0
    basically_satisfied: int | None = 0
    dissatisfied: int | None = 0
    opinion_summary: str | None = None
    conclusion: str | None = None
    explanation: str | None = None
    #: result id -> (result value or None, note)
    results: dict[int, tuple[str | None, str | None]] | None = None


# --- who may do what ---------------------------------------------------------------------------

def can_view_acceptance(user, acceptance: Acceptance) -> bool:
    return can_view_contract(user, acceptance.contract)


def can_edit_acceptance(user, contract: Contract) -> bool:
    """An officer of the contract's region (the contract-edit predicate with the acceptance action)."""
    return user.may(Action.ACCEPTANCE_EDIT) and orgs.in_user_subtree(user, contract.purchaser.region)


def acceptance_query(user):
    """The acceptance records of the contracts the user may see."""
    contracts = contract_query(user).with_only_columns(Contract.id)
    return select(Acceptance).where(Acceptance.contract_id.in_(contracts))


def acceptance_of(contract: Contract) -> Acceptance | None:
    return db.session.scalar(select(Acceptance).where(Acceptance.contract_id == contract.id))


def _ensure_edit(actor: Actor, contract: Contract) -> None:
    if actor.user is None or not can_edit_acceptance(actor.user, contract):
        raise AccessDenied(_("You may not change the acceptance of this contract."))


def _check_version(acceptance: Acceptance, expected_version: int | None) -> None:
    if expected_version is not None and acceptance.version != expected_version:
        raise ConflictError(_("Someone else changed this record; look at it again before you go on."))


def _ensure_draft(acceptance: Acceptance) -> None:
    if acceptance.state != AcceptanceState.DRAFT:
        raise DomainError(_("The acceptance has been concluded and can no longer be changed."))


# --- checks of what was typed ----------------------------------------------------------------------

def contains_id_number(text: str | None) -> bool:
    """True when the text holds something shaped like a citizen ID number (full or masked)."""
    if not text:
        return False
    if _ID_LIKE.search(text):
        return True
    squeezed = re.sub(r"[\s\-－—]", "", text)  # 5306 2619… or 530626-1990… typed with separators
    for candidate in _ID_LIKE.findall(squeezed):
        try:
            check_citizen_id(candidate)
            return True
        except ValueError:
            if "*" in candidate:
                return True
    return False


def _text(value, limit: int, field: str, problems: list, required: bool = False) -> str | None:
    text = (value or "").strip()
    if required and not text:
        problems.append((field, _("This field is required.")))
    elif len(text) > limit:
        problems.append((field, _("At most %(n)s characters.", n=limit)))
    return text or None


def _count(value, field: str, problems: list) -> int:
    if value is None:
        return 0
    if not isinstance(value, int) or value < 0:
        problems.append((field, _("Enter a whole number, zero or more.")))
        return 0
    if value > COUNT_MAX:
        problems.append((field, _("The number is too large.")))
        return 0
    return value


def _apply(acceptance: Acceptance, data: AcceptanceData) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    contract = acceptance.contract
    if data.accepted_on is None:
        problems.append(("accepted_on", _("Enter the date of the acceptance.")))
    elif data.accepted_on < contract.term_start:
        problems.append(("accepted_on", _("The acceptance cannot be before the contract term starts (%(day)s).",
                                          day=contract.term_start.isoformat())))
    team = _text(data.team, TEXT_MAX, "team", problems)
    method = _text(data.method, TEXT_MAX, "method", problems)
    counts = {name: _count(getattr(data, name), name, problems)
              for name in ("surveyed", "satisfied", "basically_satisfied", "dissatisfied")}
    if not any(field in ("surveyed", "satisfied", "basically_satisfied", "dissatisfied") for field, _m in problems):
        answered = counts["satisfied"] + counts["basically_satisfied"] + counts["dissatisfied"]
        if answered != counts["surveyed"]:
            problems.append(("surveyed", _(
                "The opinions do not add up: %(answered)s satisfied, basically satisfied and dissatisfied, "
                "but %(surveyed)s surveyed.", answered=answered, surveyed=counts["surveyed"])))
    summary = _text(data.opinion_summary, TEXT_MAX, "opinion_summary", problems)
    if contains_id_number(summary):
        problems.append(("opinion_summary", _(
            "The summary seems to contain a citizen ID number. The published result must hold no personal "
            "data: remove names and ID numbers.")))
    conclusion = None
    if data.conclusion:
        try:
            conclusion = Conclusion(data.conclusion)
        except ValueError:
            problems.append(("conclusion", _("Choose a conclusion from the list.")))
    explanation = _text(data.explanation, TEXT_MAX, "explanation", problems)
    if contains_id_number(explanation):
        problems.append(("explanation", _("The explanation seems to contain a citizen ID number; remove it.")))
    results = {row.id: row for row in acceptance.results}
    updates = {}
    for result_id, (value, note) in (data.results or {}).items():
        row = results.get(result_id)
        if row is None:
            continue  # not a standard of this record: ignored
        field = f"result_{result_id}"
        parsed = None
        if value:
            try:
                parsed = StandardResult(value)
            except ValueError:
                problems.append((field, _("Choose a result from the list.")))
                continue
        note_text = _text(note, NOTE_MAX, f"note_{result_id}", problems)
        if contains_id_number(note_text):
            problems.append((f"note_{result_id}", _("The note seems to contain a citizen ID number; remove it.")))
        updates[row] = (parsed, note_text)
    if problems:
        return problems
    acceptance.accepted_on = data.accepted_on
    acceptance.team, acceptance.method = team, method
    for name, value in counts.items():
        setattr(acceptance, name, value)
    acceptance.opinion_summary = summary
    acceptance.conclusion, acceptance.explanation = conclusion, explanation
    for row, (parsed, note_text) in updates.items():
        row.result, row.note = parsed, note_text
    acceptance.updated_at = utcnow()
    return []


def _snapshot(acceptance: Acceptance) -> dict:
    return {"accepted_on": acceptance.accepted_on.isoformat() if acceptance.accepted_on else None,
            "surveyed": acceptance.surveyed, "satisfied": acceptance.satisfied,
            "basically_satisfied": acceptance.basically_satisfied, "dissatisfied": acceptance.dissatisfied,
            "conclusion": acceptance.conclusion.value if acceptance.conclusion else None,
            "results": {row.item_code: row.result.value if row.result else None for row in acceptance.results}}


def refresh_delivered(acceptance: Acceptance) -> None:
    """The delivered quantities again from the accepted service reports (only while a draft)."""
    progress = delivered_by_item(acceptance.contract)
    by_line = dict(zip([line.id for line in acceptance.contract.lines], progress, strict=True))
    for row in acceptance.results:
        item = by_line.get(row.line_id)
        if item is not None and row.delivered != item.delivered:
            row.delivered = item.delivered


# --- the lifecycle ------------------------------------------------------------------------------------

def open_acceptance(contract: Contract, accepted_on: date, actor: Actor) -> Acceptance:
    """The contract's acceptance record (made on first use): one per contract, for contracts in service."""
    _ensure_edit(actor, contract)
    existing = acceptance_of(contract)
    if existing is not None:
        return existing
    if contract.state != ContractState.IN_SERVICE:
        raise DomainError(_("Only a contract in service can be accepted."), field="accepted_on")
    acceptance = Acceptance(contract=contract, state=AcceptanceState.DRAFT, accepted_on=accepted_on,
                            created_by_id=actor.user.id)
    progress = delivered_by_item(contract)
    for position, (line, item) in enumerate(zip(contract.lines, progress, strict=True)):
        acceptance.results.append(AcceptanceResult(
            line_id=line.id, item_id=line.item_id, position=position, item_code=line.item.code[:32],
            item_name=line.item.name[:64], unit=str(line.item.unit.label)[:32], standard=line.item.standard or "",
            contracted=Decimal(line.quantity), delivered=item.delivered))
    db.session.add(acceptance)
    db.session.flush()
    append_audit(actor, "acceptance.create", acceptance,
                 detail={"contract": contract.number, "standards": len(acceptance.results)})
    db.session.flush()
    return acceptance


def update_acceptance(acceptance: Acceptance, data: AcceptanceData, actor: Actor,
                      expected_version: int | None = None) -> None:
    _ensure_edit(actor, acceptance.contract)
    _check_version(acceptance, expected_version)
    _ensure_draft(acceptance)
    problems = _apply(acceptance, data)
    if problems:
        raise AcceptanceInvalid(problems)
    refresh_delivered(acceptance)
    db.session.flush()
    append_audit(actor, "acceptance.update", acceptance, detail=_snapshot(acceptance))
    db.session.flush()


def reports_awaiting_review(contract: Contract) -> int:
    return db.session.scalar(select(func.count(ServiceReport.id)).where(
        ServiceReport.contract_id == contract.id,
        ServiceReport.state.in_([ReportState.SUBMITTED, ReportState.RESUBMITTED]))) or 0


def conclusion_problems(acceptance: Acceptance) -> list[tuple[str, str]]:
    """Why the record cannot be concluded yet (empty when it can)."""
    problems = []
    waiting = reports_awaiting_review(acceptance.contract)
    if waiting:
        problems.append(("", _("%(n)s service report(s) of this contract await review: accept or return them "
                               "before concluding the acceptance.", n=waiting)))
    for row in acceptance.results:
        if row.result is None:
            problems.append((f"result_{row.id}", _("Give the result for this service standard.")))
    if acceptance.conclusion is None:
        problems.append(("conclusion", _("Choose the conclusion of the acceptance.")))
    elif acceptance.conclusion != Conclusion.PASSED and not acceptance.explanation:
        problems.append(("explanation", _("Explain the conditions or the reasons for failing.")))
    if not acceptance.team:
        problems.append(("team", _("Name the members of the acceptance team.")))
    return problems


def conclude_acceptance(acceptance: Acceptance, actor: Actor, expected_version: int | None = None) -> None:
    """Lock the record: needs every standard with a result and no service report waiting for review."""
    _ensure_edit(actor, acceptance.contract)
    _check_version(acceptance, expected_version)
    _ensure_draft(acceptance)
    problems = conclusion_problems(acceptance)
    if problems:
        raise AcceptanceInvalid(problems)
    refresh_delivered(acceptance)
    acceptance.state = AcceptanceState.CONCLUDED
    acceptance.concluded_at = utcnow()
    acceptance.concluded_by_id = actor.user.id
    acceptance.updated_at = acceptance.concluded_at
    db.session.flush()
    append_audit(actor, "acceptance.conclude", acceptance, detail=_snapshot(acceptance))
    db.session.flush()


def publish_acceptance(acceptance: Acceptance, published_on: date | None, actor: Actor,
                       expected_version: int | None = None) -> None:
    _ensure_edit(actor, acceptance.contract)
    _check_version(acceptance, expected_version)
    if acceptance.state == AcceptanceState.DRAFT:
        raise DomainError(_("Conclude the acceptance before publishing its result."))
    if acceptance.state == AcceptanceState.PUBLISHED:
        raise DomainError(_("The result has already been published."))
    if published_on is None:
        raise DomainError(_("Enter the date of publication."), field="published_on")
    if acceptance.concluded_at is not None and published_on < acceptance.accepted_on:
        raise DomainError(_("The result cannot be published before the acceptance (%(day)s).",
                            day=acceptance.accepted_on.isoformat()), field="published_on")
    acceptance.state = AcceptanceState.PUBLISHED
    acceptance.published_on = published_on
    acceptance.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "acceptance.publish", acceptance, detail={"published_on": published_on.isoformat()})
    db.session.flush()


# --- the publishable result -------------------------------------------------------------------------

def public_result(acceptance: Acceptance) -> dict:
    """Everything the published result shows, and nothing else: no beneficiary's name, number, address or phone."""
    contract = acceptance.contract
    return {
        "contract_number": contract.number, "contract_title": contract.title,
        "project": contract.project.title,
        "purchaser": contract.purchaser.name, "supplier": contract.supplier.name,
        "term_start": contract.term_start.isoformat(), "term_end": contract.term_end.isoformat(),
        "amount": str(contract.amount), "accepted_on": acceptance.accepted_on.isoformat(),
        "method": acceptance.method or "",
        "results": [{"code": row.item_code, "name": row.item_name, "unit": row.unit, "standard": row.standard,
                     "contracted": str(row.contracted), "delivered": str(row.delivered),
                     "result": row.result.value if row.result else None,
                     "result_label": str(row.result.label) if row.result else "", "note": row.note or ""}
                    for row in acceptance.results],
        "opinions": {"surveyed": acceptance.surveyed, "satisfied": acceptance.satisfied,
                     "basically_satisfied": acceptance.basically_satisfied, "dissatisfied": acceptance.dissatisfied,
                     "summary": acceptance.opinion_summary or ""},
        "conclusion": acceptance.conclusion.value if acceptance.conclusion else None,
        "conclusion_label": str(acceptance.conclusion.label) if acceptance.conclusion else "",
        "explanation": acceptance.explanation or "",
        "published_on": acceptance.published_on.isoformat() if acceptance.published_on else None,
    }
