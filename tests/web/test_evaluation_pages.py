"""The evaluation-sheet pages (绩效评价表): the officer opens a sheet and assigns evaluators, each evaluator
declares and scores, the officer finalizes; who may see which sheet, errors next to their fields."""

from datetime import date
from decimal import Decimal

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from contracts.models import ContractState
from evaluation import services
from evaluation.models import Sheet, SheetKind, SheetState, Stage
from procurement.auth.roles import Role
from procurement.extensions import db
from tests.contract_factories import make_contract
from tests.evaluation_factories import full_marks, published_scheme, score_and_submit, scoring_sheet
from tests.factories import login_as, make_user
from tests.project_factories import actor, county_items, make_bureau, registered_supplier


def text(response) -> str:
    return response.get_data(as_text=True)


def shown(msgid: str, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


@pytest.fixture
def w():
    officer = make_user(Role.OFFICER, organization=make_bureau())
    supplier = registered_supplier()
    writer = make_user(Role.SUPPLIER, organization=supplier)
    _list, (item,) = county_items()
    contract = make_contract(officer.organization, supplier, item, state=ContractState.IN_SERVICE)
    published_scheme()
    panel = [make_user(Role.EVALUATOR) for _ in range(2)]
    db.session.commit()
    return {"officer": officer, "writer": writer, "contract": contract, "panel": panel}


def test_the_officer_opens_a_sheet_from_the_contract_and_errors_stay_next_to_the_fields(client, w):
    login_as(client, w["officer"])
    contract = w["contract"]
    page = text(client.get(f"/contracts/{contract.id}"))
    assert 'id="open-sheet-link"' in page
    response = client.post(f"/evaluation/contract/{contract.id}/new", data={
        "stage": "final", "kind": "third_party", "period_start": "2026-03-01", "period_end": "2026-02-01"})
    assert response.status_code == 400
    page = text(response)
    assert shown("The period must lie within the contract's term.") in page
    assert 'id="period_start"' in page and "is-invalid" in page
    response = client.post(f"/evaluation/contract/{contract.id}/new", data={
        "stage": "final", "kind": "third_party", "period_start": "2026-04-01", "period_end": "2027-03-31",
        "agency": "昭通市社会工作评估中心"})
    assert response.status_code == 302
    sheet = db.session.execute(select(Sheet)).scalar_one()
    assert sheet.state == SheetState.DRAFT and sheet.agency == "昭通市社会工作评估中心"
    # assign: a supplier user is refused next to the field, an evaluator is accepted
    response = client.post(f"/evaluation/{sheet.id}/assign", data={"user": str(w["writer"].id)})
    assert response.status_code == 400 and shown("A third-party evaluation is scored by evaluators.") in text(response)
    for user in w["panel"]:
        assert client.post(f"/evaluation/{sheet.id}/assign", data={"user": str(user.id)}).status_code == 302
    assert client.post(f"/evaluation/{sheet.id}/start", data={}).status_code == 302
    db.session.refresh(sheet)
    assert sheet.state == SheetState.SCORING and sheet.computed
    page = text(client.get(f"/evaluation/{sheet.id}"))
    assert 'id="progress"' in page and "computed-inputs" in page and 'class="override-form"' in page
    # a not-computable leaf is overridden: a missing reason is shown next to the field
    blocked = next(c for c in sheet.computed if services.not_computable(c))
    response = client.post(f"/evaluation/{sheet.id}/override", data={"indicator": str(blocked.indicator_id),
                                                                      "points": "abc", "reason": ""})
    assert response.status_code == 400
    page = text(response)
    assert shown("Enter a number with at most two decimals.") in page
    assert shown("Give the reason for the override.") in page
    response = client.post(f"/evaluation/{sheet.id}/override", data={"indicator": str(blocked.indicator_id),
                                                                      "points": "8", "reason": "回访记录缺失，按抽查给分"})
    assert response.status_code == 302
    # finalizing before the evaluators submit is refused without a 500
    assert client.post(f"/evaluation/{sheet.id}/finalize", data={}).status_code == 400


def test_an_evaluator_declares_then_scores_with_errors_next_to_each_leaf(client, w):
    ann, bob = w["panel"]
    sheet = scoring_sheet(w["contract"], w["officer"], [ann, bob], kind=SheetKind.THIRD_PARTY)
    db.session.commit()
    login_as(client, ann)
    page = text(client.get("/"))
    assert f'data-sheet="{sheet.id}"' in page  # the home card lists the sheets assigned
    page = text(client.get(f"/evaluation/{sheet.id}"))
    assert 'id="declare-form"' in page and w["contract"].supplier.name in page
    assert 'id="score-form"' not in page
    assert client.post(f"/evaluation/{sheet.id}/declare", data={}).status_code == 400
    assert client.post(f"/evaluation/{sheet.id}/declare", data={"accepted": "y"}).status_code == 302
    page = text(client.get(f"/evaluation/{sheet.id}"))
    assert 'id="score-form"' in page
    first, second = services.manual_leaves(sheet.scheme)[:2]
    response = client.post(f"/evaluation/{sheet.id}/scores", data={
        f"points_{first.id}": "9", f"points_{second.id}": "1", f"comment_{second.id}": ""})
    assert response.status_code == 400
    page = text(response)
    assert f'data-error="points_{first.id}"' in page and f'data-error="comment_{second.id}"' in page
    assert shown("Explain why the points are below full marks.") in page
    assert 'value="9"' in page  # what was typed stays in the form
    data = {f"points_{i}": p for i, (p, _c) in full_marks(sheet, Decimal(1)).items()}
    data.update({f"comment_{i}": c for i, (_p, c) in full_marks(sheet, Decimal(1)).items()})
    assert client.post(f"/evaluation/{sheet.id}/scores", data={**data, "submit": "1"}).status_code == 302
    evaluator = services.evaluator_of(ann, sheet)
    db.session.refresh(evaluator)
    assert evaluator.submitted_at is not None
    # locked: another save is refused without a 500
    assert client.post(f"/evaluation/{sheet.id}/scores", data=data).status_code == 400


def test_independence_on_the_page(client, w):
    ann, bob = w["panel"]
    sheet = scoring_sheet(w["contract"], w["officer"], [ann, bob], kind=SheetKind.THIRD_PARTY)
    score_and_submit(sheet, ann, Decimal("1.25"))
    db.session.commit()
    login_as(client, bob)
    page = text(client.get(f"/evaluation/{sheet.id}"))
    assert 'class="other-score"' not in page and ann.display_name not in page
    login_as(client, w["officer"])
    page = text(client.get(f"/evaluation/{sheet.id}"))
    assert 'class="other-score"' not in page and 'id="progress"' in page


def test_finalized_sheet_shows_the_result_and_a_correction_can_be_opened(client, w):
    ann, bob = w["panel"]
    sheet = scoring_sheet(w["contract"], w["officer"], [ann, bob], kind=SheetKind.THIRD_PARTY)
    score_and_submit(sheet, ann)
    score_and_submit(sheet, bob, Decimal(2))
    services.finalize(sheet, actor(w["officer"]), date(2027, 4, 15))
    db.session.commit()
    login_as(client, w["officer"])
    page = text(client.get(f"/evaluation/{sheet.id}"))
    assert 'id="sheet-total"' in page and 'id="result-total"' in page and sheet.grade in page
    response = client.post(f"/evaluation/{sheet.id}/correct", data={"reason": " "})
    assert response.status_code == 400 and shown("Give the reason for the correction.") in text(response)
    response = client.post(f"/evaluation/{sheet.id}/correct", data={"reason": "评分录入错误"})
    assert response.status_code == 302
    new = db.session.execute(select(Sheet).where(Sheet.previous_id == sheet.id)).scalar_one()
    assert response.headers["Location"].endswith(f"/evaluation/{new.id}")
    # the supplier sees a finalized third-party sheet, and its list
    login_as(client, w["writer"])
    assert client.get(f"/evaluation/{sheet.id}").status_code == 200
    assert client.get(f"/evaluation/{new.id}").status_code == 404  # the correction is still being scored


def test_who_sees_which_sheet(client, w):
    ann, stranger = w["panel"]
    third = scoring_sheet(w["contract"], w["officer"], [ann], kind=SheetKind.THIRD_PARTY)
    own = scoring_sheet(w["contract"], w["officer"], [w["writer"]], kind=SheetKind.SELF)
    finance = make_user(Role.FINANCE, organization=w["officer"].organization)
    db.session.commit()
    login_as(client, stranger)
    assert client.get(f"/evaluation/{third.id}").status_code == 404  # not assigned: as if it did not exist
    assert f'data-sheet="{third.id}"' not in text(client.get("/evaluation/"))
    login_as(client, ann)
    listing = text(client.get("/evaluation/"))
    assert f'data-sheet="{third.id}"' in listing and f'data-sheet="{own.id}"' not in listing
    assert client.get(f"/evaluation/{own.id}").status_code == 404
    login_as(client, w["writer"])
    assert client.get(f"/evaluation/{own.id}").status_code == 200
    assert client.get(f"/evaluation/{third.id}").status_code == 404  # not finalized yet
    listing = text(client.get("/evaluation/?state=scoring&stage=final"))
    assert f'data-sheet="{own.id}"' in listing and f'data-sheet="{third.id}"' not in listing
    assert client.get("/evaluation/?state=bogus&stage=%00").status_code == 200
    login_as(client, finance)
    assert client.get(f"/evaluation/{third.id}").status_code == 200
    leaf = services.manual_leaves(third.scheme)[0]
    assert client.post(f"/evaluation/{third.id}/scores", data={f"points_{leaf.id}": "1"}).status_code == 403
    assert client.post(f"/evaluation/{third.id}/finalize", data={}).status_code == 403
    assert client.post(f"/evaluation/{third.id}/declare", data={"accepted": "y"}).status_code == 403
    other = make_user(Role.OFFICER, region_code="530102")
    db.session.commit()
    login_as(client, other)
    assert client.get(f"/evaluation/{third.id}").status_code == 404
    assert client.post(f"/evaluation/{third.id}/finalize", data={}).status_code == 404
    assert db.session.get(Sheet, third.id).stage == Stage.FINAL


def test_finance_downloads_the_issued_pdf_of_a_finalized_sheet_and_the_download_is_audited(client):
    from contracts.models import IssuedDocument
    from procurement.audit.models import AuditRecord
    from tests.services.test_evaluation_pdf import evaluation_contract, finalized_sheet

    contract = evaluation_contract()
    sheet = finalized_sheet(contract)
    finance = make_user(Role.FINANCE, region_code="530626")
    stranger = make_user(Role.FINANCE, region_code="530102")
    db.session.commit()
    issued = db.session.get(IssuedDocument, sheet.document_id)
    login_as(client, finance)
    response = client.get(f"/evaluation/{sheet.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == issued.pdf  # the bytes whose SHA-256 the verify page knows
    assert 'id="sheet-pdf"' in text(client.get(f"/evaluation/{sheet.id}"))
    audit = db.session.execute(select(AuditRecord).where(AuditRecord.action == "sheet.download")).scalar_one()
    assert audit.detail["sha256"] == issued.sha256
    login_as(client, stranger)
    assert client.get(f"/evaluation/{sheet.id}/pdf").status_code == 404


def test_a_supplier_graded_poor_at_its_last_final_evaluation_is_flagged_on_its_record(client):
    from tests.services.test_evaluation_pdf import evaluation_contract, finalized_sheet

    contract = evaluation_contract()
    sheet = finalized_sheet(contract, share=Decimal("0.5"), stage=Stage.FINAL, kind=SheetKind.THIRD_PARTY)
    assert sheet.grade == "差"
    officer = make_user(Role.OFFICER, organization=contract.purchaser)
    db.session.commit()
    login_as(client, officer)
    flag = shown("The supplier's last performance evaluation was graded 差 (fail).")
    next_year = date(sheet.finalized_at.year + 1, 3, 1)
    assert flag in text(client.get(f"/orgs/suppliers/{contract.supplier_id}?on={next_year.isoformat()}"))
    before = date(2026, 1, 5)  # before the evaluation: no flag yet
    assert flag not in text(client.get(f"/orgs/suppliers/{contract.supplier_id}?on={before.isoformat()}"))
