import pytest

from procurement.rules.passwords import PasswordPolicy, common_passwords, password_problems

POLICY = PasswordPolicy(min_length=8, min_classes=3)


@pytest.mark.parametrize("password", ["Yunnan#Care2026", "绥江Sj-2026x", "Tr0ub4dor&3x"])
def test_good_passwords_pass(password):
    assert password_problems(password, POLICY) == []


@pytest.mark.parametrize(
    ("password", "expected_problems"),
    [
        ("Ab1!", 1),  # too short
        ("abcdefghij", 1),  # one kind of character
        ("abcdefgh12", 1),  # two kinds
        ("Password1!", 1),  # on the common list once the trailing symbol is ignored
        ("P@ssw0rd", 1),  # common
        ("ab", 2),  # short and one kind
    ],
)
def test_bad_passwords_are_refused_with_each_reason(password, expected_problems):
    problems = password_problems(password, POLICY)
    assert len(problems) == expected_problems, problems


def test_common_list_is_substantial_and_includes_chinese_favourites():
    words = common_passwords()
    assert len(words) > 1000
    for common in ("123456", "woaini1314", "qq123456", "1qaz2wsx", "admin@123"):
        assert common in words


def test_password_containing_the_user_name_is_refused():
    assert password_problems("Lihua-2026!x", POLICY, username="lihua")
    assert not password_problems("Lihua-2026!x", POLICY, username="wangfang")


def test_policy_length_is_configurable():
    assert password_problems("Ab1!efgh", PasswordPolicy(min_length=12, min_classes=3))
    assert not password_problems("Ab1!efghijkl", PasswordPolicy(min_length=12, min_classes=3))
