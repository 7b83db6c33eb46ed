"""What an instalment pays after an evaluation, when it is due, overdue interest, and payment checks (DOMAIN §6, §7)."""

from datetime import date
from decimal import Decimal

import pytest

from evaluation.payment import (
    DEFAULT_PAYMENT_BANDS,
    check_payment,
    due_date,
    effect_of,
    overdue_interest,
    payable,
    validate_payment_bands,
)

D = Decimal


@pytest.mark.parametrize(
    ("amount", "grade", "total", "paid", "withheld"),
    [
        ("100000.00", "优", "95.00", "100000.00", "0.00"),
        ("100000.00", "良", "80.00", "100000.00", "0.00"),
        ("100000.00", "中", "78.35", "78350.00", "21650.00"),
        ("100000.00", "中", "60.00", "60000.00", "40000.00"),
        ("100000.00", "中", "79.99", "79990.00", "20010.00"),
        ("33333.33", "中", "78.35", "26116.66", "7216.67"),  # 26116.664055 → down to the fen
        ("12345.67", "中", "65.50", "8086.41", "4259.26"),  # 8086.413… down
        ("10000.01", "中", "70.50", "7050.01", "2950.00"),  # 7050.00705 up to the fen
        ("0.01", "中", "60.00", "0.01", "0.00"),  # 0.006 half-up → 0.01
        ("100000.00", "差", "59.99", "0.00", "100000.00"),
        ("100000.00", "差", None, "0.00", "100000.00"),
        ("50000.00", None, None, "50000.00", "0.00"),  # not conditioned on an evaluation
    ],
)
def test_payable_and_withheld_by_default_bands(amount, grade, total, paid, withheld):
    result = payable(D(amount), grade, D(total) if total else None)
    assert result == (D(paid), D(withheld))
    assert result[0] + result[1] == D(amount)  # the withheld remainder is exact to the fen
    assert all(value == value.quantize(D("0.01")) for value in result)


def test_pro_rata_rounds_half_up_once():
    # 10,000.10 × 60.05 % = 6,005.06005 → 6,005.06
    assert payable(D("10000.10"), "中", D("60.05")) == (D("6005.06"), D("3995.04"))
    # 0.10 × 75.00 % = 0.075 → 0.08 (half-up, not half-even)
    assert payable(D("0.10"), "中", D("75.00")) == (D("0.08"), D("0.02"))


def test_contract_band_rule_overrides_the_default():
    strict = {"优": "full", "良": "pro_rata", "中": "pro_rata", "差": "withhold"}
    assert payable(D("1000.00"), "良", D("85.00"), strict) == (D("850.00"), D("150.00"))
    lenient = dict(DEFAULT_PAYMENT_BANDS, 中="full")
    assert payable(D("1000.00"), "中", D("61.00"), lenient) == (D("1000.00"), D("0.00"))


@pytest.mark.parametrize(
    ("amount", "grade", "total", "bands"),
    [
        ("1000.00", "中", None, None),  # pro rata needs the score
        ("1000.00", "中", "100.01", None),
        ("1000.00", "中", "-1", None),
        ("1000.00", "甲", "90", None),  # not a grade
        ("-1.00", "优", "90", None),
        ("1000.001", "优", "90", None),
        ("1000.00", "优", "95", {"优": "full"}),  # a band rule must cover every grade
        ("1000.00", "优", "95", {"优": "half", "良": "full", "中": "pro_rata", "差": "withhold"}),
    ],
)
def test_payable_refuses_impossible_inputs(amount, grade, total, bands):
    with pytest.raises(ValueError):
        payable(D(amount), grade, D(total) if total else None, bands)


def test_payment_band_rule_validation_names_the_grade():
    assert validate_payment_bands(DEFAULT_PAYMENT_BANDS) == []
    problems = validate_payment_bands({"优": "full", "良": "full", "中": "half", "甲": "full"})
    assert [grade for grade, _message in problems] == ["中", "差", "甲"]
    assert all(message for _grade, message in problems)
    assert validate_payment_bands(None)
    assert effect_of("中") == "pro_rata"


@pytest.mark.parametrize(
    ("met_on", "days", "due"),
    [
        (date(2026, 11, 2), 30, date(2026, 12, 2)),
        (date(2026, 1, 31), 30, date(2026, 3, 2)),  # across a short February
        (date(2024, 1, 31), 30, date(2024, 3, 1)),  # leap year
        (date(2026, 12, 15), 30, date(2027, 1, 14)),  # across the year end
        (date(2026, 11, 2), 60, date(2027, 1, 1)),  # the longest a contract may set; a holiday is not skipped
        (date(2026, 9, 1), 30, date(2026, 10, 1)),  # National Day: calendar days, not moved
        (date(2026, 11, 2), 1, date(2026, 11, 3)),
    ],
)
def test_due_date_counts_calendar_days(met_on, days, due):
    assert due_date(met_on, days) == due


def test_due_date_defaults_to_30_days():
    assert due_date(date(2026, 11, 2)) == date(2026, 12, 2)


@pytest.mark.parametrize("days", [61, 90, 0, -1])
def test_due_date_refuses_more_than_60_days_or_none(days):
    with pytest.raises(ValueError):
        due_date(date(2026, 11, 2), days)


@pytest.mark.parametrize(
    ("amount", "due", "paid", "rate", "interest"),
    [
        ("10000.00", date(2026, 12, 2), date(2026, 12, 12), None, "50.00"),  # 10 days × 0.05 %
        ("10000.00", date(2026, 12, 2), date(2026, 12, 3), None, "5.00"),
        ("10000.00", date(2026, 12, 2), date(2026, 12, 2), None, "0.00"),  # paid on the due date
        ("10000.00", date(2026, 12, 2), date(2026, 11, 20), None, "0.00"),  # paid early
        ("12345.67", date(2026, 12, 2), date(2026, 12, 9), None, "43.21"),  # 43.209845 → 43.21
        ("333.33", date(2026, 12, 2), date(2026, 12, 5), None, "0.50"),  # 0.499995 → 0.50
        ("100.00", date(2026, 12, 2), date(2026, 12, 3), None, "0.05"),
        ("10.00", date(2026, 12, 2), date(2026, 12, 3), None, "0.01"),  # 0.005 half-up
        ("10000.00", date(2026, 12, 31), date(2027, 1, 10), None, "50.00"),  # across the year end
        ("10000.00", date(2026, 12, 2), date(2026, 12, 12), "0.03", "30.00"),  # the contract's own rate
        ("10000.00", date(2026, 12, 2), date(2026, 12, 12), "0", "0.00"),
    ],
)
def test_overdue_interest(amount, due, paid, rate, interest):
    args = (D(amount), due, paid) + ((D(rate),) if rate is not None else ())
    assert overdue_interest(*args) == D(interest)


def test_overdue_interest_refuses_negative_rate_or_amount():
    with pytest.raises(ValueError):
        overdue_interest(D("100.00"), date(2026, 1, 1), date(2026, 2, 1), D("-0.05"))
    with pytest.raises(ValueError):
        overdue_interest(D("-100.00"), date(2026, 1, 1), date(2026, 2, 1))


def _check(amount, payable_amount="78350.00", paid_instalment="0", contract="300000.00", paid_contract="0"):
    return check_payment(amount if not isinstance(amount, str) else D(amount), D(payable_amount),
                         D(paid_instalment), D(contract), D(paid_contract))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"amount": "78350.00"},  # exactly the payable amount
        {"amount": "0.01"},
        {"amount": "350.00", "paid_instalment": "78000.00"},  # the rest of the instalment
        {"amount": "50000.00", "paid_contract": "250000.00"},  # reaches the contract amount exactly
    ],
)
def test_acceptable_payments(kwargs):
    assert _check(**kwargs) == []


@pytest.mark.parametrize(
    ("kwargs", "count"),
    [
        ({"amount": "0"}, 1),
        ({"amount": "-5.00"}, 1),
        ({"amount": "78350.01"}, 1),  # one fen above what the grade makes payable
        ({"amount": "350.01", "paid_instalment": "78000.00"}, 1),
        ({"amount": "1.00", "paid_instalment": "78350.00"}, 1),  # the instalment is paid already
        ({"amount": "50000.01", "paid_contract": "250000.00"}, 1),  # the contract total would be exceeded
        ({"amount": "78350.01", "paid_contract": "250000.00"}, 2),  # both
        ({"amount": "10.001"}, 1),  # a third decimal
    ],
)
def test_refused_payments_name_the_amount_field(kwargs, count):
    problems = _check(**kwargs)
    assert len(problems) == count
    assert {field for field, _message in problems} == {"amount"}
    assert all(message.strip() for _field, message in problems)


@pytest.mark.parametrize("amount", ["abc", None, 1.5])
def test_unparseable_payment_is_a_message_not_an_exception(amount):
    problems = check_payment(amount, D("100.00"), D("0"), D("1000.00"), D("0"))
    assert [field for field, _message in problems] == ["amount"]


def test_payment_message_shows_what_remains():
    (problem,) = _check("400.00", paid_instalment="78000.00")
    assert "350.00" in problem[1]
