"""Business time: dates are China Standard Time, timestamps are UTC (DOMAIN §7)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def beijing_date(moment: datetime) -> date:
    """The calendar date in Beijing of an aware timestamp (07:00 CST is still that day)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(BEIJING).date()


def beijing_today() -> date:
    return beijing_date(utcnow())
