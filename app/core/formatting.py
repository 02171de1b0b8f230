"""Dates and numbers as people read them, one style per locale.

- A day: Indonesian "7 Des 2026", English "7 Dec 2026" (``format_day``; a month "Desember 2026"
  or a year where only that is known).
- A moment: "7 Des 2026 14.05" / "7 Dec 2026 14:05" (``format_moment``: 24 hours, in the display
  time zone ``DISPLAY_TIMEZONE``).
- A number: ``1.234,5`` / ``1,234.5`` (``format_number``).

Every page, e-mail and report a person reads uses these (in templates the filters ``date`` and
``datetime``), never ``strftime``, ``isoformat`` or Babel's "short" (``7/12/26``, US ``12/7/26``).
The locale is the request's (or ``force_locale``'s); reports in Bahasa Indonesia pass
``locale="id"`` where there is no request."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel import dates
from babel.numbers import format_decimal
from flask_babel import get_locale, get_timezone

NO_VALUE = "—"


def current_language(default: str = "id") -> str:
    """The language of the request (or of ``force_locale``); ``default`` outside of one."""
    try:
        locale = get_locale()
    except RuntimeError:  # no application context
        locale = None
    return locale.language if locale is not None else default


def format_number(
    value: int | float | Decimal | None, places: int | None = None, locale: str | None = None
) -> str:
    """``value`` with the locale's separators; ``places`` fixed decimal places (rounded half up
    by the caller where it matters), else as many as it has."""
    if value is None:
        return NO_VALUE
    pattern = None if places is None else "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=locale or current_language())


NO_DATE = "—"
# the date of a day, the same shape in both languages; a time after it in the locale's own way
DAY_PATTERN = "d MMM y"
TIME_PATTERNS = {"id": "HH.mm", "en": "HH:mm"}


def _zone(zone: dt.tzinfo | None) -> dt.tzinfo:
    if zone is not None:
        return zone
    try:
        zone_of_request: dt.tzinfo = get_timezone()
    except RuntimeError:  # no application context
        return dt.UTC
    return zone_of_request


def format_day(
    value: dt.date | dt.datetime | None,
    precision: str | None = None,
    *,
    locale: str | None = None,
    zone: dt.tzinfo | None = None,
) -> str:
    """A day as people read it: "7 Des 2026" / "7 Dec 2026"; with ``precision`` ``bulan`` only
    the month ("Desember 2026"), ``tahun`` only the year. A moment is shown on its day in the
    display time zone (or ``zone``)."""
    if value is None:
        return NO_DATE
    if precision == "tahun":
        return str(value.year)
    pattern = "MMMM y" if precision == "bulan" else DAY_PATTERN
    language = locale or current_language()
    if isinstance(value, dt.datetime):
        return dates.format_datetime(value, pattern, tzinfo=_zone(zone), locale=language)
    return dates.format_date(value, pattern, locale=language)


def format_moment(
    value: dt.datetime | None, *, locale: str | None = None, zone: dt.tzinfo | None = None
) -> str:
    """A moment as people read it, in the display time zone (or ``zone``): "7 Des 2026 14.05" /
    "7 Dec 2026 14:05"."""
    if value is None:
        return NO_DATE
    language = locale or current_language()
    time = TIME_PATTERNS.get(language, TIME_PATTERNS["en"])
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return dates.format_datetime(
        value, f"{DAY_PATTERN} {time}", tzinfo=_zone(zone), locale=language
    )
