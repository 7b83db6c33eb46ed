"""Parsing and bounds of setting values (no app, no database)."""

from decimal import Decimal

import pytest

from procurement.errors import DomainError
from procurement.i18n import gettext
from procurement.settings import SETTINGS, format_value, parse_value


@pytest.mark.parametrize(("key", "raw", "expected"), [
    ("login.max_failures", "5", 5),
    ("login.max_failures", 10, 10),
    ("login.max_failures", " 3 ", 3),
    ("password.max_age_days", "0", 0),
    ("mfa.enforced", "on", True),
    ("mfa.enforced", "false", False),
    ("mfa.enforced", False, False),
    ("procurement.open_tender_threshold", "2,000,000", Decimal("2000000.00")),
    ("procurement.open_tender_threshold", "¥1500000.5", Decimal("1500000.50")),
])
def test_values_are_parsed_into_the_settings_type(key, raw, expected):
    value = parse_value(SETTINGS[key], raw)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("key", "raw"), [
    ("login.max_failures", "2"),
    ("login.max_failures", "11"),
    ("login.max_failures", -1),
    ("password.min_length", "7"),
    ("session.idle_minutes", "121"),
    ("procurement.decentralized_limit", "-0.01"),
    ("procurement.open_tender_threshold", "100000000.01"),
])
def test_values_out_of_bounds_are_refused_with_the_range(key, raw):
    definition = SETTINGS[key]
    with pytest.raises(DomainError) as exc:
        parse_value(definition, raw)
    assert exc.value.field == key
    assert exc.value.message == gettext("Enter a value between %(min)s and %(max)s.",
                                        min=format_value(definition, definition.minimum),
                                        max=format_value(definition, definition.maximum))


@pytest.mark.parametrize(("key", "raw"), [
    ("login.max_failures", "five"),
    ("login.max_failures", "4.5"),
    ("login.max_failures", True),
    ("login.max_failures", "²"),
    ("login.max_failures", "9" * 40),
    ("mfa.enforced", "maybe"),
    ("procurement.open_tender_threshold", "1e999999"),
    ("procurement.open_tender_threshold", "NaN"),
    ("procurement.open_tender_threshold", "12.345"),
    ("procurement.open_tender_threshold", "abc"),
])
def test_malformed_values_are_refused(key, raw):
    with pytest.raises(DomainError) as exc:
        parse_value(SETTINGS[key], raw)
    assert exc.value.field == key
    assert exc.value.message
