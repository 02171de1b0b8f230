"""The days "Tugas saya" counts in: Asia/Jakarta, the day a counselor lives in.

Overdue: before now (a deadline) or before today (a date). Today: the rest of today. This week:
tomorrow and the five days after it (a rolling week, so Friday's list still shows Monday)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from app.core.db import utcnow

JAKARTA = ZoneInfo("Asia/Jakarta")
WEEK_DAYS = 7  # today and the six days after it
REMIND_FROM = dt.time(7, 0)  # reminders go out on the day, from seven in the morning


def jakarta_today(now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(JAKARTA).date()


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in Jakarta, as UTC."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=JAKARTA).astimezone(dt.UTC)


@dataclass(frozen=True)
class Window:
    """The bounds of the buckets at ``now``."""

    now: dt.datetime
    today: dt.date
    tomorrow: dt.date
    week_end: dt.date  # the first day after the week (exclusive)

    @property
    def tomorrow_start(self) -> dt.datetime:
        return day_start(self.tomorrow)

    @property
    def week_end_start(self) -> dt.datetime:
        return day_start(self.week_end)

    def bucket_of_time(self, at: dt.datetime | None) -> str:
        if at is None or at < self.now:
            return "overdue" if at is not None else "today"
        return "today" if at < self.tomorrow_start else "week"

    def bucket_of_day(self, day: dt.date) -> str:
        if day < self.today:
            return "overdue"
        return "today" if day == self.today else "week"


def window(now: dt.datetime | None = None) -> Window:
    now = now or utcnow()
    today = jakarta_today(now)
    return Window(
        now=now,
        today=today,
        tomorrow=today + dt.timedelta(days=1),
        week_end=today + dt.timedelta(days=WEEK_DAYS),
    )


def reminder_day(now: dt.datetime) -> dt.date:
    """The last day whose follow-ups are reminded at ``now``: today from ``REMIND_FROM``,
    yesterday before it."""
    local = now.astimezone(JAKARTA)
    return local.date() if local.time() >= REMIND_FROM else local.date() - dt.timedelta(days=1)
