"""The issued contract PDF: what it says, its fonts, PDF/A-3b with its data attached, and the assets it may load.

PDF rendering is slow, so the signed contract is made once for the module (on its own database) and its bytes
are shared by the tests that read it.
"""

import base64
import io
import json
import logging
import re
import shutil
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from PIL import Image
from pypdf import PdfReader

from contracts import pdf as pdfs
from contracts.rendering import page_html, parse_schema, render_body, sample_context
from procurement.extensions import db
from procurement.reference_data import load_reference_data
from procurement.rules.money import to_capital
from tests.conftest import TEST_DATABASE_URL, _make_app, _pg_reset
from tests.services.test_contract_services import PRICE, signed_contract

CSS = (pdfs.ASSETS / "print.css").read_text(encoding="utf-8")


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@dataclass
class Issued:
    pdf: bytes
    stored_context: dict
    number: str
    title: str
    parties: list[tuple[str, str]]  # (name, credit code) of the purchaser and the supplier
    results: list = field(default_factory=list)  # every RenderResult made while signing
    logged: list[str] = field(default_factory=list)  # WeasyPrint's warnings and errors while signing


@pytest.fixture(scope="module")
def issued(database_template, tmp_path_factory) -> Issued:
    """The demo-like contract (2,098,000.00 yuan, 绥江县民政局 and 阳光社工中心) signed through the services."""
    if TEST_DATABASE_URL:
        engine = sa.create_engine(TEST_DATABASE_URL)
        _pg_reset(engine)
        engine.dispose()
        url = TEST_DATABASE_URL
    else:
        target = tmp_path_factory.mktemp("contract_pdf") / "test.db"
        shutil.copyfile(database_template, target)
        url = f"sqlite:///{target}"
    app = _make_app(url)
    results, handler = [], _Records()
    real_html_to_pdf = pdfs.html_to_pdf

    def spy(*args, **kwargs):
        result = real_html_to_pdf(*args, **kwargs)
        results.append(result)
        return result

    logger = logging.getLogger("weasyprint")
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        if TEST_DATABASE_URL:
            load_reference_data()
        patch.setattr(pdfs, "html_to_pdf", spy)
        logger.addHandler(handler)
        try:
            award, contract = signed_contract()
        finally:
            logger.removeHandler(handler)
        document = contract.document
        found = Issued(pdf=document.pdf, stored_context=document.context, number=contract.number, title=contract.title,
                       parties=[(award.bureau.name, award.bureau.credit_code),
                                (award.supplier.name, award.supplier.credit_code)],
                       results=results, logged=[r.getMessage() for r in handler.records])
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    return found


def reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in reader(data).pages]


def compact(text: str) -> str:
    """Without the line breaks and spaces text extraction puts where lines wrap."""
    return re.sub(r"\s+", "", text)


# --- the issued contract ---------------------------------------------------------------------------------

def test_the_contract_names_both_parties_and_the_amount_in_figures_and_in_words(issued):
    text = compact("".join(page_texts(issued.pdf)))
    for name, credit_code in issued.parties:
        assert compact(name) in text and credit_code in text
    assert "2,098,000.00" in text
    assert to_capital(PRICE) == "人民币贰佰零玖万捌仟元整" and to_capital(PRICE) in text
    for instalment in ("629,400.00", "839,200.00", to_capital(PRICE * 30 / 100)):
        assert instalment in text
    assert issued.number in text and compact(issued.title) in text
    assert "2026年3月20日" in text and "张建华" in text and "陈晓梅" in text  # signed on, by


def test_every_page_is_numbered(issued):
    texts = page_texts(issued.pdf)
    assert len(texts) >= 2
    for number, text in enumerate(texts, 1):
        assert re.search(rf"—\s*{number}\s*—", text), f"page {number} has no number"
    assert "— 1 —" in texts[0] and "— 2 —" in texts[1]


def _fonts(data: bytes) -> dict[str, object]:
    fonts = {}
    for page in reader(data).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[str(font["/BaseFont"])] = font
    return fonts


def _family(base_font: str) -> str:
    """``/ABCDEF+Noto-Serif-CJK-SC`` → ``notoserifcjksc``."""
    return re.sub(r"[^a-z]", "", base_font.split("+", 1)[-1].lower())


def test_the_cjk_fonts_are_embedded_and_no_other(issued):
    fonts = _fonts(issued.pdf)
    families = {_family(name) for name in fonts}
    assert any(f.startswith("notoserifcjk") for f in families), families
    assert any(f.startswith("notosanscjk") for f in families), families
    assert all(f.startswith(("notoserifcjk", "notosanscjk")) for f in families), families  # no fallback face
    for name, font in fonts.items():
        descriptors = [d.get_object()["/FontDescriptor"] for d in font.get("/DescendantFonts", [])] or \
            [font["/FontDescriptor"]]
        for descriptor in descriptors:
            assert any(key.startswith("/FontFile") for key in descriptor), f"{name} is not embedded"


def test_the_pdf_is_pdfa_3b_in_chinese_with_its_data_attached(issued):
    pdf = reader(issued.pdf)
    root = pdf.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(=\"|>)3", xmp) and re.search(r"pdfaid:conformance(=\"|>)B", xmp)
    assert root["/Lang"] == "zh-CN" and "/OutputIntents" in root
    assert pdf.metadata.title == issued.title
    assert list(pdf.attachments) == [pdfs.CONTEXT_ATTACHMENT]
    attached = json.loads(pdf.attachments[pdfs.CONTEXT_ATTACHMENT][0])
    assert attached == issued.stored_context
    assert pdfs.embedded_context(issued.pdf) == issued.stored_context
    relations = {str(spec.get_object().get("/AFRelationship")) for spec in root["/AF"]}
    assert relations == {"/Data"}


def test_weasyprint_rendered_cleanly(issued):
    assert len(issued.results) == 1  # signing renders the document once
    result = issued.results[0]
    assert result.problems == [] and result.fell_back_to_fonttools is False
    assert issued.logged == []
    assert result.pdf == issued.pdf and result.pages == len(reader(issued.pdf).pages)


# --- assets: the project's own only ---------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://example.com/x.png",
    "https://example.com/style.css",
    "ftp://example.com/x.png",
    (pdfs.ASSETS / "print.css").as_uri().replace("print.css", "../../../../etc/passwd"),
    (pdfs.ASSETS / "print.css").as_uri().replace("print.css", "%2E%2E/%2E%2E/pyproject.toml"),
    (pdfs.ASSETS / "no-such-file.png").as_uri(),
    pdfs.ASSETS.as_uri(),  # the folder itself
])
def test_the_fetcher_refuses_everything_but_the_projects_assets(url):
    with pytest.raises(ValueError):
        pdfs.url_fetcher().fetch(url)


def test_the_fetcher_serves_the_shipped_assets():
    response = pdfs.url_fetcher().fetch((pdfs.ASSETS / "print.css").as_uri())
    assert response.read() == (pdfs.ASSETS / "print.css").read_bytes()
    assert response.content_type == "text/css"


def _png(tmp_path):
    path = tmp_path / "seal.png"
    Image.new("RGB", (40, 40), (200, 0, 0)).save(path)
    return path


def _images(data: bytes) -> int:
    count = 0
    for page in reader(data).pages:
        xobjects = page["/Resources"].get("/XObject") or {}
        count += sum(1 for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image")
    return count


def test_a_template_cannot_pull_in_files_or_the_network(tmp_path, caplog):
    outside = _png(tmp_path)
    inline = base64.b64encode(outside.read_bytes()).decode()
    body = (f'<p>外部文件</p><img src="file:///etc/passwd"><img src="{outside.as_uri()}">'
            f'<img src="http://127.0.0.1:9/x.png"><link rel="stylesheet" href="file:///etc/passwd">'
            f'<p>内嵌图片</p><img src="data:image/png;base64,{inline}">')
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        result = pdfs.html_to_pdf(page_html(body, "资源测试"), CSS)
    assert _images(result.pdf) == 1  # only the data: URL
    refused = "not one of the project's own assets"
    assert len(result.problems) == 4 and all(refused in p for p in result.problems)  # 3 images and the stylesheet
    assert any(outside.as_uri() in p for p in result.problems) and any("127.0.0.1" in p for p in result.problems)
    assert len(caplog.records) == 4  # logged, so signing a document that asks for them would be refused
    text = "".join(page_texts(result.pdf))
    assert "root:" not in text and "外部文件" in text


# --- layout ---------------------------------------------------------------------------------------------

def test_a_long_items_table_repeats_its_header_on_every_page(caplog):
    schema = parse_schema(json.loads((pdfs.ASSETS / "service_contract.schema.json").read_text(encoding="utf-8")))
    context = sample_context(schema)
    row = context["items"][0]
    context["items"] = [{**row, "number": n, "code": f"LT-{n:03d}", "name": f"长表照护{n}"} for n in range(1, 61)]
    body = render_body((pdfs.ASSETS / "service_contract.html").read_text(encoding="utf-8"), context, schema, strict=True)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        result = pdfs.html_to_pdf(page_html(body, "长表"), CSS, context)
    assert [r.getMessage() for r in caplog.records] == []
    assert result.problems == [] and not result.fell_back_to_fonttools
    texts = page_texts(result.pdf)
    with_rows = [n for n, text in enumerate(texts, 1) if re.search(r"LT-\d{3}", text)]
    assert len(with_rows) >= 2, "the table should run over more than one page"
    assert with_rows == list(range(with_rows[0], with_rows[-1] + 1))
    for n in with_rows:
        assert "服务项目" in texts[n - 1] and "单价（元）" in compact(texts[n - 1]), f"page {n} lacks the header row"
    found = set(re.findall(r"LT-\d{3}", "".join(texts)))
    assert found == {f"LT-{n:03d}" for n in range(1, 61)}
