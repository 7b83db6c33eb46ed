"""Check digits of Chinese identifiers (DOMAIN §8).

* Unified social credit code, GB 32100-2015.
* Citizen identity number, GB 11643-1999.

Both functions return the normalized identifier or raise :class:`ValueError`
with a message for the user (Simplified Chinese unless a Flask request asks
for another language).  A valid check digit proves only that the code is well
formed, not that the organization or person exists.
"""

from datetime import date

from procurement.i18n import gettext as _
from procurement.rules.clock import beijing_today

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# Civil-affairs registrations (authority "5"): the second symbol is the entity type.
USCC_CIVIL_AFFAIRS_TYPES = {"1": "social_group", "2": "social_service", "3": "foundation"}

CID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CID_CHECK = "10X98765432"


def _strip(value) -> str:
    if value is None:
        return ""
    # Spaces (ASCII, full-width, non-breaking) are typing noise, never part of a code.
    return "".join(str(value).split()).replace("\u3000", "")


def uscc_check_symbol(first17: str) -> str:
    """Return the check symbol for the first 17 symbols of a credit code."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def check_uscc(code) -> str:
    """Validate a unified social credit code and return it normalized.

    Raises:
        ValueError: the code is empty, has the wrong length, contains a symbol
            outside the 31-symbol set, or its check symbol does not match.
    """
    normalized = _strip(code).upper()
    if not normalized:
        raise ValueError(_("Please enter the unified social credit code."))
    if len(normalized) != 18:
        raise ValueError(
            _("A unified social credit code has 18 characters; this one has %(n)s.", n=len(normalized))
        )
    for position, char in enumerate(normalized, start=1):
        if char not in USCC_CHARSET:
            if char in "IOSVZ":
                raise ValueError(
                    _(
                        "Character %(pos)s is “%(char)s”: the letters I, O, S, V and Z are never used in a credit code.",
                        pos=position,
                        char=char,
                    )
                )
            raise ValueError(
                _(
                    "Character %(pos)s is “%(char)s”, which may not appear in a credit code (digits and capital letters except I, O, S, V, Z).",
                    pos=position,
                    char=char,
                )
            )
    if not normalized[2:8].isdigit():
        raise ValueError(_("Characters 3 to 8 of a credit code are the region code and must be digits."))
    expected = uscc_check_symbol(normalized[:17])
    if normalized[17] != expected:
        raise ValueError(
            _(
                "The check character of this credit code does not match (it should be “%(expected)s”); please check the code for typing errors.",
                expected=expected,
            )
        )
    return normalized


def uscc_civil_affairs_type(code: str) -> str | None:
    """Entity type encoded in a civil-affairs credit code, or None for other authorities."""
    if len(code) == 18 and code[0] == "5":
        return USCC_CIVIL_AFFAIRS_TYPES.get(code[1])
    return None


def cid_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, CID_WEIGHTS, strict=True))
    return CID_CHECK[total % 11]


def check_citizen_id(number, today: date | None = None) -> str:
    """Validate an 18-digit citizen identity number and return it normalized.

    Raises:
        ValueError: wrong length or characters, an impossible or future birth
            date, or a check character that does not match.
    """
    normalized = _strip(number).upper()
    if not normalized:
        raise ValueError(_("Please enter the citizen ID number."))
    if len(normalized) != 18:
        raise ValueError(_("A citizen ID number has 18 characters; this one has %(n)s.", n=len(normalized)))
    if not normalized[:17].isdigit() or not (normalized[17].isdigit() or normalized[17] == "X"):
        raise ValueError(_("A citizen ID number is 17 digits followed by a digit or X."))
    try:
        born = date(int(normalized[6:10]), int(normalized[10:12]), int(normalized[12:14]))
    except ValueError:
        raise ValueError(_("Characters 7 to 14 of the ID number are not a real date of birth.")) from None
    today = today or beijing_today()
    if born > today or born.year < 1900:
        raise ValueError(_("The date of birth in the ID number (%(born)s) is not possible.", born=born.isoformat()))
    expected = cid_check_char(normalized[:17])
    if normalized[17] != expected:
        raise ValueError(
            _(
                "The check character of this ID number does not match (it should be “%(expected)s”); please check the number for typing errors.",
                expected=expected,
            )
        )
    return normalized


def mask_citizen_id(number: str) -> str:
    """Show the first 6 and last 4 characters only: ``530626********123X``."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
