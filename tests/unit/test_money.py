"""Capital numerals (大写金额) and instalments that add up to the fen."""

from decimal import Decimal

import pytest

from procurement.rules.money import split_by_percent, to_capital, to_fen

D = Decimal


@pytest.mark.parametrize(
    ("amount", "capital"),
    [
        ("1350.00", "人民币壹仟叁佰伍拾元整"),  # the examples of the issue
        ("1001.00", "人民币壹仟零壹元整"),
        ("1350.05", "人民币壹仟叁佰伍拾元零伍分"),
        ("0.00", "人民币零元整"),
        ("0.05", "人民币伍分"),
        ("0.50", "人民币伍角整"),
        ("0.55", "人民币伍角伍分"),
        ("1.00", "人民币壹元整"),
        ("10.00", "人民币壹拾元整"),  # 壹拾, never a bare 拾
        ("15.00", "人民币壹拾伍元整"),
        ("100.00", "人民币壹佰元整"),
        ("101.00", "人民币壹佰零壹元整"),
        ("110.00", "人民币壹佰壹拾元整"),
        ("1010.00", "人民币壹仟零壹拾元整"),
        ("1100.00", "人民币壹仟壹佰元整"),
        ("10001.00", "人民币壹万零壹元整"),
        ("10010.00", "人民币壹万零壹拾元整"),
        ("10100.00", "人民币壹万零壹佰元整"),
        ("11000.00", "人民币壹万壹仟元整"),
        ("100000.00", "人民币壹拾万元整"),
        ("107000.53", "人民币壹拾万柒仟元零伍角叁分"),  # the standard's own examples
        ("1680.32", "人民币壹仟陆佰捌拾元零叁角贰分"),
        ("1000001.00", "人民币壹佰万零壹元整"),
        ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),  # 角 zero before a 分: 零
        ("325.04", "人民币叁佰贰拾伍元零肆分"),
        ("2000000.00", "人民币贰佰万元整"),
        ("10000000.00", "人民币壹仟万元整"),
        ("100000000.00", "人民币壹亿元整"),
        ("100010000.00", "人民币壹亿零壹万元整"),
        ("100000001.00", "人民币壹亿零壹元整"),
        ("123456789.12", "人民币壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
        ("1000000000.10", "人民币壹拾亿元零壹角整"),
        ("909090.90", "人民币玖拾万玖仟零玖拾元零玖角整"),
        ("1681.32", "人民币壹仟陆佰捌拾壹元叁角贰分"),
        ("480000.00", "人民币肆拾捌万元整"),
        ("3020.00", "人民币叁仟零贰拾元整"),
    ],
)
def test_capital_numerals(amount, capital):
    assert to_capital(D(amount)) == capital


@pytest.mark.parametrize("amount", ["-1.00", "1.005", "NaN", "Infinity"])
def test_impossible_amounts_are_refused(amount):
    with pytest.raises(ValueError):
        to_capital(D(amount))


def test_rounding_is_half_up_at_the_fen():
    assert to_fen(D("0.005")) == D("0.01") and to_fen(D("0.0049")) == D("0.00") and to_fen(D("2.675")) == D("2.68")


@pytest.mark.parametrize(
    ("total", "percents", "amounts"),
    [
        ("1000000.00", [30, 40, 30], ["300000.00", "400000.00", "300000.00"]),
        ("100.00", ["33.33", "33.33", "33.34"], ["33.33", "33.33", "33.34"]),
        ("100.01", [50, 50], ["50.01", "50.00"]),  # half-up on the first, the last takes the rest
        ("0.03", ["33.33", "33.33", "33.34"], ["0.01", "0.01", "0.01"]),
        ("2160000.00", [30, 40, 30], ["648000.00", "864000.00", "648000.00"]),
        ("999.99", [100], ["999.99"]),
    ],
)
def test_instalments_add_up_to_the_total_to_the_fen(total, percents, amounts):
    result = split_by_percent(D(total), percents)
    assert result == [D(a) for a in amounts]
    assert sum(result) == D(total)


@pytest.mark.parametrize("percents", [[30, 40, 29], [50, 50.5], [], [100, 0], [120, -20]])
def test_instalments_must_make_exactly_one_hundred_percent(percents):
    with pytest.raises(ValueError):
        split_by_percent(D("1000.00"), [D(str(p)) for p in percents])
