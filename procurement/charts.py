"""Server-side SVG charts (they print, need no script and pass the CSP). Pure: no Flask, no database.

A chart function turns labelled series into a description — axes, round ticks, bars, a polyline, a legend —
that ``templates/charts/chart.html`` draws inline. Colours come from CSS classes in ``app.css`` (no ``style=``).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from procurement.i18n import gettext as _

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 56, 16, 40


@dataclass(frozen=True)
class Series:
    name: str  # the legend's text
    values: list  # one number (int or Decimal) per category, None counts as 0
    css: str  # a class of app.css: chart-bar-accepted, chart-bar-pending, chart-line …


@dataclass(frozen=True)
class Tick:
    value: Decimal
    y: float
    label: str


@dataclass(frozen=True)
class Bar:
    key: str
    series: str  # the series' class
    x: float
    y: float
    width: float
    height: float
    value: Decimal


@dataclass(frozen=True)
class Point:
    key: str
    x: float
    y: float
    value: Decimal


@dataclass
class Chart:
    title: str
    width: int
    height: int
    plot: tuple  # (left, top, right, bottom) of the plotting area
    labels: list  # [(x, text, key)] under the x axis
    ticks: list  # left axis (bars)
    bars: list
    line_ticks: list = field(default_factory=list)  # right axis (the line)
    points: list = field(default_factory=list)
    line_css: str = ""
    legend: list = field(default_factory=list)  # [(x, css, name, kind)]

    @property
    def empty(self) -> bool:
        """Nothing to draw: no period yet, or nothing delivered nor anybody served in any of them."""
        return not self.labels or (not any(bar.value for bar in self.bars) and not any(p.value for p in self.points))

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _number(value) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def nice_ticks(top, count: int = 5) -> list[Decimal]:
    """Round tick values 0, step, 2·step … covering ``top``; the step is 1, 2 or 5 × 10ⁿ (never below 1)."""
    top = _number(top)
    if top <= 0:
        return [Decimal(0), Decimal(1)]
    raw = top / count
    magnitude = Decimal(1)
    while magnitude * 10 <= raw:
        magnitude *= 10
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    ticks = [Decimal(0)]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def format_number(value: Decimal) -> str:
    """12,500 or 1.5万 for large values, as a Chinese reader expects on an axis."""
    value = _number(value)
    if value >= 100000:
        return _("%(n)s (ten thousands)", n=format_number(value / 10000))
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():f}"


def _scale(ticks: list[Decimal], top: float, bottom: float):
    highest = ticks[-1] or Decimal(1)
    return lambda value: bottom - float(_number(value) / highest) * (bottom - top)


def trend_chart(title: str, categories: list[tuple[str, str]], bars: list[Series], line: Series | None = None,
                width: int = WIDTH, height: int = HEIGHT) -> Chart:
    """Stacked bars per category (left axis) and an optional polyline (right axis).

    ``categories`` are (key, label) pairs — e.g. ("2026-05-01", "5月"); each series has one value per category.
    """
    left, top, right, bottom = LEFT, TOP, width - RIGHT, height - BOTTOM
    chart = Chart(title=title, width=width, height=height, plot=(left, top, right, bottom), labels=[], ticks=[],
                  bars=[], line_css=line.css if line else "")
    count = len(categories)
    legend_x = left
    for series in bars:
        chart.legend.append((legend_x, series.css, series.name, "bar"))
        legend_x += 24 + 13 * len(series.name)
    if line is not None:
        chart.legend.append((legend_x, line.css, line.name, "line"))
    if not count:
        chart.ticks = [Tick(v, y, format_number(v)) for v, y in ((Decimal(0), float(bottom)),)]
        return chart
    totals = [sum((_number(s.values[i]) for s in bars), Decimal(0)) for i in range(count)]
    ticks = nice_ticks(max(totals, default=0))
    y_of = _scale(ticks, top, bottom)
    chart.ticks = [Tick(v, y_of(v), format_number(v)) for v in ticks]
    slot = (right - left) / count
    bar_width = max(min(slot * 0.6, 48), 2)
    for i, (key, label) in enumerate(categories):
        centre = left + slot * (i + 0.5)
        chart.labels.append((centre, label, key))
        base = Decimal(0)
        for series in bars:
            value = _number(series.values[i])
            y_top, y_base = y_of(base + value), y_of(base)
            chart.bars.append(Bar(key, series.css, centre - bar_width / 2, y_top, bar_width, y_base - y_top, value))
            base += value
    if line is not None:
        line_ticks = nice_ticks(max((_number(v) for v in line.values), default=0))
        y_line = _scale(line_ticks, top, bottom)
        chart.line_ticks = [Tick(v, y_line(v), format_number(v)) for v in line_ticks]
        chart.points = [Point(key, left + slot * (i + 0.5), y_line(line.values[i]), _number(line.values[i]))
                        for i, (key, _label) in enumerate(categories)]
    return chart
