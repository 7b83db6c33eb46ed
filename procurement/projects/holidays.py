"""Official State Council holiday schedules (放假调休安排), loaded with the reference data.

Each year lists the weekdays off and the weekend days worked instead.  Only years whose
notice is known are listed; the system administrator adds later years in the app.
"""

from datetime import date, timedelta


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _weekdays(days):
    return [d for d in days if d.weekday() < 5]


# name, first day off, last day off (weekend days inside a span are off anyway)
SCHEDULES = {
    2025: {
        "source": "国务院办公厅关于2025年部分节假日安排的通知",
        "off": [
            ("元旦", date(2025, 1, 1), date(2025, 1, 1)),
            ("春节", date(2025, 1, 28), date(2025, 2, 4)),
            ("清明节", date(2025, 4, 4), date(2025, 4, 6)),
            ("劳动节", date(2025, 5, 1), date(2025, 5, 5)),
            ("端午节", date(2025, 5, 31), date(2025, 6, 2)),
            ("国庆节、中秋节", date(2025, 10, 1), date(2025, 10, 8)),
        ],
        "work": [
            ("春节调休", date(2025, 1, 26)), ("春节调休", date(2025, 2, 8)),
            ("劳动节调休", date(2025, 4, 27)),
            ("国庆节调休", date(2025, 9, 28)), ("国庆节调休", date(2025, 10, 11)),
        ],
    },
    2026: {
        "source": "国务院办公厅关于2026年部分节假日安排的通知",
        "off": [
            ("元旦", date(2026, 1, 1), date(2026, 1, 3)),
            ("春节", date(2026, 2, 15), date(2026, 2, 23)),
            ("清明节", date(2026, 4, 4), date(2026, 4, 6)),
            ("劳动节", date(2026, 5, 1), date(2026, 5, 5)),
            ("端午节", date(2026, 6, 19), date(2026, 6, 21)),
            ("中秋节", date(2026, 9, 25), date(2026, 9, 27)),
            ("国庆节", date(2026, 10, 1), date(2026, 10, 7)),
        ],
        "work": [
            ("元旦调休", date(2026, 1, 4)),
            ("春节调休", date(2026, 2, 14)), ("春节调休", date(2026, 2, 28)),
            ("劳动节调休", date(2026, 5, 9)),
            ("国庆节调休", date(2026, 9, 20)), ("国庆节调休", date(2026, 10, 10)),
        ],
    },
}


def schedule_days(year: int) -> list[tuple[date, str, str]]:
    """(day, "holiday" | "workday", name) for the year's schedule."""
    schedule = SCHEDULES[year]
    days = [(d, "holiday", name) for name, first, last in schedule["off"] for d in _weekdays(_span(first, last))]
    days += [(d, "workday", name) for name, d in schedule["work"]]
    return sorted(days)
