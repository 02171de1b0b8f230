"""Clock arithmetic for deadlines (domain.md §5), in Asia/Jakarta.

Working days skip Saturdays, Sundays and the Indonesian public holidays known to the maintained
``holidays`` library (``holidays.country_holidays("ID")``); no holiday list is typed in here.

A deadline of *n* working days falls at the **same local (WIB) time** on the *n*-th working day
after the start date: a referral sent on Friday 10:00 with two working days is due on Tuesday
10:00; one sent on Saturday 10:00 is due on Tuesday 10:00 too (Monday is the first working day
after Saturday, Tuesday the second). Jakarta has no daylight saving, so "same local time" is
always well defined.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import holidays

JAKARTA = ZoneInfo("Asia/Jakarta")


@functools.lru_cache(maxsize=16)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("ID", years=year)


def is_holiday(day: dt.date) -> bool:
    return day in _holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def _require_aware(start: dt.datetime) -> None:
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("deadline arithmetic needs a timezone-aware datetime")


def _require_non_negative(n: int) -> None:
    if n < 0:
        raise ValueError("a deadline limit cannot be negative")


def add_hours(start: dt.datetime, n: int) -> dt.datetime:
    _require_aware(start)
    _require_non_negative(n)
    return (start + dt.timedelta(hours=n)).astimezone(dt.UTC)


def add_days(start: dt.datetime, n: int) -> dt.datetime:
    """Calendar days: weekends and holidays count."""
    _require_aware(start)
    _require_non_negative(n)
    return (start + dt.timedelta(days=n)).astimezone(dt.UTC)


def add_working_days(start: dt.datetime, n: int) -> dt.datetime:
    """The same WIB time on the ``n``-th working day after ``start``'s WIB date (UTC result)."""
    _require_aware(start)
    _require_non_negative(n)
    local = start.astimezone(JAKARTA)
    day = local.date()
    counted = 0
    while counted < n:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return dt.datetime.combine(day, local.timetz()).astimezone(dt.UTC)
