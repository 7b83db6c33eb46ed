"""Logging in: the real form, second factor, lockout, throttling, sessions, forced password change."""

from datetime import timedelta

import pyotp
import pytest
from flask_babel import gettext
from sqlalchemy import select

from procurement import crypto
from procurement.audit.models import AuditRecord
from procurement.auth.models import User, UserSession
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.rules.clock import utcnow
from tests.factories import PASSWORD, login_as, make_user


def post_login(client, username, password=PASSWORD, ip="10.0.0.1"):
    return client.post("/auth/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def text(response):
    return response.get_data(as_text=True)


def audit_actions():
    return [(r.action, r.outcome, r.username, r.ip) for r in
            db.session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars()]


def test_supplier_logs_in_with_the_real_form_and_lands_on_home(client):
    user = make_user(Role.SUPPLIER)
    db.session.commit()
    response = post_login(client, user.username)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert user.display_name in text(home)
    assert ("auth.login", "success", user.username, "10.0.0.1") in audit_actions()


def test_officer_must_enrol_a_second_factor_with_a_qr_code_then_uses_it(client):
    user = make_user(Role.OFFICER)
    db.session.commit()
    response = post_login(client, user.username)
    assert response.headers["Location"] == "/auth/second-factor/enrol"
    page = client.get("/auth/second-factor/enrol")
    assert page.status_code == 200
    qr = client.get("/auth/second-factor/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    db.session.refresh(user)
    secret = crypto.decrypt(user.totp_secret)
    assert secret in text(page)  # shown for manual entry
    # a wrong code keeps the user out
    wrong = client.post("/auth/second-factor/enrol", data={"code": "000000"})
    assert gettext("The verification code is wrong or has expired.") in text(wrong)
    assert client.get("/").status_code == 302
    used = pyotp.TOTP(secret).now()
    done = client.post("/auth/second-factor/enrol", data={"code": used})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    db.session.refresh(user)
    assert user.totp_enabled
    assert "NOTSECRET" not in (user.totp_secret or "") and secret not in user.totp_secret  # encrypted at rest

    # Next login asks for the code; the same code cannot be replayed.
    client.post("/auth/logout")
    assert post_login(client, user.username).headers["Location"] == "/auth/second-factor"
    replay = client.post("/auth/second-factor", data={"code": used})  # the very code (a new 30-s step would differ)
    assert replay.status_code == 200
    assert gettext("The verification code is wrong or has expired.") in text(replay)


def test_second_factor_is_not_required_for_supplier_and_evaluator(client):
    for role in (Role.SUPPLIER, Role.EVALUATOR):
        user = make_user(role)
        db.session.commit()
        assert post_login(client, user.username).headers["Location"] == "/"
        client.post("/auth/logout")


def test_wrong_password_counts_down_then_locks_for_fifteen_minutes(client):
    user = make_user(Role.SUPPLIER)
    db.session.commit()
    for attempt in range(1, 5):
        response = post_login(client, user.username, "wrong-password")
        assert gettext("Wrong user name or password. %(n)s more failed attempts will lock the account.",
                       n=5 - attempt) in text(response)
    locked = post_login(client, user.username, "wrong-password")
    assert gettext("The account is locked after too many failed logins. Try again in %(n)s minutes, "
                   "or ask your security administrator to unlock it.", n=15) in text(locked)
    # Even the right password is refused while locked.
    still = post_login(client, user.username)
    assert still.status_code == 200 and client.get("/").status_code == 302
    # After the lock expires, the right password works and the counter starts again.
    db.session.refresh(user)
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert post_login(client, user.username).headers["Location"] == "/"
    db.session.refresh(user)
    assert user.failed_logins == 0


def test_one_address_is_throttled_after_many_failures_across_accounts(client):
    for n in range(20):
        post_login(client, f"nobody{n}", "x", ip="10.9.9.9")
    user = make_user(Role.SUPPLIER)
    db.session.commit()
    throttled = post_login(client, user.username, ip="10.9.9.9")
    assert throttled.status_code == 429
    assert gettext("Too many failed logins from your address. Please wait %(n)s minutes and try again.", n=15) in text(throttled)
    # Another address is not affected.
    assert post_login(client, user.username, ip="10.1.1.1").headers["Location"] == "/"


def test_second_factor_codes_are_not_tried_from_a_throttled_address(client):
    user = make_user(Role.OFFICER)
    db.session.commit()
    post_login(client, user.username)
    client.get("/auth/second-factor/enrol")  # the secret is made when the enrolment page is shown
    db.session.refresh(user)
    secret = crypto.decrypt(user.totp_secret)
    client.post("/auth/second-factor/enrol", data={"code": pyotp.TOTP(secret).now()}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    client.post("/auth/logout")
    assert post_login(client, user.username, ip="10.7.7.7").headers["Location"] == "/auth/second-factor"
    for n in range(20):  # meanwhile the same address guesses passwords of other accounts
        post_login(client, f"nobody{n}", "x", ip="10.7.7.7")
    refused = client.post("/auth/second-factor", data={"code": pyotp.TOTP(secret).now()},
                          environ_base={"REMOTE_ADDR": "10.7.7.7"})
    assert refused.status_code == 429
    assert gettext("Too many failed logins from your address. Please wait %(n)s minutes and try again.", n=15) in \
        text(refused)
    assert client.get("/").status_code == 302  # still not logged in


def test_unknown_user_gets_the_same_message_as_a_wrong_password(client):
    response = post_login(client, "no-such-user", "whatever")
    assert gettext("Wrong user name or password.") in text(response)
    assert ("auth.login", "failure", "no-such-user", "10.0.0.1") in audit_actions()


@pytest.mark.parametrize(
    ("overrides", "msgid"),
    [
        ({"active": False}, "This account has been disabled. Ask your system administrator."),
        ({"role": None}, "This account has no role yet. Ask your security administrator to assign one."),
        ({"is_demo": True}, "Demo accounts work only while demo mode is on."),
    ],
)
def test_accounts_that_may_not_log_in_are_told_why(client, overrides, msgid):
    user = make_user(**{"role": Role.SUPPLIER, **overrides})
    db.session.commit()
    response = post_login(client, user.username)
    assert gettext(msgid) in text(response)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("app_config", [{"DEMO_MODE": True}])
def test_demo_accounts_log_in_while_demo_mode_is_on(client, app_config):
    user = make_user(Role.SUPPLIER, is_demo=True)
    db.session.commit()
    assert post_login(client, user.username).headers["Location"] == "/"


def test_initial_password_must_be_changed_before_anything_else(client):
    user = make_user(Role.SUPPLIER, must_change_password=True)
    db.session.commit()
    post_login(client, user.username)
    for url in ("/", "/catalog/"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == "/auth/password"
    weak = client.post("/auth/password", data={"old_password": PASSWORD, "new_password": "password1",
                                               "confirm": "password1"})
    assert gettext("This password is on the list of commonly used passwords; choose another.") in text(weak)
    ok = client.post("/auth/password", data={"old_password": PASSWORD, "new_password": "Qiaojia#River77",
                                             "confirm": "Qiaojia#River77"})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200


def test_password_change_ends_other_sessions(app, client):
    user = make_user(Role.SUPPLIER)
    other = app.test_client()
    login_as(other, user)
    login_as(client, user)
    assert other.get("/").status_code == 200
    changed = client.post("/auth/password", data={"old_password": PASSWORD, "new_password": "Qiaojia#River77",
                                                  "confirm": "Qiaojia#River77"})
    assert changed.status_code == 302, changed.get_data(as_text=True)
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_logout_invalidates_the_session_on_the_server(app, client):
    user = make_user(Role.SUPPLIER)
    login_as(client, user)
    cookie = client.get_cookie("sap_session").value
    client.post("/auth/logout")
    thief = app.test_client()
    thief.set_cookie("sap_session", cookie)
    assert thief.get("/").status_code == 302
    assert ("auth.logout", "success", user.username, "127.0.0.1") in audit_actions()


@pytest.mark.parametrize(("field", "age"), [("last_seen_at", timedelta(minutes=16)), ("created_at", timedelta(hours=8, minutes=1))])
def test_idle_and_absolute_timeouts_end_the_session(client, field, age):
    user = make_user(Role.SUPPLIER)
    sess = login_as(client, user)
    setattr(sess, field, utcnow() - age)
    if field == "created_at":
        sess.last_seen_at = utcnow()
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    login_page = client.get(response.headers["Location"])
    expected = ("Your session ended after a period of inactivity. Please log in again." if field == "last_seen_at"
                else "Your session reached its maximum length. Please log in again.")
    assert gettext(expected) in text(login_page)
    db.session.refresh(sess)
    assert sess.revoked_at is not None


def test_session_within_the_idle_limit_stays(client):
    user = make_user(Role.SUPPLIER)
    sess = login_as(client, user)
    sess.last_seen_at = utcnow() - timedelta(minutes=14)
    db.session.commit()
    assert client.get("/").status_code == 200


def test_disabling_a_user_ends_the_open_session(client):
    user = make_user(Role.SUPPLIER)
    login_as(client, user)
    assert client.get("/").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_login_redirects_back_to_the_page_asked_for_but_never_offsite(client):
    user = make_user(Role.SUPPLIER)
    db.session.commit()
    client.get("/auth/login?next=/catalog/")
    assert post_login(client, user.username).headers["Location"] == "/catalog/"
    client.post("/auth/logout")
    client.get("/auth/login?next=//evil.example.com/")
    assert post_login(client, user.username).headers["Location"] == "/"


def test_session_cookie_is_http_only_and_same_site(client):
    user = make_user(Role.SUPPLIER)
    db.session.commit()
    response = post_login(client, user.username)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_user_loader_ignores_unknown_session_ids(client):
    with client.session_transaction() as cookie:
        cookie["_user_id"] = "forged-session-id"
    assert client.get("/").status_code == 302
    assert db.session.execute(select(UserSession)).first() is None
    assert db.session.execute(select(User)).first() is None


def test_home_page_shows_the_previous_login_not_the_current_one(client):
    user = make_user(Role.SUPPLIER)
    db.session.commit()
    post_login(client, user.username, ip="10.0.0.7")
    first = text(client.get("/"))
    assert "10.0.0.7" not in first  # no earlier login yet
    client.post("/auth/logout")
    post_login(client, user.username, ip="10.0.0.8")
    second = text(client.get("/"))
    assert "10.0.0.7" in second and "10.0.0.8" not in second


def test_an_expired_password_must_be_changed(client):
    user = make_user(Role.SUPPLIER, password_changed_at=utcnow() - timedelta(days=91))
    db.session.commit()
    post_login(client, user.username)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/password"
    page = text(client.get("/auth/password"))
    assert gettext("You must set a new password before you continue: the current one was set by an administrator "
                   "or has expired.") in page


def test_a_password_changed_within_the_limit_is_fine(client):
    user = make_user(Role.SUPPLIER, password_changed_at=utcnow() - timedelta(days=89))
    db.session.commit()
    post_login(client, user.username)
    assert client.get("/").status_code == 200
