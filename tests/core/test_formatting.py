"""One style of dates and numbers per locale (app/core/formatting.py): "7 Des 2026" / "7 Dec
2026", "7 Des 2026 14.05" / "7 Dec 2026 14:05" in the display time zone, "1.234,5" / "1,234.5";
the template filters are the same functions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale

from app.core.formatting import format_day, format_moment, format_number
from app.core.templating import capfirst

# 07:05 UTC is 14:05 in Jakarta (the default DISPLAY_TIMEZONE)
MOMENT = dt.datetime(2026, 12, 7, 7, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("locale", "day", "moment", "month", "number"),
    [
        ("id", "7 Des 2026", "7 Des 2026 14.05", "Desember 2026", "1.234,50"),
        ("en", "7 Dec 2026", "7 Dec 2026 14:05", "December 2026", "1,234.50"),
    ],
)
def test_one_style_per_locale(
    app: Flask, locale: str, day: str, moment: str, month: str, number: str
) -> None:
    with app.test_request_context(), force_locale(locale):
        assert format_day(dt.date(2026, 12, 7)) == day
        assert format_moment(MOMENT) == moment
        assert format_day(dt.date(2026, 12, 7), "bulan") == month
        assert format_day(dt.date(2026, 12, 7), "tahun") == "2026"
        assert format_number(Decimal("1234.5"), 2) == number
        # the filters are the same functions
        page = render_template_string(
            "{{ d|date }}|{{ m|datetime }}|{{ d|date('bulan') }}", d=dt.date(2026, 12, 7), m=MOMENT
        )
        assert page == f"{day}|{moment}|{month}"


def test_a_moment_is_shown_on_its_day_in_the_display_time_zone(app: Flask) -> None:
    late = dt.datetime(2026, 12, 7, 20, 0, tzinfo=dt.UTC)  # 8 December, 03:00 in Jakarta
    with app.test_request_context(), force_locale("id"):
        assert format_day(late) == "8 Des 2026"
        assert format_moment(late) == "8 Des 2026 03.00"
        assert format_moment(late, zone=ZoneInfo("UTC")) == "7 Des 2026 20.00"


def test_no_value_is_a_dash(app: Flask) -> None:
    with app.test_request_context():
        assert format_day(None) == format_moment(None) == format_number(None) == "—"


def test_no_short_or_iso_dates_outside_a_request() -> None:
    # a report or a task without a request: Bahasa Indonesia, the given zone
    assert format_moment(MOMENT, locale="id", zone=ZoneInfo("Asia/Jakarta")) == "7 Des 2026 14.05"
    assert format_day(dt.date(2026, 11, 28), locale="id") == "28 Nov 2026"


def test_capfirst_keeps_the_rest() -> None:
    assert capfirst("terkirim, menunggu jawaban") == "Terkirim, menunggu jawaban"
    assert capfirst("TPPO") == "TPPO"
    assert capfirst("") == ""
