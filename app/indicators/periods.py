"""Reporting periods (domain.md §6.6): month ``2025-07``, quarter ``2025-Q3``, semester
``2025-S1`` and year ``2025``. A case belongs to the period in which it was registered
(``received_at``) in Asia/Jakarta; the bounds here are UTC instants of Jakarta midnights. The
year is from 1900 to 2100 (``app.core.bounds``): ``0000-01`` or ``9999-12`` is a mistake, and its
bounds would not fit in a date."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from app.core.bounds import YEAR_MAX, YEAR_MIN
from app.core.i18n import lazy_gettext as _l

JAKARTA = ZoneInfo("Asia/Jakarta")
PATTERN = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4])|-S([12]))?$")


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    code: str
    kind: str  # bulan, triwulan, semester, tahun
    year: int
    first_month: int
    months: int

    @property
    def start_date(self) -> dt.date:
        return dt.date(self.year, self.first_month, 1)

    @property
    def end_date(self) -> dt.date:
        """The first day after the period."""
        month = self.first_month + self.months
        return dt.date(self.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.start_date, dt.time(), JAKARTA).astimezone(dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """Exclusive: the instant the period is over (Jakarta midnight)."""
        return dt.datetime.combine(self.end_date, dt.time(), JAKARTA).astimezone(dt.UTC)

    def months_in(self) -> list[Period]:
        return [
            parse(f"{self.year}-{m:02d}")
            for m in range(self.first_month, self.first_month + self.months)
        ]


def parse(code: str) -> Period:
    match = PATTERN.match((code or "").strip())
    if not match:
        raise PeriodError(
            _l(
                "not a period: %(code)s (write 2025, 2025-S1, 2025-Q3 or 2025-07)",
                code=repr((code or "")[:40]),
            )
        )
    year = int(match.group(1))
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise PeriodError(
            _l(
                "not a period: %(code)s (the year must be between %(low)d and %(high)d)",
                code=repr((code or "")[:40]),
                low=YEAR_MIN,
                high=YEAR_MAX,
            )
        )
    if match.group(2):
        return Period(code, "bulan", year, int(match.group(2)), 1)
    if match.group(3):
        quarter = int(match.group(3))
        return Period(code, "triwulan", year, 3 * quarter - 2, 3)
    if match.group(4):
        half = int(match.group(4))
        return Period(code, "semester", year, 6 * half - 5, 6)
    return Period(code, "tahun", year, 1, 12)


def month_containing(moment: dt.datetime) -> Period:
    local = moment.astimezone(JAKARTA)
    return parse(f"{local.year}-{local.month:02d}")


def previous_month(moment: dt.datetime) -> Period:
    local = moment.astimezone(JAKARTA).date().replace(day=1) - dt.timedelta(days=1)
    return parse(f"{local.year}-{local.month:02d}")


def periods_containing_month(month: Period) -> list[Period]:
    """The month and the quarter, semester and year it belongs to."""
    quarter = (month.first_month - 1) // 3 + 1
    half = 1 if month.first_month <= 6 else 2
    y = month.year
    return [month, parse(f"{y}-Q{quarter}"), parse(f"{y}-S{half}"), parse(str(y))]
