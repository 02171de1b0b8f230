"""Writing indicator values: rollups (idempotent upserts), closing a period, revisions after a
close, and yearly targets, one by one or in bulk from a CSV file. Nothing here commits."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, or_, select, update

from app.agencies.models import Agency
from app.audit.operations import SystemActor, record
from app.auth.models import User
from app.core.db import set_local, utcnow
from app.core.enums import RegionLevel
from app.core.errors import DomainError, ImportRowError
from app.core.i18n import gettext
from app.core.i18n import lazy_gettext as _l
from app.core.imports import BadFile, SeenKeys, run_import
from app.core.tasks import enqueue_after_commit
from app.extensions import db
from app.indicators.compute import (
    Result,
    Scope,
    agencies_in,
    compute,
    descendants,
    occupied_regions,
    region_tree,
)
from app.indicators.definitions import current_definitions, sync_definitions
from app.indicators.grouped import compute_all
from app.indicators.models import (
    IndicatorDefinition,
    IndicatorRevision,
    IndicatorTarget,
    IndicatorValue,
    PeriodClose,
    ReferralFigure,
    ReportJob,
)
from app.indicators.periods import Period, parse
from app.indicators.queries import has_values
from app.referrals.metrics import referral_metrics
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


def regions_under(
    code: str | None, tree: dict[int | None, list[int]] | None = None
) -> list[Region | None]:
    """The region with ``code`` and every region under it; ``None`` (no code): every region and
    the national level (``None`` in the list)."""
    above_desa = Region.level != RegionLevel.DESA  # figures go down to the kecamatan level
    if code is None or code.lower() == "nasional":
        return [None, *db.session.scalars(select(Region).where(above_desa).order_by(Region.code))]
    region = db.session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise DomainError(_l("Unknown region %(code)s.", code=code))
    ids = descendants(region.id, tree if tree is not None else region_tree())
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
    per_region: bool = False,
) -> RollupReport:
    """Compute and store every current indicator for the period, for the region and every region
    under it (default: all regions and the national level).

    Idempotent: a value that did not change is left as it is (its ``computed_at`` too), so running
    it twice gives identical rows. A value of a closed period is never overwritten: with
    ``revise_reason`` a differing figure becomes a revision (who, why, the difference), without
    it the difference is only counted (``closed_skipped``).

    Every definition is computed once for all the regions (``grouped.compute_all``) and the
    values are written in bulk. ``per_region`` computes each (region, definition) with its own
    statements instead (``compute.compute``): the reference implementation, slow, kept for the
    test that proves both give the same figures (tests/indicators/test_grouped.py)."""
    period = parse(period_code)
    sync_definitions()
    definitions = current_definitions(period.start_date)
    tree = region_tree()
    targets = regions_under(region_code, tree)
    report = RollupReport(period=period.code, regions=len(targets))
    now = now or utcnow()
    why = (revise_reason or "").strip() or None
    if why is not None and len(why) > 1000:
        raise DomainError(_l("At most %(n)d characters.", n=1000))
    by_incident = current_app.config.get("INDICATOR_REGION", "agency") == "incident"
    target_ids = [region.id if region is not None else None for region in targets]
    stored = _stored_values(definitions, period, target_ids)
    # a region without any agency under it counts nothing: its figures are the empty ones
    # (queries.figures answers them without stored rows), computed and stored only where the
    # period already has values of it to keep up to date
    stale = {region_id for _d, region_id, _b in stored if region_id is not None}
    # the region asked for is always stored: the regions under it answer for the period once
    # a region above them has values (queries._covered_at)
    stale |= {r.id for r in targets if r is not None and r.code == region_code}
    # the rollup's few statements each read a period of cases: compiling them (JIT) costs more
    # than it saves (about 0.3 s a statement measured at a million cases); the victims are read
    # through a cursor to its end: planned for all rows, not the first tenth
    set_local(db.session, jit="off", cursor_tuple_fraction="1.0")
    if per_region:
        results = _per_region(
            definitions, period, targets, tree, by_incident=by_incident, stale=stale
        )
    else:
        results = compute_all(
            definitions, period, target_ids, tree, by_incident=by_incident, stale=stale
        )
    _store_all(
        definitions,
        period,
        targets,
        stored,
        results,
        why=why,
        actor=actor,
        now=now,
        report=report,
        progress=progress,
    )
    _store_referrals(period, region_code, tree, now=now)
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


def _per_region(
    definitions: list[IndicatorDefinition],
    period: Period,
    targets: list[Region | None],
    tree: dict[int | None, list[int]],
    *,
    by_incident: bool,
    stale: set[int],
) -> dict[tuple[int, int | None], dict[str, Result]]:
    """The reference implementation: each (region, definition) with its own statements (the
    regions without agencies left out as ``compute_all`` leaves them)."""
    results: dict[tuple[int, int | None], dict[str, Result]] = {}
    keep = None if by_incident else occupied_regions(tree) | stale
    for region in targets:
        region_id = region.id if region is not None else None
        if keep is not None and region_id is not None and region_id not in keep:
            continue
        region_ids = None if region is None else frozenset(descendants(region.id, tree))
        agency_ids = None if region_ids is None else agencies_in(region_ids)
        scope = Scope(
            period=period,
            agency_ids=agency_ids,
            region_id=region_id,
            region_ids=region_ids,
            by_incident=by_incident,
        )
        for definition in definitions:
            results[(definition.id, region_id)] = compute(definition, scope, tree)
    return results


# the stored figure of a value: its latest revision's, else its own
Stored = tuple[decimal.Decimal | None, decimal.Decimal | None, str | None]

# above this many regions the stored values of the period are read for every region
_FEW_REGIONS = 500


def _stored_values(
    definitions: list[IndicatorDefinition], period: Period, region_ids: list[int | None]
) -> dict[tuple[int, int | None, str], tuple[int, Stored]]:
    """The stored values of the period for the definitions and regions, by (definition, region,
    breakdown): (value id, the current figure — its latest revision's if it has any)."""
    where = [
        IndicatorValue.period == period.code,
        IndicatorValue.definition_id.in_([d.id for d in definitions]),
    ]
    if len(region_ids) <= _FEW_REGIONS:
        ids = [r for r in region_ids if r is not None]
        where.append(
            or_(IndicatorValue.region_id.in_(ids), IndicatorValue.region_id.is_(None))
            if None in region_ids
            else IndicatorValue.region_id.in_(ids)
        )
    values = db.session.execute(
        select(
            IndicatorValue.id,
            IndicatorValue.definition_id,
            IndicatorValue.region_id,
            IndicatorValue.breakdown,
            IndicatorValue.numerator,
            IndicatorValue.denominator,
            IndicatorValue.reason,
        ).where(*where)
    ).all()
    latest: dict[int, Stored] = {}
    for value_id, numerator, denominator, reason in db.session.execute(
        select(
            IndicatorRevision.value_id,
            IndicatorRevision.numerator,
            IndicatorRevision.denominator,
            IndicatorRevision.reason_null,
        )
        .join(IndicatorValue, IndicatorValue.id == IndicatorRevision.value_id)
        .where(*where)
        .order_by(IndicatorRevision.id)
    ):
        latest[value_id] = (numerator, denominator, reason)
    return {
        (definition_id, region_id, breakdown): (
            value_id,
            latest.get(value_id, (numerator, denominator, reason)),
        )
        for value_id, definition_id, region_id, breakdown, numerator, denominator, reason in values
    }


def _store_all(
    definitions: list[IndicatorDefinition],
    period: Period,
    targets: list[Region | None],
    stored: dict[tuple[int, int | None, str], tuple[int, Stored]],
    results: dict[tuple[int, int | None], dict[str, Result]],
    *,
    why: str | None,
    actor: Actor,
    now: dt.datetime,
    report: RollupReport,
    progress: Progress | None,
) -> None:
    """Store the results of every (definition, region): new values inserted, changed values of
    open periods updated, changed values of closed periods revised (with ``why``) or counted —
    in bulk, a few statements for the whole period."""
    existing: dict[tuple[int, int | None], dict[str, tuple[int, Stored]]] = {}
    for (definition_id, region_id, breakdown), value in stored.items():
        existing.setdefault((definition_id, region_id), {})[breakdown] = value
    closes = set(
        db.session.scalars(select(PeriodClose.region_id).where(PeriodClose.period == period.code))
    )
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    revisions: list[dict[str, object]] = []
    total = len(targets) * len(definitions)
    done = 0
    for region in targets:
        region_id = region.id if region is not None else None
        closed = region_id in closes
        if closed:
            report.closed_regions.append(region.code if region is not None else "nasional")
        for definition in definitions:
            if (definition.id, region_id) not in results:
                continue  # a region without agencies (compute_all)
            results_of = results[(definition.id, region_id)]
            rows = existing.get((definition.id, region_id), {})
            # a category that no longer occurs counts zero (rows are never deleted)
            for gone in set(rows) - set(results_of):
                if gone:
                    results_of = {**results_of, gone: Result(decimal.Decimal(0), None)}
            for breakdown, result in results_of.items():
                row = rows.get(breakdown)
                if row is None:
                    if closed and why is None:
                        report.closed_skipped += 1
                        continue
                    inserts.append(
                        {
                            "definition_id": definition.id,
                            "region_id": region_id,
                            "period": period.code,
                            "breakdown": breakdown,
                            "numerator": result.numerator,
                            "denominator": result.denominator,
                            "reason": result.reason,
                            "computed_at": now,
                        }
                    )
                    report.written += 1
                    continue
                value_id, (numerator, denominator, reason) = row
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
                    revisions.append(
                        {
                            "value_id": value_id,
                            "numerator": result.numerator,
                            "denominator": result.denominator,
                            "reason_null": result.reason,
                            "why": why,
                            "revised_at": now,
                            "revised_by_id": actor.id,
                        }
                    )
                    report.revised += 1
                    continue
                updates.append(
                    {
                        "id": value_id,
                        "numerator": result.numerator,
                        "denominator": result.denominator,
                        "reason": result.reason,
                        "computed_at": now,
                    }
                )
                report.written += 1
            done += 1
            if progress is not None:
                progress(done, total)
    db.session.flush()
    if inserts:
        _insert_values(inserts)
    if updates:
        _update_values(updates)
        # the rows this session holds are stale now
        changed = {u["id"] for u in updates}
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, IndicatorValue) and obj.id in changed:
                db.session.expire(obj)
    if revisions:
        db.session.execute(insert(IndicatorRevision), revisions)


_INSERTED = (
    "definition_id",
    "region_id",
    "period",
    "breakdown",
    "numerator",
    "denominator",
    "reason",
    "computed_at",
)
_UPDATED = ("id", "numerator", "denominator", "reason", "computed_at")


def _copying() -> Any:
    """The session's psycopg connection when the database is PostgreSQL (values are then
    written with COPY, tens of thousands a second), else None (one INSERT per row)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        return connection.connection.driver_connection
    return None


def _insert_values(rows: list[dict[str, object]]) -> None:
    raw = _copying()
    if raw is None:
        db.session.execute(insert(IndicatorValue), rows)
        return
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY indicator_values ({', '.join(_INSERTED)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(tuple(row[c] for c in _INSERTED))


def _update_values(rows: list[dict[str, object]]) -> None:
    raw = _copying()
    if raw is None:
        db.session.execute(update(IndicatorValue), rows)
        return
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE rollup_changed (id integer PRIMARY KEY, numerator numeric, "
            "denominator numeric, reason varchar(300), computed_at timestamptz) ON COMMIT DROP"
        )
        with cursor.copy(f"COPY rollup_changed ({', '.join(_UPDATED)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(row[c] for c in _UPDATED))
        cursor.execute(
            "UPDATE indicator_values v SET numerator = c.numerator, denominator = c.denominator,"
            " reason = c.reason, computed_at = c.computed_at FROM rollup_changed c"
            " WHERE v.id = c.id"
        )
        cursor.execute("DROP TABLE rollup_changed")


def _store_referrals(
    period: Period,
    region_code: str | None,
    tree: dict[int | None, list[int]],
    *,
    now: dt.datetime,
) -> None:
    """Store the period's referral figures of every receiving agency of the rollup's regions
    (``referral_metrics`` by agency, what the dashboard showed when it counted them itself):
    new rows inserted, changed ones updated, an agency with nothing sent any more removed.
    An agency whose region's period is closed keeps its rows as they were."""
    agency_ids: tuple[int, ...] | None = None
    if region_code is not None and region_code.lower() != "nasional":
        region = db.session.scalar(select(Region).where(Region.code == region_code))
        if region is None:
            return
        agency_ids = agencies_in(descendants(region.id, tree))
    closed = set(
        db.session.scalars(
            select(Agency.id)
            .join(PeriodClose, PeriodClose.region_id == Agency.region_id)
            .where(PeriodClose.period == period.code)
        )
    )
    where = [ReferralFigure.period == period.code]
    if agency_ids is not None:
        where.append(ReferralFigure.agency_id.in_(agency_ids))
    stored = {
        row.agency_id: row
        for row in db.session.execute(
            select(
                ReferralFigure.id,
                ReferralFigure.agency_id,
                ReferralFigure.sent,
                ReferralFigure.accepted,
                ReferralFigure.declined,
                ReferralFigure.overdue,
                ReferralFigure.median_hours,
            ).where(*where)
        )
    }
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    seen: set[int] = set()
    for m in referral_metrics(period.start, period.end, by="agency", agency_ids=agency_ids):
        if m.agency_id is None or m.agency_id in closed:
            continue
        seen.add(m.agency_id)
        figures = {
            "sent": m.sent,
            "accepted": m.accepted,
            "declined": m.declined,
            "overdue": m.overdue,
            "median_hours": m.median_hours_to_accept,
        }
        row = stored.get(m.agency_id)
        if row is None:
            inserts.append(
                {"period": period.code, "agency_id": m.agency_id, "computed_at": now, **figures}
            )
        elif (row.sent, row.accepted, row.declined, row.overdue) != (
            m.sent,
            m.accepted,
            m.declined,
            m.overdue,
        ) or not _same(row.median_hours, m.median_hours_to_accept):
            updates.append({"id": row.id, "computed_at": now, **figures})
    gone = [row.id for agency_id, row in stored.items() if agency_id not in seen | closed]
    if inserts:
        db.session.execute(insert(ReferralFigure), inserts)
    if updates:
        db.session.execute(update(ReferralFigure), updates)
    if gone:
        db.session.execute(delete(ReferralFigure).where(ReferralFigure.id.in_(gone)))


def close_period(period_code: str, region: Region | None, *, actor: User) -> PeriodClose:
    """Freeze the period's values for the region (and every region under it): they are only
    changed by revisions from now on."""
    period = parse(period_code)
    if period.end > utcnow():
        raise DomainError(_l("A period can be closed only after it has ended."))
    region_id = region.id if region is not None else None
    if is_closed(region_id, period.code):
        raise DomainError(_l("This period is already closed."))
    if region_id is None:
        rolled_up = (
            db.session.scalar(
                select(IndicatorValue.id)
                .where(IndicatorValue.period == period.code, IndicatorValue.region_id.is_(None))
                .limit(1)
            )
            is not None
        )
    else:  # a region without agencies has its values once a rollup covered it
        rolled_up = has_values(region_id, period.code)
    if not rolled_up:
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
    code: str, region: Region, year: int, value: decimal.Decimal, *, actor: Actor
) -> IndicatorTarget:
    """Set the yearly target of indicator ``code`` for the region (a new one or a change),
    audit-logged with the value before and after."""
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
    return _write_target(target, code, region, year, value, actor)


def save_targets(
    values: Mapping[str, decimal.Decimal | None], region: Region, year: int, *, actor: Actor
) -> int:
    """Set the region's targets of ``year`` from the targets page (code → target; None: left as
    it is); only those that differ from the stored ones are written. The number written."""
    stored = {
        t.code: t.value
        for t in db.session.scalars(
            select(IndicatorTarget).where(
                IndicatorTarget.region_id == region.id, IndicatorTarget.year == year
            )
        )
    }
    saved = 0
    for code, value in values.items():
        if value is None or stored.get(code) == value:
            continue
        set_target(code, region, year, value, actor=actor)
        saved += 1
    return saved


def _write_target(
    target: IndicatorTarget | None,
    code: str,
    region: Region,
    year: int,
    value: decimal.Decimal,
    actor: Actor,
) -> IndicatorTarget:
    """Store a checked target over the stored one (``target``, None when there is none) and
    audit it: the one writer of targets, for the page and for files."""
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


# --- targets in bulk (a Renstra / Perjanjian Kinerja: years x indicators x regions) ------------

TARGET_COLUMNS = ("region_code", "year", "code", "target")
TARGET_FIRST_YEAR, TARGET_LAST_YEAR = 2000, 2100
MAX_TARGET = decimal.Decimal("10000000000000000")  # Numeric(20, 4): 16 digits before the point
_TARGET_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
_YEAR = re.compile(r"[0-9]{1,6}")
_LINE = re.compile(r"^line (\d+): (.*)$", re.DOTALL)


def parse_target(text: str) -> decimal.Decimal:
    """A target as a CSV file holds it: digits, a dot and at most 2 decimals (``3.20``, ``80``,
    ``0.5``); ``ValueError`` with the reason otherwise.

    A comma is refused, never guessed: ``1,500`` is 1.5 written the Indonesian way and 1500 in a
    spreadsheet set to English, and a wrong guess would publish a target a thousand times off.
    (The targets page, where a person types one number at a time, accepts ``3,20`` too.)"""
    raw = text.strip()
    if not raw:
        raise ValueError(gettext("target: empty"))
    if raw.startswith("-") and _TARGET_NUMBER.fullmatch(raw[1:]):
        raise ValueError(gettext("target: %(value)s is negative", value=raw))
    if "," in raw and _TARGET_NUMBER.fullmatch(raw.replace(",", ".", 1)):
        raise ValueError(
            gettext("target: %(value)s: write decimals with a dot, e.g. 3.20", value=raw)
        )
    if not _TARGET_NUMBER.fullmatch(raw):
        raise ValueError(
            gettext(
                "target: %(value)s is not a number such as 3.20 (a dot before at most 2 decimals)",
                value=raw,
            )
        )
    value = decimal.Decimal(raw)
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(gettext("target: %(value)s has more than 2 decimals", value=raw))
    if value >= MAX_TARGET:
        raise ValueError(gettext("target: %(value)s is too large", value=raw))
    return value


@dataclass
class TargetLine:
    """One good line of a targets file: what is stored (``before``) and what the file says."""

    line: int
    region: Region
    year: int
    code: str
    before: decimal.Decimal | None
    after: decimal.Decimal

    @property
    def outcome(self) -> str:
        if self.before is None:
            return "created"
        return "unchanged" if self.before == self.after else "updated"


class TargetLines:
    """Checks each line of a targets file (``region_code,year,code,target``) and, when ``write``,
    stores it with ``set_target`` (audit-logged); the ``apply_row`` of
    ``app.core.imports.run_import``: returns ``created``/``updated``/``unchanged`` or raises
    ``ImportRowError`` naming every problem of the line.

    ``regions`` are the regions the person may set targets for (the targets page); ``None`` (the
    CLI, which has no user scope) allows every region above the desa level, where figures stop.
    An indicator takes a target when the version of its definition that applies in that year is
    higher- or lower-is-better (capaian has no meaning otherwise)."""

    def __init__(
        self, *, actor: Actor, regions: Iterable[Region] | None = None, write: bool = True
    ) -> None:
        sync_definitions()
        self.actor, self.write = actor, write
        self.allowed = None if regions is None else {r.id for r in regions}
        self.lines: list[TargetLine] = []
        self._seen = SeenKeys()
        self._regions: dict[str, Region | None] = {}
        self._known = set(db.session.scalars(select(IndicatorDefinition.code).distinct()))
        self._directed: dict[int, set[str]] = {}
        self._stored: dict[tuple[int, int], dict[str, IndicatorTarget]] = {}

    def __call__(self, line: int, row: dict[str, str]) -> str:
        problems: list[str] = []
        region = self._region(row["region_code"], problems)
        year = self._year(row["year"], problems)
        code = row["code"]
        self._check_code(code, year, problems)
        value = None
        try:
            value = parse_target(row["target"])
        except ValueError as error:
            problems.append(str(error))
        if problems or region is None or year is None or value is None:
            raise ImportRowError(line, "; ".join(problems))
        earlier = self._seen.first_line((region.id, year, code), line)
        if earlier is not None:
            raise ImportRowError(
                line,
                gettext(
                    "region %(region)s, year %(year)d and code %(code)s are already on line %(n)d",
                    region=region.code,
                    year=year,
                    code=code,
                    n=earlier,
                ),
            )
        stored = self._stored_of(region, year).get(code)
        before = stored.value if stored is not None else None
        found = TargetLine(line, region, year, code, before, value)
        if self.write and found.outcome != "unchanged":
            # checked above like set_target checks (code known, value not negative); the stored
            # row is already loaded, so a file of thousands of lines costs no query more
            _write_target(stored, code, region, year, value, self.actor)
        self.lines.append(found)
        return found.outcome

    def _region(self, code: str, problems: list[str]) -> Region | None:
        if code not in self._regions:
            self._regions[code] = db.session.scalar(select(Region).where(Region.code == code))
        region = self._regions[code]
        if region is None:
            problems.append(gettext("region_code: unknown region %(code)s", code=code or '""'))
        elif self.allowed is not None and region.id not in self.allowed:
            problems.append(
                gettext(
                    "region_code: %(code)s is not among the regions you set targets for", code=code
                )
            )
        elif self.allowed is None and region.level == RegionLevel.DESA:
            problems.append(
                gettext(
                    "region_code: %(code)s is a desa; targets are set for a kecamatan or above",
                    code=code,
                )
            )
        else:
            return region
        return None

    def _year(self, text: str, problems: list[str]) -> int | None:
        if _YEAR.fullmatch(text) and TARGET_FIRST_YEAR <= int(text) <= TARGET_LAST_YEAR:
            return int(text)
        problems.append(
            gettext(
                "year: %(value)s is not a year from %(first)d to %(last)d",
                value=text or '""',
                first=TARGET_FIRST_YEAR,
                last=TARGET_LAST_YEAR,
            )
        )
        return None

    def _check_code(self, code: str, year: int | None, problems: list[str]) -> None:
        if code not in self._known:
            problems.append(gettext("code: unknown indicator %(code)s", code=code or '""'))
            return
        if year is None:
            return
        if year not in self._directed:
            self._directed[year] = {
                d.code
                for d in current_definitions(dt.date(year, 1, 1))
                if d.direction in ("higher", "lower")
            }
        if code not in self._directed[year]:
            problems.append(
                gettext(
                    "code: %(code)s takes no target (it is neither higher- nor lower-is-better)",
                    code=code,
                )
            )

    def _stored_of(self, region: Region, year: int) -> dict[str, IndicatorTarget]:
        key = (region.id, year)
        if key not in self._stored:
            self._stored[key] = {
                t.code: t
                for t in db.session.scalars(
                    select(IndicatorTarget).where(
                        IndicatorTarget.region_id == region.id, IndicatorTarget.year == year
                    )
                )
            }
        return self._stored[key]


@dataclass
class TargetImport:
    """What a targets file does (or would do): every good line, every bad one as
    ``(line, reason)`` (``line`` None when the file as a whole cannot be read), and a digest of
    the file and of the stored targets it meets, so that applying a preview can check that
    nothing changed in between."""

    lines: list[TargetLine] = field(default_factory=list)
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    digest: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)

    @property
    def changes(self) -> list[TargetLine]:
        return [line for line in self.lines if line.outcome != "unchanged"]


def import_targets(
    content: bytes,
    *,
    name: str,
    actor: Actor,
    regions: Iterable[Region] | None,
    write: bool,
) -> TargetImport:
    """Check (and when ``write``, store) the targets of a CSV file's ``content`` with the same
    reader and checks as ``flask indicators targets import``. With any bad line the caller must
    roll back: a file with a bad line writes nothing. ``name`` is the file's name as shown."""
    lines = TargetLines(actor=actor, regions=regions, write=write)
    result = TargetImport()
    with tempfile.TemporaryDirectory(prefix="simpul-targets-") as folder:
        path = Path(folder) / "targets.csv"
        path.write_bytes(content)
        try:
            report = run_import(path, TARGET_COLUMNS, lines)
        except BadFile as error:
            message = str(error).replace(str(path), name)
            match = _LINE.match(message)
            result.errors.append((int(match[1]), match[2]) if match else (None, message))
            return result
    result.lines = lines.lines
    result.errors = [(e.line, e.reason) for e in report.errors]
    seal = hashlib.sha256(content)
    for line in result.lines:
        seal.update(f"\n{line.line}:{line.before}:{line.after}".encode())
    result.digest = seal.hexdigest()
    return result


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
