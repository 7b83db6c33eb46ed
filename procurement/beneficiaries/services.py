"""The beneficiary registry: records with encrypted personal data, reveals that are audited, assignment to contracts.

Who sees whom (DOMAIN §5, §9): officers the beneficiaries of their region and below; a supplier only those
assigned to its contracts, and only while the contract runs. Full ID numbers and health notes are shown one
record at a time to officers, and every such view is an audit record.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, func, or_, select

from procurement import crypto
from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Action
from procurement.beneficiaries.models import GUARDIAN_AGE, Assignment, Beneficiary, LegalBasis
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _
from procurement.orgs import services as orgs
from procurement.orgs.models import OrgKind, Region
from procurement.rules.clock import utcnow
from procurement.rules.identifiers import check_citizen_id, mask_citizen_id

NAME_MAX, ADDRESS_MAX, PHONE_MAX, TEXT_MAX, NOTE_MAX, RELATION_MAX = 64, 256, 32, 4000, 256, 32
CITE_GUARDIAN = "《个人信息保护法》第三十一条"
CITE_SENSITIVE = "《个人信息保护法》第二十八条"

#: Contract states in which the service runs (the supplier sees its assigned beneficiaries).
RUNNING_STATES = ("signed", "published", "filed", "in_service")


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# --- who sees whom ---------------------------------------------------------------------------------

def _running_assignment(org_id: int, today: date):
    """Assignments of the supplier's contracts that run today."""
    from contracts.models import Contract

    return (select(Assignment.beneficiary_id).join(Contract, Contract.id == Assignment.contract_id)
            .where(Contract.supplier_id == org_id, Contract.state.in_(RUNNING_STATES),
                   Contract.term_start <= today, Contract.term_end >= today, Assignment.assigned_on <= today,
                   or_(Assignment.ended_on.is_(None), Assignment.ended_on >= today)))


def beneficiary_query(user, today: date):
    """The beneficiaries the user may see."""
    query = select(Beneficiary)
    if user.may(Action.BENEFICIARY_VIEW):
        return query.join(Region, Beneficiary.region_id == Region.id).where(
            Region.path.startswith(user.organization.region.path))
    if user.may(Action.ASSIGNED_BENEFICIARIES_VIEW):
        return query.where(Beneficiary.id.in_(_running_assignment(user.organization_id, today)))
    return query.where(False)


def can_view(user, beneficiary: Beneficiary, today: date) -> bool:
    if user.may(Action.BENEFICIARY_VIEW):
        return orgs.in_user_subtree(user, beneficiary.region)
    if user.may(Action.ASSIGNED_BENEFICIARIES_VIEW):
        return db.session.scalar(select(exists(_running_assignment(user.organization_id, today)
                                               .where(Assignment.beneficiary_id == beneficiary.id))))
    return False


def can_edit(user, beneficiary: Beneficiary) -> bool:
    return user.may(Action.BENEFICIARY_EDIT) and orgs.in_user_subtree(user, beneficiary.region)


def can_reveal(user, beneficiary: Beneficiary) -> bool:
    """Only officers responsible for the person see the full ID number or the health notes."""
    return user.may(Action.BENEFICIARY_REVEAL) and orgs.in_user_subtree(user, beneficiary.region)


# --- records ----------------------------------------------------------------------------------------

@dataclass
class BeneficiaryData:
    """What the form gives; checked by :func:`_validate`."""

    name: str
    id_number: str
    category_id: int | None
    region: Region | None
    address: str | None = None
    phone: str | None = None
    household: str | None = None
    needs_assessment: str | None = None
    health_notes: str | None = None
    guardian_name: str | None = None
    guardian_relation: str | None = None
    guardian_phone: str | None = None
    legal_basis: LegalBasis | None = None
    legal_basis_note: str | None = None


def _clean(value: str | None, limit: int, field: str, problems: dict) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        problems[field] = _("At most %(n)s characters.", n=limit)
    return text or None


class BeneficiaryInvalid(DomainError):
    """Every problem of the record at once: ``problems`` maps a field to its message."""

    def __init__(self, problems: dict[str, str]):
        field, message = next(iter(problems.items()))
        super().__init__(message, field=field)
        self.problems = problems


def _validate(data: BeneficiaryData, actor: Actor, today: date, record: Beneficiary | None) -> dict:
    problems: dict[str, str] = {}
    values = {}
    values["name"] = _clean(data.name, NAME_MAX, "name", problems)
    if not values["name"]:
        problems["name"] = _("Enter the name.")
    number = None
    try:
        number = check_citizen_id(data.id_number, today)
    except ValueError as exc:
        problems["id_number"] = str(exc)
    if data.region is None or not orgs.in_user_subtree(actor.user, data.region):
        problems["region"] = _("Choose a region you are responsible for.")
    if data.category_id is None:
        problems["category"] = _("Choose the category.")
    for field, limit in (("address", ADDRESS_MAX), ("phone", PHONE_MAX), ("household", TEXT_MAX),
                         ("needs_assessment", TEXT_MAX), ("health_notes", TEXT_MAX), ("guardian_name", NAME_MAX),
                         ("guardian_relation", RELATION_MAX), ("guardian_phone", PHONE_MAX),
                         ("legal_basis_note", NOTE_MAX)):
        values[field] = _clean(getattr(data, field), limit, field, problems)
    if data.legal_basis is None:
        problems["legal_basis"] = _("Note the legal basis for processing this person's data.")
    if number is not None:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        values["birth_date"] = born
        if age_on(born, today) < GUARDIAN_AGE:
            for field in ("guardian_name", "guardian_relation", "guardian_phone"):
                if not values.get(field):
                    problems[field] = _("A child under %(n)s needs a guardian on record: name, relation and phone.",
                                        n=GUARDIAN_AGE) + f"（{CITE_GUARDIAN}）"
        digest = crypto.keyed_hash(number)
        other = db.session.execute(select(Beneficiary).where(Beneficiary.id_hash == digest)).scalar()
        if other is not None and (record is None or other.id != record.id):
            problems["id_number"] = _("This ID number is already registered (%(name)s, %(masked)s, %(bureau)s).",
                                      name=other.name, masked=other.id_masked, bureau=other.bureau.name)
        values.update(id_hash=digest, id_masked=mask_citizen_id(number), id_number=number)
    if problems:
        raise BeneficiaryInvalid(problems)
    return values


def _apply(record: Beneficiary, values: dict, data: BeneficiaryData) -> None:
    record.name = values["name"]
    record.id_number_enc = crypto.encrypt(values["id_number"])
    record.id_hash, record.id_masked, record.birth_date = values["id_hash"], values["id_masked"], values["birth_date"]
    record.region_id = data.region.id
    record.category_id = data.category_id
    for field in ("address", "phone", "household", "needs_assessment", "guardian_name", "guardian_relation",
                  "guardian_phone", "legal_basis_note"):
        setattr(record, field, values[field])
    record.health_notes_enc = crypto.encrypt(values["health_notes"]) if values["health_notes"] else None
    record.legal_basis = data.legal_basis


def create_beneficiary(data: BeneficiaryData, actor: Actor, today: date) -> Beneficiary:
    """Register a person with the actor's bureau.

    Raises:
        BeneficiaryInvalid: every problem, by field (an ID number already registered names the record).
    """
    if not actor.user.may(Action.BENEFICIARY_EDIT) or actor.user.organization.kind != OrgKind.BUREAU:
        raise AccessDenied(_("You may not register beneficiaries."))
    values = _validate(data, actor, today, None)
    record = Beneficiary(bureau_id=actor.user.organization_id, created_by_id=actor.user_id, active=True)
    _apply(record, values, data)
    db.session.add(record)
    db.session.flush()
    # the audit record names the person by the masked number only: the log is personal data too
    append_audit(actor, "beneficiary.create", record, detail={"name": record.name, "id": record.id_masked})
    return record


def update_beneficiary(record: Beneficiary, data: BeneficiaryData, actor: Actor, today: date,
                       expected_version: int | None = None) -> None:
    if not can_edit(actor.user, record):
        raise AccessDenied(_("You may not change this record."))
    if expected_version is not None and record.version != expected_version:
        raise ConflictError(_("Someone else changed this record; look at it again before you go on."))
    values = _validate(data, actor, today, record)
    changed = [f for f in ("name", "address", "phone", "household", "needs_assessment", "guardian_name",
                           "guardian_relation", "guardian_phone", "legal_basis_note") if getattr(record, f) != values[f]]
    if record.id_hash != values["id_hash"]:
        changed.append("id_number")
    # the names of the other changed fields too (never their values: the health notes are sensitive)
    if crypto.decrypt(record.health_notes_enc) != values["health_notes"]:
        changed.append("health_notes")
    changed += [f for f, old, new in (("region", record.region_id, data.region.id),
                                      ("category", record.category_id, data.category_id),
                                      ("legal_basis", record.legal_basis, data.legal_basis)) if old != new]
    _apply(record, values, data)
    record.updated_at = utcnow()
    db.session.flush()
    append_audit(actor, "beneficiary.update", record, detail={"id": record.id_masked, "fields": changed})


def find_by_id_number(number: str) -> Beneficiary | None:
    """Exact lookup through the keyed hash, without decrypting anything."""
    try:
        normalized = check_citizen_id(number)
    except ValueError:
        return None
    return db.session.execute(select(Beneficiary).where(Beneficiary.id_hash == crypto.keyed_hash(normalized))).scalar()


def reveal(record: Beneficiary, what: str, actor: Actor) -> str | None:
    """The full ID number (``what="id_number"``) or the health notes, for one record; every reveal is audited.

    Raises:
        AccessDenied: the actor's role or region does not need it.
    """
    if what not in ("id_number", "health_notes"):
        raise DomainError(_("Nothing to show."))
    if not can_reveal(actor.user, record):
        append_audit(actor, "beneficiary.reveal", record, outcome="denied", detail={"what": what})
        raise AccessDenied(_("You may not see the full personal data of this person."))
    value = crypto.decrypt(record.id_number_enc if what == "id_number" else record.health_notes_enc)
    append_audit(actor, "beneficiary.reveal", record, detail={"what": what, "id": record.id_masked})
    return value


# --- assignment -------------------------------------------------------------------------------------

def assignments_of(contract) -> list[Assignment]:
    return list(db.session.execute(select(Assignment).where(Assignment.contract_id == contract.id)
                                   .order_by(Assignment.assigned_on, Assignment.id)).scalars())


def visible_assignments(contract, user, today: date, page: int = 1, per_page: int = 50) -> tuple[list[Assignment], int]:
    """One page of the contract's assignments the user may see, and how many there are: officers those of
    people in their region, a supplier the people its running contract serves today."""
    query = select(Assignment).join(Beneficiary, Beneficiary.id == Assignment.beneficiary_id).where(
        Assignment.contract_id == contract.id)
    if user.may(Action.BENEFICIARY_VIEW):
        query = query.join(Region, Beneficiary.region_id == Region.id).where(
            Region.path.startswith(user.organization.region.path))
    elif (user.may(Action.ASSIGNED_BENEFICIARIES_VIEW) and contract.supplier_id == user.organization_id
          and contract.state.value in RUNNING_STATES and contract.term_start <= today <= contract.term_end):
        query = query.where(Assignment.assigned_on <= today, or_(Assignment.ended_on.is_(None),
                                                                 Assignment.ended_on >= today))
    else:
        return [], 0
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(query.order_by(Assignment.assigned_on.desc(), Assignment.id.desc())
                              .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return list(rows), total


def active_assignment(contract, beneficiary: Beneficiary, on: date) -> Assignment | None:
    return db.session.execute(select(Assignment).where(
        Assignment.contract_id == contract.id, Assignment.beneficiary_id == beneficiary.id,
        Assignment.assigned_on <= on, or_(Assignment.ended_on.is_(None), Assignment.ended_on >= on))).scalar()


def assign(contract, beneficiary: Beneficiary, actor: Actor, today: date) -> Assignment:
    """Assign a person of the purchaser's region to a contract (eligibility stays with the bureau).

    Raises:
        DomainError: the person is inactive, outside the purchaser's region, already assigned, or the
            contract has ended.
    """
    from contracts.services import can_edit_contract

    if not can_edit_contract(actor.user, contract) or not can_edit(actor.user, beneficiary):
        raise AccessDenied(_("You may not assign beneficiaries to this contract."))
    if not beneficiary.active:
        raise DomainError(_("This person's record is inactive."), field="beneficiary")
    if not contract.purchaser.region.contains(beneficiary.region):
        raise DomainError(_("%(name)s lives outside the purchaser's region.", name=beneficiary.name),
                          field="beneficiary")
    if contract.term_end < today:
        raise DomainError(_("The contract's term has ended."))
    existing = db.session.execute(select(Assignment).where(Assignment.contract_id == contract.id,
                                                           Assignment.beneficiary_id == beneficiary.id)).scalar()
    if existing is not None and (existing.ended_on is None or existing.ended_on >= today):
        raise DomainError(_("%(name)s is already assigned to this contract.", name=beneficiary.name),
                          field="beneficiary")
    start = max(today, contract.term_start)
    if existing is not None:  # assigned again after an end: the same row, reopened
        existing.assigned_on, existing.ended_on, existing.end_reason = start, None, None
        record = existing
    else:
        record = Assignment(contract_id=contract.id, beneficiary_id=beneficiary.id, assigned_on=start,
                            assigned_by_id=actor.user_id)
        db.session.add(record)
    db.session.flush()
    append_audit(actor, "beneficiary.assign", record, detail={"contract": contract.number, "id": beneficiary.id_masked})
    return record


def end_assignment(record: Assignment, reason: str, actor: Actor, today: date) -> None:
    """The person no longer receives the contract's service from tomorrow (moved, deceased, no longer eligible…)."""
    from contracts.services import can_edit_contract

    if not can_edit_contract(actor.user, record.contract):
        raise AccessDenied(_("You may not assign beneficiaries to this contract."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason; it is kept with the record."), field="reason")
    if len(reason) > NOTE_MAX:
        raise DomainError(_("At most %(n)s characters.", n=NOTE_MAX), field="reason")
    if record.ended_on is not None and record.ended_on < today:
        raise DomainError(_("This assignment has already ended."))
    record.ended_on, record.end_reason = max(today, record.assigned_on), reason
    db.session.flush()
    append_audit(actor, "beneficiary.unassign", record, detail={"contract": record.contract.number,
                                                                "id": record.beneficiary.id_masked, "reason": reason})


def filter_condition(q: str):
    """A search on name, or an exact ID number (through its keyed hash)."""
    q = (q or "").strip()
    try:
        number = check_citizen_id(q)
    except ValueError:
        return Beneficiary.name.contains(q, autoescape=True)
    return and_(Beneficiary.id_hash == crypto.keyed_hash(number))
