"""Pure rules of performance evaluation (DOMAIN §6): grades, panel consolidation, rate bands, totals.

No database and no Flask. Points and totals are ``Decimal`` with two places; every computed figure is
rounded half-up to two decimals once, at the end. Floats are refused: they cannot hold 0.1 exactly.
"""

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from fractions import Fraction

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

#: 优 ≥ 90; 良 80–<90; 中 60–<80; 差 < 60 (DOMAIN §6), highest first.
GRADES = ("优", "良", "中", "差")
GRADE_THRESHOLDS = ((Decimal(90), "优"), (Decimal(80), "良"), (Decimal(60), "中"), (Decimal(0), "差"))

#: With this many evaluators or more, the highest and the lowest are dropped before the mean.
TRIM_FROM = 5

#: DOMAIN §6 for a rate: ≥100% → full points; 80–100% → 2/3; 60–80% → 1/3; <60% → 0.
#: (at least this rate in percent, share of the maximum points), thresholds descending.
DEFAULT_BANDS: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal(100), Decimal(1)),
    (Decimal(80), Decimal(2) / Decimal(3)),
    (Decimal(60), Decimal(1) / Decimal(3)),
)


def to_decimal(value, what: str = "value") -> Decimal:
    """A finite ``Decimal`` from a Decimal, an int or a numeric string; floats and booleans are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{what} must be a Decimal, an int or a string, not {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{what} is not a number: {value!r}") from None
    else:
        raise TypeError(f"{what} must be a Decimal, an int or a string, not {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{what} must be a finite number")
    return result


def round_points(value: Decimal) -> Decimal:
    """Half-up to two decimals (the only rounding a computed figure gets)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def grade(total: Decimal) -> str:
    """The grade of a total out of 100: 优 ≥ 90; 良 80–<90; 中 60–<80; 差 < 60.

    The total is compared as given (a sheet's total is already rounded to two decimals): 89.99 is 良.

    Raises:
        ValueError: a total below 0 or above 100.
    """
    value = to_decimal(total, "total")
    if value < 0 or value > HUNDRED:
        raise ValueError(f"a total must be between 0 and 100, not {value}")
    for threshold, name in GRADE_THRESHOLDS:
        if value >= threshold:
            return name
    raise AssertionError("unreachable")  # pragma: no cover


def _mean(values: Sequence[Decimal]) -> Decimal:
    with localcontext() as context:
        context.prec = 60  # exact for any realistic sum; x.xx5 means stay exact, so half-up is right
        return sum(values, Decimal(0)) / len(values)


def consolidate_points(values: Iterable, trim_from: int | None = TRIM_FROM) -> Decimal:
    """The panel's figure from each evaluator's figure (DOMAIN §6), rounded half-up to two decimals once.

    The mean; with ``trim_from`` values or more, the mean after dropping one highest and one lowest.
    ``trim_from=None`` never trims.

    Raises:
        ValueError: no values, a negative value, or ``trim_from`` below 3 (nothing would be left).
    """
    numbers = [to_decimal(value, "points") for value in values]
    if not numbers:
        raise ValueError("nothing to consolidate: no evaluator's figure")
    if any(number < 0 for number in numbers):
        raise ValueError("points cannot be negative")
    if trim_from is not None:
        if isinstance(trim_from, bool) or not isinstance(trim_from, int) or trim_from < 3:
            raise ValueError("trimming needs at least 3 evaluators")
        if len(numbers) >= trim_from:
            numbers = sorted(numbers)[1:-1]
    return round_points(_mean(numbers))


def consolidate(totals: list[Decimal], trim_from: int | None = TRIM_FROM) -> Decimal:
    """The sheet's total from the evaluators' totals: mean, trimmed with ``trim_from`` (5) or more.

    Raises:
        ValueError: as :func:`consolidate_points`, or a total above 100.
    """
    numbers = [to_decimal(value, "total") for value in totals]
    if any(number > HUNDRED for number in numbers):
        raise ValueError("a total cannot exceed 100")
    return consolidate_points(numbers, trim_from)


def validate_bands(bands) -> list[tuple[Decimal, Decimal]]:
    """Bands as ``[(at_least_rate_percent, share), …]``: thresholds ≥ 0 strictly descending, shares in 0..1.

    Returns the bands as Decimals (strings, ints and fraction strings such as ``"2/3"`` are accepted, so
    the JSON stored on an indicator can be passed as it is).

    Raises:
        ValueError: no band, a malformed pair, thresholds not strictly descending, a negative threshold,
            a share outside 0..1, or shares rising as the rate falls.
    """
    if bands is None:
        raise ValueError("no bands")
    result = []
    for pair in bands:
        try:
            threshold, share = pair
        except (TypeError, ValueError):
            raise ValueError(f"a band must be a pair (rate, share), not {pair!r}") from None
        result.append((to_decimal(threshold, "threshold"), _share(share)))
    if not result:
        raise ValueError("no bands")
    previous_threshold, previous_share = None, None
    for threshold, share in result:
        if threshold < 0:
            raise ValueError("a band's rate cannot be negative")
        if not Decimal(0) <= share <= Decimal(1):
            raise ValueError("a band's share must be between 0 and 1")
        if previous_threshold is not None:
            if threshold >= previous_threshold:
                raise ValueError("band rates must be strictly descending")
            if share > previous_share:
                raise ValueError("a lower rate cannot earn a larger share")
        previous_threshold, previous_share = threshold, share
    return result


def _share(value) -> Decimal:
    if isinstance(value, str) and "/" in value:
        numerator, _slash, denominator = value.partition("/")
        top, bottom = to_decimal(numerator, "share"), to_decimal(denominator, "share")
        if bottom == 0:
            raise ValueError("a share cannot divide by zero")
        return top / bottom
    return to_decimal(value, "share")


def bands_to_json(bands=DEFAULT_BANDS) -> list[list[str]]:
    """Bands as JSON-ready strings for :attr:`evaluation.models.Indicator.bands`; 2/3 stays ``"2/3"``, 0.75 ``"0.75"``."""
    rows = []
    for threshold, share in validate_bands(bands):
        fraction = Fraction(share).limit_denominator(1000)
        short = share.normalize().as_tuple().exponent >= -6  # a plain decimal such as 0.75
        if not short and Decimal(fraction.numerator) / Decimal(fraction.denominator) == share:
            text = f"{fraction.numerator}/{fraction.denominator}"
        else:
            text = str(share)
        rows.append([str(threshold), text])
    return rows


def band_share(rate: Decimal, bands=DEFAULT_BANDS) -> Decimal:
    """The share of the maximum points a rate (in percent, not rounded) earns: the first band it reaches.

    A rate below every band earns 0; a rate above 100 % earns the top band. ``bands`` None or empty: the
    default bands (as an indicator stores them).

    Raises:
        ValueError: a negative rate or invalid bands.
    """
    value = to_decimal(rate, "rate")
    if value < 0:
        raise ValueError("a rate cannot be negative")
    for threshold, share in validate_bands(bands or DEFAULT_BANDS):
        if value >= threshold:
            return share
    return Decimal(0)


def band_points(max_points: Decimal, rate: Decimal, bands=DEFAULT_BANDS) -> Decimal:
    """Points of a computed indicator: ``max_points × band_share(rate)``, half-up to two decimals."""
    maximum = to_decimal(max_points, "max_points")
    if maximum <= 0:
        raise ValueError("max_points must be positive")
    return round_points(maximum * band_share(rate, bands))


def rate_percent(numerator, denominator) -> Decimal | None:
    """``numerator ÷ denominator × 100``, unrounded (so 99.995 % stays below 100 %); None when nothing is due.

    Round only for display; compare the unrounded rate with the bands.
    """
    top, bottom = to_decimal(numerator, "numerator"), to_decimal(denominator, "denominator")
    if top < 0 or bottom < 0:
        raise ValueError("a rate's figures cannot be negative")
    if bottom == 0:
        return None
    with localcontext() as context:
        context.prec = 40
        return top * HUNDRED / bottom


def total_of(points: Mapping[str, Decimal]) -> Decimal:
    """The total of a sheet or an evaluator: the sum of the leaves' points, half-up to two decimals.

    Raises:
        ValueError: a missing (None) or negative leaf.
    """
    values = []
    for code, value in points.items():
        if value is None:
            raise ValueError(f"indicator {code} has no points")
        number = to_decimal(value, "points")
        if number < 0:
            raise ValueError(f"indicator {code} has negative points")
        values.append(number)
    return round_points(sum(values, Decimal(0)))
