"""HTML to PDF with WeasyPrint: CJK fonts embedded, own assets only, archival PDF/A-3b.

Prepared once per process (fonts, the parsed print stylesheets), so a render pays only for layout
and writing. WeasyPrint reports missing assets and font trouble only in its log; :func:`html_to_pdf`
collects those messages so callers and tests can refuse a document made with errors.
"""

import functools
import gc
import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

#: The project's own assets a template may refer to (relative URLs resolve here); nothing else is fetched.
ASSETS = Path(__file__).resolve().parent / "default_templates"
FALLBACK_MESSAGE = "fontTools instead of HarfBuzz"
PDF_VARIANT = "pdf/a-3b"
CONTEXT_ATTACHMENT = "contract-data.json"

_lock = threading.Lock()
#: One document at a time per process: the shared font configuration is not meant for concurrent use.
_render_lock = threading.Lock()
_font_config = None
_css_cache: dict[str, object] = {}


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _weasyprint_fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AssetFetcher(URLFetcher):
        """Serves ``data:`` URLs and files inside :data:`ASSETS`; refuses the network and every other file."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("file:"):
                from urllib.request import url2pathname

                path = Path(url2pathname(url.split("?")[0].removeprefix("file:"))).resolve()
                if path.is_relative_to(ASSETS) and path.is_file():
                    return URLFetcherResponse(url, body=path.read_bytes(),
                                              headers={"Content-Type": _content_type(path)})
            raise ValueError(f"not one of the project's own assets: {url[:200]}")

    return AssetFetcher


def _content_type(path: Path) -> str:
    return {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg"}.get(
        path.suffix.lower(), "application/octet-stream")


_fetcher = None


def url_fetcher():
    global _fetcher
    if _fetcher is None:
        _fetcher = _weasyprint_fetcher_class()()
    return _fetcher


def font_config():
    global _font_config
    if _font_config is None:
        with _lock:
            if _font_config is None:
                from weasyprint.text.fonts import FontConfiguration

                _font_config = FontConfiguration()
    return _font_config


def stylesheet(css: str):
    """The parsed stylesheet, cached by its text (a template version's stylesheet never changes)."""
    key = hashlib.sha256(css.encode()).hexdigest()
    found = _css_cache.get(key)
    if found is None:
        from weasyprint import CSS

        found = CSS(string=css, font_config=font_config(), url_fetcher=url_fetcher(), base_url=ASSETS.as_uri() + "/")
        with _lock:
            if len(_css_cache) > 32:
                _css_cache.clear()
            _css_cache[key] = found
    return found


#: zlib level for the PDF's streams. pydyf compresses at level 9, which spends a third of the writing time
#: on CJK font subsets that hardly shrink further; level 1 is twice as fast for about 2 percent more bytes.
COMPRESSION_LEVEL = 1


def _fast_compression(document, pdf) -> None:
    """WeasyPrint's documented ``finisher`` hook: compress the streams at :data:`COMPRESSION_LEVEL`."""
    import pydyf

    for obj in pdf.objects:
        if type(obj) is pydyf.Stream and obj.compress:
            obj.__class__ = _level_stream_class()


@functools.cache
def _level_stream_class():
    import zlib

    import pydyf

    class LevelStream(pydyf.Stream):
        @property
        def data(self):
            stream = b"\n".join(pydyf._to_bytes(item) for item in self.stream)
            extra = pydyf.Dictionary(self.extra.copy())
            extra["Filter"] = "/FlateDecode"
            stream = zlib.compress(stream, COMPRESSION_LEVEL)
            extra["Length"] = len(stream)
            return b"\n".join((extra.data, b"stream", stream, b"endstream"))

    return LevelStream


@dataclass
class RenderResult:
    pdf: bytes
    sha256: str
    pages: int
    problems: list[str] = field(default_factory=list)  # WeasyPrint's warnings and errors while rendering
    fell_back_to_fonttools: bool = False


def html_to_pdf(html: str, css: str, context: dict | None = None, title: str = "") -> RenderResult:
    """Render ``html`` with the print stylesheet ``css`` to PDF/A-3b, attaching ``context`` as JSON."""
    capture = _Capture()
    logger = logging.getLogger("weasyprint")
    with _render_lock:
        logger.addHandler(capture)
        try:
            return _render(html, css, context, capture)
        finally:
            logger.removeHandler(capture)


def _render(html: str, css: str, context: dict | None, capture: _Capture) -> "RenderResult":
    from weasyprint import HTML, Attachment

    document = HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=url_fetcher()).render(
        stylesheets=[stylesheet(css)], font_config=font_config())
    attachments = []
    if context is not None:
        data = json.dumps(context, ensure_ascii=False, indent=1, sort_keys=True).encode()
        attachments.append(Attachment(string=data, name=CONTEXT_ATTACHMENT, relationship="Data",
                                      description="The data this document was rendered from"))
    pdf = document.write_pdf(pdf_variant=PDF_VARIANT, attachments=attachments, finisher=_fast_compression)
    messages = [r.getMessage() for r in capture.records]
    return RenderResult(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), pages=len(document.pages),
                        problems=messages, fell_back_to_fonttools=any(FALLBACK_MESSAGE in m for m in messages))


def layout_only(html: str, css: str):
    """Only the layout (``HTML.render``): the bench's yardstick for the cost of writing the PDF."""
    from weasyprint import HTML

    return HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=url_fetcher()).render(
        stylesheets=[stylesheet(css)], font_config=font_config())


def warm_up() -> None:
    """Load the fonts and parse the shipped stylesheet by rendering the shipped contract with its samples once,
    so the first real document does not pay for them."""
    from contracts.rendering import page_html, parse_schema, render_body, sample_context

    schema = parse_schema(json.loads((ASSETS / "service_contract.schema.json").read_text(encoding="utf-8")))
    body = (ASSETS / "service_contract.html").read_text(encoding="utf-8")
    context = sample_context(schema)
    html_to_pdf(page_html(render_body(body, context, schema), "warm-up"),
                (ASSETS / "print.css").read_text(encoding="utf-8"), context)
    # Start-up leaves a full garbage collection pending (every module, the app, the fonts): run it now rather
    # than in the middle of a user's first document, and keep what start-up built out of later collections.
    gc.collect()
    gc.freeze()


def embedded_context(pdf: bytes) -> dict | None:
    """The JSON data attached to a PDF this app issued, or ``None`` if there is none or it cannot be read."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(pdf))
        files = reader.attachments
        data = files.get(CONTEXT_ATTACHMENT)
        if not data:
            return None
        value = json.loads(data[0])
        return value if isinstance(value, dict) else None
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError):
        return None
