"""The system administrator's account pages."""

import re

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from procurement.admin.services import account_fingerprint
from procurement.audit.models import AuditRecord
from procurement.auth.models import User
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from tests.factories import PASSWORD, login_as, make_org, make_supplier, make_user

NEW_PASSWORD = "Blue-Kettle-73"


def text(response) -> str:
    return response.get_data(as_text=True)


def msg(msgid, **variables) -> str:
    """The message as it appears in the HTML page."""
    return str(escape(gettext(msgid, **variables)))


def audit_actions(user):
    db.session.commit()  # end this context's transaction: see what the requests committed
    return [r.action for r in db.session.execute(
        select(AuditRecord).where(AuditRecord.object_type == "user", AuditRecord.object_id == str(user.id))
        .order_by(AuditRecord.seq)).scalars()]


@pytest.fixture
def sysadmin(app):
    return make_user(Role.SYSADMIN)


@pytest.fixture
def admin_client(app, client, sysadmin):
    login_as(client, sysadmin)
    return client


ADMIN_PAGES = [
    ("/admin/users", Role.SYSADMIN),
    ("/admin/users/new", Role.SYSADMIN),
    ("/admin/settings/system", Role.SYSADMIN),
    ("/admin/roles", Role.SECADMIN),
    ("/admin/settings/security", Role.SECADMIN),
]


@pytest.mark.parametrize(("url", "owner"), ADMIN_PAGES)
@pytest.mark.parametrize("role", list(Role))
def test_each_administrator_reaches_only_his_own_pages(app, client, url, owner, role):
    login_as(client, make_user(role))
    assert client.get(url).status_code == (200 if role == owner else 403)


def test_object_pages_are_forbidden_to_the_other_administrators(app, client):
    target = make_user(Role.OFFICER)
    login_as(client, make_user(Role.SECADMIN))
    assert client.get(f"/admin/users/{target.id}/edit").status_code == 403
    assert client.post(f"/admin/users/{target.id}/active", data={"active": "0"}).status_code == 403
    assert client.post(f"/admin/users/{target.id}/password", data={"password": NEW_PASSWORD,
                                                                   "confirm": NEW_PASSWORD}).status_code == 403
    db.session.refresh(target)
    assert target.active
    assert audit_actions(target) == []


def test_anonymous_is_sent_to_the_login_page(client, app):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_list_searches_and_filters(admin_client):
    supplier_org = make_supplier()
    make_user(Role.SUPPLIER, organization=supplier_org, username="wang.fang", display_name="王芳")
    make_user(Role.OFFICER, username="zhao.lei", display_name="赵磊", active=False)
    make_user(None, username="new.person", display_name="新人")
    db.session.commit()
    page = text(admin_client.get("/admin/users?q=王"))
    assert "wang.fang" in page and "zhao.lei" not in page
    page = text(admin_client.get(f"/admin/users?organization={supplier_org.id}"))
    assert "wang.fang" in page and "new.person" not in page
    page = text(admin_client.get("/admin/users?status=disabled"))
    assert "zhao.lei" in page and "wang.fang" not in page
    page = text(admin_client.get("/admin/users?role=none"))
    assert "new.person" in page and "zhao.lei" not in page


def test_list_paginates(app, admin_client):
    app.config["PAGE_SIZE"] = 2
    for n in range(5):
        make_user(Role.OFFICER, username=f"page.user{n}")
    db.session.commit()
    first = text(admin_client.get("/admin/users?q=page.user"))
    third = text(admin_client.get("/admin/users?q=page.user&page=3"))
    assert "page.user0" in first and "page.user4" not in first
    assert "page.user4" in third and "page.user0" not in third


@pytest.mark.parametrize("query", ["page=abc", "page=-3", "page=99999999999", "organization=x", "organization=-1",
                                   "role=god", "status=%00", "locked=yes", "q=%25_%5C", "q=" + "x" * 500])
def test_odd_query_arguments_never_fail(admin_client, query):
    assert admin_client.get("/admin/users?" + query).status_code == 200


def test_create_account_without_role(admin_client):
    org = make_org(OrgKind.FINANCE)
    db.session.commit()
    response = admin_client.post("/admin/users/new", data={
        "username": "chen.jing", "display_name": "陈静", "organization": str(org.id), "phone": "0871-66001234",
        "email": "chen@example.cn", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    user = db.session.execute(select(User).where(User.username == "chen.jing")).scalar_one()
    assert user.role is None and user.must_change_password and user.organization_id == org.id
    assert audit_actions(user) == ["user.create"]
    page = text(admin_client.get(response.headers["Location"]))
    assert msg("The account %(name)s has been created. It has no role yet: the security administrator assigns one "
               "before it can be used.", name="chen.jing") in page


def test_create_page_explains_the_separation_of_duties(admin_client):
    page = text(admin_client.get("/admin/users/new"))
    assert msg("The new account has no role: under the separation of administrator duties (三员分立) the security "
               "administrator assigns it. Until then the person cannot log in. The initial password must be changed "
               "at the first login.") in page
    assert 'name="role"' not in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"username": "a b"}, "username", "A user name has 3 to 32 characters: letters, digits, “.”, “_” or “-”."),
    ({"username": "Taken.Name"}, "username", None),
    ({"password": "password", "confirm": "password"}, "password", None),
    ({"confirm": "Other-Kettle-99"}, "confirm", "The two passwords differ."),
    ({"organization": "999999"}, "organization", None),
    ({"organization": "abc"}, "organization", None),
    ({"email": "not-an-address"}, "email", "Enter an email address like name@example.cn."),
])
def test_create_account_refusals_show_next_to_the_field(admin_client, data, field, message):
    make_user(Role.OFFICER, username="taken.name")
    org = make_org(OrgKind.BUREAU)
    db.session.commit()
    form = {"username": "new.user", "display_name": "新用户", "organization": str(org.id), "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD, **data}
    response = admin_client.post("/admin/users/new", data=form)
    assert response.status_code == 400
    page = text(response)
    assert f'id="{field}"' in page and "is-invalid" in page
    if message:
        assert msg(message) in page
    assert db.session.execute(select(User).where(User.username == "new.user")).scalar_one_or_none() is None


def test_taken_user_name_message(admin_client):
    make_user(Role.OFFICER, username="taken.name")
    org = make_org(OrgKind.BUREAU)
    db.session.commit()
    response = admin_client.post("/admin/users/new", data={
        "username": "TAKEN.name", "display_name": "新用户", "organization": str(org.id), "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})
    assert msg("The user name “%(name)s” is already taken.", name="TAKEN.name") in text(response)


def test_edit_account_and_conflict_on_a_stale_save(admin_client):
    user = make_user(Role.OFFICER, display_name="原名")
    db.session.commit()
    page = text(admin_client.get(f"/admin/users/{user.id}/edit"))
    assert "原名" in page
    version = str(user.version)
    loaded = account_fingerprint(user)
    form = {"display_name": "第一次", "organization": str(user.organization_id), "phone": "", "email": "",
            "version": version, "fingerprint": loaded}
    assert admin_client.post(f"/admin/users/{user.id}/edit", data=form).status_code == 302
    # A second save from a page loaded before the first one: conflict, nothing overwritten.
    response = admin_client.post(f"/admin/users/{user.id}/edit", data={**form, "display_name": "第二次"})
    assert response.status_code == 409
    page = text(response)
    assert msg("Someone else changed this account while you were editing it.") in page
    assert "第一次" in page and "第二次" in page
    db.session.commit()
    assert db.session.get(User, user.id).display_name == "第一次"
    assert audit_actions(user) == ["user.update"]


def test_disabled_users_session_stops_on_the_next_request(app, admin_client):
    user = make_user(Role.SUPPLIER)
    user_client = app.test_client()
    login_as(user_client, user)
    assert user_client.get("/").status_code == 200
    response = admin_client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    assert response.status_code == 302
    response = user_client.get("/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    db.session.commit()
    assert not db.session.get(User, user.id).active
    assert "user.disable" in audit_actions(user)
    # Enabling does not bring the ended session back.
    admin_client.post(f"/admin/users/{user.id}/active", data={"active": "1"})
    assert user_client.get("/").status_code == 302
    assert audit_actions(user)[-1] == "user.enable"


def test_system_administrator_cannot_disable_himself(admin_client, sysadmin):
    make_user(Role.SYSADMIN)
    db.session.commit()
    response = admin_client.post(f"/admin/users/{sysadmin.id}/active", data={"active": "0"}, follow_redirects=True)
    assert msg("You cannot disable your own account.") in text(response)
    db.session.commit()
    assert db.session.get(User, sysadmin.id).active
    assert admin_client.get("/admin/users").status_code == 200


def test_reset_password_forces_a_change_at_next_login(app, admin_client):
    user = make_user(Role.SUPPLIER, username="supplier.staff")
    old_client = app.test_client()
    login_as(old_client, user)
    response = admin_client.post(f"/admin/users/{user.id}/password", data={"password": NEW_PASSWORD,
                                                                           "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert "user.password_reset" in audit_actions(user)
    # The old session has ended …
    assert old_client.get("/").status_code == 302
    # … the old password no longer works …
    fresh = app.test_client()
    page = text(fresh.post("/auth/login", data={"username": "supplier.staff", "password": PASSWORD}))
    assert msg("Wrong user name or password. %(n)s more failed attempts will lock the account.", n=4) in page
    # … and the new one lets the person in only to change it.
    response = fresh.post("/auth/login", data={"username": "supplier.staff", "password": NEW_PASSWORD})
    assert response.status_code == 302
    response = fresh.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/password")
    assert fresh.get("/catalog/").status_code == 302


def test_reset_password_policy_message_next_to_the_field(admin_client):
    user = make_user(Role.SUPPLIER)
    db.session.commit()
    response = admin_client.post(f"/admin/users/{user.id}/password", data={"password": "abc", "confirm": "abc"})
    assert response.status_code == 400
    assert msg("Use at least %(n)s characters.", n=8) in text(response)
    assert "user.password_reset" not in audit_actions(user)


def test_own_password_is_not_reset_here(admin_client, sysadmin):
    response = admin_client.post(f"/admin/users/{sysadmin.id}/password", data={"password": NEW_PASSWORD,
                                                                               "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/password")
    assert "user.password_reset" not in audit_actions(sysadmin)


def test_unknown_account_is_404(admin_client):
    assert admin_client.get("/admin/users/999999/edit").status_code == 404
    assert admin_client.post("/admin/users/999999/active", data={"active": "0"}).status_code == 404


EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//""", re.I)
INLINE = re.compile(r"""<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=""", re.I)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_admin_pages_render_without_inline_script_or_style(app, lang):
    target = make_user(Role.OFFICER, failed_logins=2)
    sysadmin, secadmin = make_user(Role.SYSADMIN), make_user(Role.SECADMIN)
    pages = {sysadmin: ["/admin/users", "/admin/users/new", f"/admin/users/{target.id}/edit",
                        f"/admin/users/{target.id}/password", "/admin/settings/system"],
             secadmin: ["/admin/roles", f"/admin/roles/{target.id}", f"/admin/roles/{secadmin.id}",
                        "/admin/settings/security"]}
    for admin, urls in pages.items():
        client = app.test_client()
        login_as(client, admin)
        client.post(f"/language/{lang}")
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = text(response)
            assert not EXTERNAL.search(html), url
            assert not INLINE.search(html), (url, INLINE.search(html))
