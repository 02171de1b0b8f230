"""The bounds of the numbers and dates a person (or a script) may send: record ids, page
numbers, years. One place, so that every address, form, query argument and import refuses the
same things the same way — a clear 404/400/422 or a field error, never a database error.

* A record id (in an address, a form field or a query argument) is a whole number from 1 to
  ``MAX_ID``, the largest value of an integer column (2^31 - 1). Anything else is not an id:
  in an address the route does not match (404), in a form it is "not a valid choice".
* A page number is a whole number from 1 to ``MAX_PAGE``; anything else is the first page.
* A year is from ``YEAR_MIN`` to ``YEAR_MAX``. A date outside them is a typing mistake (year 1,
  year 9999) and is refused with a message; inside them every date and Jakarta-to-UTC
  conversion stays within what Python and the database can hold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.core.i18n import lazy_gettext as _l

MAX_ID = 2_147_483_647  # the largest value of an integer column
MAX_PAGE = 100_000  # far past the last page of any list (50 rows a page: 5 million rows)
YEAR_MIN, YEAR_MAX = 1900, 2100

YEAR_OUT_OF_RANGE = _l("Enter a year between %(low)d and %(high)d.", low=YEAR_MIN, high=YEAR_MAX)


def parse_id(value: object) -> int | None:
    """A record id or version typed into a form or an address: ASCII digits only (``"²"`` is a
    digit to ``str.isdigit`` but not to ``int``), within the integer column's range; else None."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdecimal()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def in_id_range(value: int | None) -> bool:
    """An id that can be looked up (``int`` itself accepts any size)."""
    return value is not None and 0 < value <= MAX_ID


def coerce_id(value: object) -> int:
    """``coerce`` of a choice field whose values are record ids: the id, or ``ValueError``
    (WTForms then reports "not a valid choice") for anything that is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and in_id_range(value):
        return value
    number = parse_id(value) if isinstance(value, str) else None
    if number is None:
        raise ValueError("not a record id")
    return number


def parse_page(value: object) -> int:
    """A page number from a query argument: 1 to ``MAX_PAGE``; anything else (missing, text,
    zero, negative, 10^20) is the first page."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdecimal()) or len(text) > len(str(MAX_PAGE)):
        return 1
    number = int(text)
    return number if 1 <= number <= MAX_PAGE else 1


T = TypeVar("T")


@dataclass(frozen=True)
class NumberedPage(Generic[T]):
    """One page of rows asked for by number (``parse_page``), shaped like Flask-SQLAlchemy's
    pagination for the ``pagination`` macro: its rows, its number, the rows of every page."""

    items: list[T]
    page: int
    total: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def year_in_range(value: dt.date | None) -> bool:
    """True for a date (or datetime) from YEAR_MIN to YEAR_MAX, and for None (nothing given)."""
    return value is None or YEAR_MIN <= value.year <= YEAR_MAX
