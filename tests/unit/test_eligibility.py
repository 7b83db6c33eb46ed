"""Supplier eligibility on an award date (政府采购法 第二十二条、第七十七条; 102号令 第六–八条)."""

from datetime import date

import pytest

from procurement.rules.eligibility import (
    BanFact,
    QualificationFact,
    Severity,
    SupplierFacts,
    is_eligible,
    supplier_problems,
)
from procurement.rules.identifiers import check_uscc, uscc_check_symbol

AWARD = date(2026, 6, 15)


def code(prefix: str = "52", region: str = "530626", serial: str = "MJ0093815") -> str:
    body = f"{prefix}{region}{serial}"
    return body + uscc_check_symbol(body)


REGISTRATION = QualificationFact("民办非企业单位登记证书", date(2021, 6, 1), date(2031, 5, 31))


def facts(**overrides) -> SupplierFacts:
    values = {"credit_code": code(), "org_type": "social_service", "qualifications": (REGISTRATION,), "bans": (),
              "last_grade": None, "active": True}
    values.update(overrides)
    return SupplierFacts(**values)


def codes(problems) -> list[str]:
    return [p.code for p in problems]


def test_a_registered_social_service_organization_with_a_valid_certificate_is_eligible():
    problems = supplier_problems(facts(), AWARD)
    assert problems == []
    assert is_eligible(problems)


@pytest.mark.parametrize(("org_type", "credit_prefix", "expected", "citation"), [
    ("public_institution_1", "12", "public_institution_1", "第八条"),
    ("government", "11", "org_type_not_supplier", "第六条"),
    (None, "52", "org_type_not_supplier", "第六条"),
])
def test_legal_forms_that_may_not_supply_are_refused_with_their_clause(org_type, credit_prefix, expected, citation):
    problems = supplier_problems(facts(org_type=org_type, credit_code=code(credit_prefix)), AWARD)
    problem = next(p for p in problems if p.code == expected)
    assert problem.blocking
    assert "财政部令第102号" in problem.citation and citation in problem.citation
    assert not is_eligible(problems)


@pytest.mark.parametrize("org_type", ["social_group", "social_service", "foundation", "enterprise",
                                      "public_institution_2", "village_collective", "individual"])
def test_every_lawful_supplier_form_passes_the_form_check(org_type):
    prefix = {"social_group": "51", "social_service": "52", "foundation": "53"}.get(org_type, "91")
    assert supplier_problems(facts(org_type=org_type, credit_code=code(prefix)), AWARD) == []


WRONG_CHECK = code()[:-1] + ("1" if code()[-1] != "1" else "2")


@pytest.mark.parametrize("bad", [None, "", "52530626MJ009381", "52530626MJ0093815O", WRONG_CHECK])
def test_a_missing_or_malformed_credit_code_is_refused_with_the_check_message(bad):
    with pytest.raises(ValueError) as raised:
        check_uscc(bad)
    problems = supplier_problems(facts(credit_code=bad), AWARD)
    problem = next(p for p in problems if p.code == "credit_code_invalid")
    assert str(raised.value) in problem.message
    assert "第二十二条" in problem.citation and problem.blocking


@pytest.mark.parametrize(("prefix", "org_type", "mismatch"), [
    ("51", "social_group", False),
    ("52", "social_service", False),
    ("53", "foundation", False),
    ("51", "social_service", True),  # registered as a social group, typed as a social service organization
    ("53", "social_group", True),
    ("52", "foundation", True),
    ("59", "social_group", True),  # "other" civil-affairs registration is none of the three
    ("59", "enterprise", False),
    ("91", "social_service", False),  # not a civil-affairs code: nothing to compare
])
def test_the_civil_affairs_type_character_must_agree_with_the_legal_form(prefix, org_type, mismatch):
    problems = supplier_problems(facts(credit_code=code(prefix), org_type=org_type), AWARD)
    assert ("credit_code_type_mismatch" in codes(problems)) is mismatch


@pytest.mark.parametrize(("starts", "ends", "banned"), [
    (date(2026, 3, 1), date(2027, 2, 28), True),
    (date(2026, 6, 15), date(2027, 6, 14), True),  # the first day is covered
    (date(2025, 6, 16), date(2026, 6, 15), True),  # the last day is covered
    (date(2025, 6, 15), date(2026, 6, 14), False),  # ended the day before
    (date(2026, 6, 16), date(2027, 6, 15), False),  # starts the day after
])
def test_a_ban_covers_both_its_first_and_its_last_day(starts, ends, banned):
    problems = supplier_problems(facts(bans=((starts, ends, "提供虚假材料谋取中标"),)), AWARD)
    assert ("banned" in codes(problems)) is banned
    if banned:
        problem = next(p for p in problems if p.code == "banned")
        assert problem.blocking and "第七十七条" in problem.citation
        assert "提供虚假材料谋取中标" in problem.message


def test_ban_dates_are_written_with_the_callers_format():
    ban = BanFact(date(2026, 3, 1), date(2027, 2, 28), "围标串标")
    problems = supplier_problems(facts(bans=(ban,)), AWARD, format_date=lambda d: f"{d.year}年{d.month}月{d.day}日")
    assert "2026年3月1日" in problems[0].message and "2027年2月28日" in problems[0].message


@pytest.mark.parametrize(("qualifications", "expected"), [
    (((("登记证书", date(2020, 1, 1), date(2026, 6, 14)),)), ["qualification_expired"]),
    (((("登记证书", date(2020, 1, 1), date(2026, 6, 15)),)), []),  # valid through its last day
    (((("登记证书", date(2026, 6, 16), date(2031, 6, 15)),)), ["qualification_not_yet_valid"]),
    (((("登记证书", date(2020, 1, 1), None),)), []),  # no expiry
    (((("登记证书", date(2016, 1, 1), date(2021, 1, 1)), ("登记证书", date(2021, 1, 1), date(2026, 12, 31)))), []),  # renewed
    (((("登记证书", date(2016, 1, 1), date(2021, 1, 1)), ("护理员证", date(2021, 1, 1), date(2026, 1, 1)))),
     ["qualification_expired", "qualification_expired"]),
])
def test_certificates_must_be_valid_on_the_award_date(qualifications, expected):
    problems = supplier_problems(facts(qualifications=qualifications), AWARD)
    assert codes(problems) == expected
    assert all(p.blocking and "第二十二条" in p.citation for p in problems)


def test_an_expired_certificate_names_the_certificate_and_its_end():
    problems = supplier_problems(facts(qualifications=(("护理员证", date(2020, 1, 1), date(2026, 1, 31)),)), AWARD)
    assert "护理员证" in problems[0].message and "2026-01-31" in problems[0].message


@pytest.mark.parametrize(("grade", "warned"), [("差", True), ("fail", True), ("中", False), ("优", False), (None, False)])
def test_a_fail_grade_is_a_warning_not_a_refusal(grade, warned):
    problems = supplier_problems(facts(last_grade=grade), AWARD)
    assert ("last_grade_fail" in codes(problems)) is warned
    assert is_eligible(problems)
    if warned:
        assert problems[0].severity == Severity.WARNING and "42号" in problems[0].citation


def test_no_certificate_on_record_is_a_warning():
    problems = supplier_problems(facts(qualifications=()), AWARD)
    assert codes(problems) == ["no_qualification"]
    assert is_eligible(problems)


def test_a_deactivated_supplier_is_refused():
    problems = supplier_problems(facts(active=False), AWARD)
    assert codes(problems) == ["inactive"] and not is_eligible(problems)


def test_every_problem_is_listed_not_just_the_first():
    problems = supplier_problems(facts(org_type="public_institution_1", credit_code="bad",
                                       bans=((date(2026, 1, 1), date(2027, 1, 1), "x"),),
                                       qualifications=(("登记证书", date(2016, 1, 1), date(2021, 1, 1)),),
                                       last_grade="差"), AWARD)
    assert set(codes(problems)) == {"credit_code_invalid", "public_institution_1", "banned", "qualification_expired",
                                    "last_grade_fail"}


# --- the local rule: a 差 disqualifies for the next year (setting award.fail_disqualifies_next_year) -----------

@pytest.mark.parametrize(
    ("rule_on", "graded_on", "award_on", "code_expected", "eligible"),
    [
        (False, date(2025, 12, 20), date(2026, 6, 15), "last_grade_fail", True),  # off: a warning only
        (True, date(2025, 12, 20), date(2026, 6, 15), "last_grade_fail_disqualified", False),  # the next year
        (True, date(2025, 1, 5), date(2026, 12, 31), "last_grade_fail_disqualified", False),  # to its last day
        (True, date(2026, 3, 1), date(2026, 6, 15), "last_grade_fail_disqualified", False),  # same year, after it
        (True, date(2024, 12, 31), date(2026, 1, 1), "last_grade_fail", True),  # two years on: warned only
        (True, date(2026, 6, 15), date(2026, 6, 15), "last_grade_fail", True),  # not before the award date
        (True, None, date(2026, 6, 15), "last_grade_fail", True),  # no day known: never refused on a guess
    ],
)
def test_fail_grade_refuses_in_the_next_year_only_when_the_local_rule_is_on(rule_on, graded_on, award_on,
                                                                             code_expected, eligible):
    problems = supplier_problems(facts(last_grade="差", last_grade_on=graded_on, fail_disqualifies=rule_on), award_on)
    (problem,) = [p for p in problems if p.code.startswith("last_grade_fail")]
    assert problem.code == code_expected
    assert is_eligible(problems) is eligible
    assert problem.citation


def test_the_refusal_says_when_the_evaluation_was_and_until_when():
    problems = supplier_problems(facts(last_grade="差", last_grade_on=date(2025, 11, 3), fail_disqualifies=True),
                                 date(2026, 2, 1))
    (problem,) = [p for p in problems if p.code == "last_grade_fail_disqualified"]
    assert problem.severity == Severity.REFUSAL
    assert "2025-11-03" in problem.message and "2026" in problem.message
    assert "award.fail_disqualifies_next_year" in problem.citation
    assert problem.detail["until"] == date(2026, 12, 31)


@pytest.mark.parametrize("grade", ["优", "良", "中", None])
def test_the_local_rule_touches_only_a_fail(grade):
    problems = supplier_problems(facts(last_grade=grade, last_grade_on=date(2025, 12, 1), fail_disqualifies=True),
                                 AWARD)
    assert not [p for p in problems if p.code.startswith("last_grade_fail")]
