"""The security administrator's services: roles, unlocks, second factors, sessions."""

from datetime import timedelta

import pytest
from flask_babel import gettext
from sqlalchemy import select

from procurement import crypto
from procurement.admin import services
from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor
from procurement.auth.models import UserSession
from procurement.auth.roles import Role
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from procurement.rules.clock import utcnow
from tests.factories import make_org, make_supplier, make_user

ADMIN_REFUSAL = ("An administrator role may not be given to a user of a supplier or an evaluation agency "
                 "(三员分立: administrators belong to the bureau).")
SUPPLIER_ONLY = "A user of a supplier organization may only have the supplier role."


def audits(action, user):
    return db.session.execute(
        select(AuditRecord).where(AuditRecord.action == action, AuditRecord.object_type == "user",
                                  AuditRecord.object_id == str(user.id))
    ).scalars().all()


def open_session(user):
    now = utcnow()
    sess = UserSession(id=f"s-{user.id}-{now.timestamp()}", user=user, created_at=now, last_seen_at=now)
    db.session.add(sess)
    db.session.flush()
    return sess


@pytest.fixture
def secadmin(app):
    return make_user(Role.SECADMIN)


@pytest.fixture
def actor(secadmin):
    return Actor(secadmin, "10.0.0.2")


# Which role a user of each kind of organization may hold (None: allowed).
ROLE_TABLE = [
    (Role.OFFICER, OrgKind.BUREAU, None),
    (Role.OFFICER, OrgKind.FINANCE, "The procurement officer role is only for users of a civil-affairs bureau."),
    (Role.OFFICER, OrgKind.SUPPLIER, SUPPLIER_ONLY),
    (Role.OFFICER, OrgKind.AGENCY, "The procurement officer role is only for users of a civil-affairs bureau."),
    (Role.FINANCE, OrgKind.FINANCE, None),
    (Role.FINANCE, OrgKind.BUREAU, "The finance role is only for users of a finance bureau."),
    (Role.FINANCE, OrgKind.SUPPLIER, SUPPLIER_ONLY),
    (Role.SUPPLIER, OrgKind.SUPPLIER, None),
    (Role.SUPPLIER, OrgKind.BUREAU, "The supplier role is only for users of a supplier organization."),
    (Role.EVALUATOR, OrgKind.AGENCY, None),
    (Role.EVALUATOR, OrgKind.BUREAU, "The evaluator role is only for users of an evaluation agency."),
    (Role.EVALUATOR, OrgKind.SUPPLIER, SUPPLIER_ONLY),
    (Role.SYSADMIN, OrgKind.BUREAU, None),
    (Role.SECADMIN, OrgKind.FINANCE, None),
    (Role.AUDITADMIN, OrgKind.BUREAU, None),
    (Role.SYSADMIN, OrgKind.SUPPLIER, ADMIN_REFUSAL),
    (Role.SECADMIN, OrgKind.AGENCY, ADMIN_REFUSAL),
    (Role.AUDITADMIN, OrgKind.SUPPLIER, ADMIN_REFUSAL),
    (None, OrgKind.SUPPLIER, None),
]


@pytest.mark.parametrize(("role", "kind", "message"), ROLE_TABLE)
def test_role_fits_organization_kind(app, role, kind, message):
    expected = gettext(message) if message else None
    assert services.role_refusal(role, kind) == expected


@pytest.mark.parametrize(("role", "kind", "message"), [r for r in ROLE_TABLE if r[2]])
def test_mismatched_role_is_refused_with_the_reason(actor, role, kind, message):
    user = make_user(None, organization=make_supplier() if kind == OrgKind.SUPPLIER else make_org(kind))
    before = user.role
    with pytest.raises(DomainError) as exc:
        services.assign_role(user, role, actor, utcnow())
    assert exc.value.field == "role"
    assert exc.value.message == gettext(message)
    assert user.role == before
    assert audits("user.role_assign", user) == []


def test_nobody_changes_his_own_role(secadmin, actor):
    with pytest.raises(DomainError) as exc:
        services.assign_role(secadmin, Role.SYSADMIN, actor, utcnow())
    assert exc.value.message == gettext("Nobody may change his own role; ask another security administrator.")
    assert secadmin.role == Role.SECADMIN


def test_assigning_a_role_is_audited_and_ends_sessions(actor):
    user = make_user(None)
    sess = open_session(user)
    assert services.assign_role(user, Role.OFFICER, actor, utcnow())
    db.session.expire_all()
    assert user.role == Role.OFFICER
    assert sess.revoked_at is not None and sess.revoke_reason == "role_changed"
    [record] = audits("user.role_assign", user)
    assert record.detail["old"] is None and record.detail["new"] == "officer"
    assert record.user_id == actor.user_id
    assert not services.assign_role(user, Role.OFFICER, actor, utcnow())  # unchanged: not audited again
    assert len(audits("user.role_assign", user)) == 1


def test_last_holder_of_an_administrator_role_keeps_it(actor):
    auditadmin = make_user(Role.AUDITADMIN)
    with pytest.raises(DomainError):
        services.assign_role(auditadmin, Role.OFFICER, actor, utcnow())
    assert auditadmin.role == Role.AUDITADMIN


def test_system_administrator_may_not_assign_roles(app):
    sysadmin = make_user(Role.SYSADMIN)
    with pytest.raises(AccessDenied):
        services.assign_role(make_user(None), Role.OFFICER, Actor(sysadmin), utcnow())


def test_unlock_resets_the_counter_and_is_audited(actor):
    now = utcnow()
    user = make_user(Role.OFFICER, failed_logins=5, locked_until=now + timedelta(minutes=10))
    assert services.is_locked(user, now)
    services.unlock_account(user, actor, now)
    assert user.failed_logins == 0 and user.locked_until is None
    [record] = audits("user.unlock", user)
    assert record.detail["failed_logins"] == 5
    with pytest.raises(DomainError) as exc:
        services.unlock_account(user, actor, now)
    assert exc.value.message == gettext("The account is not locked.")


def test_second_factor_reset_makes_the_user_enrol_again(actor):
    user = make_user(Role.FINANCE, totp_secret=crypto.encrypt("JBSWY3DPEHPK3PXP"), totp_enabled=True, totp_last_step=99)
    sess = open_session(user)
    services.reset_second_factor(user, actor, utcnow())
    db.session.expire_all()
    assert user.totp_secret is None and not user.totp_enabled and user.totp_last_step is None
    assert sess.revoked_at is not None
    [record] = audits("user.totp_reset", user)
    assert record.detail["was_enabled"] is True


def test_end_all_sessions(actor, secadmin):
    user = make_user(Role.OFFICER)
    open_session(user)
    open_session(make_user(Role.OFFICER))  # someone else's stays open
    assert services.end_all_sessions(user, actor, utcnow()) == 1
    [record] = audits("user.sessions_revoke", user)
    assert record.detail == {"sessions_ended": 1}
    with pytest.raises(DomainError):
        services.end_all_sessions(secadmin, actor, utcnow())
    with pytest.raises(DomainError):
        services.reset_second_factor(secadmin, actor, utcnow())
