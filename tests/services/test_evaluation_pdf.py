"""The evaluation sheet's PDF: what it says, PDF/A-3b with its data attached, proof on the verify page, the CLI.

Finalized sheets are built directly with the models (the scoring services have their own tests); the PDF is
issued through :func:`evaluation.documents.issue_sheet_document`, as ``finalize()`` does.
"""

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from contracts import pdf as pdfs
from contracts.models import ContractState, Instalment, InstalmentCondition, IssuedDocument
from evaluation import documents
from evaluation.models import (
    ComputedScore,
    Rule,
    Score,
    Sheet,
    SheetEvaluator,
    SheetKind,
    SheetResult,
    SheetState,
    Stage,
)
from evaluation.scoring import grade as grade_of
from procurement.auth.roles import Role
from procurement.catalog.models import CatalogItem, ServiceList
from procurement.extensions import db
from procurement.orgs.models import OrgKind, Region
from procurement.rules.money import to_capital
from tests.contract_factories import make_contract
from tests.evaluation_factories import published_scheme
from tests.factories import login_as, make_item, make_list, make_org, make_supplier, make_user
from tests.project_factories import actor

FINALIZED_AT = datetime(2026, 10, 9, 2, 30, tzinfo=UTC)


def officer_of(region_code="530626"):
    user = make_user(Role.OFFICER, region_code=region_code)
    if user.organization.kind != OrgKind.BUREAU:
        user.organization = make_org(OrgKind.BUREAU, region_code)
        db.session.flush()
    return user


def _item(region_code: str):
    """A catalogue item of the region's 2026 list (one list per region and year)."""
    found = db.session.execute(select(CatalogItem).join(ServiceList).join(Region, ServiceList.region_id == Region.id)
                               .where(Region.code == region_code, ServiceList.year == 2026)).scalars().first()
    return found or make_item(make_list(region_code=region_code))


def evaluation_contract(bureau=None, amount="100000.00", region_code="530626"):
    """An in-service contract paying 30 / 40 / 30 on signing, the mid-term evaluation and final acceptance."""
    bureau = bureau or make_org(OrgKind.BUREAU, region_code)
    item = _item(region_code)
    contract = make_contract(bureau, make_supplier(region_code), item, state=ContractState.IN_SERVICE, amount=amount)
    contract.instalments.clear()
    db.session.flush()
    total = Decimal(amount)
    for position, (percent, condition) in enumerate(((30, InstalmentCondition.ON_SIGNING),
                                                     (40, InstalmentCondition.MID_TERM_EVALUATION),
                                                     (30, InstalmentCondition.FINAL_ACCEPTANCE)), start=1):
        contract.instalments.append(Instalment(position=position, percent=Decimal(percent),
                                               amount=(total * percent / 100).quantize(Decimal("0.01")),
                                               condition=condition))
    db.session.flush()
    return contract


def finalized_sheet(contract, evaluator_names=("李明", "张华", "王芳"), share=Decimal("0.75"),
                    stage=Stage.MID_TERM, kind=SheetKind.PURCHASER, issue=True, by=None) -> Sheet:
    """A FINALIZED sheet: each evaluator scores every manual leaf ``share`` of its maximum (±1 point between them),
    computed leaves get ``share`` too; results are the means, the total their sum, graded."""
    scheme = published_scheme()
    leaves = [i for i in scheme.indicators if i.rule is not None]
    sheet = Sheet(contract_id=contract.id, scheme_id=scheme.id, stage=stage, kind=kind,
                  period_start=date(2026, 4, 1), period_end=date(2026, 9, 30), state=SheetState.SCORING, number=1)
    db.session.add(sheet)
    db.session.flush()
    evaluators = []
    for offset, name in enumerate(evaluator_names):
        user = make_user(Role.EVALUATOR, display_name=name)
        evaluator = SheetEvaluator(sheet_id=sheet.id, user_id=user.id, declared_at=FINALIZED_AT,
                                   declaration=f"本人{name}与被评价单位无利害关系。", submitted_at=FINALIZED_AT,
                                   total=Decimal(0))
        db.session.add(evaluator)
        db.session.flush()
        evaluators.append((offset, evaluator))
    total = Decimal(0)
    for leaf in leaves:
        base = (leaf.max_points * share).quantize(Decimal("0.01"))
        if leaf.rule == Rule.MANUAL:
            values = []
            for offset, evaluator in evaluators:
                points = min(leaf.max_points, max(Decimal(0), base + (offset - 1) * Decimal("0.5")))
                values.append(points)
                db.session.add(Score(evaluator_id=evaluator.id, indicator_id=leaf.id, points=points,
                                     comment="材料齐全" if points < leaf.max_points else None))
                evaluator.total += points
            result = (sum(values) / len(values)).quantize(Decimal("0.01"))
        else:
            db.session.add(ComputedScore(sheet_id=sheet.id, indicator_id=leaf.id, points=base,
                                         inputs={"numerator": 3, "denominator": 4, "rate": "75.00"}))
            for _offset, evaluator in evaluators:
                evaluator.total += base
            result = base
        db.session.add(SheetResult(sheet_id=sheet.id, indicator_id=leaf.id, points=result))
        total += result
    sheet.total, sheet.grade = total, grade_of(total)
    sheet.state, sheet.finalized_at = SheetState.FINALIZED, FINALIZED_AT
    db.session.flush()
    db.session.expire(sheet)
    if issue:
        documents.issue_sheet_document(sheet, actor(by or officer_of()))
    return sheet


def texts(data: bytes) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


# --- what the sheet says ---------------------------------------------------------------------------------------

def test_the_sheet_pdf_names_the_contract_the_evaluators_the_total_grade_and_the_payment():
    contract = evaluation_contract(amount="100000.00")
    sheet = finalized_sheet(contract, share=Decimal("0.75"))
    document = db.session.get(IssuedDocument, sheet.document_id)
    assert document.kind == "evaluation" and document.reference.startswith(f"PJ-{contract.number}-")
    text = texts(document.pdf)
    assert contract.number in text
    for name in ("李明", "张华", "王芳"):
        assert name in text
    assert f"{sheet.total:.2f}" in text
    assert sheet.grade == "中" and "中" in text
    # 中 → paid in proportion: the mid-term instalment of 40,000.00 pays 40,000 × total ÷ 100
    payable = (Decimal("40000.00") * sheet.total / 100).quantize(Decimal("0.01"))
    withheld = Decimal("40000.00") - payable
    assert f"{payable:,.2f}" in text and f"{withheld:,.2f}" in text
    assert to_capital(payable) in text and to_capital(withheld) in text
    assert "—1—" in text


def test_a_good_grade_pays_the_mid_term_instalment_in_full_and_withholds_nothing():
    contract = evaluation_contract(amount="100000.00")
    sheet = finalized_sheet(contract, share=Decimal("0.95"))
    context = db.session.get(IssuedDocument, sheet.document_id).context
    assert sheet.grade == "优"
    assert [(i["payable"], i["withheld"]) for i in context["instalments"]] == [("40,000.00", "0.00")]
    assert context["instalments"][0]["withheld_capital"] == to_capital(Decimal("0.00"))


def test_the_final_sheet_conditions_the_final_acceptance_instalment():
    contract = evaluation_contract(amount="100000.00")
    sheet = finalized_sheet(contract, share=Decimal("0.5"), stage=Stage.FINAL)
    context = db.session.get(IssuedDocument, sheet.document_id).context
    assert sheet.grade == "差"
    assert [(i["amount"], i["payable"], i["withheld"]) for i in context["instalments"]] == [
        ("30,000.00", "0.00", "30,000.00")]


def test_the_pdf_is_pdfa_3b_with_the_stored_context_attached():
    sheet = finalized_sheet(evaluation_contract())
    document = db.session.get(IssuedDocument, sheet.document_id)
    reader = PdfReader(io.BytesIO(document.pdf))
    metadata = reader.xmp_metadata
    assert metadata is not None
    raw = metadata.stream.get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in raw or 'pdfaid:part="3"' in raw
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in raw or 'pdfaid:conformance="B"' in raw
    assert pdfs.embedded_context(document.pdf) == document.context
    assert document.context["contract_number"] == sheet.contract.number
    assert document.sha256 == __import__("hashlib").sha256(document.pdf).hexdigest()


def test_only_a_finalized_sheet_gets_a_pdf():
    sheet = finalized_sheet(evaluation_contract(), issue=False)
    sheet.state = SheetState.SCORING
    db.session.flush()
    try:
        documents.issue_sheet_document(sheet, actor(officer_of()))
    except documents.DomainError:
        pass
    else:
        raise AssertionError("a sheet being scored was issued a PDF")
    assert sheet.document_id is None


# --- proof on the verify page -------------------------------------------------------------------------------

def test_the_verify_page_says_genuine_for_the_stored_bytes_and_names_the_sheet(client):
    officer = officer_of()
    sheet = finalized_sheet(evaluation_contract(bureau=officer.organization), by=officer)
    document = db.session.get(IssuedDocument, sheet.document_id)
    db.session.commit()
    login_as(client, officer)
    page = client.post("/contracts/verify", data={"document": (io.BytesIO(document.pdf), "sheet.pdf")},
                       content_type="multipart/form-data")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "verify-genuine" in body and document.reference in body
    assert sheet.contract.title in body  # the title names the sheet: contract, stage, kind, version


def test_the_verify_page_refuses_modified_bytes(client):
    officer = officer_of()
    sheet = finalized_sheet(evaluation_contract(bureau=officer.organization), by=officer)
    document = db.session.get(IssuedDocument, sheet.document_id)
    db.session.commit()
    login_as(client, officer)
    changed = document.pdf.replace(b"%%EOF", b"%%EOF\n% changed", 1)
    assert changed != document.pdf
    page = client.post("/contracts/verify", data={"document": (io.BytesIO(changed), "sheet.pdf")},
                       content_type="multipart/form-data")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "verify-not-genuine" in body and "verify-genuine\"" not in body
    assert sheet.contract.number in body  # it claims to be the sheet of this contract


# --- the CLI ----------------------------------------------------------------------------------------------------

def test_the_cli_writes_the_sheet_pdf(runner, tmp_path):
    sheet = finalized_sheet(evaluation_contract())
    stored = db.session.get(IssuedDocument, sheet.document_id).pdf
    db.session.commit()
    out = tmp_path / "sheet.pdf"
    result = runner.invoke(args=["render-evaluation", str(sheet.id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == stored
    fresh = tmp_path / "fresh.pdf"
    result = runner.invoke(args=["render-evaluation", str(sheet.id), "--out", str(fresh), "--fresh"])
    assert result.exit_code == 0, result.output
    assert fresh.read_bytes().startswith(b"%PDF") and sheet.contract.number in texts(fresh.read_bytes())
    result = runner.invoke(args=["render-evaluation", "999999", "--out", str(tmp_path / "none.pdf")])
    assert result.exit_code != 0 and not (tmp_path / "none.pdf").exists()
