"""Contracts for tests that need one without running the whole purchase (access, lists, visibility).

The rows are built directly; the services that generate and sign contracts have their own tests.
"""

import hashlib
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from contracts.models import (
    Contract,
    ContractLine,
    ContractState,
    ContractTemplate,
    Instalment,
    InstalmentCondition,
    IssuedDocument,
    ReportFrequency,
    TemplateKind,
    TemplateState,
    TemplateVersion,
)
from procurement.extensions import db
from procurement.rules.clock import utcnow
from procurement.rules.stages import ProjectStage
from tests.project_factories import make_line, make_project, next_number


def published_template(kind=TemplateKind.MAIN) -> TemplateVersion:
    return db.session.execute(
        select(TemplateVersion).join(ContractTemplate).where(ContractTemplate.kind == kind,
                                                             TemplateVersion.state == TemplateState.PUBLISHED)
    ).scalars().first()


def make_contract(bureau, supplier, item, state=ContractState.SIGNED, amount="12000.00", project=None,
                  **overrides) -> Contract:
    """A contract of ``bureau`` with ``supplier`` for one line of ``item``; signed ones carry a stored PDF."""
    n = next_number()
    if project is None:
        stage = ProjectStage.AWARDED if state == ContractState.DRAFT else ProjectStage.CONTRACTED
        project = make_project(bureau, stage=stage, award_supplier_id=supplier.id, award_decided_on=date(2026, 3, 1),
                               award_notice_on=date(2026, 3, 2))
        make_line(project, item, quantity=100, unit_price=Decimal(amount) / 100)
    amount = Decimal(amount)
    contract = Contract(number=f"HT-T{n:05d}", project_id=project.id, template_version_id=published_template().id,
                        state=state, purchaser_id=bureau.id, supplier_id=supplier.id, title=f"测试合同{n}",
                        amount=amount, term_start=date(2026, 4, 1), term_end=date(2027, 3, 31),
                        service_place="绥江县", bond_percent=Decimal("0.00"), payment_days=30,
                        late_interest_per_day=Decimal("0.05"), report_frequency=ReportFrequency.MONTHLY,
                        staff_requirements="持证社工2名", beneficiary_assignment="甲方分派",
                        created_at=utcnow(), updated_at=utcnow())
    contract.lines.append(ContractLine(item_id=item.id, quantity=100, unit_price=amount / 100, amount=amount,
                                       position=0))
    contract.instalments.append(Instalment(position=1, percent=Decimal(100), amount=amount,
                                           condition=InstalmentCondition.ON_SIGNING))
    if state != ContractState.DRAFT:
        pdf = b"%PDF-1.7\n% test contract " + str(n).encode() + b"\n%%EOF\n"
        document = IssuedDocument(kind="contract", reference=contract.number, title=contract.title,
                                  sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf), pdf=pdf,
                                  template_version_id=contract.template_version_id,
                                  context={"contract_number": contract.number}, issued_at=utcnow())
        db.session.add(document)
        db.session.flush()
        contract.document_id = document.id
        contract.signed_on, contract.signed_at = date(2026, 3, 20), utcnow()
        contract.purchaser_signatory, contract.supplier_signatory = "王建国", "陈晓梅"
    if state in (ContractState.PUBLISHED, ContractState.FILED, ContractState.IN_SERVICE):
        contract.published_on, contract.publication_ref = date(2026, 3, 23), "合同公告"
    if state in (ContractState.FILED, ContractState.IN_SERVICE):
        contract.filed_on = date(2026, 3, 25)
    if state == ContractState.IN_SERVICE:
        contract.service_started_on = date(2026, 4, 1)
    for key, value in overrides.items():
        setattr(contract, key, value)
    db.session.add(contract)
    db.session.flush()
    return contract
