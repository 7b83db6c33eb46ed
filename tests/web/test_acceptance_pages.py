"""The acceptance pages (验收): the record, its card on the contract page, the publishable and public result.

Messages are asserted as the page renders them (``shown(msgid)``: the app's language, HTML-escaped).
"""

import io
import re
from datetime import date

import pytest
from flask_babel import gettext
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import select

from procurement.acceptance.models import Acceptance, AcceptanceState, Conclusion, StandardResult
from procurement.audit.models import AuditRecord
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.rules.identifiers import mask_citizen_id
from tests.factories import login_as, make_supplier, make_user
from tests.services.test_acceptance import ACCEPTED_ON, ANNA, JUNE, NAMES, acceptance_world


def text(response) -> str:
    return response.get_data(as_text=True)


def shown(msgid: str, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


def field_errors(page: str, field_id: str) -> list[str]:
    """The error messages rendered after one field (up to the next label, table cell end or form end)."""
    start = page.find(f'id="{field_id}"')
    if start < 0:
        return []
    ends = [i for i in (page.find("<label", start), page.find("</form>", start), page.find("</td>", start)) if i >= 0]
    end = min(ends) if ends else len(page)
    return re.findall(r'invalid-feedback d-block"[^>]*>(.*?)</div>', page[start:end], re.S)


def top_problems(page: str) -> str:
    match = re.search(r'id="form-problems">(.*?)</div>', page, re.S)
    return match.group(1) if match else ""


@pytest.fixture
def world():
    w = acceptance_world()
    db.session.commit()
    return w


def open_record(client, w) -> Acceptance:
    response = client.post(f"/acceptance/open/{w.contract.id}", data={"accepted_on": ACCEPTED_ON.isoformat()})
    assert response.status_code == 302
    record = db.session.execute(select(Acceptance)).scalar_one()
    assert response.headers["Location"].endswith(f"/acceptance/{record.id}")
    return record


def form_data(record: Acceptance, **overrides) -> dict:
    db.session.refresh(record)
    data = {"version": str(record.version), "accepted_on": ACCEPTED_ON.isoformat(),
            "team": "组长：张明（县民政局）\n成员：刘芳（县财政局）", "method": "现场查验、电话回访",
            "surveyed": "10", "satisfied": "7", "basically_satisfied": "2", "dissatisfied": "1",
            "opinion_summary": "服务对象普遍认可上门助餐服务。", "conclusion": Conclusion.PASSED.value,
            "explanation": ""}
    for row in record.results:
        data[f"result_{row.id}"] = StandardResult.MET.value
        data[f"note_{row.id}"] = "达标"
    return {**data, **overrides}


def version(record) -> str:
    db.session.refresh(record)
    return str(record.version)


def concluded(client, w) -> Acceptance:
    login_as(client, w.officer)
    record = open_record(client, w)
    assert client.post(f"/acceptance/{record.id}/edit", data=form_data(record)).status_code == 302
    assert client.post(f"/acceptance/{record.id}/conclude", data={"version": version(record)}).status_code == 302
    return record


def personal_data() -> list[str]:
    values = list(NAMES.values())
    for number in NAMES:
        values += [number, mask_citizen_id(number), number[:6] + "*" * 8]
    return values


def test_the_whole_cycle_from_the_contract_page(client, world):
    login_as(client, world.officer)
    page = text(client.get(f"/contracts/{world.contract.id}"))
    assert 'id="acceptance"' in page and 'id="open-acceptance"' in page
    record = open_record(client, world)
    page = text(client.get(f"/acceptance/{record.id}"))
    assert 'id="acceptance-form"' in page and str(escape(world.item.standard)) in page
    assert 'data-delivered="5"' in page  # from the accepted May report

    response = client.post(f"/acceptance/{record.id}/edit", data=form_data(record))
    assert response.status_code == 302
    db.session.refresh(record)
    assert record.surveyed == 10 and record.results[0].result == StandardResult.MET
    response = client.post(f"/acceptance/{record.id}/conclude", data={"version": version(record)})
    assert response.status_code == 302
    db.session.refresh(record)
    assert record.state == AcceptanceState.CONCLUDED and record.concluded_by_id == world.officer.id
    response = client.post(f"/acceptance/{record.id}/publish",
                           data={"version": version(record), "published_on": "2026-07-20"})
    assert response.status_code == 302
    db.session.refresh(record)
    assert record.state == AcceptanceState.PUBLISHED and record.published_on == date(2026, 7, 20)
    page = text(client.get(f"/contracts/{world.contract.id}"))
    assert 'id="acceptance-link"' in page and 'data-conclusion="passed"' in page
    actions = set(db.session.execute(select(AuditRecord.action).where(AuditRecord.action.like("acceptance.%"))).scalars())
    assert actions == {"acceptance.create", "acceptance.update", "acceptance.conclude", "acceptance.publish"}


def test_refusals_appear_next_to_their_fields(client, world):
    login_as(client, world.officer)
    record = open_record(client, world)
    response = client.post(f"/acceptance/{record.id}/edit", data=form_data(
        record, surveyed="11", opinion_summary=f"{NAMES[ANNA]}（{ANNA}）很满意", conclusion="nonsense"))
    assert response.status_code == 400
    page = text(response)
    assert field_errors(page, "surveyed") == [shown(
        "The opinions do not add up: %(answered)s satisfied, basically satisfied and dissatisfied, "
        "but %(surveyed)s surveyed.", answered=10, surveyed=11)]
    assert field_errors(page, "opinion_summary") == [shown(
        "The summary seems to contain a citizen ID number. The published result must hold no personal "
        "data: remove names and ID numbers.")]
    assert field_errors(page, "conclusion") == [shown("Choose a conclusion from the list.")]
    db.session.refresh(record)
    assert record.surveyed == 0 and record.opinion_summary is None


def test_concluding_without_results_shows_the_missing_rows(client, world):
    login_as(client, world.officer)
    record = open_record(client, world)
    row_id = record.results[0].id
    data = form_data(record, conclusion="")
    data[f"result_{row_id}"] = ""
    assert client.post(f"/acceptance/{record.id}/edit", data=data).status_code == 302
    response = client.post(f"/acceptance/{record.id}/conclude", data={"version": version(record)})
    assert response.status_code == 400
    page = text(response)
    assert field_errors(page, f"result_{row_id}") == [shown("Give the result for this service standard.")]
    assert field_errors(page, "conclusion") == [shown("Choose the conclusion of the acceptance.")]
    db.session.refresh(record)
    assert record.state == AcceptanceState.DRAFT


def test_concluding_waits_for_a_report_under_review(client, world):
    world.report(start=JUNE, rows=((ANNA, date(2026, 6, 3), "1"),), accept=False)
    db.session.commit()
    login_as(client, world.officer)
    record = open_record(client, world)
    assert client.post(f"/acceptance/{record.id}/edit", data=form_data(record)).status_code == 302
    assert 'id="reports-waiting"' in text(client.get(f"/acceptance/{record.id}"))
    response = client.post(f"/acceptance/{record.id}/conclude", data={"version": version(record)})
    assert response.status_code == 400
    assert shown("%(n)s service report(s) of this contract await review: accept or return them before concluding "
                 "the acceptance.", n=1) in top_problems(text(response))


def test_a_concluded_record_is_locked(client, world):
    record = concluded(client, world)
    page = text(client.get(f"/acceptance/{record.id}"))
    assert 'id="acceptance-form"' not in page and 'id="publish-button"' in page
    response = client.post(f"/acceptance/{record.id}/edit", data=form_data(record, surveyed="0", satisfied="0",
                                                                            basically_satisfied="0", dissatisfied="0"))
    assert response.status_code == 400
    assert shown("The acceptance has been concluded and can no longer be changed.") in text(response)
    db.session.refresh(record)
    assert record.surveyed == 10


def test_a_second_save_from_a_stale_page_is_a_conflict(client, world):
    login_as(client, world.officer)
    record = open_record(client, world)
    stale = form_data(record)
    assert client.post(f"/acceptance/{record.id}/edit", data=stale).status_code == 302
    response = client.post(f"/acceptance/{record.id}/edit", data={**stale, "surveyed": "0", "satisfied": "0",
                                                                  "basically_satisfied": "0", "dissatisfied": "0"})
    assert response.status_code == 409
    assert shown("Someone else changed this record; look at it again before you go on.") in text(response)
    db.session.refresh(record)
    assert record.surveyed == 10


def test_the_supplier_sees_its_own_and_nobody_elses(client, world):
    record = concluded(client, world)
    client.post("/auth/logout")
    login_as(client, world.writer)
    assert client.get(f"/acceptance/{record.id}").status_code == 200
    assert client.post(f"/acceptance/{record.id}/edit", data=form_data(record)).status_code == 403
    stranger = make_user(Role.SUPPLIER, organization=make_supplier())
    db.session.commit()
    login_as(client, stranger)
    for url in (f"/acceptance/{record.id}", f"/acceptance/{record.id}/result", f"/acceptance/{record.id}/result.pdf"):
        assert client.get(url).status_code == 404, url


def test_the_published_result_and_pdf_hold_the_conclusion_and_no_personal_data(client, world):
    record = concluded(client, world)
    assert client.get(f"/acceptance/public/{record.id}").status_code == 404  # not yet published
    assert client.get(f"/acceptance/public/{record.id}.pdf").status_code == 404
    assert client.post(f"/acceptance/{record.id}/publish",
                       data={"version": version(record), "published_on": "2026-07-20"}).status_code == 302
    client.post("/auth/logout")
    with client.session_transaction() as session:
        session.clear()
    page = text(client.get(f"/acceptance/public/{record.id}"))
    assert 'id="result-conclusion"' in page and 'data-conclusion="passed"' in page
    assert world.contract.number in page and world.contract.supplier.name in page
    for value in personal_data():
        assert value not in page
    response = client.get(f"/acceptance/public/{record.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    squeezed = re.sub(r"\s", "", pdf_text)
    assert str(Conclusion.PASSED.label) in squeezed and world.contract.number in squeezed
    for value in personal_data():
        assert value not in squeezed


def test_the_result_page_of_a_logged_in_viewer(client, world):
    record = concluded(client, world)
    page = text(client.get(f"/acceptance/{record.id}/result"))
    assert 'id="acceptance-result"' in page
    for value in personal_data():
        assert value not in page
    assert client.get(f"/acceptance/{record.id}/result.pdf").status_code == 200


HOSTILE = ["", " ", "-1", "1e9999", "九", "99999999999999999999", "<script>alert(1)</script>", "' OR 1=1 --",
           "\x00", "甲" * 5000, "2026-02-30", "../../etc/passwd"]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_never_gives_a_server_error(client, world, value):
    login_as(client, world.officer)
    record = open_record(client, world)
    for name in ("accepted_on", "team", "method", "surveyed", "satisfied", "basically_satisfied", "dissatisfied",
                 "opinion_summary", "conclusion", "explanation", f"result_{record.results[0].id}",
                 f"note_{record.results[0].id}", "version"):
        response = client.post(f"/acceptance/{record.id}/edit", data=form_data(record, **{name: value}))
        assert response.status_code in (302, 400, 409), (name, response.status_code)
        assert "<script>alert(1)</script>" not in text(response)
    for url, data in ((f"/acceptance/{record.id}/publish", {"published_on": value, "version": value}),
                      (f"/acceptance/{record.id}/conclude", {"version": value}),
                      (f"/acceptance/open/{world.contract.id}", {"accepted_on": value})):
        assert client.post(url, data=data).status_code in (302, 400, 409), url


@pytest.mark.parametrize("url", ["/acceptance/99999", "/acceptance/99999/result", "/acceptance/public/99999",
                                 "/acceptance/public/99999.pdf", "/acceptance/-1", "/acceptance/abc"])
def test_unknown_ids_are_not_found(client, world, url):
    login_as(client, world.officer)
    assert client.get(url).status_code == 404
