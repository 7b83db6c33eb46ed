"""The one settings table (DOMAIN: every *configurable* number lives here).

Each setting is declared once in :data:`SETTINGS` with its type, default, bounds
and the administrator group that may change it; the table stores only values
an administrator has changed.  :func:`change_setting` is the one way to change
a value at run time: it checks type, bounds and the demo-only rule and audits
the old and the new value.
"""

import enum
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import current_app, g
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from procurement.db_types import UTCDateTime
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _


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
    SettingDef("award.fail_disqualifies_next_year", bool, False,
               _l("A supplier whose last final evaluation was graded 差 may not be awarded in the next year"),
               SettingGroup.SYSTEM,
               help=_l("Local rule. Off: the officer only sees a warning at the award. On: the award is refused until "
                       "the end of the year after the evaluation.")),
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


# --- changing values ---------------------------------------------------------------------

_TRUE = frozenset({"1", "true", "yes", "on", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "n", ""})


def settings_of(group: SettingGroup) -> list[SettingDef]:
    """The definitions of one administrator group, in declaration order."""
    return [d for d in _DEFS if d.group == group]


def group_action(group: SettingGroup):
    """The permission that allows changing the settings of ``group``."""
    from procurement.auth.roles import Action

    return Action.SETTINGS_SECURITY if group == SettingGroup.SECURITY else Action.SETTINGS_SYSTEM


def format_value(definition: SettingDef, value) -> str:
    """A value as plain text for the audit log and the pages (``true``, ``15``, ``1000000.00``)."""
    if value is None:
        return ""
    if definition.kind is bool:
        return "true" if value else "false"
    if definition.kind is Decimal:
        return str(Decimal(value).quantize(Decimal("0.01")))
    return str(value)


def parse_value(definition: SettingDef, raw):
    """Turn form or command-line input into the setting's type and check its bounds.

    Raises:
        DomainError: the value has the wrong type or lies outside the bounds (``field`` is the key).
    """
    key = definition.key
    if definition.kind is bool:
        if isinstance(raw, bool):
            value = raw
        elif str(raw).strip().lower() in _TRUE:
            value = True
        elif str(raw).strip().lower() in _FALSE:
            value = False
        else:
            raise DomainError(_("Choose on or off."), field=key)
    elif definition.kind is int:
        if isinstance(raw, bool):
            raise DomainError(_("Enter a whole number."), field=key)
        if isinstance(raw, int):
            value = raw
        else:
            text = str(raw if raw is not None else "").strip().replace(",", "")
            try:
                value = int(text) if len(text) <= 12 else None
            except ValueError:
                value = None
            if value is None:
                raise DomainError(_("Enter a whole number."), field=key)
    else:
        text = str(raw if raw is not None else "").strip().replace(",", "").lstrip("¥￥").strip()
        try:
            value = Decimal(text)
            rounded = value.quantize(Decimal("0.01")) if value.is_finite() and len(text) <= 20 else None
        except InvalidOperation:
            rounded = None
        if rounded is None:
            raise DomainError(_("Enter an amount in yuan, e.g. 1350.00."), field=key)
        if value != rounded:
            raise DomainError(_("An amount has at most two decimals (fen)."), field=key)
        value = rounded
    if definition.kind is not bool:
        low, high = definition.minimum, definition.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise DomainError(_("Enter a value between %(min)s and %(max)s.", min=format_value(definition, low),
                                max=format_value(definition, high)), field=key)
    return value


def demo_mode_on() -> bool:
    return bool(current_app.config.get("DEMO_MODE"))


def _check_rules(definition: SettingDef, value) -> None:
    if definition.demo_only_off and not value and not demo_mode_on():
        raise DomainError(_("This can be switched off only while the system runs in demo mode."), field=definition.key)


def _check_together(values: dict) -> None:
    """Rules that tie settings to each other (values: every setting after the change)."""
    limit = values.get("procurement.decentralized_limit")
    threshold = values.get("procurement.open_tender_threshold")
    if limit is not None and threshold is not None and limit > threshold:
        raise DomainError(_("The decentralized procurement limit may not exceed the open tender threshold."),
                          field="procurement.decentralized_limit")


def _ensure_may_change(definition: SettingDef, actor) -> None:
    # An actor without a user is the command line, run by whoever operates the server.
    if actor.user is not None and not actor.user.may(group_action(definition.group)):
        raise AccessDenied(_("You may not change this setting."))


def change_setting(key: str, raw_value, actor, now) -> bool:
    """Change one setting after checking type, bounds and the demo-only rule; audit old → new.

    Returns whether the value changed (an unchanged value writes and audits nothing).

    Raises:
        DomainError: unknown key, wrong type, out of bounds, or switching off a demo-only setting
            outside demo mode (``field`` is the key).
        AccessDenied: the actor's role may not change this group of settings.
    """
    return bool(change_settings({key: raw_value}, actor, now))


def change_settings(raw_values: dict, actor, now) -> list[str]:
    """Change several settings at once: all are checked before any is written.

    Returns the keys whose value changed, each audited as "settings.change".

    Raises:
        DomainError, AccessDenied: as :func:`change_setting`; then nothing is written.
    """
    from procurement.audit.services import append_audit

    current = dict(all_settings())
    wanted = {}
    for key, raw in raw_values.items():
        definition = SETTINGS.get(key)
        if definition is None:
            raise DomainError(_("There is no setting “%(key)s”.", key=key))
        _ensure_may_change(definition, actor)
        value = parse_value(definition, raw)
        if value != current[key]:
            _check_rules(definition, value)
            wanted[key] = value
    _check_together({**current, **wanted})
    for key, value in wanted.items():
        definition = SETTINGS[key]
        store_setting(key, value, actor.user_id, now)
        append_audit(actor, "settings.change", object_type="setting", object_id=key,
                     detail={"key": key, "old": format_value(definition, current[key]),
                             "new": format_value(definition, value)})
    return list(wanted)
