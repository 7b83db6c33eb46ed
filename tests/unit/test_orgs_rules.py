"""Pure rules of the registry: GB/T 2260 region codes, contact data, ban periods, certificate states."""

from datetime import date

import pytest

from procurement.orgs.rules import (
    CertificateState,
    add_years,
    ancestor_paths,
    ban_period_problem,
    certificate_state,
    check_bank_account_no,
    check_email,
    check_phone,
    mask_account,
    period_problem,
    region_code_problem,
    region_path,
)


@pytest.mark.parametrize(("code", "level", "parent_code", "parent_level"), [
    ("530000", "province", None, None),
    ("110000", "province", None, None),
    ("530600", "prefecture", "530000", "province"),
    ("532300", "prefecture", "530000", "province"),
    ("530626", "county", "530600", "prefecture"),
    ("530102", "county", "530100", "prefecture"),
    ("532601", "county", "532600", "prefecture"),
])
def test_valid_region_codes_are_accepted(code, level, parent_code, parent_level):
    assert region_code_problem(code, level, parent_code, parent_level) is None


@pytest.mark.parametrize(("code", "level", "parent_code", "parent_level", "field"), [
    ("53062", "county", "530600", "prefecture", "code"),  # 5 digits
    ("5306260", "county", "530600", "prefecture", "code"),  # 7 digits
    ("53O626", "county", "530600", "prefecture", "code"),  # letter O
    ("５３０６２６", "county", "530600", "prefecture", "code"),  # full-width digits
    ("530100", "province", None, None, "code"),  # a province ends in 0000
    ("530000", "province", "530000", "province", "parent"),  # a province has no parent
    ("520600", "prefecture", "530000", "province", "code"),  # not the province's first 2 digits
    ("530601", "prefecture", "530000", "province", "code"),  # a prefecture ends in 00
    ("530000", "prefecture", "530000", "province", "code"),  # digits 3-4 of a prefecture are not 00
    ("530726", "county", "530600", "prefecture", "code"),  # not the prefecture's first 4 digits
    ("530600", "county", "530600", "prefecture", "code"),  # a county does not end in 00
    ("530626", "county", "530000", "province", "parent"),  # a county directly under a province
    ("530600", "prefecture", "530100", "prefecture", "parent"),  # same level as the parent
    ("530626", "county", None, None, "parent"),  # no parent
    ("530626", "town", "530600", "prefecture", "level"),
])
def test_region_codes_that_break_gbt_2260_are_refused_on_the_right_field(code, level, parent_code, parent_level, field):
    problem = region_code_problem(code, level, parent_code, parent_level)
    assert problem is not None and problem[0] == field and problem[1]


def test_paths_make_subtree_queries_one_prefix():
    assert region_path("530626", "/530000/530600/") == "/530000/530600/530626/"
    assert region_path("530000", None) == "/530000/"
    assert ancestor_paths("/530000/530600/530626/") == ["/530000/", "/530000/530600/", "/530000/530600/530626/"]


@pytest.mark.parametrize(("raw", "normalized"), [
    ("13800000000", "13800000000"),
    ("138 0000 0000", "13800000000"),
    ("+8613987001234", "+8613987001234"),
    ("0871-63131000", "0871-63131000"),
    ("087163131000", "087163131000"),
    ("(0871)63131000", "(0871)63131000"),
    ("010-62345678-801", "010-62345678-801"),
    ("０８７０－７６２１０１２", "0870-7621012"),
    ("400-810-8888", "400-810-8888"),
])
def test_chinese_mobile_and_landline_numbers_are_accepted(raw, normalized):
    assert check_phone(raw) == normalized


@pytest.mark.parametrize("raw", ["12345", "23800000000", "1380000000", "138000000001", "63131000", "0871-1234567",
                                 "phone", "0871-63131000-"])
def test_other_phone_numbers_are_refused(raw):
    with pytest.raises(ValueError):
        check_phone(raw)


@pytest.mark.parametrize(("raw", "ok"), [("a@b.cn", True), ("li.ming@mz.yn.gov.cn", True), ("a@b", False),
                                         ("a b@c.cn", False), ("@c.cn", False)])
def test_email_shape(raw, ok):
    if ok:
        assert check_email(raw) == raw
    else:
        with pytest.raises(ValueError):
            check_email(raw)


@pytest.mark.parametrize(("raw", "expected"), [("24236001", "24236001"), ("6222 0212 3456 7890 123", "6222021234567890123"),
                                               ("2423-6001-3643-5681", "2423600136435681"), ("1" * 30, "1" * 30)])
def test_bank_account_numbers_of_8_to_30_digits_are_accepted(raw, expected):
    assert check_bank_account_no(raw) == expected


@pytest.mark.parametrize("raw", ["1234567", "1" * 31, "6222O21234567890", "６２２２０２１２３４５６"])
def test_other_bank_account_numbers_are_refused(raw):
    with pytest.raises(ValueError):
        check_bank_account_no(raw)


def test_account_numbers_are_masked_to_the_last_four_digits():
    assert mask_account("2423600136435681") == "****5681"
    assert mask_account("") == ""


@pytest.mark.parametrize(("starts", "ends", "problem"), [
    (date(2026, 3, 1), date(2027, 2, 28), None),  # exactly one year
    (date(2026, 3, 1), date(2029, 2, 28), None),  # exactly three years
    (date(2026, 3, 1), date(2029, 3, 1), None),  # three years counted as the Civil Code counts (to the corresponding day)
    (date(2026, 3, 1), date(2029, 3, 2), "max"),  # longer than three years
    (date(2026, 3, 1), date(2027, 2, 27), "min"),  # one day less than a year
    (date(2028, 2, 29), date(2031, 2, 28), None),  # from a leap day: the month's last day
    (date(2028, 2, 29), date(2031, 3, 1), "max"),
    (date(2026, 3, 1), date(2026, 2, 28), "order"),
])
def test_a_ban_lasts_one_to_three_years_both_ends_included(starts, ends, problem):
    result = ban_period_problem(starts, ends)
    if problem is None:
        assert result is None
    else:
        assert result is not None and result[0] == "ends_on"
        if problem in ("max", "min"):
            assert "第七十七条" in result[1]


def test_add_years_handles_29_february():
    assert add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert add_years(date(2026, 3, 1), 3) == date(2029, 3, 1)


TODAY = date(2026, 6, 15)


@pytest.mark.parametrize(("valid_from", "valid_until", "state"), [
    (date(2020, 1, 1), None, CertificateState.VALID),
    (date(2020, 1, 1), date(2026, 7, 16), CertificateState.VALID),
    (date(2020, 1, 1), date(2026, 7, 15), CertificateState.EXPIRING),  # 30 days ahead
    (date(2020, 1, 1), date(2026, 6, 15), CertificateState.EXPIRING),  # last day today
    (date(2020, 1, 1), date(2026, 6, 14), CertificateState.EXPIRED),
    (date(2026, 6, 16), date(2031, 6, 15), CertificateState.NOT_YET_VALID),
    (None, date(2026, 6, 14), CertificateState.EXPIRED),
])
def test_certificate_state_today(valid_from, valid_until, state):
    assert certificate_state(valid_from, valid_until, TODAY) == state


def test_validity_cannot_end_before_it_starts():
    assert period_problem(date(2026, 1, 2), date(2026, 1, 1))
    assert period_problem(date(2026, 1, 1), date(2026, 1, 1)) is None
    assert period_problem(None, date(2026, 1, 1)) is None
