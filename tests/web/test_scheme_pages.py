"""Evaluation scheme pages: the list, a scheme's tree, cloning, the draft editor and publishing."""

import re

import pytest
from sqlalchemy import select

from evaluation import scheme_services as services
from evaluation.models import Scheme, SchemeState
from evaluation.scheme_forms import bands_text
from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor
from procurement.auth.roles import Role
from procurement.extensions import db
from tests.factories import login_as, make_user


@pytest.fixture
def admin(client):
    user = make_user(Role.SYSADMIN, region_code="530000")
    login_as(client, user)
    return user


def actor(user) -> Actor:
    return Actor(user, "127.0.0.1")


def default() -> Scheme:
    return db.session.execute(select(Scheme).where(Scheme.code == "default", Scheme.number == 1)).scalar_one()


def draft_of_default(user) -> Scheme:
    draft = services.clone_scheme(default(), actor(user))
    db.session.commit()
    return draft


def form_data(scheme: Scheme, **changes) -> dict:
    """The editor's form as the browser sends it for the stored tree; ``changes``: {"rows-3-name": "…"}."""
    data = {"name": scheme.name, "description": scheme.description or "", "version": str(scheme.version)}
    for index, i in enumerate(scheme.indicators):
        data.update({f"rows-{index}-code": i.code, f"rows-{index}-name": i.name,
                     f"rows-{index}-max_points": str(i.max_points), f"rows-{index}-rule": i.rule.value if i.rule else "",
                     f"rows-{index}-evidence": i.evidence or "", f"rows-{index}-bands": bands_text(i.bands)})
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def row_of(scheme: Scheme, code: str) -> int:
    return next(index for index, i in enumerate(scheme.indicators) if i.code == code)


def row_html(html: str, index: int) -> str:
    """The editor's row ``index`` and the problems row after it."""
    rows = re.findall(rf'<tr class="scheme-row[^"]*" data-row="{index}">.*?</tr>', html, re.S)
    return "\n".join(rows)


def test_the_list_and_the_tree_of_the_default_scheme(client, admin):
    page = client.get("/evaluation/schemes/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-scheme-id="{default().id}" data-state="published"' in html
    detail = client.get(f"/evaluation/schemes/{default().id}").get_data(as_text=True)
    assert 'data-code="3.2.1"' in detail and "合同服务量完成率" in detail and "12.00" in detail
    assert 'id="clone-form"' in detail


def test_an_officer_sees_published_schemes_but_neither_drafts_nor_edit_buttons(client):
    draft = draft_of_default(make_user(Role.SYSADMIN, region_code="530000"))
    login_as(client, make_user(Role.OFFICER))
    html = client.get("/evaluation/schemes/").get_data(as_text=True)
    assert f'data-scheme-id="{default().id}"' in html and f'data-scheme-id="{draft.id}"' not in html
    detail = client.get(f"/evaluation/schemes/{default().id}").get_data(as_text=True)
    assert 'id="clone-form"' not in detail
    assert client.get(f"/evaluation/schemes/{draft.id}").status_code == 404
    assert client.get("/evaluation/schemes/999999").status_code == 404


def test_the_nav_item_is_the_admins_only(client, admin):
    assert 'href="/evaluation/schemes/"' in client.get("/").get_data(as_text=True)
    login_as(client, make_user(Role.OFFICER))
    assert 'href="/evaluation/schemes/"' not in client.get("/").get_data(as_text=True)


def test_clone_opens_the_draft_editor_and_a_second_clone_continues_it(client, admin):
    response = client.post(f"/evaluation/schemes/{default().id}/clone", data={})
    assert response.status_code == 302
    draft = db.session.execute(select(Scheme).where(Scheme.state == SchemeState.DRAFT)).scalar_one()
    assert response.headers["Location"].endswith(f"/evaluation/schemes/{draft.id}/edit")
    assert draft.number == 2
    again = client.post(f"/evaluation/schemes/{default().id}/clone", data={})
    assert again.headers["Location"].endswith(f"/evaluation/schemes/{draft.id}/edit")
    editor = client.get(f"/evaluation/schemes/{draft.id}/edit").get_data(as_text=True)
    assert editor.count('class="scheme-row"') == len(draft.indicators) + 3  # and three empty rows to add


def test_clone_with_a_code_in_use_is_refused_with_a_message(client, admin):
    services.clone_scheme(default(), actor(admin), code="other")
    db.session.commit()
    response = client.post(f"/evaluation/schemes/{default().id}/clone", data={"code": "other"})
    assert response.status_code == 400
    assert "other" in response.get_data(as_text=True)
    response = client.post(f"/evaluation/schemes/{default().id}/clone", data={"code": "x" * 40})
    assert response.status_code == 400


def test_saving_edits_rows_adds_and_deletes(client, admin):
    draft = draft_of_default(admin)
    n = len(draft.indicators)
    last, first = row_of(draft, "4.3.2"), row_of(draft, "4.3.1")
    data = form_data(draft, **{f"rows-{last}-delete": "y", f"rows-{first}-max_points": "7", f"rows-{first}-name": "长效机制",
                               f"rows-{n}-code": "", f"rows-{n}-name": ""})
    response = client.post(f"/evaluation/schemes/{draft.id}/edit", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    stored = {i.code: i for i in db.session.get(Scheme, draft.id).indicators}
    assert "4.3.2" not in stored and stored["4.3.1"].name == "长效机制" and stored["4.3.1"].max_points == 7
    assert stored["4.3.1"].parent.code == "4.3"
    assert db.session.execute(select(AuditRecord).where(AuditRecord.action == "scheme.save")).first()


def test_a_new_row_finds_its_parent_from_its_code(client, admin):
    draft = draft_of_default(admin)
    n = len(draft.indicators)
    data = form_data(draft, **{f"rows-{row_of(draft, '4.3.2')}-max_points": "2", f"rows-{n}-code": "4.3.3",
                               f"rows-{n}-name": "宣传推广", f"rows-{n}-max_points": "1", f"rows-{n}-rule": "manual"})
    assert client.post(f"/evaluation/schemes/{draft.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    stored = {i.code: i for i in db.session.get(Scheme, draft.id).indicators}
    assert stored["4.3.3"].parent.code == "4.3" and stored["4.3.3"].level == 3
    assert [i.code for i in db.session.get(Scheme, draft.id).indicators][-3:] == ["4.3.1", "4.3.2", "4.3.3"]


@pytest.mark.parametrize("field, value", [
    ("max_points", "八"),
    ("max_points", "1e999999"),
    ("max_points", "NaN"),
    ("bands", "一百:全部"),
    ("code", "1..2"),
    ("code", "<script>"),
])
def test_bad_input_is_shown_next_to_its_field(client, admin, field, value):
    draft = draft_of_default(admin)
    index = row_of(draft, "1.1.1")
    response = client.post(f"/evaluation/schemes/{draft.id}/edit",
                           data=form_data(draft, **{f"rows-{index}-{field}": value}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    row = row_html(html, index)
    assert "invalid-feedback" in row and "is-invalid" in row
    assert "<script>" not in html.split("<main", 1)[-1] or "&lt;script&gt;" in html


@pytest.mark.parametrize("changes_for, code", [
    (lambda d: {f"rows-{row_of(d, '1.1.1')}-rule": ""}, "1.1.1"),  # a leaf without rule
    (lambda d: {f"rows-{row_of(d, '1.1')}-max_points": "6"}, "1.1"),  # parent ≠ sum of its children
    (lambda d: {f"rows-{row_of(d, '3.1.1')}-bands": "60:1, 80:1/2"}, "3.1.1"),  # bands going up
    (lambda d: {f"rows-{row_of(d, '1.1')}-rule": "manual"}, "1.1"),  # a rule on a parent
    (lambda d: {f"rows-{row_of(d, '1.1.1')}-max_points": "0"}, "1.1.1"),
    (lambda d: {f"rows-{row_of(d, '1.1.1')}-rule": "guessed"}, "1.1.1"),
])
def test_tree_problems_are_shown_on_their_row(client, admin, changes_for, code):
    draft = draft_of_default(admin)
    response = client.post(f"/evaluation/schemes/{draft.id}/edit", data=form_data(draft, **changes_for(draft)))
    if response.status_code == 302:  # stored as an incomplete draft: the editor shows what is left
        response = client.get(response.headers["Location"])
    html = response.get_data(as_text=True)
    problems = re.search(rf'<tr class="scheme-row-problems" data-row="{row_of(draft, code)}">.*?</tr>', html, re.S)
    assert problems and "row-problem" in problems.group(0)
    assert 'id="publish-form"' in html


def test_a_missing_parent_and_a_duplicate_code_are_shown_on_the_row(client, admin):
    draft = draft_of_default(admin)
    n = len(draft.indicators)
    data = form_data(draft, **{f"rows-{n}-code": "9.1", f"rows-{n}-name": "孤立", f"rows-{n}-max_points": "1",
                               f"rows-{n}-rule": "manual", f"rows-{n + 1}-code": "1.1.1", f"rows-{n + 1}-name": "重复",
                               f"rows-{n + 1}-max_points": "1", f"rows-{n + 1}-rule": "manual"})
    response = client.post(f"/evaluation/schemes/{draft.id}/edit", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "9" in row_html(html, n) and "invalid-feedback" in row_html(html, n)
    assert "invalid-feedback" in row_html(html, n + 1)
    assert "invalid-feedback" not in row_html(html, row_of(draft, "1.1.1"))


def test_leaves_not_adding_up_to_100_are_saved_but_cannot_be_published(client, admin):
    draft = draft_of_default(admin)
    index = row_of(draft, "4.3.2")
    parent = row_of(draft, "4.3")
    data = form_data(draft, **{f"rows-{index}-max_points": "2", f"rows-{parent}-max_points": "6"})
    assert client.post(f"/evaluation/schemes/{draft.id}/edit", data=data).status_code == 302
    editor = client.get(f"/evaluation/schemes/{draft.id}/edit").get_data(as_text=True)
    assert 'id="scheme-problems"' in editor and "99" in editor
    assert re.search(r'<form[^>]*id="publish-form"[^>]*>.*?disabled', editor, re.S)
    db.session.expire_all()
    response = client.post(f"/evaluation/schemes/{draft.id}/publish", data={})
    assert response.status_code == 302 and response.headers["Location"].endswith("/edit")
    db.session.expire_all()
    assert db.session.get(Scheme, draft.id).state == SchemeState.DRAFT
    assert default().state == SchemeState.PUBLISHED


def test_a_stale_save_shows_the_conflict_and_keeps_the_rows(client, admin):
    draft = draft_of_default(admin)
    stale = form_data(draft, **{f"rows-{row_of(draft, '1.1.1')}-name": "乙的名称"})
    assert client.post(f"/evaluation/schemes/{draft.id}/edit",
                       data=form_data(draft, name="甲的修改")).status_code == 302
    response = client.post(f"/evaluation/schemes/{draft.id}/edit", data=stale)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'id="scheme-conflict"' in html and "乙的名称" in html
    db.session.expire_all()
    assert db.session.get(Scheme, draft.id).name == "甲的修改"


def test_publish_supersedes_and_the_published_version_is_read_only(client, admin):
    draft = draft_of_default(admin)
    response = client.post(f"/evaluation/schemes/{draft.id}/publish", data={"version": str(draft.version)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Scheme, draft.id).state == SchemeState.PUBLISHED
    assert default().state == SchemeState.SUPERSEDED
    edit = client.get(f"/evaluation/schemes/{draft.id}/edit")
    assert edit.status_code == 302 and edit.headers["Location"].endswith(f"/evaluation/schemes/{draft.id}")
    published = db.session.get(Scheme, draft.id)
    before = [(i.code, i.name) for i in published.indicators]
    refused = client.post(f"/evaluation/schemes/{draft.id}/edit",
                          data=form_data(published, **{"rows-0-name": "改"}))
    assert refused.status_code == 400 and 'id="scheme-form"' not in refused.get_data(as_text=True)
    db.session.expire_all()
    assert [(i.code, i.name) for i in db.session.get(Scheme, draft.id).indicators] == before
    again = client.post(f"/evaluation/schemes/{draft.id}/publish", data={})
    assert again.status_code == 302


@pytest.mark.parametrize("data", [
    {"rows-999999999-code": "1", "rows-999999999-max_points": "100", "name": "x"},
    {"rows-abc-code": "1", "rows--1-name": "x", "version": "abc", "name": "x"},
    {"rows-0-code": "1", "rows-0-name": "一", "rows-0-max_points": "100", "rows-0-rule": "manual",
     "rows-0-bands": "100:1/0", "name": "x"},
    {"rows-0-code": "1", "rows-0-name": "一", "rows-0-max_points": "100", "rows-0-rule": "completion",
     "rows-0-bands": "100:5/3, 99999999999999999999:1", "name": "x"},
    {"rows-0-code": "1" * 40, "rows-0-name": "名" * 500, "rows-0-max_points": "-5", "name": "x" * 500},
    {"rows-0-code": "1.2.3.4.5", "rows-0-name": "一", "rows-0-max_points": "0.001", "name": ""},
    {"name": "x", "version": "99999999999999999999"},
    {"rows-0-code": "1", "rows-0-name": "一", "rows-0-max_points": "100", "rows-0-rule": "completion",
     "rows-0-bands": "100:1, 100:1/2", "rows-0-delete": "garbage", "name": "x"},
])
def test_hostile_input_never_gives_a_server_error(client, admin, data):
    draft = draft_of_default(admin)
    response = client.post(f"/evaluation/schemes/{draft.id}/edit", data=data)
    assert response.status_code in (302, 400, 409)
    for url in (f"/evaluation/schemes/{draft.id}/publish", f"/evaluation/schemes/{draft.id}/clone"):
        assert client.post(url, data=data).status_code in (302, 400)
