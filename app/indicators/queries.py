"""Reading indicator values: the current figure (the latest revision of a closed value, else the
value), derived values, capaian against the target, and the JSON of interfaces.md §4."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db
from app.indicators.disclosure import published_suppressed
from app.indicators.math import capaian, round_half_up, suppressed, value_of
from app.indicators.models import (
    IndicatorDefinition,
    IndicatorRevision,
    IndicatorTarget,
    IndicatorValue,
    PeriodClose,
    ReportJob,
)
from app.indicators.periods import parse
from app.indicators.scope import may_see_job
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
    where = [
        IndicatorValue.period == period,
        IndicatorValue.region_id.is_(None)
        if region_id is None
        else IndicatorValue.region_id == region_id,
    ]
    query = (
        select(IndicatorValue, IndicatorDefinition)
        .join(IndicatorDefinition, IndicatorDefinition.id == IndicatorValue.definition_id)
        .where(*where)
        .order_by(IndicatorDefinition.code, IndicatorValue.breakdown)
    )
    if codes is not None:
        query = query.where(IndicatorDefinition.code.in_(codes))
    rows = db.session.execute(query).all()
    revisions: dict[int, list[IndicatorRevision]] = {}
    if rows:
        for revision in db.session.scalars(
            select(IndicatorRevision)
            .where(IndicatorRevision.value_id.in_([v.id for v, _ in rows]))
            .order_by(IndicatorRevision.id)
        ):
            revisions.setdefault(revision.value_id, []).append(revision)
    year = parse(period).year
    targets = {}
    if region_id is not None:
        targets = {
            t.code: t.value
            for t in db.session.scalars(
                select(IndicatorTarget).where(
                    IndicatorTarget.region_id == region_id, IndicatorTarget.year == year
                )
            )
        }
    result = []
    for value, definition in rows:
        revs = revisions.get(value.id, [])
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
    return str(latest) if latest else None


def stored_years() -> set[int]:
    """Every year with stored values, anywhere."""
    return {
        int(y)
        for y in db.session.scalars(select(func.substr(IndicatorValue.period, 1, 4)).distinct())
        if y and y.isdigit()
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
