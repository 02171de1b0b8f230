"""What every indicator page shares: the signed-in user, the region asked for within the user's
reach (``scope.py``; anything else is a 404), the period asked for, and their names."""

from __future__ import annotations

import datetime as dt

from flask import abort, request
from flask_babel import LazyString, get_locale
from flask_login import current_user

from app.auth.models import User
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l
from app.core.web import ExplainedBadRequest
from app.indicators import compute, queries
from app.indicators.definitions import describe_en
from app.indicators.models import IndicatorDefinition
from app.indicators.periods import JAKARTA, Period, PeriodError, parse
from app.indicators.scope import NATIONAL, OutOfReach, Reach
from app.regions.models import Region

BREAKDOWN_PREFIX = "korban_menurut_"
PERIOD_PARTS: list[tuple[str, LazyString]] = [
    ("", _l("Whole year")),
    ("S1", _l("Semester 1")),
    ("S2", _l("Semester 2")),
    ("Q1", _l("Quarter 1")),
    ("Q2", _l("Quarter 2")),
    ("Q3", _l("Quarter 3")),
    ("Q4", _l("Quarter 4")),
]
MONTHS: list[LazyString] = [
    _l("January"),
    _l("February"),
    _l("March"),
    _l("April"),
    _l("May"),
    _l("June"),
    _l("July"),
    _l("August"),
    _l("September"),
    _l("October"),
    _l("November"),
    _l("December"),
]


# The units of the definitions (stored in Bahasa Indonesia, as the report shows them) as a page
# shows them in its language.
UNITS: dict[str, LazyString] = {
    "per 100.000": _l("per 100,000"),
    "per 10.000": _l("per 10,000"),
    "orang": _l("people"),
    "rujukan": _l("referrals"),
    "jam": _l("hours"),
}


# Why a figure has no value, as the rollup stores it (in Bahasa Indonesia, as the report shows
# it), in the page's language.
REASONS: dict[str, LazyString] = {
    compute.NO_POPULATION: _l("There is no population data for this region and year yet."),
    compute.POPULATION_INCOMPLETE: _l(
        "The population data of some of the regions under it is missing."
    ),
    compute.POPULATION_SEX_MISSING: _l(
        "The population data of this region is incomplete for the two sexes."
    ),
    compute.CHILD_BANDS_MIXED: _l(
        "The age groups of the population data do not separate children (0-17 years)."
    ),
    compute.NO_VICTIMS: _l("There are no victims in this group for this period."),
    compute.NO_FIRST_RESPONSES: _l("There are no first-response deadlines in this period."),
    compute.NO_ACCEPTED_REFERRALS: _l("No referral was accepted in this period yet."),
}


def reason_text(reason: str | None) -> str | None:
    """A stored reason for a missing value in the page's language."""
    if reason is None:
        return None
    found = REASONS.get(reason)
    return str(found) if found is not None else reason


def unit_name(unit: str) -> str:
    """A definition's unit in the page's language."""
    found = UNITS.get(unit)
    return str(found) if found is not None else unit


def me() -> User:
    user: User = current_user._get_current_object()
    return user


def region_or_404(reach: Reach, code: str | None) -> Region | None:
    """The region named by ``code`` (``nasional``: None) when the user may see it; no code: the
    user's own top region."""
    try:
        return reach.pick(code)
    except OutOfReach:
        abort(404)


def region_code(region: Region | None) -> str:
    return region.code if region is not None else NATIONAL


def region_name(region: Region | None) -> str:
    return region.label if region is not None else str(_("National"))


def period_or_400(code: str | None) -> Period:
    try:
        return parse(code or "")
    except PeriodError as error:
        raise ExplainedBadRequest(str(error)) from None


def default_period(region: Region | None) -> str:
    """The latest year with values of the region, else the current year."""
    latest = queries.latest_year(region.id if region is not None else None)
    return latest or str(dt.datetime.now(JAKARTA).year)


def requested_period(region: Region | None) -> Period:
    """``?period=2025-07``, or ``?year=2025&part=Q3`` from the picker, else the latest year."""
    if request.args.get("period"):
        return period_or_400(request.args["period"])
    year = (request.args.get("year") or "").strip()
    if year:
        part = (request.args.get("part") or "").strip()
        return period_or_400(f"{year}-{part}" if part else year)
    return period_or_400(default_period(region))


def period_name(period: Period) -> str:
    if period.kind == "bulan":
        return f"{MONTHS[period.first_month - 1]} {period.year}"
    if period.kind == "triwulan":
        return str(_("Quarter %(n)d %(year)d", n=(period.first_month + 2) // 3, year=period.year))
    if period.kind == "semester":
        return str(_("Semester %(n)d %(year)d", n=(period.first_month + 5) // 6, year=period.year))
    return str(period.year)


def definition_name(definition: IndicatorDefinition) -> str:
    return definition.name_en if str(get_locale()) == "en" else definition.name_id


def definition_text(text: str | None) -> str:
    """A definition's numerator or denominator (stored in Bahasa Indonesia) in the page's
    language."""
    if not text:
        return ""
    return describe_en(text) if str(get_locale()) == "en" else text
