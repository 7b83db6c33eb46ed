"""The public "verify a document" page: is this PDF, byte for byte, one the system issued?"""

import io
import random
import re

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from procurement.audit.models import AuditRecord
from procurement.audit.services import SYSTEM
from procurement.extensions import db

NUMBER = "HT-SJ-2026-042"
TITLE = "绥江县特困人员居家照护服务合同"
_rendered = {}


def text(response) -> str:
    return response.get_data(as_text=True)


def msg(msgid, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


def rendered():
    """One tiny PDF for the whole module (rendering is the slow part), with the contract data attached."""
    if "result" not in _rendered:
        from contracts.pdf import html_to_pdf
        from contracts.rendering import page_html

        result = html_to_pdf(page_html(f"<h1>{TITLE}</h1><p>合同编号：{NUMBER}</p>", TITLE), "h1 { font-size: 14pt; }",
                             {"contract_number": NUMBER, "contract_title": TITLE}, TITLE)
        assert not result.problems and not result.fell_back_to_fonttools
        _rendered["result"] = result
    return _rendered["result"]


@pytest.fixture
def issued():
    from contracts.services import issue_document

    result = rendered()
    document = issue_document("contract", NUMBER, TITLE, result, None, {"contract_number": NUMBER}, SYSTEM)
    db.session.commit()
    return document


def upload(client, data: bytes, name="contract.pdf"):
    # Encoded here: for a body over 500 KB the test client's own encoder leaves a temporary file open.
    boundary, body = encode_multipart({"document": FileStorage(io.BytesIO(data), name, content_type="application/pdf")})
    return client.post("/contracts/verify", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def field_errors(page: str) -> list[str]:
    match = re.search(r'<input[^>]*id="document"[^>]*>\s*((?:<div class="invalid-feedback d-block">.*?</div>\s*)*)',
                      page, re.S)
    assert match, "no file field"
    return re.findall(r'invalid-feedback d-block">(.*?)</div>', match.group(1), re.S)


def verifications():
    db.session.expire_all()
    return db.session.execute(select(AuditRecord).where(AuditRecord.action == "document.verify")
                              .order_by(AuditRecord.seq)).scalars().all()


def sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_anyone_can_open_the_page_and_the_login_page_links_to_it(client):
    response = client.get("/contracts/verify")
    assert response.status_code == 200
    page = text(response)
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page and 'accept=".pdf,application/pdf"' in page
    assert 'href="/contracts/verify"' in text(client.get("/auth/login"))


def test_an_issued_pdf_is_genuine(client, issued):
    data = rendered().pdf
    response = upload(client, data)
    assert response.status_code == 200
    page = text(response)
    assert msg("This is an issued document") in page
    assert NUMBER in page and TITLE in page and issued.sha256 in page
    assert msg("This document was not issued by this system, or it was changed after it was issued") not in page
    [record] = verifications()
    assert record.user_id is None and record.object_type == "issued_document" and record.object_id == str(issued.id)
    assert record.detail == {"sha256": issued.sha256, "genuine": True, "claimed": None}


def test_a_pdf_with_bytes_appended_still_claims_its_number_but_is_not_genuine(client, issued):
    changed = rendered().pdf + b"\n% changed after issuing\n"
    page = text(upload(client, changed))
    assert msg("This document was not issued by this system, or it was changed after it was issued") in page
    assert msg("It claims to be contract %(number)s, but its bytes differ from the issued one.", number=NUMBER) in page
    assert msg("This is an issued document") not in page
    assert sha256(changed) in page and issued.sha256 not in page
    [record] = verifications()
    assert record.object_id is None and record.detail == {"sha256": sha256(changed), "genuine": False, "claimed": NUMBER}


def test_a_pdf_with_one_byte_changed_is_not_genuine(client, issued):
    data = bytearray(rendered().pdf)
    data[len(data) // 2] ^= 0x01
    response = upload(client, bytes(data))
    assert response.status_code == 200
    assert msg("This document was not issued by this system, or it was changed after it was issued") in text(response)
    assert sha256(bytes(data)) in text(response)
    assert verifications()[0].detail["genuine"] is False


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",  # some other (broken) PDF
    b"\x89PNG\r\n\x1a\n" + bytes(200),  # a picture
    b"just some text, not a document",
    bytes(range(256)) * 40,
])
def test_anything_else_is_not_genuine_and_claims_nothing(client, issued, data):
    response = upload(client, data, "other.pdf")
    assert response.status_code == 200
    page = text(response)
    assert msg("This document was not issued by this system, or it was changed after it was issued") in page
    assert NUMBER not in page and sha256(data) in page
    assert verifications()[0].detail["claimed"] is None


def test_damaged_copies_of_an_issued_pdf_are_never_a_server_error(client, issued):
    base = rendered().pdf
    rng = random.Random(7)
    for attempt in range(40):
        data = bytearray(base)
        if attempt % 3 == 0:
            for _ in range(rng.randrange(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif attempt % 3 == 1:
            start = rng.randrange(len(data))
            del data[start:start + rng.randrange(1, 2000)]
        else:
            data = data[:rng.randrange(1, len(data))]
        response = upload(client, bytes(data))
        assert response.status_code == 200, attempt
    assert len(verifications()) == 40


def test_an_empty_upload_is_refused_next_to_the_field(client):
    response = upload(client, b"", "empty.pdf")
    assert response.status_code == 400
    assert field_errors(text(response)) == [msg("The file is empty.")]
    assert verifications() == []


def test_no_file_at_all_is_refused_next_to_the_field(client):
    response = client.post("/contracts/verify", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert field_errors(text(response)) == [msg("Choose the PDF file to check.")]


def test_a_file_over_the_upload_limit_is_refused(app, client):
    app.config["MAX_UPLOAD_BYTES"] = 1024 * 1024
    response = upload(client, b"%PDF-1.4\n" + bytes(1024 * 1024))
    assert response.status_code == 400
    assert field_errors(text(response)) == [msg("The file is larger than %(n)s MB.", n=1)]
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    response = upload(client, bytes(3 * 1024 * 1024))
    assert response.status_code == 413
    assert verifications() == []


def test_the_form_is_protected_against_cross_site_posts(app, client, issued):
    app.config["WTF_CSRF_ENABLED"] = True
    assert upload(client, rendered().pdf).status_code == 400
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text(client.get("/contracts/verify")))
    response = client.post("/contracts/verify", data={"csrf_token": token.group(1),
                                                     "document": (io.BytesIO(rendered().pdf), "c.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and msg("This is an issued document") in text(response)
