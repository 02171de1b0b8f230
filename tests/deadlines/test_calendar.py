import datetime as dt

import holidays
import pytest

from app.deadlines.calendar import JAKARTA, add_days, add_hours, add_working_days, is_working_day
from app.deadlines.rules import DEFAULT_RULES, DeadlineCode


def wib(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JAKARTA)


def test_working_days_skip_the_weekend_at_the_same_local_time():
    friday = wib(2025, 3, 14, 10, 0)
    assert not {dt.date(2025, 3, 17), dt.date(2025, 3, 18)} & set(
        holidays.country_holidays("ID", years=2025)
    )
    due = add_working_days(friday, 2)
    assert due.tzinfo is dt.UTC
    assert due.astimezone(JAKARTA) == wib(2025, 3, 18, 10, 0)  # Mon, Tue
    assert add_working_days(wib(2025, 3, 15, 10, 0), 1).astimezone(JAKARTA) == wib(
        2025, 3, 17, 10, 0
    )  # Saturday start: Monday is the first working day


def test_working_days_skip_an_indonesian_public_holiday():
    known = holidays.country_holidays("ID", years=2025)
    christmas = dt.date(2025, 12, 25)  # a Thursday
    assert christmas in known and christmas.weekday() == 3
    assert not is_working_day(christmas)
    expected = dt.date(2025, 12, 26)
    while not is_working_day(expected):
        expected += dt.timedelta(days=1)
    due = add_working_days(wib(2025, 12, 24, 15, 45), 1)
    assert due.astimezone(JAKARTA) == dt.datetime.combine(expected, dt.time(15, 45), JAKARTA)


def test_working_days_cross_the_new_year():
    assert dt.date(2026, 1, 1) in holidays.country_holidays("ID", years=2026)
    due = add_working_days(wib(2025, 12, 31, 9, 0), 1)  # Wednesday; Thursday is New Year
    assert due.astimezone(JAKARTA).date() > dt.date(2026, 1, 1)
    assert is_working_day(due.astimezone(JAKARTA).date())


def test_local_date_decides_not_the_utc_date():
    # 23:30 WIB on Friday is still Friday 16:30 UTC; Monday counts as day one in Jakarta
    due = add_working_days(wib(2025, 3, 14, 23, 30), 1)
    assert due.astimezone(JAKARTA) == wib(2025, 3, 17, 23, 30)


def test_hours_and_days_rules():
    start = dt.datetime(2025, 3, 14, 2, 30, tzinfo=dt.UTC)
    assert add_hours(start, 72) == dt.datetime(2025, 3, 17, 2, 30, tzinfo=dt.UTC)
    assert add_days(start, 14) == dt.datetime(2025, 3, 28, 2, 30, tzinfo=dt.UTC)
    assert DEFAULT_RULES[DeadlineCode.FIRST_RESPONSE_TINGGI].due_from(
        start
    ) == start + dt.timedelta(hours=1)
    assert DEFAULT_RULES[DeadlineCode.REFERRAL_RESPONSE].due_from(start).astimezone(JAKARTA) == wib(
        2025, 3, 18, 9, 30
    )


def test_naive_or_negative_input_is_refused():
    with pytest.raises(ValueError):
        add_hours(dt.datetime(2025, 1, 1), 1)  # noqa: DTZ001
    with pytest.raises(ValueError):
        add_working_days(wib(2025, 1, 2, 9, 0), -1)


def test_defaults_match_the_domain_table():
    limits = {code.value: (rule.clock.value, rule.limit) for code, rule in DEFAULT_RULES.items()}
    assert limits == {
        "first_response_tinggi": ("hours", 1),
        "first_response_sedang": ("hours", 6),
        "first_response_rendah": ("hours", 24),
        "police_report_tpks": ("hours", 72),
        "shelter_decision": ("days", 14),
        "referral_response": ("working_days", 2),
        "tppo_service_start": ("days", 7),
        "restitution_paid": ("days", 30),
        "data_subject_restriction": ("hours", 72),
        "breach_notice": ("hours", 72),
    }
