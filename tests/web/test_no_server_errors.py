"""No input from a user produces a 500: every form of every role gets hostile values."""

import io
import re
from html.parser import HTMLParser

import pytest

from procurement.auth.roles import Role
from tests.factories import login_as
from tests.web.test_access_matrix import MATRIX, _rules, _url, world  # noqa: F401 - fixture

GARBAGE_ROUNDS = [
    {"text": "9" * 400, "number": "9" * 400, "date": "99999-01-01", "select": "99999999999999999999", "hidden": "9" * 40},
    {"text": "=cmd|' /C calc'!A0 ' OR 1=1 -- <script>alert(1)</script>", "number": "-1e999999", "date": "2026-02-30",
     "select": "../../etc/passwd", "hidden": "abc"},
    {"text": "长" * 5000 + "\u202e\ud7ff", "number": "NaN", "date": "昨天", "select": "", "hidden": ""},
    {"text": "   ", "number": "1.5", "date": "0000-00-00", "select": "-1", "hidden": "-1"},
]


class FormFields(HTMLParser):
    """Names and kinds of the fields of the page's POST forms."""

    def __init__(self):
        super().__init__()
        self.fields, self.in_post_form = [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.in_post_form = (attrs.get("method") or "").lower() == "post"
        elif self.in_post_form and tag in ("input", "select", "textarea") and attrs.get("name"):
            kind = attrs.get("type", "text") if tag == "input" else tag
            self.fields.append((attrs["name"], kind))

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_post_form = False


def hostile_data(fields, garbage):
    data = {}
    for name, kind in fields:
        if name == "csrf_token":
            continue
        if kind in ("number",):
            data[name] = garbage["number"]
        elif kind == "date":
            data[name] = garbage["date"]
        elif kind in ("select", "checkbox", "radio"):
            data[name] = garbage["select"]
        elif kind == "hidden":
            data[name] = garbage["hidden"]
        elif kind == "file":
            data[name] = (io.BytesIO(b"PK\x03\x04" + b"\xff" * 64), "x.xlsx")
        elif kind in ("submit", "button"):
            continue
        else:
            data[name] = garbage["text"]
    return data


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_hostile_input_to_every_form_never_fails(app, client, world, role):  # noqa: F811
    users, ids, org_ids = world
    login_as(client, users[role])
    failures = []
    for rule in _rules(app):
        methods = MATRIX[rule.endpoint]
        if rule.endpoint == "auth.logout" or role not in methods.get("POST", ()) or role not in methods.get("GET", ()):
            continue
        url = _url(rule, ids, org_ids)
        page = client.get(url)
        if page.status_code != 200:
            continue
        parser = FormFields()
        parser.feed(page.get_data(as_text=True))
        for garbage in GARBAGE_ROUNDS:
            response = client.post(url, data=hostile_data(parser.fields, garbage), content_type="multipart/form-data")
            if response.status_code >= 500:
                failures.append(f"{role.value} POST {url} -> {response.status_code}")
            response.close()
            # a large multipart body is spooled by the test client to a temporary file nobody else closes
            response.request.environ["wsgi.input"].close()
    assert failures == []


@pytest.mark.parametrize("path", ["/catalog/items/99999999999999999999", "/orgs/suppliers/4294967296",
                                  "/audit/99999999999999", "/admin/users/2147483648/edit"])
def test_huge_ids_in_urls_are_not_found(client, world, path):  # noqa: F811
    users, _ids, _org_ids = world
    role = {"/audit": Role.AUDITADMIN, "/admin": Role.SYSADMIN}.get(path[:6], Role.OFFICER)
    login_as(client, users[role])
    assert client.get(path).status_code == 404


def test_nul_characters_are_dropped_before_anything_reads_them(client, world):  # noqa: F811
    users, ids, _org_ids = world
    login_as(client, users[Role.OFFICER])
    assert 'value="ab"' in client.get("/catalog/?q=a%00b").get_data(as_text=True)
    response = client.post(f"/catalog/items/{ids['item_id']}/edit", data={"name": "a\x00b"})
    assert response.status_code == 200 and 'value="ab"' in response.get_data(as_text=True)


def test_query_strings_of_every_list_page_never_fail(client, world):  # noqa: F811
    users, _ids, _org_ids = world
    hostile = "page=99999999999999999999&sort=%27&q=%25%5F&year=-1&category=abc&group=1e9&kind=x&region=%2F&on=2026-13-45" \
              "&start=abc&end=2026-02-30&outcome=x&user=%27&ip=*&type=x&id=x&role=x&status=x&org=abc&banned=2&expiring=x"
    for role, urls in {Role.OFFICER: ["/catalog/", "/catalog/lists", "/orgs/suppliers", "/orgs/regions", "/orgs/organizations"],
                       Role.SYSADMIN: ["/admin/users", "/orgs/organizations"], Role.SECADMIN: ["/admin/roles"],
                       Role.AUDITADMIN: ["/audit/", "/audit/export.csv", "/audit/export.xlsx"]}.items():
        login_as(client, users[role])
        for url in urls:
            response = client.get(f"{url}?{hostile}")
            assert response.status_code < 500, (role, url, response.status_code)
            response.close()


def test_the_fields_parser_finds_the_item_form(client, world):  # noqa: F811
    users, ids, _org_ids = world
    login_as(client, users[Role.OFFICER])
    parser = FormFields()
    parser.feed(client.get(f"/catalog/items/{ids['item_id']}/edit").get_data(as_text=True))
    names = {name for name, _kind in parser.fields}
    assert {"code", "name", "reference_price", "target_groups", "version"} <= names
    assert re.search("reference_price", str(parser.fields))
