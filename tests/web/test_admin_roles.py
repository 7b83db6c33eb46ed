"""The security administrator's pages: roles, unlocks, second factors, sessions."""

from datetime import timedelta

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from procurement import crypto
from procurement.audit.models import AuditRecord
from procurement.auth.models import User
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from procurement.rules.clock import utcnow
from tests.factories import login_as, make_org, make_supplier, make_user


def text(response) -> str:
    return response.get_data(as_text=True)


def msg(msgid, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


def audit_actions(user):
    db.session.commit()  # end this context's transaction: see what the requests committed
    return [r.action for r in db.session.execute(
        select(AuditRecord).where(AuditRecord.object_type == "user", AuditRecord.object_id == str(user.id))
        .order_by(AuditRecord.seq)).scalars()]


def reload(user) -> User:
    db.session.commit()
    return db.session.get(User, user.id)


@pytest.fixture
def secadmin(app):
    return make_user(Role.SECADMIN)


@pytest.fixture
def sec_client(client, secadmin):
    login_as(client, secadmin)
    return client


def test_list_shows_role_lock_second_factor_and_last_login(sec_client):
    now = utcnow()
    make_user(Role.FINANCE, username="locked.one", locked_until=now + timedelta(minutes=10), failed_logins=5,
              last_login_at=now - timedelta(days=1))
    make_user(None, username="waiting.one")
    db.session.commit()
    page = text(sec_client.get("/admin/roles"))
    assert "locked.one" in page and "waiting.one" in page
    assert msg("%(n)s active accounts wait for a role.", n=1) in page
    assert msg("Not set up yet (required at next login)") in page
    locked = text(sec_client.get("/admin/roles?locked=1"))
    assert "locked.one" in locked and "waiting.one" not in locked


def test_assign_a_role(app, sec_client):
    user = make_user(None, organization=make_org(OrgKind.FINANCE))
    user_client = app.test_client()
    login_as(user_client, user)
    response = sec_client.post(f"/admin/roles/{user.id}", data={"role": "finance"})
    assert response.status_code == 302
    assert reload(user).role == Role.FINANCE
    assert audit_actions(user) == ["user.role_assign"]
    assert user_client.get("/").status_code == 302  # logged out: new permissions from the next login


def test_own_role_cannot_be_changed(sec_client, secadmin):
    make_user(Role.SECADMIN)
    db.session.commit()
    response = sec_client.post(f"/admin/roles/{secadmin.id}", data={"role": "sysadmin"})
    assert response.status_code == 400
    assert msg("Nobody may change his own role; ask another security administrator.") in text(response)
    assert reload(secadmin).role == Role.SECADMIN
    assert audit_actions(secadmin) == []


@pytest.mark.parametrize(("kind", "role", "message"), [
    (OrgKind.SUPPLIER, "sysadmin", "An administrator role may not be given to a user of a supplier or an evaluation "
                                   "agency (三员分立: administrators belong to the bureau)."),
    (OrgKind.AGENCY, "auditadmin", "An administrator role may not be given to a user of a supplier or an evaluation "
                                   "agency (三员分立: administrators belong to the bureau)."),
    (OrgKind.SUPPLIER, "officer", "A user of a supplier organization may only have the supplier role."),
    (OrgKind.BUREAU, "finance", "The finance role is only for users of a finance bureau."),
    (OrgKind.FINANCE, "officer", "The procurement officer role is only for users of a civil-affairs bureau."),
    (OrgKind.BUREAU, "evaluator", "The evaluator role is only for users of an evaluation agency."),
])
def test_mismatched_organization_kind_is_refused_with_the_message(sec_client, kind, role, message):
    org = make_supplier() if kind == OrgKind.SUPPLIER else make_org(kind)
    user = make_user(None, organization=org)
    db.session.commit()
    response = sec_client.post(f"/admin/roles/{user.id}", data={"role": role})
    assert response.status_code == 400
    page = text(response)
    assert msg(message) in page
    assert "is-invalid" in page
    assert reload(user).role is None
    assert audit_actions(user) == []


def test_tampered_role_value_is_a_form_error(sec_client):
    user = make_user(None)
    db.session.commit()
    assert sec_client.post(f"/admin/roles/{user.id}", data={"role": "root"}).status_code == 400
    assert reload(user).role is None


def test_unlock(sec_client):
    user = make_user(Role.OFFICER, failed_logins=5, locked_until=utcnow() + timedelta(minutes=10))
    db.session.commit()
    page = text(sec_client.get(f"/admin/roles/{user.id}"))
    assert f"/admin/roles/{user.id}/unlock" in page
    response = sec_client.post(f"/admin/roles/{user.id}/unlock", follow_redirects=True)
    assert msg("The account %(name)s is unlocked.", name=user.username) in text(response)
    user = reload(user)
    assert user.failed_logins == 0 and user.locked_until is None
    assert audit_actions(user) == ["user.unlock"]


def test_second_factor_reset(app, sec_client):
    user = make_user(Role.OFFICER, totp_secret=crypto.encrypt("JBSWY3DPEHPK3PXP"), totp_enabled=True)
    user_client = app.test_client()
    login_as(user_client, user)
    assert sec_client.post(f"/admin/roles/{user.id}/second-factor-reset").status_code == 302
    user = reload(user)
    assert not user.totp_enabled and user.totp_secret is None
    assert audit_actions(user) == ["user.totp_reset"]
    assert user_client.get("/").status_code == 302


def test_end_all_sessions(app, sec_client):
    user = make_user(Role.SUPPLIER)
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        login_as(c, user)
    response = sec_client.post(f"/admin/roles/{user.id}/sessions-revoke", follow_redirects=True)
    assert msg("%(n)s sessions of %(name)s have ended.", n=2, name=user.username) in text(response)
    assert all(c.get("/").status_code == 302 for c in clients)
    assert audit_actions(user) == ["user.sessions_revoke"]


def test_own_account_actions_refused(sec_client, secadmin):
    page = text(sec_client.get(f"/admin/roles/{secadmin.id}"))
    assert msg("This is your own account. Nobody may change his own role, second factor or sessions here; "
               "ask another security administrator.") in page
    response = sec_client.post(f"/admin/roles/{secadmin.id}/sessions-revoke", follow_redirects=True)
    assert msg("You cannot do this to your own account; ask another security administrator.") in text(response)
    assert audit_actions(secadmin) == []


def test_system_administrator_cannot_reach_role_actions(app, client):
    user = make_user(None)
    login_as(client, make_user(Role.SYSADMIN))
    assert client.get(f"/admin/roles/{user.id}").status_code == 403
    assert client.post(f"/admin/roles/{user.id}", data={"role": "officer"}).status_code == 403
    for action in ("unlock", "second-factor-reset", "sessions-revoke"):
        assert client.post(f"/admin/roles/{user.id}/{action}").status_code == 403
    assert reload(user).role is None
    assert audit_actions(user) == []
