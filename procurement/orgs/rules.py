"""Pure rules of the registry: region codes (GB/T 2260), contact data, ban periods, certificate states.

No Flask, no database: every function takes plain values and returns a message
(Simplified Chinese by default, through :mod:`procurement.i18n`) or raises
:class:`ValueError` with one.
"""

import enum
import re
from datetime import date, timedelta

from procurement.i18n import N_
from procurement.i18n import gettext as _

#: Certificates expiring within this many days are flagged (DOMAIN §3: valid on the award date).
EXPIRY_WARNING_DAYS = 30
#: 政府采购法 第七十七条: a supplier is barred "在一至三年内".
BAN_MIN_YEARS = 1
BAN_MAX_YEARS = 3
BAN_CITATION = "《中华人民共和国政府采购法》第七十七条"
PUBLIC_INSTITUTION_1_CITATION = "《政府购买服务管理办法》（财政部令第102号）第八条"

LEVELS = ("province", "prefecture", "county")


# --- regions -------------------------------------------------------------------------------

def region_code_problem(code: str, level: str, parent_code: str | None,
                        parent_level: str | None) -> tuple[str, str] | None:
    """Why a 6-digit GB/T 2260 code cannot be a region of that level under that parent, as ``(field, message)``.

    A province is ``XX0000`` with no parent; a prefecture ``XXYY00`` under province ``XX0000``; a county
    ``XXYYZZ`` (ZZ not 00) under prefecture ``XXYY00``.  The level is always one below the parent's.
    """
    code = (code or "").strip()
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return "code", _("A region code has exactly 6 digits (GB/T 2260), e.g. 530626.")
    if level not in LEVELS:
        return "level", _("Choose the level of the region.")
    depth = LEVELS.index(level)
    if depth == 0:
        if parent_code:
            return "parent", _("A province has no parent region.")
        if code[2:] != "0000":
            return "code", _("A province code ends in 0000, e.g. 530000.")
        return None
    if not parent_code or parent_level not in LEVELS:
        return "parent", _("Choose the region this one belongs to.")
    if LEVELS.index(parent_level) != depth - 1:
        return "parent", _("A prefecture belongs to a province and a county to a prefecture: the level must be one "
                           "below the parent's.")
    if depth == 1:
        if code[:2] != parent_code[:2]:
            return "code", _("A prefecture's code starts with the first 2 digits of its province (%(prefix)s).",
                             prefix=parent_code[:2])
        if code[4:] != "00" or code[2:4] == "00":
            return "code", _("A prefecture code ends in 00 and its digits 3–4 are not 00, e.g. 530600.")
        return None
    if code[:4] != parent_code[:4]:
        return "code", _("A county's code starts with the first 4 digits of its prefecture (%(prefix)s).",
                         prefix=parent_code[:4])
    if code[4:] == "00":
        return "code", _("A county code does not end in 00, e.g. 530626.")
    return None


def region_path(code: str, parent_path: str | None) -> str:
    """The materialized path used for subtree queries: ``/530000/530600/530626/``."""
    return (parent_path or "/") + code + "/"


def ancestor_paths(path: str) -> list[str]:
    """``/530000/530600/530626/`` → the paths of itself and every region above it."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


# --- contact and bank data -------------------------------------------------------------------

_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(?:0\d{2,3}-?|\(0\d{2,3}\))[2-9]\d{6,7}(?:-\d{1,6})?$")
_SERVICE_NUMBER = re.compile(r"^[48]00-?\d{3}-?\d{4}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+$")


def normalize_phone(value: str | None) -> str:
    """Drop spaces; turn full-width digits and dashes into ASCII."""
    text = "".join((value or "").split())
    return text.translate(str.maketrans("０１２３４５６７８９－（）＋", "0123456789-()+"))


def check_phone(value: str | None) -> str:
    """A Chinese mobile (13800000000) or landline (0871-63131000, with optional extension) number.

    Raises:
        ValueError: neither shape.
    """
    phone = normalize_phone(value)
    if _MOBILE.match(phone) or _LANDLINE.match(phone) or _SERVICE_NUMBER.match(phone):
        return phone
    raise ValueError(_("Enter a mobile number (11 digits, e.g. 13800000000) or a landline with its area code "
                       "(e.g. 0871-63131000)."))


def check_email(value: str | None) -> str:
    """Raises:
        ValueError: not an e-mail address.
    """
    email = (value or "").strip()
    if len(email) > 128 or not _EMAIL.match(email):
        raise ValueError(_("Enter an e-mail address like name@example.cn."))
    return email


def check_bank_account_no(value: str | None) -> str:
    """Bank account numbers are 8 to 30 digits; spaces and dashes typed for readability are dropped.

    Raises:
        ValueError: anything else.
    """
    digits = "".join((value or "").split()).replace("-", "")
    if not digits.isascii() or not digits.isdigit() or not 8 <= len(digits) <= 30:
        raise ValueError(_("A bank account number has 8 to 30 digits."))
    return digits


def mask_account(number: str | None) -> str:
    """Show only the last 4 digits: ``**** **** 1234``."""
    if not number:
        return ""
    return "****" + number[-4:] if len(number) > 4 else "****"


# --- bans ------------------------------------------------------------------------------------

def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def ban_period_problem(starts: date | None, ends: date | None) -> tuple[str, str] | None:
    """Why a ban period (both ends inclusive) is not allowed, as ``(field, message)``, or None.

    政府采购法 第七十七条 bars a supplier for one to three years.  Decisions write the period either as
    "2026年3月1日至2027年2月28日" or, counted as the Civil Code counts (民法典 第二百零一、二百零二条: the
    first day not counted, the period ends on the corresponding day), up to 1 March 2027; both are accepted.
    So from 1 March 2026 the last day is between 28 February 2027 and 1 March 2029.
    """
    if starts is None or ends is None:
        return None
    if ends < starts:
        return "ends_on", _("The last day of the ban cannot be before its first day.")
    latest = add_years(starts, BAN_MAX_YEARS)
    if ends > latest:
        return "ends_on", _("A procurement ban lasts at most 3 years (%(citation)s); the last possible day is %(last)s.",
                            citation=BAN_CITATION, last=latest.isoformat())
    earliest = add_years(starts, BAN_MIN_YEARS) - timedelta(days=1)
    if ends < earliest:
        return "ends_on", _("A procurement ban lasts at least 1 year (%(citation)s); the earliest last day is %(last)s.",
                            citation=BAN_CITATION, last=earliest.isoformat())
    return None


# --- certificates ----------------------------------------------------------------------------

class CertificateState(enum.StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"  # valid today, expires within EXPIRY_WARNING_DAYS
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"

    @property
    def label(self) -> str:
        return _({
            CertificateState.VALID: N_("Valid"),
            CertificateState.EXPIRING: N_("Expiring soon"),
            CertificateState.EXPIRED: N_("Expired"),
            CertificateState.NOT_YET_VALID: N_("Not yet valid"),
        }[self])

    @property
    def badge(self) -> str:
        return {
            CertificateState.VALID: "text-bg-success",
            CertificateState.EXPIRING: "text-bg-warning",
            CertificateState.EXPIRED: "text-bg-danger",
            CertificateState.NOT_YET_VALID: "text-bg-secondary",
        }[self]


def certificate_state(valid_from: date | None, valid_until: date | None, today: date,
                      warning_days: int = EXPIRY_WARNING_DAYS) -> CertificateState:
    if valid_from is not None and today < valid_from:
        return CertificateState.NOT_YET_VALID
    if valid_until is None:
        return CertificateState.VALID
    if valid_until < today:
        return CertificateState.EXPIRED
    if valid_until <= today + timedelta(days=warning_days):
        return CertificateState.EXPIRING
    return CertificateState.VALID


def period_problem(valid_from: date | None, valid_until: date | None) -> str | None:
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        return _("The end of validity cannot be before its start.")
    return None
