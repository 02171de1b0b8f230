"""Writing indicator values: rollups (idempotent upserts), closing a period, revisions after a
close, and yearly targets. Nothing here commits."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit.operations import SystemActor, record
from app.auth.models import User
from app.core.db import utcnow
from app.core.enums import RegionLevel
from app.core.errors import DomainError
from app.core.tasks import enqueue_after_commit
from app.extensions import db
from app.indicators.compute import Result, Scope, agencies_in, compute, descendants, region_tree
from app.indicators.definitions import current_definitions, sync_definitions
from app.indicators.models import (
    IndicatorDefinition,
    IndicatorRevision,
    IndicatorTarget,
    IndicatorValue,
    PeriodClose,
    ReportJob,
)
from app.indicators.periods import Period, parse
from app.regions.models import Region

Actor = User | SystemActor
Progress = Callable[[int, int], None]


@dataclass
class RollupReport:
    period: str
    regions: int = 0
    written: int = 0  # rows inserted or changed
    unchanged: int = 0
    revised: int = 0
    closed_skipped: int = 0  # values of closed periods that differ, left as they were
    closed_regions: list[str] = field(default_factory=list)


def regions_under(code: str | None) -> list[Region | None]:
    """The region with ``code`` and every region under it; ``None`` (no code): every region and
    the national level (``None`` in the list)."""
    above_desa = Region.level != RegionLevel.DESA  # figures go down to the kecamatan level
    if code is None or code.lower() == "nasional":
        return [None, *db.session.scalars(select(Region).where(above_desa).order_by(Region.code))]
    region = db.session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise DomainError(_l("Unknown region %(code)s.", code=code))
    tree = region_tree()
    ids = descendants(region.id, tree)
    return list(
        db.session.scalars(
            select(Region).where(Region.id.in_(ids), above_desa).order_by(Region.code)
        )
    )


def is_closed(region_id: int | None, period: str) -> bool:
    where = [PeriodClose.period == period]
    where.append(
        PeriodClose.region_id.is_(None) if region_id is None else PeriodClose.region_id == region_id
    )
    return db.session.scalar(select(PeriodClose.id).where(*where)) is not None


def _current(
    value: IndicatorValue,
) -> tuple[decimal.Decimal | None, decimal.Decimal | None, str | None]:
    latest = db.session.scalar(
        select(IndicatorRevision)
        .where(IndicatorRevision.value_id == value.id)
        .order_by(IndicatorRevision.id.desc())
        .limit(1)
    )
    if latest is not None:
        return latest.numerator, latest.denominator, latest.reason_null
    return value.numerator, value.denominator, value.reason


def _same(a: decimal.Decimal | None, b: decimal.Decimal | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a == b)


def rollup(
    period_code: str,
    *,
    region_code: str | None = None,
    actor: Actor,
    revise_reason: str | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> RollupReport:
    """Compute and store every current indicator for the period, for the region and every region
    under it (default: all regions and the national level).

    Idempotent: a value that did not change is left as it is (its ``computed_at`` too), so running
    it twice gives identical rows. A value of a closed period is never overwritten: with
    ``revise_reason`` a differing figure becomes a revision (who, why, the difference), without
    it the difference is only counted (``closed_skipped``)."""
    period = parse(period_code)
    sync_definitions()
    definitions = current_definitions(period.start_date)
    targets = regions_under(region_code)
    tree = region_tree()
    report = RollupReport(period=period.code, regions=len(targets))
    now = now or utcnow()
    why = (revise_reason or "").strip() or None
    if why is not None and len(why) > 1000:
        raise DomainError(_l("At most %(n)d characters.", n=1000))
    total = len(targets) * len(definitions)
    done = 0
    for region in targets:
        region_id = region.id if region is not None else None
        agency_ids = None if region is None else agencies_in(descendants(region.id, tree))
        scope = Scope(period=period, agency_ids=agency_ids, region_id=region_id)
        closed = is_closed(region_id, period.code)
        if closed:
            report.closed_regions.append(region.code if region is not None else "nasional")
        for definition in definitions:
            results = compute(definition, scope, tree)
            _store(definition, region_id, period, results, closed, why, actor, now, report)
            done += 1
            if progress is not None:
                progress(done, total)
    db.session.flush()
    record(
        actor,
        "indicators.rollup",
        "period",
        period.code,
        {
            "region": region_code or "semua",
            "written": report.written,
            "revised": report.revised,
            "closed_skipped": report.closed_skipped,
        },
    )
    return report


def _store(
    definition: IndicatorDefinition,
    region_id: int | None,
    period: Period,
    results: dict[str, Result],
    closed: bool,
    why: str | None,
    actor: Actor,
    now: dt.datetime,
    report: RollupReport,
) -> None:
    where = [
        IndicatorValue.definition_id == definition.id,
        IndicatorValue.period == period.code,
        IndicatorValue.region_id.is_(None)
        if region_id is None
        else IndicatorValue.region_id == region_id,
    ]
    existing = {v.breakdown: v for v in db.session.scalars(select(IndicatorValue).where(*where))}
    # a category that no longer occurs counts zero (rows are never deleted)
    for gone in set(existing) - set(results):
        if gone:
            results = {**results, gone: Result(decimal.Decimal(0), None)}
    for breakdown, result in results.items():
        row = existing.get(breakdown)
        if row is None:
            if closed and why is None:
                report.closed_skipped += 1
                continue
            db.session.add(
                IndicatorValue(
                    definition_id=definition.id,
                    region_id=region_id,
                    period=period.code,
                    breakdown=breakdown,
                    numerator=result.numerator,
                    denominator=result.denominator,
                    reason=result.reason,
                    computed_at=now,
                )
            )
            report.written += 1
            continue
        numerator, denominator, reason = _current(row)
        if (
            _same(numerator, result.numerator)
            and _same(denominator, result.denominator)
            and reason == result.reason
        ):
            report.unchanged += 1
            continue
        if closed:
            if why is None:
                report.closed_skipped += 1
                continue
            db.session.add(
                IndicatorRevision(
                    value_id=row.id,
                    numerator=result.numerator,
                    denominator=result.denominator,
                    reason_null=result.reason,
                    why=why,
                    revised_at=now,
                    revised_by_id=actor.id,
                )
            )
            report.revised += 1
            continue
        row.numerator = result.numerator
        row.denominator = result.denominator
        row.reason = result.reason
        row.computed_at = now
        report.written += 1


def close_period(period_code: str, region: Region | None, *, actor: User) -> PeriodClose:
    """Freeze the period's values for the region (and every region under it): they are only
    changed by revisions from now on."""
    period = parse(period_code)
    if period.end > utcnow():
        raise DomainError(_l("A period can be closed only after it has ended."))
    region_id = region.id if region is not None else None
    if is_closed(region_id, period.code):
        raise DomainError(_l("This period is already closed."))
    where = [IndicatorValue.period == period.code]
    where.append(
        IndicatorValue.region_id.is_(None)
        if region_id is None
        else IndicatorValue.region_id == region_id
    )
    if db.session.scalar(select(IndicatorValue.id).where(*where).limit(1)) is None:
        raise DomainError(_l("Run the rollup of this period before closing it."))
    tree = region_tree()
    ids = [None] if region is None else sorted(descendants(region.id, tree))
    closes = []
    for rid in ids:
        if rid is None or not is_closed(rid, period.code):
            closes.append(PeriodClose(region_id=rid, period=period.code, closed_by_id=actor.id))
    db.session.add_all(closes)
    db.session.flush()
    record(
        actor,
        "indicators.close",
        "period",
        period.code,
        {"region": region.code if region is not None else "nasional", "regions": len(closes)},
    )
    return closes[0]


def set_target(
    code: str, region: Region, year: int, value: decimal.Decimal, *, actor: User
) -> IndicatorTarget:
    if value < 0:
        raise DomainError(_l("A target cannot be negative."), field="value")
    if not db.session.scalar(
        select(IndicatorDefinition.id).where(IndicatorDefinition.code == code).limit(1)
    ):
        raise DomainError(_l("Unknown indicator %(code)s.", code=code), field="code")
    target = db.session.scalar(
        select(IndicatorTarget).where(
            IndicatorTarget.code == code,
            IndicatorTarget.region_id == region.id,
            IndicatorTarget.year == year,
        )
    )
    before = target.value if target is not None else None
    if target is None:
        target = IndicatorTarget(code=code, region_id=region.id, year=year, value=value)
        db.session.add(target)
    target.value = value
    target.set_by_id = actor.id
    target.set_at = utcnow()
    db.session.flush()
    record(
        actor,
        "indicators.target",
        "region",
        region.id,
        {
            "code": code,
            "year": year,
            "value": [str(before) if before is not None else None, str(value)],
        },
    )
    return target


def retry_job(job: ReportJob, *, actor: User, now: dt.datetime, stall_after: dt.timedelta) -> None:
    """Queue a failed or stalled job again (its worker died, or the embedded server restarted
    and forgot it); a job that is running or done is left alone."""
    if not (job.state == "gagal" or job.stalled(now, stall_after)):
        raise DomainError(_l("This job is not stalled or failed: it cannot be started again."))
    job.state = "antre"
    job.progress = 0
    job.message = None
    job.heartbeat_at = now
    job.finished_at = None
    db.session.flush()
    record(
        actor,
        f"indicators.{job.kind}_retried",
        "period",
        job.period,
        {"region": job.region.code if job.region is not None else "nasional", "job": job.id},
    )
    enqueue_after_commit(db.session, "indicators.run_job", job.id)


def start_job(
    kind: str, period_code: str, region: Region | None, *, actor: User, fmt: str = "xlsx"
) -> ReportJob:
    """Queue a rollup or a monthly report for the region; the worker runs it after the commit
    (``indicators.run_job``), writing its progress as it goes."""
    period = parse(period_code)
    job = ReportJob(
        kind=kind,
        region_id=region.id if region is not None else None,
        period=period.code,
        format=fmt,
        requested_by_id=actor.id,
    )
    db.session.add(job)
    db.session.flush()
    record(
        actor,
        f"indicators.{kind}_requested",
        "period",
        period.code,
        {"region": region.code if region is not None else "nasional", "job": job.id},
    )
    enqueue_after_commit(db.session, "indicators.run_job", job.id)
    return job
