"""Password policy (DOMAIN §9): length, character classes, common-password list."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from procurement.i18n import gettext as _

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    min_classes: int = 3  # of: lower case, upper case, digits, other symbols
    max_length: int = 128


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with open(COMMON_PASSWORDS_FILE, encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


def _classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def password_problems(password: str, policy: PasswordPolicy, username: str = "") -> list[str]:
    """Every reason the password is unacceptable; an empty list means it is fine."""
    problems = []
    if len(password) < policy.min_length:
        problems.append(_("Use at least %(n)s characters.", n=policy.min_length))
    if len(password) > policy.max_length:
        problems.append(_("Use at most %(n)s characters.", n=policy.max_length))
    if _classes(password) < policy.min_classes:
        problems.append(
            _(
                "Mix at least %(n)s kinds of characters: lower-case letters, capital letters, digits, symbols.",
                n=policy.min_classes,
            )
        )
    lowered = password.lower()
    if lowered in common_passwords() or lowered.rstrip("!@#.?") in common_passwords():
        problems.append(_("This password is on the list of commonly used passwords; choose another."))
    if username and len(username) >= 3 and username.lower() in lowered:
        problems.append(_("The password must not contain the user name."))
    return problems
