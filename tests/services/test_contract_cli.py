"""``flask render-contract NUMBER --out FILE``: any contract to a PDF, or the issued bytes of a signed one."""

from pypdf import PdfReader

from contracts.models import ContractState
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from tests.contract_factories import make_contract
from tests.factories import make_item, make_list, make_org, make_supplier


def _contract(state):
    item = make_item(make_list(region_code="530626", year=2026))
    contract = make_contract(make_org(OrgKind.BUREAU, "530626", name="绥江县民政局（测试）"),
                             make_supplier("530626", name="绥江县测试社工中心"), item, state=state)
    db.session.commit()
    return contract


def test_a_draft_renders_to_a_pdf_with_its_parties_and_amount(runner, tmp_path):
    contract = _contract(ContractState.DRAFT)
    out = tmp_path / "draft.pdf"
    result = runner.invoke(args=["render-contract", contract.number, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "pages" in result.output and "sha256" in result.output
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    assert "绥江县民政局（测试）" in text and "绥江县测试社工中心" in text
    assert "12,000.00" in text and "人民币壹万贰仟元整" in text


def test_issued_writes_the_stored_bytes_of_a_signed_contract(runner, tmp_path):
    contract = _contract(ContractState.SIGNED)
    out = tmp_path / "issued.pdf"
    result = runner.invoke(args=["render-contract", contract.number, "--out", str(out), "--issued"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == contract.document.pdf


def test_issued_refuses_a_draft_and_an_unknown_number_is_an_error(runner, tmp_path):
    draft = _contract(ContractState.DRAFT)
    result = runner.invoke(args=["render-contract", draft.number, "--out", str(tmp_path / "x.pdf"), "--issued"])
    assert result.exit_code != 0 and "not signed" in result.output
    result = runner.invoke(args=["render-contract", "HT-NOPE", "--out", str(tmp_path / "y.pdf")])
    assert result.exit_code != 0 and "no contract numbered" in result.output
    assert not (tmp_path / "y.pdf").exists()
