"""The settings pages, generated from the definitions."""

import re

import pytest
from flask import g
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from procurement.audit.models import AuditRecord
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.settings import SETTINGS, Setting, SettingGroup, format_value, settings_of
from procurement.settings import get_setting as cached_setting
from tests.factories import login_as, make_user


def get_setting(key):
    """The stored value as a new request would see it (not this context's cache or snapshot)."""
    db.session.commit()
    g.pop("_settings", None)
    return cached_setting(key)


def text(response) -> str:
    return response.get_data(as_text=True)


def msg(msgid, **variables) -> str:
    return str(escape(gettext(msgid, **variables)))


def form_of(group) -> dict:
    """The current values as the page would post them (a bool that is off is left out, like a browser does)."""
    data = {}
    for d in settings_of(group):
        value = cached_setting(d.key)
        name = d.key.replace(".", "__")
        if d.kind is bool:
            if value:
                data[name] = "y"
        else:
            data[name] = format_value(d, value)
    return data


def error_after(page: str, field_id: str) -> str:
    """The text of the invalid-feedback block that follows the field with that id."""
    match = re.search(rf'id="{re.escape(field_id)}"[^>]*>.*?<div class="invalid-feedback d-block">(.*?)</div>', page, re.S)
    return match.group(1) if match else ""


def setting_audits():
    db.session.commit()
    return db.session.execute(select(AuditRecord).where(AuditRecord.action == "settings.change")).scalars().all()


@pytest.fixture
def sec_client(app, client):
    login_as(client, make_user(Role.SECADMIN))
    return client


@pytest.fixture
def sys_client(app, client):
    login_as(client, make_user(Role.SYSADMIN))
    return client


def test_security_page_lists_every_security_setting_with_label_and_default(sec_client):
    page = text(sec_client.get("/admin/settings/security"))
    for d in settings_of(SettingGroup.SECURITY):
        assert f'name="{d.key.replace(".", "__")}"' in page
        assert str(escape(str(d.label))) in page
    assert msg("Default: %(v)s", v=5) in page
    assert "procurement__open_tender_threshold" not in page


def test_change_is_saved_and_audited(sec_client):
    data = {**form_of(SettingGroup.SECURITY), "login__max_failures": "6", "session__idle_minutes": "30"}
    response = sec_client.post("/admin/settings/security", data=data, follow_redirects=True)
    assert msg("%(n)s settings changed.", n=2) in text(response)
    assert get_setting("login.max_failures") == 6 and get_setting("session.idle_minutes") == 30
    records = {r.object_id: r.detail for r in setting_audits()}
    assert records == {"login.max_failures": {"key": "login.max_failures", "old": "5", "new": "6"},
                       "session.idle_minutes": {"key": "session.idle_minutes", "old": "15", "new": "30"}}


@pytest.mark.parametrize(("field", "value"), [
    ("login__max_failures", "2"), ("login__max_failures", "100"), ("password__min_length", "4"),
    ("session__absolute_hours", "0"), ("login__lockout_minutes", "abc"),
])
def test_out_of_bounds_refused_next_to_the_field_and_nothing_saved(sec_client, field, value):
    data = {**form_of(SettingGroup.SECURITY), "session__idle_minutes": "30", field: value}
    response = sec_client.post("/admin/settings/security", data=data)
    assert response.status_code == 400
    page = text(response)
    definition = SETTINGS[field.replace("__", ".")]
    expected = msg("Enter a value between %(min)s and %(max)s.", min=definition.minimum, max=definition.maximum) \
        if value != "abc" else msg("Enter a whole number.")
    assert error_after(page, field) == expected
    assert get_setting("session.idle_minutes") == 15  # the valid change in the same form is not saved either
    assert db.session.execute(select(Setting)).scalars().all() == []
    assert setting_audits() == []


def test_second_factor_cannot_be_switched_off_without_demo_mode(sec_client):
    data = form_of(SettingGroup.SECURITY)
    data.pop("mfa__enforced")
    response = sec_client.post("/admin/settings/security", data=data)
    assert response.status_code == 400
    assert error_after(text(response), "mfa__enforced") == msg(
        "This can be switched off only while the system runs in demo mode.")
    assert get_setting("mfa.enforced") is True
    assert setting_audits() == []


class TestDemoMode:
    @pytest.fixture
    def app_config(self):
        return {"DEMO_MODE": True}

    def test_second_factor_can_be_switched_off_in_demo_mode(self, sec_client):
        data = form_of(SettingGroup.SECURITY)
        data.pop("mfa__enforced")
        assert sec_client.post("/admin/settings/security", data=data).status_code == 302
        assert get_setting("mfa.enforced") is False
        [record] = setting_audits()
        assert record.detail == {"key": "mfa.enforced", "old": "true", "new": "false"}


def test_system_settings_money_fields(sys_client):
    page = text(sys_client.get("/admin/settings/system"))
    assert 'name="procurement__open_tender_threshold"' in page and "login__max_failures" not in page
    data = {**form_of(SettingGroup.SYSTEM), "procurement__open_tender_threshold": "3,000,000.00"}
    assert sys_client.post("/admin/settings/system", data=data).status_code == 302
    assert str(get_setting("procurement.open_tender_threshold")) == "3000000.00"
    [record] = setting_audits()
    assert record.detail["old"] == "2000000.00" and record.detail["new"] == "3000000.00"


@pytest.mark.parametrize("value", ["1e999999", "12.345", "-1", "NaN", "¥x"])
def test_bad_amounts_are_messages_not_errors(sys_client, value):
    data = {**form_of(SettingGroup.SYSTEM), "procurement__decentralized_limit": value}
    response = sys_client.post("/admin/settings/system", data=data)
    assert response.status_code == 400
    assert error_after(text(response), "procurement__decentralized_limit")
    assert setting_audits() == []


def test_limit_above_threshold_refused_next_to_the_field(sys_client):
    data = {**form_of(SettingGroup.SYSTEM), "procurement__decentralized_limit": "2500000"}
    response = sys_client.post("/admin/settings/system", data=data)
    assert response.status_code == 400
    assert error_after(text(response), "procurement__decentralized_limit") == msg(
        "The decentralized procurement limit may not exceed the open tender threshold.")
    assert setting_audits() == []
