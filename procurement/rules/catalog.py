"""Pure rules of the service list: units, frequencies, qualifications, the negative list."""

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from procurement.i18n import N_
from procurement.i18n import gettext as _


class Unit(enum.StrEnum):
    VISIT = "visit"  # 次
    HOUR = "hour"  # 小时
    PERSON_MONTH = "person_month"  # 人·月
    HOUSEHOLD = "household"  # 户
    PERSON_TIME = "person_time"  # 人次
    SESSION = "session"  # 场
    PROJECT = "project"  # 项

    @property
    def label(self) -> str:
        return _(UNIT_MSGIDS[self])


UNIT_MSGIDS = {
    Unit.VISIT: N_("visit"),
    Unit.HOUR: N_("hour"),
    Unit.PERSON_MONTH: N_("person-month"),
    Unit.HOUSEHOLD: N_("household"),
    Unit.PERSON_TIME: N_("person-time"),
    Unit.SESSION: N_("session"),
    Unit.PROJECT: N_("project"),
}

# What officers type in spreadsheets; the first spelling is the canonical one.
UNIT_SPELLINGS = {
    Unit.VISIT: ("次",),
    Unit.HOUR: ("小时", "时"),
    Unit.PERSON_MONTH: ("人·月", "人月", "人/月", "人.月", "人•月"),
    Unit.HOUSEHOLD: ("户",),
    Unit.PERSON_TIME: ("人次", "人·次"),
    Unit.SESSION: ("场", "场次"),
    Unit.PROJECT: ("项",),
}


class FrequencyPeriod(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    ON_DEMAND = "on_demand"


PERIOD_SPELLINGS = {
    FrequencyPeriod.DAY: ("日", "天"),
    FrequencyPeriod.WEEK: ("周", "星期"),
    FrequencyPeriod.MONTH: ("月",),
    FrequencyPeriod.QUARTER: ("季度", "季"),
    FrequencyPeriod.YEAR: ("年",),
}
_PERIOD_BY_SPELLING = {s: p for p, spellings in PERIOD_SPELLINGS.items() for s in spellings}
_FREQUENCY_RE = re.compile(r"^(\d{1,3})\s*次?\s*[/／每]\s*(日|天|周|星期|月|季度|季|年)$")


class StaffQualification(enum.StrEnum):
    SOCIAL_WORKER = "SOCIAL_WORKER"
    CARE_WORKER = "CARE_WORKER"
    MEDICAL = "MEDICAL"
    COUNSELOR = "COUNSELOR"
    REHAB = "REHAB"
    LEGAL = "LEGAL"
    FOOD_HEALTH = "FOOD_HEALTH"

    @property
    def label(self) -> str:
        return _(QUALIFICATION_MSGIDS[self])


QUALIFICATION_MSGIDS = {
    StaffQualification.SOCIAL_WORKER: N_("Social worker certificate"),
    StaffQualification.CARE_WORKER: N_("Care worker certificate"),
    StaffQualification.MEDICAL: N_("Medical practitioner or nurse licence"),
    StaffQualification.COUNSELOR: N_("Counselling qualification"),
    StaffQualification.REHAB: N_("Rehabilitation therapist qualification"),
    StaffQualification.LEGAL: N_("Legal professional qualification"),
    StaffQualification.FOOD_HEALTH: N_("Food handler health certificate"),
}


def parse_unit(text: str) -> Unit:
    """Unit from its Chinese spelling or code.

    Raises:
        ValueError: an unknown unit.
    """
    cleaned = "".join(str(text or "").split())
    for unit, spellings in UNIT_SPELLINGS.items():
        if cleaned in spellings or cleaned == unit.value:
            return unit
    raise ValueError(
        _(
            "Unknown unit “%(text)s”; use one of: %(choices)s.",
            text=cleaned,
            choices="、".join(s[0] for s in UNIT_SPELLINGS.values()),
        )
    )


def parse_frequency(text: str) -> tuple[int | None, FrequencyPeriod]:
    """``"4次/月"`` → ``(4, MONTH)``; ``"按需"`` → ``(None, ON_DEMAND)``.

    Raises:
        ValueError: the text is not a frequency.
    """
    cleaned = "".join(str(text or "").split())
    if cleaned in ("按需", "按需提供", "on_demand"):
        return None, FrequencyPeriod.ON_DEMAND
    match = _FREQUENCY_RE.match(cleaned)
    if not match or int(match.group(1)) < 1:
        raise ValueError(
            _("Write the frequency like “4次/月” (times per 日, 周, 月, 季度 or 年) or “按需”; got “%(text)s”.", text=cleaned)
        )
    return int(match.group(1)), _PERIOD_BY_SPELLING[match.group(2)]


def format_frequency(times: int | None, period: FrequencyPeriod) -> str:
    """The canonical spelling, which :func:`parse_frequency` reads back."""
    if period == FrequencyPeriod.ON_DEMAND:
        return "按需"
    return f"{times}次/{PERIOD_SPELLINGS[period][0]}"


@dataclass(frozen=True)
class NegativeRule:
    code: str
    name: str
    clause: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class NegativeHit:
    rule: NegativeRule
    keyword: str


def negative_list_hits(texts: Iterable[str], rules: Iterable[NegativeRule]) -> list[NegativeHit]:
    """Every negative-list entry whose keywords occur in any of the texts (one hit per entry)."""
    haystack = "\n".join(t for t in texts if t)
    hits = []
    for rule in rules:
        for keyword in rule.keywords:
            if keyword and keyword in haystack:
                hits.append(NegativeHit(rule, keyword))
                break
    return hits


# Field limits shared by the item form and the Excel import.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")
NAME_MAX = 64
TEXT_MAX = 2000
PRICE_MAX_YUAN = 1_000_000
DURATION_MAX_MINUTES = 1440
INDICATORS_MAX = 10
INDICATOR_MAX = 32
LIST_SEPARATORS = re.compile(r"[、，,；;／/\n]+")


def split_list(text) -> list[str]:
    """``"特困供养人员、城乡低保对象"`` → ``["特困供养人员", "城乡低保对象"]`` (any usual separator)."""
    return [part.strip() for part in LIST_SEPARATORS.split(str(text or "")) if part.strip()]


def check_item_code(code: str) -> str:
    """Raises:
        ValueError: not 1–32 letters, digits, '-', '_' or '.', starting with a letter or digit.
    """
    code = (code or "").strip()
    if not CODE_PATTERN.match(code):
        raise ValueError(_("A code is 1 to 32 letters, digits, “-”, “_” or “.”, starting with a letter or digit."))
    return code
