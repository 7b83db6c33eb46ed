"""Contract templates as the system administrator edits them: drafts, the report, the sandboxed preview, publishing."""

import json
import re

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from contracts.models import ContractTemplate, TemplateState, TemplateVersion
from procurement.audit.models import AuditRecord
from procurement.auth.roles import Role
from procurement.extensions import db
from tests.factories import login_as, make_user

PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def text(response) -> str:
    return response.get_data(as_text=True)


def msg(msgid, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


def field_errors(page: str, field_id: str) -> list[str]:
    """The messages rendered right after a textarea."""
    match = re.search(rf'<textarea[^>]*id="{field_id}"[^>]*>.*?</textarea>\s*'
                      r'((?:<div class="invalid-feedback d-block">.*?</div>\s*)*)', page, re.S)
    assert match, f"no textarea {field_id}"
    return re.findall(r'invalid-feedback d-block">(.*?)</div>', match.group(1), re.S)


def template(code="service-contract") -> ContractTemplate:
    db.session.expire_all()
    return db.session.execute(select(ContractTemplate).where(ContractTemplate.code == code)).scalar_one()


def version_of(code: str, number: int) -> TemplateVersion:
    return next(v for v in template(code).versions if v.number == number)


def fresh(version_id: int) -> TemplateVersion:
    db.session.expire_all()
    return db.session.get(TemplateVersion, version_id)


def form_of(version: TemplateVersion, **changes) -> dict:
    data = {"body": version.body, "stylesheet": version.stylesheet,
            "schema": json.dumps(version.schema, ensure_ascii=False, indent=1), "note": version.note or "",
            "version": str(version.version)}
    return {**data, **changes}


@pytest.fixture
def sysadmin(client):
    user = make_user(Role.SYSADMIN)
    login_as(client, user)
    return user


def start_draft(client, code="service-contract") -> TemplateVersion:
    response = client.post(f"/contracts/templates/{template(code).id}/draft")
    assert response.status_code == 302
    draft = next(v for v in template(code).versions if v.state == TemplateState.DRAFT)
    assert response.headers["Location"].endswith(f"/contracts/templates/versions/{draft.id}/edit")
    return draft


def test_the_list_shows_both_shipped_templates_with_their_published_version(client, sysadmin):
    page = text(client.get("/contracts/templates"))
    for code in ("service-contract", "supplementary-contract"):
        t = template(code)
        assert t.name in page and code in page and str(escape(t.kind.label)) in page
    assert msg("Published") in page and msg("Version %(n)s", n=1) in page
    assert msg("Start a new draft") in page


def test_draft_with_an_unknown_placeholder_is_marked_refused_then_fixed_and_published(client, sysadmin):
    v1 = version_of("service-contract", 1)
    draft = start_draft(client)
    assert draft.number == 2 and draft.body == v1.body and draft.schema == v1.schema
    assert draft.stylesheet == v1.stylesheet

    # a second "start" returns the same draft
    assert start_draft(client).id == draft.id
    assert len(template().versions) == 2

    body = v1.body + "\n<p>{{ unknown_thing }}</p>"
    response = client.post(f"/contracts/templates/versions/{draft.id}/edit", data=form_of(draft, body=body,
                                                                                        note="加一段"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/contracts/templates/versions/{draft.id}/edit")
    assert fresh(draft.id).body.endswith("{{ unknown_thing }}</p>") and fresh(draft.id).note == "加一段"

    page = text(client.get(f"/contracts/templates/versions/{draft.id}/edit"))
    assert '<code class="text-danger">unknown_thing</code>' in page
    assert msg("not declared in the schema") in page
    assert f'src="/contracts/templates/versions/{draft.id}/preview.html"' in page

    frame = client.get(f"/contracts/templates/versions/{draft.id}/preview.html")
    assert frame.status_code == 200 and frame.mimetype == "text/html"
    assert '<span class="placeholder-missing" title="unknown_thing">' in text(frame)
    assert "HT-SJ-2026-001" in text(frame)  # the samples are filled in

    response = client.post(f"/contracts/templates/versions/{draft.id}/publish",
                           data={"version": str(fresh(draft.id).version)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/contracts/templates/versions/{draft.id}/edit")
    page = text(client.get(response.headers["Location"]))
    assert msg("The body uses placeholders the schema does not declare: %(names)s.", names="unknown_thing") in page
    assert fresh(draft.id).state == TemplateState.DRAFT

    response = client.post(f"/contracts/templates/versions/{draft.id}/edit",
                           data=form_of(fresh(draft.id), body=v1.body.replace("</body>", "") + "<p>第二版</p>"))
    assert response.status_code == 302
    assert "unknown_thing" not in text(client.get(f"/contracts/templates/versions/{draft.id}/edit"))
    response = client.post(f"/contracts/templates/versions/{draft.id}/publish",
                           data={"version": str(fresh(draft.id).version)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/contracts/templates/versions/{draft.id}")
    assert fresh(draft.id).state == TemplateState.PUBLISHED and fresh(draft.id).published_at is not None
    assert version_of("service-contract", 1).state == TemplateState.RETIRED

    page = text(client.get("/contracts/templates"))
    assert msg("Superseded") in page and msg("Published") in page
    actions = db.session.execute(select(AuditRecord.action).where(AuditRecord.action.like("template.%"))
                              .order_by(AuditRecord.seq)).scalars().all()
    assert actions == ["template.draft", "template.save", "template.save", "template.publish"]


def test_a_published_version_cannot_be_edited(client, sysadmin):
    v1 = version_of("service-contract", 1)
    response = client.get(f"/contracts/templates/versions/{v1.id}/edit")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/contracts/templates/versions/{v1.id}")

    before = v1.body
    response = client.post(f"/contracts/templates/versions/{v1.id}/edit", data=form_of(v1, body="<p>改掉</p>"))
    assert response.status_code == 400
    assert msg("A published version is read-only; start a new draft to change it.") in text(response)
    assert fresh(v1.id).body == before

    view = text(client.get(f"/contracts/templates/versions/{v1.id}"))
    assert "<pre" in view and "contract_number" in view and "HT-SJ-2026-001" in view  # the schema with its samples
    assert f"/contracts/templates/versions/{v1.id}/publish" not in view


def test_publishing_twice_is_refused(client, sysadmin):
    v1 = version_of("service-contract", 1)
    response = client.post(f"/contracts/templates/versions/{v1.id}/publish", data={"version": str(v1.version)})
    assert response.status_code == 302
    assert msg("Only a draft can be published.") in text(client.get(response.headers["Location"]))


def test_a_syntax_error_shows_next_to_the_body(client, sysadmin):
    draft = start_draft(client)
    before = draft.body
    response = client.post(f"/contracts/templates/versions/{draft.id}/edit",
                           data=form_of(draft, body="<p>{% if %}</p>"))
    assert response.status_code == 400
    errors = field_errors(text(response), "body")
    assert len(errors) == 1 and errors[0].startswith(msg("Line %(line)s: %(message)s", line=1, message=""))
    assert field_errors(text(response), "schema") == []
    assert "{% if %}" in text(response)  # the user's text stays in the form
    assert fresh(draft.id).body == before


@pytest.mark.parametrize("schema, expected", [
    ("[{", lambda: msg("The schema is not valid JSON (line %(line)s, column %(col)s).", line=1, col=3)),
    ('{"name": "x"}', lambda: msg("The placeholder schema is a list of placeholders.")),
    ('[{"name": "a b", "type": "text"}]',
     lambda: msg("Placeholder %(n)s needs a name made of letters, digits and underscores.", n=1)),
    ('[{"name": "x", "type": "colour"}]',
     lambda: msg("Placeholder %(name)s needs a type: text, paragraph, date, money, number or list.", name="x")),
])
def test_a_malformed_schema_shows_next_to_the_schema(client, sysadmin, schema, expected):
    draft = start_draft(client)
    response = client.post(f"/contracts/templates/versions/{draft.id}/edit", data=form_of(draft, schema=schema))
    assert response.status_code == 400
    assert field_errors(text(response), "schema") == [expected()]
    assert fresh(draft.id).schema == draft.schema


def test_an_empty_body_is_refused_by_the_form(client, sysadmin):
    draft = start_draft(client)
    response = client.post(f"/contracts/templates/versions/{draft.id}/edit", data=form_of(draft, body=""))
    assert response.status_code == 400
    assert field_errors(text(response), "body") == [msg("The template body cannot be empty.")]


def test_a_stale_save_is_a_conflict(client, sysadmin):
    draft = start_draft(client)
    stale = form_of(draft, body="<p>{{ contract_number }}</p>")
    assert client.post(f"/contracts/templates/versions/{draft.id}/edit",
                       data=form_of(draft, body="<p>先保存的</p>")).status_code == 302
    response = client.post(f"/contracts/templates/versions/{draft.id}/edit", data=stale)
    assert response.status_code == 409
    assert msg("Someone else changed this record; look at it again before you go on.") in text(response)
    assert fresh(draft.id).body == "<p>先保存的</p>"
    # the form now carries the current version: saving again goes through
    current = re.search(r'name="version" type="hidden" value="(\d+)"', text(response))
    assert current and int(current.group(1)) == fresh(draft.id).version


SANDBOX_ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ ('{0.__class__}').format(1) }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
]


@pytest.mark.parametrize("attempt", SANDBOX_ESCAPES)
def test_sandbox_escapes_do_not_leak_and_are_never_a_server_error(client, sysadmin, attempt):
    draft = start_draft(client)
    body = f"<p>before</p><p>{attempt}</p>"
    response = client.post(f"/contracts/templates/versions/{draft.id}/edit", data=form_of(draft, body=body))
    assert response.status_code in (302, 400)
    if response.status_code == 400:  # refused as unreadable: next to the body
        assert field_errors(text(response), "body")
        return
    for url in (f"/contracts/templates/versions/{draft.id}/edit", f"/contracts/templates/versions/{draft.id}",
                f"/contracts/templates/versions/{draft.id}/preview.html"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = text(response)
        assert "<class" not in page and "&lt;class" not in page and "&#39;__builtins__&#39;" not in page
        assert "_frozen_importlib" not in page and "subprocess" not in page
    frame = text(client.get(f"/contracts/templates/versions/{draft.id}/preview.html"))
    assert "placeholder-missing" in frame or msg("The preview could not be made") in frame
    response = client.post(f"/contracts/templates/versions/{draft.id}/publish",
                           data={"version": str(fresh(draft.id).version)})
    assert response.status_code == 302
    assert fresh(draft.id).state == TemplateState.DRAFT
    assert msg("Not published: %(message)s", message="") in text(client.get(response.headers["Location"]))


def test_the_preview_frame_is_sandboxed(client, sysadmin):
    v1 = version_of("service-contract", 1)
    response = client.get(f"/contracts/templates/versions/{v1.id}/preview.html")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == PREVIEW_CSP
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert '<html lang="zh-CN">' in text(response) and "<style>" in text(response)
    page = text(client.get(f"/contracts/templates/versions/{v1.id}"))
    assert re.search(r"<iframe[^>]* sandbox[ >]", page)


def test_a_preview_error_page_is_escaped_and_sandboxed(client, sysadmin):
    draft = start_draft(client)
    body = "<p>{{ contract_number.__class__.__mro__[1].__subclasses__() }}</p><script>alert(1)</script>"
    assert client.post(f"/contracts/templates/versions/{draft.id}/edit",
                       data=form_of(draft, body=body)).status_code == 302
    frame = client.get(f"/contracts/templates/versions/{draft.id}/preview.html")
    assert frame.status_code == 200 and frame.headers["Content-Security-Policy"] == PREVIEW_CSP
    assert msg("The preview could not be made") in text(frame)
    assert "<script>" not in text(frame)


def test_an_unknown_version_is_404(client, sysadmin):
    for url in ("/contracts/templates/versions/999999", "/contracts/templates/versions/999999/edit",
                "/contracts/templates/versions/999999/preview.html"):
        assert client.get(url).status_code == 404
    assert client.post("/contracts/templates/999999/draft").status_code == 404
    assert client.post("/contracts/templates/versions/99999999999/publish").status_code == 404


@pytest.mark.parametrize("role", [Role.OFFICER, Role.SUPPLIER, Role.FINANCE, Role.SECADMIN, Role.AUDITADMIN])
def test_only_the_system_administrator_may_use_the_template_pages(client, role):
    login_as(client, make_user(role))
    t = template()
    v1 = t.versions[0]
    for url in ("/contracts/templates", f"/contracts/templates/versions/{v1.id}",
                f"/contracts/templates/versions/{v1.id}/edit", f"/contracts/templates/versions/{v1.id}/preview.html"):
        assert client.get(url).status_code == 403, url
    for url in (f"/contracts/templates/{t.id}/draft", f"/contracts/templates/versions/{v1.id}/edit",
                f"/contracts/templates/versions/{v1.id}/publish"):
        assert client.post(url, data=form_of(v1, body="<p>x</p>")).status_code == 403, url
    assert len(template().versions) == 1 and fresh(v1.id).state == TemplateState.PUBLISHED


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get("/contracts/templates")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
