"""Check digits of credit codes (GB 32100-2015) and citizen ID numbers (GB 11643-1999)."""

import re
from datetime import date

import pytest

from procurement.rules.identifiers import (
    USCC_CHARSET,
    check_citizen_id,
    check_uscc,
    mask_citizen_id,
    uscc_check_symbol,
    uscc_civil_affairs_type,
)

CJK = re.compile(r"[\u4e00-\u9fff]")

# Published codes of real organizations and the example used in GB 32100 explanations.
VALID_USCC = [
    "91350100M000100Y43",
    "914403001922038216",
    "91330100716105852F",
    "9144030071526726XG",
]


@pytest.mark.parametrize("code", VALID_USCC)
def test_valid_credit_codes_are_accepted(code):
    assert check_uscc(code) == code


@pytest.mark.parametrize("code", VALID_USCC)
def test_every_single_symbol_mutation_is_caught(code):
    """Changing any one of the 18 symbols to any other symbol breaks the check."""
    for position in range(18):
        for symbol in USCC_CHARSET:
            if symbol == code[position]:
                continue
            mutated = code[:position] + symbol + code[position + 1:]
            if position in range(2, 8) and not symbol.isdigit():
                continue  # region code must be digits: refused for another reason, covered below
            with pytest.raises(ValueError):
                check_uscc(mutated)


def test_adjacent_transpositions_are_caught():
    code = VALID_USCC[1]
    for i in range(17):
        if code[i] == code[i + 1]:
            continue
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
        with pytest.raises(ValueError):
            check_uscc(swapped)


def test_lower_case_and_spaces_are_normalized():
    assert check_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert check_uscc("9135 0100 M000 100Y 43") == "91350100M000100Y43"
    assert check_uscc("91350100M000100Y43\u3000") == "91350100M000100Y43"


def test_check_symbol_weights_follow_the_standard():
    # weights 3^(i-1) mod 31 for positions 1..17, as listed in DOMAIN §8
    from procurement.rules.identifiers import USCC_WEIGHTS

    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert uscc_check_symbol("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("", "统一社会信用代码"),
        ("91350100M000100Y4", "18"),
        ("91350100M000100Y433", "18"),
        ("91350100M000100I43", "I"),
        ("91350100M000100O43", "O"),
        ("9135010#M000100Y43", "#"),
        ("91AB0100M000100Y43", "3"),
        ("91350100M000100Y44", "3"),  # names the expected check symbol
    ],
)
def test_bad_credit_codes_get_a_chinese_message(code, fragment):
    with pytest.raises(ValueError) as info:
        check_uscc(code)
    message = str(info.value)
    assert CJK.search(message), message
    assert fragment in message


def test_civil_affairs_entity_type_is_read_from_the_second_symbol():
    assert uscc_civil_affairs_type("52530626MJ0093815X") == "social_service"
    assert uscc_civil_affairs_type("51530000MJ0012484X") == "social_group"
    assert uscc_civil_affairs_type("53530000MJ0034571X") == "foundation"
    assert uscc_civil_affairs_type("914403001922038216") is None


def test_the_standards_own_citizen_id_example_is_valid():
    assert check_citizen_id("11010519491231002X") == "11010519491231002X"


def test_citizen_id_x_is_normalized_and_spaces_stripped():
    assert check_citizen_id("11010519491231002x") == "11010519491231002X"
    assert check_citizen_id(" 110105 19491231 002X ") == "11010519491231002X"


def test_every_digit_mutation_of_a_citizen_id_is_caught():
    number = "11010519491231002X"
    for position in range(17):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            mutated = number[:position] + digit + number[position + 1:]
            with pytest.raises(ValueError):
                check_citizen_id(mutated)


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("", "身份证"),
        ("1101051949123100", "18"),
        ("11010519491231002A", "X"),
        ("110105194902300028", "出生日期"),  # 30 February
        ("110105194913310028", "出生日期"),  # month 13
        ("110105194912310021", "X"),  # wrong check, names the right one
    ],
)
def test_bad_citizen_ids_get_a_chinese_message(number, fragment):
    with pytest.raises(ValueError) as info:
        check_citizen_id(number)
    message = str(info.value)
    assert CJK.search(message), message
    assert fragment in message


def _with_check(first17):
    from procurement.rules.identifiers import cid_check_char

    return first17 + cid_check_char(first17)


def test_birth_date_in_the_future_is_refused():
    tomorrow_born = _with_check("53062620261130001")
    with pytest.raises(ValueError, match="出生日期"):
        check_citizen_id(tomorrow_born, today=date(2026, 11, 29))
    assert check_citizen_id(tomorrow_born, today=date(2026, 11, 30)) == tomorrow_born


def test_masking_shows_first_six_and_last_four():
    assert mask_citizen_id("53062619800101123X") == "530626********123X"
