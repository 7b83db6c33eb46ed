"""Grades, panel consolidation, rate bands and totals of a performance evaluation (DOMAIN §6)."""

from decimal import Decimal

import pytest

from evaluation.scoring import (
    DEFAULT_BANDS,
    band_points,
    band_share,
    bands_to_json,
    consolidate,
    consolidate_points,
    grade,
    rate_percent,
    total_of,
    validate_bands,
)

D = Decimal


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        ("0", "差"),
        ("0.00", "差"),
        ("59.99", "差"),
        ("60", "中"),
        ("60.00", "中"),
        ("60.01", "中"),
        ("79.99", "中"),
        ("80", "良"),
        ("80.00", "良"),
        ("89.99", "良"),
        ("90", "优"),
        ("90.00", "优"),
        ("99.99", "优"),
        ("100", "优"),
        ("100.00", "优"),
    ],
)
def test_grade_at_and_around_every_boundary(total, expected):
    assert grade(D(total)) == expected


@pytest.mark.parametrize("total", ["-0.01", "100.01", "150", "-5"])
def test_grade_refuses_a_total_outside_0_to_100(total):
    with pytest.raises(ValueError):
        grade(D(total))


@pytest.mark.parametrize("total", [89.99, float("nan")])
def test_grade_refuses_floats(total):
    with pytest.raises(TypeError):
        grade(total)


def test_grade_refuses_nan_decimal():
    with pytest.raises(ValueError):
        grade(D("NaN"))


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        (["87.50"], "87.50"),  # one evaluator: their total
        (["80.00", "90.00"], "85.00"),
        (["80.00", "80.01"], "80.01"),  # mean 80.005: half-up, not banker's rounding
        (["80.00", "80.03"], "80.02"),  # mean 80.015 → 80.02
        (["70.00", "80.00", "90.00"], "80.00"),
        (["80.00", "80.00", "80.01"], "80.00"),  # mean 80.00333…
        (["80.00", "80.01", "80.01"], "80.01"),  # mean 80.00666…
        (["60.00", "70.00", "80.00", "91.00"], "75.25"),  # four: still no trimming
        (["59.99", "90.00", "90.00", "90.00"], "82.50"),  # mean 82.4975 → 82.50
        # five evaluators: the highest (100) and the lowest (40) are dropped → mean of 80, 85, 90
        (["40.00", "80.00", "85.00", "90.00", "100.00"], "85.00"),
        (["85.00", "40.00", "100.00", "90.00", "80.00"], "85.00"),  # order does not matter
        # six: drop 50 and 99 → (70 + 80 + 80.01 + 90) / 4 = 80.0025 → 80.00
        (["50.00", "70.00", "80.00", "80.01", "90.00", "99.00"], "80.00"),
        # six: drop one of the two lowest and one of the two highest only
        (["60.00", "60.00", "75.00", "76.00", "95.00", "95.00"], "76.50"),
        # six with a mean of x.xx5 after trimming: (81.00 + 81.01 + 81.01 + 81.00) / 4 = 81.005 → 81.01
        (["10.00", "81.00", "81.01", "81.01", "81.00", "100.00"], "81.01"),
    ],
)
def test_consolidate_mean_and_trimmed_mean(totals, expected):
    assert consolidate([D(value) for value in totals]) == D(expected)


def test_consolidate_rounds_once_not_per_step():
    # 3 evaluators: 80.004 + 80.004 + 80.007 = 240.015 / 3 = 80.005 → 80.01 (rounding each first would give 80.00)
    assert consolidate([D("80.004"), D("80.004"), D("80.007")]) == D("80.01")


def test_trimming_threshold_is_configurable():
    values = [D("40"), D("80"), D("90")]
    assert consolidate(values, trim_from=3) == D("80.00")
    assert consolidate(values, trim_from=None) == D("70.00")
    five = [D("40"), D("80"), D("85"), D("90"), D("100")]
    assert consolidate(five, trim_from=6) == D("79.00")


@pytest.mark.parametrize("trim_from", [0, 1, 2, True])
def test_trimming_needs_three_evaluators_at_least(trim_from):
    with pytest.raises(ValueError):
        consolidate([D("80"), D("90"), D("70")], trim_from=trim_from)


@pytest.mark.parametrize("totals", [[], [D("-1")], [D("100.01")]])
def test_consolidate_refuses_nothing_or_impossible_totals(totals):
    with pytest.raises(ValueError):
        consolidate(totals)


def test_consolidate_points_of_one_indicator():
    assert consolidate_points([D("3"), D("4"), D("4")]) == D("3.67")
    assert consolidate_points([D("1"), D("2"), D("3"), D("4"), D("5")]) == D("3.00")
    assert consolidate_points([D("0.50"), D("0.51")]) == D("0.51")  # 0.505 half-up


@pytest.mark.parametrize(
    ("rate", "share"),
    [
        ("0", "0"),
        ("59.99", "0"),
        ("60", "1/3"),
        ("60.00", "1/3"),
        ("79.99", "1/3"),
        ("80", "2/3"),
        ("99.99", "2/3"),
        ("99.9999", "2/3"),  # rates are not rounded up into the next band
        ("100", "1"),
        ("100.00", "1"),
        ("120", "1"),
    ],
)
def test_default_bands_at_every_boundary(rate, share):
    numerator, _slash, denominator = share.partition("/")
    expected = D(numerator) / D(denominator or "1")
    assert band_share(D(rate)) == expected


@pytest.mark.parametrize(
    ("max_points", "rate", "points"),
    [
        ("12", "59.99", "0.00"),
        ("12", "60", "4.00"),
        ("12", "79.99", "4.00"),
        ("12", "80", "8.00"),
        ("12", "99.99", "8.00"),
        ("12", "100", "12.00"),
        ("12", "120", "12.00"),
        ("10", "80", "6.67"),  # 6.666… half-up
        ("10", "60", "3.33"),
        ("7", "80", "4.67"),
        ("7", "60", "2.33"),
        ("8", "85.5", "5.33"),
        ("2.50", "90", "1.67"),
    ],
)
def test_band_points_rounded_half_up(max_points, rate, points):
    assert band_points(D(max_points), D(rate)) == D(points)


def test_band_points_with_stored_json_bands_agree_with_the_defaults():
    stored = [["100", "1"], ["80", "0.6667"], ["60", "0.3333"]]  # the form shown in evaluation.models
    for max_points in ("6", "7", "8", "10", "12", "15"):
        for rate in ("59.99", "60", "80", "100"):
            assert band_points(D(max_points), D(rate), stored) == band_points(D(max_points), D(rate))


def test_custom_bands():
    bands = [(D(95), D(1)), (D(90), D("0.8")), (D(0), D("0.5"))]
    assert band_share(D("96"), bands) == D(1)
    assert band_share(D("94.99"), bands) == D("0.8")
    assert band_share(D("0"), bands) == D("0.5")
    assert band_points(D("10"), D("91"), bands) == D("8.00")


@pytest.mark.parametrize(
    "bands",
    [
        [],
        [(D(80), D("0.5")), (D(100), D(1))],  # ascending
        [(D(100), D(1)), (D(100), D("0.5"))],  # not strictly descending
        [(D(100), D("1.5"))],  # share above 1
        [(D(100), D("-0.1"))],  # negative share
        [(D(-1), D(1))],  # negative threshold
        [(D(100), D("0.5")), (D(80), D(1))],  # a lower rate earning more
        [("100",)],  # not a pair
        [("abc", "1")],
        [("100", "1/0")],
    ],
)
def test_invalid_bands_are_refused(bands):
    with pytest.raises((ValueError, TypeError)):
        validate_bands(bands)
    if bands:  # no bands at all means the default ones
        with pytest.raises((ValueError, TypeError)):
            band_share(D("90"), bands)


@pytest.mark.parametrize("bands", [None, []])
def test_no_bands_means_the_default_bands(bands):
    assert band_points(D("12"), D("80"), bands) == D("8.00")


def test_negative_rate_is_refused():
    with pytest.raises(ValueError):
        band_share(D("-1"))


def test_bands_round_trip_through_json():
    stored = bands_to_json(DEFAULT_BANDS)
    assert stored == [["100", "1"], ["80", "2/3"], ["60", "1/3"]]
    assert validate_bands(stored) == list(DEFAULT_BANDS)
    assert bands_to_json([(D(90), D("0.75"))]) == [["90", "0.75"]]


@pytest.mark.parametrize(
    ("numerator", "denominator", "rate"),
    [
        (120, 120, "100.0000"),
        (96, 120, "80.0000"),
        (119, 120, "99.1667"),
        (1, 3, "33.3333"),
        (0, 10, "0.0000"),
        (150, 120, "125.0000"),
    ],
)
def test_rate_percent(numerator, denominator, rate):
    assert rate_percent(numerator, denominator).quantize(D("0.0001")) == D(rate)


def test_rate_just_below_100_is_not_rounded_into_full_points():
    rate = rate_percent(19999, 20000)  # 99.995 %
    assert rate < 100
    assert band_share(rate) == D(2) / D(3)


def test_rate_of_nothing_due_is_none():
    assert rate_percent(0, 0) is None


def test_total_of_leaves():
    assert total_of({"1.1.1": D("3"), "1.1.2": D("1.50"), "3.2.1": D("8.00")}) == D("12.50")
    assert total_of({"a": D("33.333"), "b": D("33.333"), "c": D("33.339")}) == D("100.01")  # 100.005 half-up
    assert total_of({}) == D("0.00")


@pytest.mark.parametrize("points", [{"1": None}, {"1": D("-1")}, {"1": 1.5}])
def test_total_of_refuses_missing_or_bad_points(points):
    with pytest.raises((ValueError, TypeError)):
        total_of(points)
