"""Reading indicator values: the current figure (the latest revision of a closed value, else the
value), derived values, capaian against the target, and the JSON of interfaces.md §4."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import Integer, String, cast, func, or_, select
from sqlalchemy.orm import aliased

from app.agencies.models import Agency
from app.auth.models import User
from app.core.memo import read_once
from app.extensions import db
from app.indicators.compute import Scope, empty
from app.indicators.definitions import current_definitions
from app.indicators.disclosure import published_suppressed
from app.indicators.math import capaian, round_half_up, suppressed, value_of
from app.indicators.models import (
    IndicatorDefinition,
    IndicatorRevision,
    IndicatorTarget,
    IndicatorValue,
    PeriodClose,
    ReferralFigure,
    ReportJob,
)
from app.indicators.periods import parse
from app.indicators.scope import may_see_job
from app.referrals.metrics import MetricRow, percentage
from app.regions.models import Region


@dataclass
class Figure:
    definition: IndicatorDefinition
    region: Region | None
    period: str
    breakdown: str
    numerator: decimal.Decimal | None
    denominator: decimal.Decimal | None
    reason: str | None
    computed_at: dt.datetime
    original: IndicatorValue
    revisions: list[IndicatorRevision] = field(default_factory=list)
    target: decimal.Decimal | None = None

    @property
    def value(self) -> decimal.Decimal | None:
        return value_of(
            self.numerator, self.denominator, self.definition.scale, self.definition.rounding
        )

    @property
    def suppressed(self) -> bool:
        return suppressed(
            self.numerator, self.denominator if self.definition.scale == 100 else None
        )

    @property
    def capaian(self) -> decimal.Decimal | None:
        return capaian(self.value, self.target, self.definition.direction)

    @property
    def original_value(self) -> decimal.Decimal | None:
        return value_of(
            self.original.numerator,
            self.original.denominator,
            self.definition.scale,
            self.definition.rounding,
        )


def region_by_code(code: str | None) -> Region | None:
    if code is None or code.lower() == "nasional":
        return None
    return db.session.scalar(select(Region).where(Region.code == code))


def figures(region_id: int | None, period: str, *, codes: list[str] | None = None) -> list[Figure]:
    """The current figures of the region (None: the national level) for the period, of the
    definitions ``codes`` (None: every one), ordered by code and breakdown."""
    where = [IndicatorValue.period == period]
    if codes is not None:
        where.append(IndicatorDefinition.code.in_(codes))
    rows = _value_rows(region_id, where)
    revisions = _revisions_of(rows, region_id, where)
    if not rows and region_id is not None:
        rows = _empty_values(region_id, period, codes)
    return _figures_of(region_id, rows, revisions)


@dataclass
class DashboardFigures:
    """What the dashboard shows of a region for a period and for the months of its year's
    trend: ``figures`` as ``figures(region_id, period)`` gives them, ``codes`` the headline
    definitions of the trend, ``months`` each month's ``figures(region_id, month, codes=codes)``."""

    figures: list[Figure]
    codes: list[str]
    months: dict[str, list[Figure]]


def dashboard_figures(region_id: int | None, period: str, months: list[str]) -> DashboardFigures:
    """The period's figures and the trend's months in two statements whatever the number of
    months (the values of every period asked, then their revisions), where ``figures`` asks
    two for each: the months' values are read for the codes of any headline definition and
    kept for the trend's codes — the headline definitions among the period's figures, else
    every headline definition."""
    headline = select(IndicatorDefinition.code).where(IndicatorDefinition.headline)
    # the periods as a list the (region, period) index answers; of the months, the headline
    # definitions only
    where = [
        IndicatorValue.period.in_(list(dict.fromkeys([period, *months]))),
        or_(IndicatorValue.period == period, IndicatorDefinition.code.in_(headline)),
    ]
    rows = _value_rows(region_id, where)
    revisions = _revisions_of(rows, region_id, where)
    by_period: dict[str, list[tuple[IndicatorValue, IndicatorDefinition]]] = {}
    for row in rows:
        by_period.setdefault(row[0].period, []).append(row)
    found = by_period.get(period, [])
    if not found and region_id is not None:
        found = _empty_values(region_id, period, None)
    items = _figures_of(region_id, found, revisions)
    codes = sorted({f.definition.code for f in items if not f.breakdown and f.definition.headline})
    if not codes:
        codes = sorted({d.code for d in headline_definitions()})
    chosen = set(codes)
    trend: dict[str, list[Figure]] = {}
    for month in months:
        if month == period:
            month_rows = [r for r in found if r[1].code in chosen]
        else:
            month_rows = [r for r in by_period.get(month, []) if r[1].code in chosen]
        if not month_rows and region_id is not None:
            month_rows = _empty_values(region_id, month, codes)
        trend[month] = _figures_of(region_id, month_rows, revisions)
    return DashboardFigures(items, codes, trend)


def _value_rows(
    region_id: int | None, where: list[Any]
) -> list[tuple[IndicatorValue, IndicatorDefinition]]:
    """The stored values of the region (None: national) that ``where`` picks, with their
    definitions, ordered by code and breakdown."""
    query = (
        select(IndicatorValue, IndicatorDefinition)
        .join(IndicatorDefinition, IndicatorDefinition.id == IndicatorValue.definition_id)
        .where(_of_region(region_id), *where)
        .order_by(IndicatorDefinition.code, IndicatorValue.breakdown)
    )
    return [(value, definition) for value, definition in db.session.execute(query)]


def _of_region(region_id: int | None) -> Any:
    if region_id is None:
        return IndicatorValue.region_id.is_(None)
    return IndicatorValue.region_id == region_id


def _revisions_of(
    rows: list[tuple[IndicatorValue, IndicatorDefinition]], region_id: int | None, where: list[Any]
) -> dict[int, list[IndicatorRevision]]:
    """The revisions of the stored values among ``rows`` (read by ``_value_rows(region_id,
    where)``), oldest first: one statement that picks the values again by ``where`` rather
    than by a list of their ids."""
    revisions: dict[int, list[IndicatorRevision]] = {}
    if any(value.id is not None for value, _definition in rows):
        for revision in db.session.scalars(
            select(IndicatorRevision)
            .join(IndicatorValue, IndicatorValue.id == IndicatorRevision.value_id)
            .join(IndicatorDefinition, IndicatorDefinition.id == IndicatorValue.definition_id)
            .where(_of_region(region_id), *where)
            .order_by(IndicatorRevision.id)
        ):
            revisions.setdefault(revision.value_id, []).append(revision)
    return revisions


def _figures_of(
    region_id: int | None,
    rows: list[tuple[IndicatorValue, IndicatorDefinition]],
    revisions: dict[int, list[IndicatorRevision]],
) -> list[Figure]:
    """The figures of the values: the latest revision's numbers where there is one, and the
    year's target of the region for a whole (not a breakdown) figure."""
    result = []
    years: dict[str, dict[str, decimal.Decimal]] = {}  # period → the targets of its year
    for value, definition in rows:
        targets = years.get(value.period)
        if targets is None:
            targets = years[value.period] = _targets(region_id, parse(value.period).year)
        revs = revisions.get(value.id, []) if value.id is not None else []
        latest = revs[-1] if revs else None
        result.append(
            Figure(
                definition=definition,
                region=value.region,
                period=value.period,
                breakdown=value.breakdown,
                numerator=latest.numerator if latest else value.numerator,
                denominator=latest.denominator if latest else value.denominator,
                reason=latest.reason_null if latest else value.reason,
                computed_at=latest.revised_at if latest else value.computed_at,
                original=value,
                revisions=revs,
                target=targets.get(definition.code) if not value.breakdown else None,
            )
        )
    return result


def _targets(region_id: int | None, year: int) -> dict[str, decimal.Decimal]:
    """The region's targets of the year (none for the national level), read once per page."""
    if region_id is None:
        return {}
    return read_once(("indicators.targets", region_id, year), lambda: targets_of(region_id, year))


def _subtree(region_id: int) -> list[tuple[int, int | None]]:
    """(id, parent id) of the region and every region under it, in one statement (once per
    rendered page: the dashboard asks for each month of its trend)."""
    return [(i, p) for i, p, _agency in _subtree_agencies(region_id)]


def _has_agency(region_id: int) -> bool:
    """Whether an agency sits in the region or under it (once per rendered page)."""
    return any(agency for _i, _p, agency in _subtree_agencies(region_id))


def _subtree_agencies(region_id: int) -> list[tuple[int, int | None, bool]]:
    """(id, parent id, whether an agency sits in it) of the region and every region under it:
    one statement for the region's subtree and its agencies, read once per rendered page."""

    def read() -> list[tuple[int, int | None, bool]]:
        top = select(Region.id, Region.parent_id).where(Region.id == region_id).cte(recursive=True)
        below = aliased(Region)
        tree = top.union_all(
            select(below.id, below.parent_id).join(top, below.parent_id == top.c.id)
        )
        # an agency of each region by the agencies' region index (a scalar subquery: probed
        # per region of the subtree, never a scan of every agency)
        agency = select(Agency.id).where(Agency.region_id == tree.c.id).limit(1).scalar_subquery()
        return [
            (i, p, a is not None)
            for i, p, a in db.session.execute(select(tree.c.id, tree.c.parent_id, agency))
        ]

    return read_once(("indicators.subtree", region_id), read)


def _covered_at(region_id: int, period: str) -> dt.datetime | None:
    """When the rollup that covered the region for the period ran: the computation time of a
    value of the nearest region above it with stored values (the national level last); None
    when no rollup covered it."""
    region = db.session.get(Region, region_id)
    at = region.parent_id if region is not None else None
    for _step in range(10):  # a region tree is a few levels deep
        found = db.session.scalar(
            select(IndicatorValue.computed_at)
            .where(
                IndicatorValue.period == period,
                IndicatorValue.region_id.is_(None)
                if at is None
                else IndicatorValue.region_id == at,
            )
            .limit(1)
        )
        if found is not None or at is None:
            return found
        above = db.session.get(Region, at)
        at = above.parent_id if above is not None else None
    return None


def _empty_values(
    region_id: int, period: str, codes: list[str] | None
) -> list[tuple[IndicatorValue, IndicatorDefinition]]:
    """The values of a region without any agency in it or under it, which the rollup does not
    store (``operations.rollup``): by the agencies' jurisdiction it counts nothing, so its
    values are ``compute.empty`` — zeros, reasons, a rate's population — once a rollup of the
    period covered it (its nearest region above with values). Unsaved rows, never added to
    the session. With ``INDICATOR_REGION=incident`` every region's values are stored: none."""
    if current_app.config.get("INDICATOR_REGION", "agency") == "incident":
        return []
    if _has_agency(region_id):
        return []
    if codes is not None and _stored(region_id, period):
        return []  # stored values, only not of the codes asked for
    nodes = _subtree(region_id)
    ids = [i for i, _p in nodes]
    computed_at = _covered_at(region_id, period)
    if computed_at is None:
        return []
    tree: dict[int | None, list[int]] = {}
    for i, p in nodes:
        if i != region_id:
            tree.setdefault(p, []).append(i)
    parsed = parse(period)
    scope = Scope(period=parsed, agency_ids=(), region_id=region_id, region_ids=frozenset(ids))
    region = db.session.get(Region, region_id)
    out = []
    for definition in sorted(current_definitions(parsed.start_date), key=lambda d: d.code):
        if codes is not None and definition.code not in codes:
            continue
        for breakdown, result in sorted(empty(definition, scope, tree).items()):
            value = IndicatorValue(
                definition=definition,
                region=region,
                period=period,
                breakdown=breakdown,
                numerator=result.numerator,
                denominator=result.denominator,
                reason=result.reason,
                computed_at=computed_at,
            )
            out.append((value, definition))
    return out


def referral_rows(region_id: int | None, period: str) -> list[MetricRow]:
    """The referral figures of the receiving agencies in the region or under it (None: every
    agency) stored by the rollup of the period, as ``referral_metrics(by="agency")`` gives them:
    ordered by the agency's name, the decline rate derived. Two statements whatever the number
    of referrals: the region's subtree, and the figures with the agencies' names."""
    query = (
        select(ReferralFigure, Agency.name)
        .join(Agency, Agency.id == ReferralFigure.agency_id)
        .where(ReferralFigure.period == period)
    )
    if region_id is not None:
        query = query.where(Agency.region_id.in_([i for i, _p in _subtree(region_id)]))
    rows = [
        MetricRow(
            agency_id=figure.agency_id,
            agency_name=name,
            subgt_key=None,
            sent=figure.sent,
            accepted=figure.accepted,
            declined=figure.declined,
            decline_rate=percentage(figure.declined, figure.accepted + figure.declined),
            overdue=figure.overdue,
            median_hours_to_accept=figure.median_hours,
        )
        for figure, name in db.session.execute(query)
    ]
    return sorted(rows, key=lambda r: ((r.agency_name or "").lower(), r.agency_id or 0))


def closed(region_id: int | None, period: str) -> PeriodClose | None:
    return db.session.scalar(
        select(PeriodClose).where(
            PeriodClose.period == period,
            PeriodClose.region_id.is_(None)
            if region_id is None
            else PeriodClose.region_id == region_id,
        )
    )


def _plain(number: decimal.Decimal | None) -> int | str | None:
    if number is None:
        return None
    if number == number.to_integral_value():
        return int(number)
    return str(number.normalize())


def _two_places(number: decimal.Decimal | None) -> str | None:
    return str(round_half_up(number, 2)) if number is not None else None


def as_json(items: list[Figure]) -> list[dict[str, Any]]:
    """interfaces.md §4: exact numbers for authorised users; ``value`` a decimal string rounded
    half-up, or null with ``reason``; ``suppressed`` says whether a publication would hide it;
    ``target`` (the year's target of the period's year, for the region) and ``capaian`` (by the
    definition's direction, domain.md §6.5) as decimal strings, null without a target (and
    capaian null without a value, with a target of 0, or for an indicator without a direction).
    Keys are only ever added, last, so scripts reading the older shape keep working."""
    out = []
    for f in items:
        value = f.value
        row: dict[str, Any] = {
            "code": f.definition.code,
            "definition_version": f.definition.version,
            "region": f.region.code if f.region is not None else "nasional",
            "period": f.period,
            "numerator": _plain(f.numerator),
            "denominator": _plain(f.denominator),
            "scale": f.definition.scale,
            # always a decimal string with 2 places (interfaces.md §4), counts too
            "value": str(round_half_up(value, 2)) if value is not None else None,
            "suppressed": published_suppressed(f, items),  # disclosure.py, as in the report
            "computed_at": f.computed_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        }
        if f.breakdown:
            row["breakdown"] = f.breakdown
        if value is None:
            row["reason"] = f.reason or "Tidak dapat dihitung."
        if f.revisions:
            row["revised"] = True
        row["target"] = _two_places(f.target)
        row["capaian"] = _two_places(f.capaian)
        out.append(row)
    return out


# --- what the pages look up ---------------------------------------------------------------------


def latest_year(region_id: int | None) -> str | None:
    """The latest year with stored values of the region (None: the national level)."""
    where = (
        IndicatorValue.region_id.is_(None)
        if region_id is None
        else IndicatorValue.region_id == region_id
    )
    latest = db.session.scalar(
        select(func.max(func.substr(IndicatorValue.period, 1, 4))).where(where)
    )
    if not latest and region_id is not None:
        # a region without agencies has no stored values: the year of the region above it, if
        # that year answers for it too
        region = db.session.get(Region, region_id)
        above = latest_year(region.parent_id) if region is not None else None
        if above is not None and _empty_values(region_id, above, None):
            return above
    return str(latest) if latest else None


def stored_years() -> set[int]:
    """Every year with stored values, anywhere: the first stored period, then the first one of
    a later year, and so on — one probe of the period index per year, however many values
    are stored (a period starts with its year: ``periods.PATTERN``)."""
    first = select(func.min(IndicatorValue.period).label("period")).cte("years", recursive=True)
    next_year = cast(cast(func.substr(first.c.period, 1, 4), Integer) + 1, String)
    later = select(
        select(func.min(IndicatorValue.period))
        .where(IndicatorValue.period >= next_year)
        .scalar_subquery()
    ).where(first.c.period.is_not(None))
    years = first.union_all(later)
    return {
        int(p[:4])
        for p in db.session.scalars(select(years.c.period).where(years.c.period.is_not(None)))
        if p and p[:4].isdigit()
    }


def headline_definitions() -> list[IndicatorDefinition]:
    return list(db.session.scalars(select(IndicatorDefinition).where(IndicatorDefinition.headline)))


def latest_definition(code: str) -> IndicatorDefinition | None:
    """The newest version of the definition ``code``."""
    return db.session.scalar(
        select(IndicatorDefinition)
        .where(IndicatorDefinition.code == code)
        .order_by(IndicatorDefinition.version.desc())
        .limit(1)
    )


def targets_of(region_id: int, year: int) -> dict[str, decimal.Decimal]:
    """The stored yearly targets of a region: code → target."""
    return {
        t.code: t.value
        for t in db.session.scalars(
            select(IndicatorTarget).where(
                IndicatorTarget.region_id == region_id, IndicatorTarget.year == year
            )
        )
    }


def has_values(region_id: int, period: str) -> bool:
    """Whether the region has values for the period: stored ones, or those of a region without
    agencies that a rollup of the period covered (``_empty_values``)."""
    return _stored(region_id, period) or bool(_empty_values(region_id, period, None))


def _stored(region_id: int, period: str) -> bool:
    found = db.session.scalar(
        select(IndicatorValue.id)
        .where(IndicatorValue.region_id == region_id, IndicatorValue.period == period)
        .limit(1)
    )
    return found is not None


def job_for(
    user: User, job_id: int, *, permission: str, kind: str | None = None
) -> ReportJob | None:
    """A job ``user`` may see (``scope.may_see_job``), of ``kind`` when given; None otherwise —
    the page answers 404 whether it exists or not."""
    job = db.session.get(ReportJob, job_id)
    if job is None or (kind is not None and job.kind != kind):
        return None
    return job if may_see_job(user, job, permission) else None


def recent_reports(user: User, limit: int) -> list[ReportJob]:
    """The monthly reports ``user`` asked for, the newest first."""
    return list(
        db.session.scalars(
            select(ReportJob)
            .where(ReportJob.kind == "report", ReportJob.requested_by_id == user.id)
            .order_by(ReportJob.requested_at.desc(), ReportJob.id.desc())
            .limit(limit)
        )
    )
