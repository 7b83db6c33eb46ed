"""The system administrator's account services (三员分立: accounts, never permissions)."""

from datetime import timedelta

import pytest
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.security import check_password_hash

from procurement.admin import services
from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor
from procurement.auth.models import User, UserSession
from procurement.auth.roles import Role
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from procurement.rules.clock import utcnow
from tests.factories import make_org, make_supplier, make_user

NEW_PASSWORD = "Blue-Kettle-73"


def audits(action, user=None):
    query = select(AuditRecord).where(AuditRecord.action == action)
    if user is not None:
        query = query.where(AuditRecord.object_type == "user", AuditRecord.object_id == str(user.id))
    return db.session.execute(query.order_by(AuditRecord.seq)).scalars().all()


def open_session(user, now=None):
    now = now or utcnow()
    sess = UserSession(id=f"s-{user.id}-{now.timestamp()}", user=user, created_at=now, last_seen_at=now, ip="10.0.0.9")
    db.session.add(sess)
    db.session.flush()
    return sess


@pytest.fixture
def sysadmin(app):
    return make_user(Role.SYSADMIN)


@pytest.fixture
def actor(sysadmin):
    return Actor(sysadmin, "10.0.0.1")


def create(actor, **overrides):
    values = {"username": "li.ming", "display_name": "李明", "organization": make_org(OrgKind.BUREAU),
              "phone": " 0871-1234567 ", "email": "", "password": NEW_PASSWORD, "actor": actor}
    return services.create_account(**{**values, **overrides})


def test_new_account_has_no_role_and_must_change_password(actor):
    user = create(actor)
    assert user.role is None
    assert user.must_change_password is True
    assert user.active is True
    assert user.phone == "0871-1234567" and user.email is None
    assert check_password_hash(user.password_hash, NEW_PASSWORD)
    [record] = audits("user.create", user)
    assert record.user_id == actor.user_id and record.ip == "10.0.0.1"
    assert record.detail["role"] is None


@pytest.mark.parametrize("username", ["ab", "x" * 33, "li ming", "李明", "a/b", "", "   "])
def test_user_name_shape_is_checked(actor, username):
    with pytest.raises(DomainError) as exc:
        create(actor, username=username)
    assert exc.value.field == "username"
    assert exc.value.message == gettext("A user name has 3 to 32 characters: letters, digits, “.”, “_” or “-”.")


def test_user_name_is_unique_ignoring_case(actor):
    create(actor, username="Li.Ming")
    with pytest.raises(DomainError) as exc:
        create(actor, username="li.ming")
    assert exc.value.field == "username"
    assert exc.value.message == gettext("The user name “%(name)s” is already taken.", name="li.ming")


def test_initial_password_follows_the_policy(actor):
    with pytest.raises(DomainError) as exc:
        create(actor, password="password")
    assert exc.value.field == "password"
    assert db.session.execute(select(User).where(User.username == "li.ming")).scalar_one_or_none() is None


def test_inactive_organization_refused(actor):
    with pytest.raises(DomainError) as exc:
        create(actor, organization=make_org(OrgKind.BUREAU, active=False))
    assert exc.value.field == "organization"


def test_only_the_system_administrator_manages_accounts(app):
    for role in (Role.SECADMIN, Role.AUDITADMIN, Role.OFFICER):
        with pytest.raises(AccessDenied):
            create(Actor(make_user(role)), username=f"u-{role.value}")


def test_update_is_audited_with_old_and_new_values(actor):
    user = make_user(Role.OFFICER, phone="1")
    version = user.version
    changed = services.update_account(user, display_name="王芳", organization=user.organization, phone="2", email="w@example.cn",
                                      actor=actor, expected_version=version,
                                      expected_fingerprint=services.account_fingerprint(user))
    assert changed
    [record] = audits("user.update", user)
    assert record.detail["changed"]["phone"] == ["1", "2"]
    assert record.detail["changed"]["display_name"][1] == "王芳"
    # Saving the same values again changes and audits nothing.
    assert not services.update_account(user, display_name="王芳", organization=user.organization, phone="2",
                                       email="w@example.cn", actor=actor)
    assert len(audits("user.update", user)) == 1


def test_stale_edit_is_a_conflict(actor):
    user = make_user(Role.OFFICER)
    loaded_version, loaded = user.version, services.account_fingerprint(user)
    # Someone else saves first.
    services.update_account(user, display_name="先保存的", organization=user.organization, phone=None, email=None,
                            actor=actor, expected_version=loaded_version, expected_fingerprint=loaded)
    db.session.flush()
    with pytest.raises(ConflictError) as exc:
        services.update_account(user, display_name="后保存的", organization=user.organization, phone=None, email=None,
                                actor=actor, expected_version=loaded_version, expected_fingerprint=loaded)
    assert exc.value.message == gettext("Someone else changed this account while you were editing it.")
    assert user.display_name == "先保存的"


def test_a_login_meanwhile_is_not_a_conflict(actor):
    user = make_user(Role.OFFICER)
    loaded_version, loaded = user.version, services.account_fingerprint(user)
    user.last_login_at = utcnow()  # the version moves, the edited fields do not
    db.session.flush()
    assert user.version != loaded_version
    assert services.update_account(user, display_name="新名字", organization=user.organization, phone=None, email=None,
                                   actor=actor, expected_version=loaded_version, expected_fingerprint=loaded)


def test_moving_a_user_to_an_organization_his_role_does_not_fit_is_refused(actor):
    user = make_user(Role.OFFICER)
    with pytest.raises(DomainError) as exc:
        services.update_account(user, display_name=user.display_name, organization=make_supplier(), phone=None,
                                email=None, actor=actor)
    assert exc.value.field == "organization"
    assert gettext("A user of a supplier organization may only have the supplier role.") in exc.value.message


def test_disable_ends_every_session_and_enable_restores(actor):
    user = make_user(Role.OFFICER)
    first, second = open_session(user), open_session(user, utcnow() - timedelta(minutes=1))
    now = utcnow()
    assert services.set_account_active(user, False, actor, now)
    db.session.expire_all()
    assert not user.active
    assert all(s.revoked_at is not None and s.revoke_reason == "disabled" for s in (first, second))
    [record] = audits("user.disable", user)
    assert record.detail == {"sessions_ended": 2}
    assert services.set_account_active(user, True, actor, utcnow())
    assert user.active
    assert len(audits("user.enable", user)) == 1
    assert not services.set_account_active(user, True, actor, utcnow())  # already active: nothing recorded
    assert len(audits("user.enable", user)) == 1


def test_system_administrator_cannot_disable_himself(sysadmin, actor):
    make_user(Role.SYSADMIN)  # not the last one: the refusal is about oneself
    with pytest.raises(DomainError) as exc:
        services.set_account_active(sysadmin, False, actor, utcnow())
    assert exc.value.message == gettext("You cannot disable your own account.")
    assert sysadmin.active
    assert audits("user.disable") == []


def test_last_security_administrator_cannot_be_disabled(actor):
    secadmin = make_user(Role.SECADMIN)
    with pytest.raises(DomainError):
        services.set_account_active(secadmin, False, actor, utcnow())
    make_user(Role.SECADMIN)
    assert services.set_account_active(secadmin, False, actor, utcnow())


def test_password_reset_forces_a_change_and_ends_sessions(actor):
    user = make_user(Role.SUPPLIER)
    sess = open_session(user)
    services.reset_account_password(user, NEW_PASSWORD, actor, utcnow())
    db.session.expire_all()
    assert user.must_change_password is True
    assert check_password_hash(user.password_hash, NEW_PASSWORD)
    assert sess.revoked_at is not None
    assert len(audits("user.password_reset", user)) == 1


def test_password_reset_checks_the_policy_and_not_for_oneself(sysadmin, actor):
    user = make_user(Role.SUPPLIER)
    with pytest.raises(DomainError) as exc:
        services.reset_account_password(user, "short", actor, utcnow())
    assert exc.value.field == "password"
    with pytest.raises(DomainError):
        services.reset_account_password(sysadmin, NEW_PASSWORD, actor, utcnow())
    assert audits("user.password_reset") == []
