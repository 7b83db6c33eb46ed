"""The server-side SVG chart description (procurement/charts.py): round ticks, scales, edge cases."""

from decimal import Decimal

from procurement.charts import Series, format_number, nice_ticks, trend_chart

MONTHS = [("2026-03-01", "3月"), ("2026-04-01", "4月"), ("2026-05-01", "5月")]


def test_ticks_are_round_numbers_covering_the_highest_value():
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(100) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(Decimal("0.5")) == [0, 1]  # never a step below 1
    assert nice_ticks(0) == [0, 1] and nice_ticks(None) == [0, 1]
    ticks = nice_ticks(123456)
    step = ticks[1] - ticks[0]
    assert ticks[-1] >= 123456 and step == 50000 and all(b - a == step for a, b in zip(ticks, ticks[1:], strict=False))


def test_bars_scale_to_the_plot_and_stack():
    chart = trend_chart("t", MONTHS, [Series("a", [10, 0, 20], "chart-bar-accepted"),
                                      Series("p", [0, 5, Decimal("2.5")], "chart-bar-pending")])
    left, top, right, bottom = chart.plot
    assert len(chart.labels) == 3 and [label for _x, label, _k in chart.labels] == ["3月", "4月", "5月"]
    assert len(chart.bars) == 6
    assert all(top - 0.01 <= bar.y and bar.y + bar.height <= bottom + 0.01 for bar in chart.bars)
    accepted_may, pending_may = chart.bars[4], chart.bars[5]
    assert accepted_may.value == 20 and pending_may.value == Decimal("2.5")
    assert abs(pending_may.y + pending_may.height - accepted_may.y) < 0.01  # stacked on top
    assert chart.bars[2].height == 0  # nothing accepted in April
    assert chart.ticks[0].value == 0 and chart.ticks[-1].value >= Decimal("22.5")
    assert chart.ticks[-1].y == top and chart.ticks[0].y == bottom
    assert chart.labels[0][0] < chart.labels[1][0] < chart.labels[2][0] < right


def test_empty_series_give_an_empty_chart_not_an_error():
    chart = trend_chart("t", [], [Series("a", [], "chart-bar-accepted")], Series("s", [], "chart-line-served"))
    assert chart.empty and chart.bars == [] and chart.points == [] and chart.polyline == ""
    assert len(chart.legend) == 2


def test_one_month_and_a_line():
    chart = trend_chart("t", MONTHS[:1], [Series("a", [3], "chart-bar-accepted")], Series("s", [1], "chart-line-served"))
    assert len(chart.bars) == 1 and len(chart.points) == 1
    left, top, right, bottom = chart.plot
    assert chart.points[0].x == (left + right) / 2 and chart.points[0].value == 1
    assert chart.line_ticks[-1].value == 1 and chart.points[0].y == top


def test_large_numbers_are_readable_and_fit():
    chart = trend_chart("t", MONTHS, [Series("a", [1_250_000, 900_000, 0], "chart-bar-accepted")])
    assert chart.ticks[-1].value >= 1_250_000
    assert all(bar.y >= chart.plot[1] - 0.01 for bar in chart.bars)
    assert format_number(Decimal(12500)) == "12,500"
    assert format_number(Decimal("2.50")) == "2.5"
    assert "150" in format_number(Decimal(1_500_000))  # 150万
