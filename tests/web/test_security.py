"""CSRF, security headers, no external requests, error pages."""

import re

import pytest
from flask_babel import gettext

from procurement.auth.roles import Role
from procurement.extensions import db
from tests.factories import login_as, make_user


@pytest.fixture
def csrf_on():
    return {"WTF_CSRF_ENABLED": True}


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and rule.endpoint != "static":
            yield rule


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_every_post_route_refuses_a_request_without_csrf_token(app, client, app_config):
    user = make_user(Role.OFFICER)
    login_as(client, user)
    rules = list(_post_rules(app))
    assert len(rules) > 5
    for rule in rules:
        url = rule.rule
        for argument in rule.arguments:
            url = re.sub(rf"<(?:\w+:)?{argument}>", "1", url)
        response = client.post(url, data={})
        assert response.status_code == 400, (rule.endpoint, response.status_code)
        assert gettext("The form has expired") in response.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_the_real_login_form_carries_its_token(client, app_config):
    user = make_user(Role.SUPPLIER)
    db.session.commit()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/auth/login", data={"username": user.username, "password": "Correct-Horse-42",
                                                "csrf_token": token})
    assert response.status_code == 302


def test_security_headers_on_every_page(client):
    response = client.get("/auth/login")
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_logged_in_pages_are_not_cached(client):
    login_as(client, make_user(Role.SUPPLIER))
    assert client.get("/").headers["Cache-Control"] == "no-store"


EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//""", re.I)
INLINE = re.compile(r"""<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=""", re.I)


@pytest.mark.parametrize("role", list(Role))
def test_pages_load_nothing_from_outside_and_have_no_inline_script_or_style(client, role):
    login_as(client, make_user(role))
    for url in ("/", "/catalog/", "/catalog/negative-list", "/auth/password"):
        response = client.get(url)
        if response.status_code != 200:
            continue
        html = response.get_data(as_text=True)
        assert not EXTERNAL.search(html), (url, EXTERNAL.search(html).group(0))
        assert not INLINE.search(html), (url, INLINE.search(html).group(0))


def test_bootstrap_is_served_by_the_app(client):
    html = client.get("/auth/login").get_data(as_text=True)
    css = re.search(r'href="(/bootstrap/static/[^"]+\.css)"', html).group(1)
    js = re.search(r'src="(/bootstrap/static/[^"]+\.js)"', html).group(1)
    for url in (css, js):
        with client.get(url) as response:
            assert response.status_code == 200


def test_not_found_and_forbidden_pages_are_friendly(client):
    login_as(client, make_user(Role.SUPPLIER))
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and gettext("Page not found") in missing.get_data(as_text=True)
    forbidden = client.get("/audit/")
    assert forbidden.status_code == 403 and gettext("Access denied") in forbidden.get_data(as_text=True)


def test_server_error_page_rolls_back_and_explains(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    assert response.status_code == 500
    assert gettext("Server error") in response.get_data(as_text=True)


def test_interface_is_chinese_by_default_and_english_on_request(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "登录" in page
    client.post("/language/en", data={"next": "/auth/login"})
    english = client.get("/auth/login").get_data(as_text=True)
    assert 'lang="en"' in english and "Log in" in english


def test_language_switch_never_redirects_offsite(client):
    response = client.post("/language/en", data={"next": "//evil.example.com/"})
    assert response.headers["Location"] == "/"
