"""Spreadsheet safety: formula injection (OWASP CSV injection; DOMAIN §9)."""

# Text starting with these is run as a formula by Excel/WPS (full-width forms and the
# Unicode minus included, which WPS treats alike); tab and CR start DDE payloads.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\u2212", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralize(value):
    """Prefix text a spreadsheet would evaluate with an apostrophe; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unneutralize(value):
    """Undo :func:`neutralize` when a file this app exported is imported again."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value
