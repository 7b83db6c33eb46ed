"""Whether a supplier may be awarded a purchase on a given date (DOMAIN §3).

A pure rule: the caller gathers the facts (from the registry, or from a bid) into
:class:`SupplierFacts`; :func:`supplier_problems` lists every reason against the
award, each with its legal source.  A refusal blocks the award; a warning (the
last evaluation was 差) is shown to the officer, who decides and records why.
"""

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from procurement.i18n import gettext as _
from procurement.rules.identifiers import check_uscc, uscc_civil_affairs_type

# Legal sources, quoted as officers cite them.
GPL_22 = "《中华人民共和国政府采购法》第二十二条"
GPL_77 = "《中华人民共和国政府采购法》第七十七条"
ORDER_102_6 = "《政府购买服务管理办法》（财政部令第102号）第六条"
ORDER_102_7 = "《政府购买服务管理办法》（财政部令第102号）第七条"
ORDER_102_8 = "《政府购买服务管理办法》（财政部令第102号）第八条"
GB_32100 = "GB 32100-2015《法人和其他组织统一社会信用代码编码规则》"
EVALUATION_42 = "财综〔2018〕42号（绩效评价结果作为选择承接主体的重要依据）"
LOCAL_FAIL_RULE = "本地规则：绩效评价为“差”的承接主体次年不得承接（系统设置 award.fail_disqualifies_next_year）；" + EVALUATION_42

#: Legal forms that may supply (102号令 第六条); values of ``procurement.orgs.models.OrgType``.
SUPPLIER_ORG_TYPES = frozenset({
    "social_group", "social_service", "foundation", "enterprise", "public_institution_2", "village_collective",
    "individual",
})
#: Legal forms registered by civil affairs, whose credit code starts with "5" and the type digit.
CIVIL_AFFAIRS_ORG_TYPES = frozenset({"social_group", "social_service", "foundation"})
#: The fail grade of DOMAIN §6 (优/良/中/差), and the code an evaluation module may use for it.
FAIL_GRADES = frozenset({"差", "fail"})


class Severity(enum.StrEnum):
    REFUSAL = "refusal"  # the supplier may not be awarded
    WARNING = "warning"  # shown to the officer, who decides


class QualificationFact(NamedTuple):
    name: str
    valid_from: date | None
    valid_until: date | None  # None: does not expire


class BanFact(NamedTuple):
    starts: date
    ends: date  # inclusive
    reason: str


@dataclass(frozen=True)
class SupplierFacts:
    credit_code: str | None
    org_type: str | None
    qualifications: tuple = ()  # of QualificationFact or (name, valid_from, valid_until)
    bans: tuple = ()  # of BanFact or (starts, ends, reason)
    last_grade: str | None = None  # 优 / 良 / 中 / 差 of the last final evaluation, None if never evaluated
    active: bool = True  # deactivated in the registry
    last_grade_on: date | None = None  # the day (Beijing) that last final evaluation was finalized
    fail_disqualifies: bool = False  # the local rule: a 差 disqualifies for the next year (else a warning only)


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    citation: str = ""
    severity: Severity = Severity.REFUSAL
    detail: dict = field(default_factory=dict, compare=False)

    @property
    def blocking(self) -> bool:
        return self.severity == Severity.REFUSAL


def credit_code_problem(credit_code: str | None) -> Problem | None:
    """The credit code is missing or malformed (GB 32100-2015 check symbol)."""
    try:
        check_uscc(credit_code)
    except ValueError as exc:
        return Problem("credit_code_invalid",
                       _("The unified social credit code is not valid: %(reason)s", reason=str(exc)),
                       f"{GPL_22}；{GB_32100}")
    return None


def org_type_problem(org_type: str | None) -> Problem | None:
    """公益一类 institutions and government agencies may not supply (102号令 第六、八条)."""
    if org_type == "public_institution_1":
        return Problem("public_institution_1",
                       _("A public institution of class 1 (公益一类事业单位) may not be a supplier of government-purchased services."),
                       ORDER_102_8)
    if org_type not in SUPPLIER_ORG_TYPES:
        return Problem("org_type_not_supplier",
                       _("Only enterprises, social organizations, class-2 public institutions, village collectives and "
                         "qualified individuals may supply government-purchased services."),
                       ORDER_102_6)
    return None


def civil_affairs_type_problem(credit_code: str | None, org_type: str | None) -> Problem | None:
    """A civil-affairs credit code ("5…") encodes the legal form in its second character; it must agree."""
    code = (credit_code or "").strip().upper()
    if len(code) != 18 or code[0] != "5" or not org_type:
        return None
    encoded = uscc_civil_affairs_type(code)
    if encoded == org_type:
        return None
    if encoded is None and org_type not in CIVIL_AFFAIRS_ORG_TYPES:
        return None
    return Problem("credit_code_type_mismatch",
                   _("The credit code is registered by civil affairs with type character “%(char)s” (1 social group, "
                     "2 social service organization, 3 foundation), which does not match the organization type.",
                     char=code[1]),
                   GB_32100)


def _as_qualification(value) -> QualificationFact:
    return value if isinstance(value, QualificationFact) else QualificationFact(*value)


def _as_ban(value) -> BanFact:
    return value if isinstance(value, BanFact) else BanFact(*value)


DateFormat = Callable[[date], str]


def qualification_problems(qualifications: Iterable, on_date: date, format_date: DateFormat = date.isoformat) -> list[Problem]:
    """Certificates not valid on the date.

    A certificate replaced by a renewed one of the same name that is valid on the date is no problem:
    the registry keeps the old one as history.
    """
    by_name: dict[str, list[QualificationFact]] = {}
    for q in map(_as_qualification, qualifications):
        by_name.setdefault(q.name.strip(), []).append(q)
    problems = []
    for name, certificates in by_name.items():
        if any(_valid_on(q, on_date) for q in certificates):
            continue
        upcoming = [q for q in certificates if q.valid_from is not None and q.valid_from > on_date]
        if upcoming:
            start = min(q.valid_from for q in upcoming)
            problems.append(Problem("qualification_not_yet_valid",
                                    _("The certificate “%(name)s” is valid only from %(start)s.", name=name,
                                      start=format_date(start)),
                                    f"{GPL_22}；{ORDER_102_7}", detail={"name": name, "from": start}))
        else:
            until = max(q.valid_until for q in certificates if q.valid_until is not None)
            problems.append(Problem("qualification_expired",
                                    _("The certificate “%(name)s” expired on %(until)s.", name=name,
                                      until=format_date(until)),
                                    f"{GPL_22}；{ORDER_102_7}", detail={"name": name, "until": until}))
    return problems


def _valid_on(q: QualificationFact, day: date) -> bool:
    return (q.valid_from is None or q.valid_from <= day) and (q.valid_until is None or day <= q.valid_until)


def ban_problems(bans: Iterable, on_date: date, format_date: DateFormat = date.isoformat) -> list[Problem]:
    """Procurement bans (不良行为记录) covering the date, both ends included."""
    problems = []
    for ban in map(_as_ban, bans):
        if ban.starts <= on_date <= ban.ends:
            problems.append(Problem("banned",
                                    _("The supplier is barred from government procurement from %(start)s to %(end)s: %(reason)s",
                                      start=format_date(ban.starts), end=format_date(ban.ends), reason=ban.reason),
                                    f"{GPL_77}；{ORDER_102_7}", detail={"starts": ban.starts, "ends": ban.ends}))
    return problems


def supplier_problems(facts: SupplierFacts, on_date: date, *, format_date: DateFormat = date.isoformat) -> list[Problem]:
    """Every reason the supplier may not (refusal) or should be looked at before it is (warning) awarded on the date.

    ``format_date`` writes dates into the messages (ISO 8601 unless the caller passes the user's format).
    """
    problems = []
    if not facts.active:
        problems.append(Problem("inactive", _("The supplier has been deactivated in the supplier registry.")))
    for problem in (credit_code_problem(facts.credit_code), org_type_problem(facts.org_type),
                    civil_affairs_type_problem(facts.credit_code, facts.org_type)):
        if problem is not None:
            problems.append(problem)
    problems += ban_problems(facts.bans, on_date, format_date)
    problems += qualification_problems(facts.qualifications, on_date, format_date)
    if not facts.qualifications:
        problems.append(Problem("no_qualification",
                                _("No registration certificate or licence is on record; check it before an award."),
                                ORDER_102_7, Severity.WARNING))
    if facts.last_grade is not None and str(facts.last_grade) in FAIL_GRADES:
        problems.append(last_grade_problem(facts, on_date, format_date))
    return problems


def fail_disqualifies_on(graded_on: date | None, on_date: date) -> bool:
    """Whether a 差 finalized on ``graded_on`` disqualifies on ``on_date`` under the local rule.

    Disqualified for the next calendar year: a 差 of year N bars awards up to 31 December of N + 1, and from the
    day after it was finalized within year N itself.
    """
    if graded_on is None:
        return False
    return graded_on < on_date and on_date.year <= graded_on.year + 1


def last_grade_problem(facts: SupplierFacts, on_date: date, format_date: DateFormat = date.isoformat) -> Problem:
    """The last final evaluation was 差: a refusal under the local rule when it is switched on, else a warning."""
    if facts.fail_disqualifies and fail_disqualifies_on(facts.last_grade_on, on_date):
        return Problem("last_grade_fail_disqualified",
                       _("The supplier's last performance evaluation, finalized on %(day)s, was graded 差 (fail): "
                         "under the local rule it may not be awarded until the end of %(year)s.",
                         day=format_date(facts.last_grade_on), year=facts.last_grade_on.year + 1),
                       LOCAL_FAIL_RULE, Severity.REFUSAL,
                       detail={"graded_on": facts.last_grade_on, "until": date(facts.last_grade_on.year + 1, 12, 31)})
    return Problem("last_grade_fail", _("The supplier's last performance evaluation was graded 差 (fail)."),
                   EVALUATION_42, Severity.WARNING)


def is_eligible(problems: Iterable[Problem]) -> bool:
    """No refusal among the problems (warnings do not block)."""
    return not any(p.blocking for p in problems)
