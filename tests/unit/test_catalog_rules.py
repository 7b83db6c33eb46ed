import pytest

from procurement.rules.catalog import (
    FrequencyPeriod,
    NegativeRule,
    Unit,
    check_item_code,
    format_frequency,
    negative_list_hits,
    parse_frequency,
    parse_unit,
    split_list,
)
from procurement.rules.spreadsheet import neutralize, unneutralize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4次/月", (4, FrequencyPeriod.MONTH)),
        ("4 次 / 月", (4, FrequencyPeriod.MONTH)),
        ("1次/周", (1, FrequencyPeriod.WEEK)),
        ("2次/季度", (2, FrequencyPeriod.QUARTER)),
        ("2次/季", (2, FrequencyPeriod.QUARTER)),
        ("1次/年", (1, FrequencyPeriod.YEAR)),
        ("3次/天", (3, FrequencyPeriod.DAY)),
        ("每月4次".replace("每月4次", "4次每月"), (4, FrequencyPeriod.MONTH)),
        ("按需", (None, FrequencyPeriod.ON_DEMAND)),
    ],
)
def test_frequency_is_parsed(text, expected):
    assert parse_frequency(text) == expected


@pytest.mark.parametrize("text", ["", "经常", "0次/月", "4次/小时", "四次/月", "4/"])
def test_bad_frequency_is_refused_with_the_expected_format(text):
    with pytest.raises(ValueError, match="4次/月"):
        parse_frequency(text)


@pytest.mark.parametrize("period", [p for p in FrequencyPeriod])
def test_frequency_round_trips(period):
    times = None if period == FrequencyPeriod.ON_DEMAND else 3
    assert parse_frequency(format_frequency(times, period)) == (times, period)


@pytest.mark.parametrize(
    ("text", "unit"),
    [("次", Unit.VISIT), ("小时", Unit.HOUR), ("人·月", Unit.PERSON_MONTH), ("人月", Unit.PERSON_MONTH),
     ("户", Unit.HOUSEHOLD), ("人次", Unit.PERSON_TIME), ("场", Unit.SESSION), ("项", Unit.PROJECT)],
)
def test_units_are_read_from_chinese(text, unit):
    assert parse_unit(text) == unit


def test_unknown_unit_lists_the_choices():
    with pytest.raises(ValueError) as info:
        parse_unit("箱")
    assert "人·月" in str(info.value)


@pytest.mark.parametrize("code", ["YN-S01-001", "SJ.L.2", "a_1"])
def test_item_codes(code):
    assert check_item_code(code) == code


@pytest.mark.parametrize("code", ["", "-abc", "有中文", "a" * 33, "A B"])
def test_bad_item_codes(code):
    with pytest.raises(ValueError):
        check_item_code(code)


def test_split_list_accepts_the_usual_separators():
    assert split_list("特困供养人员、城乡低保对象;低保边缘家庭，临时救助对象\n支出型困难家庭") == [
        "特困供养人员", "城乡低保对象", "低保边缘家庭", "临时救助对象", "支出型困难家庭"]


RULES = [
    NegativeRule("N01", "审核确认", "102号令 第十条", ("审核确认", "审批")),
    NegativeRule("N02", "资金发放", "102号令 第十条", ("资金发放",)),
]


def test_negative_list_catches_eligibility_decisions_and_payments():
    hits = negative_list_hits(["低保对象审核确认服务", "代为资金发放"], RULES)
    assert [h.rule.code for h in hits] == ["N01", "N02"]
    assert hits[0].keyword == "审核确认"


def test_negative_list_lets_support_work_through():
    assert negative_list_hits(["家计调查", "入户核查家庭收入，为民政部门认定提供依据"], RULES) == []


@pytest.mark.parametrize("text", ["=1+1", "+86", "-2", "@SUM(A1)", "\t=cmd", "\u2212x", "＝1"])
def test_formula_like_text_is_neutralized_and_restored(text):
    safe = neutralize(text)
    assert safe.startswith("'")
    assert unneutralize(safe) == text


@pytest.mark.parametrize("value", ["居家照料", "a=b", 45.0, None, "'plain"])
def test_other_values_pass_unchanged(value):
    assert neutralize(value) == value
    assert unneutralize(value) == value
