"""The one settings table (DOMAIN: every *configurable* number lives here).

Each setting is declared once in :data:`SETTINGS` with its type, default, bounds
and the administrator group that may change it; the table stores only values
that differ from the default.
"""

import enum
import json
from dataclasses import dataclass
from decimal import Decimal

from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from procurement.db_types import UTCDateTime
from procurement.extensions import db


class SettingGroup(enum.StrEnum):
    SECURITY = "security"  # changed by the security administrator
    SYSTEM = "system"  # changed by the system administrator


@dataclass(frozen=True)
class SettingDef:
    key: str
    kind: type  # int, bool or Decimal
    default: object
    label: object
    group: SettingGroup
    minimum: object = None
    maximum: object = None
    help: object = ""
    demo_only_off: bool = False  # may be switched off only while demo mode is on


_DEFS = [
    SettingDef("login.max_failures", int, 5, _l("Failed logins before the account is locked"), SettingGroup.SECURITY, 3, 10),
    SettingDef("login.lockout_minutes", int, 15, _l("Lockout duration (minutes)"), SettingGroup.SECURITY, 5, 1440),
    SettingDef("login.ip_max_failures", int, 20, _l("Failed logins from one address before it is throttled"), SettingGroup.SECURITY, 5, 1000),
    SettingDef("login.ip_window_minutes", int, 15, _l("Address throttling window (minutes)"), SettingGroup.SECURITY, 1, 1440),
    SettingDef("session.idle_minutes", int, 15, _l("Idle session timeout (minutes)"), SettingGroup.SECURITY, 5, 120),
    SettingDef("session.absolute_hours", int, 8, _l("Absolute session timeout (hours)"), SettingGroup.SECURITY, 1, 24),
    SettingDef("password.min_length", int, 8, _l("Minimum password length"), SettingGroup.SECURITY, 8, 64),
    SettingDef("password.min_classes", int, 3, _l("Kinds of characters a password must mix"), SettingGroup.SECURITY, 1, 4,
               _l("Lower-case letters, capital letters, digits, symbols.")),
    SettingDef("password.max_age_days", int, 90, _l("Password expires after (days, 0 = never)"), SettingGroup.SECURITY, 0, 365),
    SettingDef("mfa.enforced", bool, True, _l("Require a second factor (TOTP) for officers, finance and administrators"),
               SettingGroup.SECURITY, help=_l("Can be switched off only in demo mode."), demo_only_off=True),
    SettingDef("procurement.decentralized_limit", Decimal, Decimal("1000000.00"),
               _l("Decentralized procurement limit for services (yuan)"), SettingGroup.SYSTEM,
               Decimal("0.00"), Decimal("100000000.00"), _l("国办发〔2019〕55号")),
    SettingDef("procurement.open_tender_threshold", Decimal, Decimal("2000000.00"),
               _l("Open tender threshold for services (yuan)"), SettingGroup.SYSTEM,
               Decimal("0.00"), Decimal("100000000.00"), _l("国办发〔2019〕55号; 实施条例 第二十三条")),
]
SETTINGS: dict[str, SettingDef] = {d.key: d for d in _DEFS}


class Setting(db.Model):
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[object] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


def _decode(definition: SettingDef, raw: str):
    value = json.loads(raw)
    if definition.kind is Decimal:
        return Decimal(value).quantize(Decimal("0.01"))
    return definition.kind(value)


def _encode(definition: SettingDef, value) -> str:
    if definition.kind is Decimal:
        return json.dumps(str(Decimal(value).quantize(Decimal("0.01"))))
    return json.dumps(definition.kind(value))


def all_settings() -> dict:
    """Every setting's current value, cached for the app context."""
    cached = g.get("_settings")
    if cached is None:
        cached = {key: d.default for key, d in SETTINGS.items()}
        for row in db.session.execute(db.select(Setting)).scalars():
            definition = SETTINGS.get(row.key)
            if definition is not None:
                cached[row.key] = _decode(definition, row.value)
        g._settings = cached
    return cached


def get_setting(key: str):
    return all_settings()[key]


def store_setting(key: str, value, actor_id: int | None, now) -> None:
    """Write one value (already validated by the caller) and drop the cache."""
    definition = SETTINGS[key]
    row = db.session.get(Setting, key)
    if row is None:
        row = Setting(key=key)
        db.session.add(row)
    row.value = _encode(definition, value)
    row.updated_at = now
    row.updated_by_id = actor_id
    db.session.flush()
    g.pop("_settings", None)
