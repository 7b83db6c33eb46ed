"""Changing settings: bounds, the demo-only rule, permissions and the audit trail."""

from decimal import Decimal

import pytest
from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from procurement.audit.models import AuditRecord
from procurement.audit.services import SYSTEM, Actor
from procurement.auth.roles import Role
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.rules.clock import utcnow
from procurement.settings import Setting, change_setting, change_settings, get_setting
from tests.factories import make_user


def setting_audits():
    return db.session.execute(select(AuditRecord).where(AuditRecord.action == "settings.change")
                              .order_by(AuditRecord.seq)).scalars().all()


@pytest.fixture
def secadmin(app):
    return Actor(make_user(Role.SECADMIN), "10.0.0.3")


@pytest.fixture
def sysadmin(app):
    return Actor(make_user(Role.SYSADMIN), "10.0.0.4")


def test_change_is_stored_and_audited_with_old_and_new(secadmin):
    assert change_setting("login.max_failures", "7", secadmin, utcnow())
    assert get_setting("login.max_failures") == 7
    [record] = setting_audits()
    assert record.object_type == "setting" and record.object_id == "login.max_failures"
    assert record.detail == {"key": "login.max_failures", "old": "5", "new": "7"}
    assert record.user_id == secadmin.user_id
    # The same value again: nothing written, nothing audited.
    assert not change_setting("login.max_failures", 7, secadmin, utcnow())
    assert len(setting_audits()) == 1


def test_out_of_bounds_saves_nothing(secadmin):
    with pytest.raises(DomainError) as exc:
        change_setting("session.idle_minutes", "500", secadmin, utcnow())
    assert exc.value.field == "session.idle_minutes"
    assert get_setting("session.idle_minutes") == 15
    assert db.session.get(Setting, "session.idle_minutes") is None
    assert setting_audits() == []


def test_one_bad_value_saves_none_of_the_others(secadmin):
    with pytest.raises(DomainError):
        change_settings({"login.max_failures": "6", "login.lockout_minutes": "1"}, secadmin, utcnow())
    assert get_setting("login.max_failures") == 5
    assert setting_audits() == []


def test_second_factor_cannot_be_switched_off_outside_demo_mode(secadmin):
    assert not current_app.config["DEMO_MODE"]
    with pytest.raises(DomainError) as exc:
        change_setting("mfa.enforced", False, secadmin, utcnow())
    assert exc.value.field == "mfa.enforced"
    assert exc.value.message == gettext("This can be switched off only while the system runs in demo mode.")
    assert get_setting("mfa.enforced") is True
    assert setting_audits() == []


def test_second_factor_can_be_switched_off_in_demo_mode(secadmin):
    current_app.config["DEMO_MODE"] = True
    assert change_setting("mfa.enforced", "off", secadmin, utcnow())
    assert get_setting("mfa.enforced") is False
    assert setting_audits()[0].detail == {"key": "mfa.enforced", "old": "true", "new": "false"}


def test_each_administrator_changes_only_his_own_group(secadmin, sysadmin):
    with pytest.raises(AccessDenied):
        change_setting("procurement.open_tender_threshold", "3000000", secadmin, utcnow())
    with pytest.raises(AccessDenied):
        change_setting("login.max_failures", "6", sysadmin, utcnow())
    with pytest.raises(AccessDenied):
        change_setting("login.max_failures", "6", Actor(make_user(Role.OFFICER)), utcnow())
    assert change_setting("procurement.open_tender_threshold", "3000000", sysadmin, utcnow())
    assert get_setting("procurement.open_tender_threshold") == Decimal("3000000.00")
    # The command line acts without a user.
    assert change_setting("login.max_failures", "6", SYSTEM, utcnow())


def test_decentralized_limit_may_not_exceed_the_open_tender_threshold(sysadmin):
    with pytest.raises(DomainError) as exc:
        change_setting("procurement.decentralized_limit", "2500000", sysadmin, utcnow())
    assert exc.value.field == "procurement.decentralized_limit"
    # Raised together with the threshold, it is fine.
    assert change_settings({"procurement.decentralized_limit": "2500000", "procurement.open_tender_threshold": "3000000"},
                           sysadmin, utcnow()) == ["procurement.decentralized_limit", "procurement.open_tender_threshold"]
    assert len(setting_audits()) == 2


def test_unknown_key_refused(secadmin):
    with pytest.raises(DomainError):
        change_setting("no.such.setting", "1", secadmin, utcnow())
