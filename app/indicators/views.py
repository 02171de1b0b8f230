"""Indicator pages (domain.md §6): the dashboard of one region and period, the detail of one
indicator with its revisions, rollup jobs with their progress, closing a period, yearly targets.

Scope: a user reaches the regions of the agencies where they hold a role with
``indicators:view`` and every region under them (down to the kecamatan level, where figures
stop); the national level only when those regions include every top-level region. Anything else
is a 404. Disclosure control (§6.7) is applied to everything shown: counts of 1-4 are ``<5``
with secondary suppression, rates from such counts are marked, and below the kabupaten/kota
level no count under 5 (zero too) and no rate computed from one is shown."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from app.auth.models import User
from app.core.db import utcnow
from app.core.enums import CaseType, IncidentPlace, RegionLevel, Relationship, Sex, ViolenceType
from app.core.errors import DomainError
from app.core.labels import label
from app.core.permissions import permissions_for_roles, requires
from app.extensions import db
from app.indicators import bp, queries
from app.indicators import operations as ops
from app.indicators.compute import UNKNOWN, agencies_in, descendants, region_tree
from app.indicators.forms import (
    CloseForm,
    RollupForm,
    decimal_text,
    parse_decimal,
    target_form,
)
from app.indicators.math import SUPPRESS_BELOW, format_id, is_small, suppress_table
from app.indicators.models import IndicatorDefinition, IndicatorTarget, IndicatorValue, ReportJob
from app.indicators.operations import close_period, set_target
from app.indicators.periods import JAKARTA, Period, PeriodError, parse
from app.indicators.queries import Figure
from app.indicators.tasks import stall_after
from app.regions.models import Region

VIEW, MANAGE, CLOSE = "indicators:view", "indicators:manage", "periods:close"
NATIONAL = "nasional"
BREAKDOWN_PREFIX = "korban_menurut_"

# (dimension, title, vocabulary of its categories, categories are disjoint: a total is shown)
DIMENSIONS: list[tuple[str, Any, Any, bool]] = [
    ("jenis_kekerasan", _l("Type of violence"), ViolenceType, False),
    ("tempat_kejadian", _l("Place of the incident"), IncidentPlace, False),
    ("kelompok_umur", _l("Age group"), None, True),
    ("jenis_kelamin", _l("Sex"), Sex, True),
    ("disabilitas", _l("Disability"), None, True),
    ("hubungan_pelaku", _l("Relationship to the perpetrator"), Relationship, False),
    ("jenis_kasus", _l("Type of case"), CaseType, False),
]
PERIOD_PARTS: list[tuple[str, Any]] = [
    ("", _l("Whole year")),
    ("S1", _l("Semester 1")),
    ("S2", _l("Semester 2")),
    ("Q1", _l("Quarter 1")),
    ("Q2", _l("Quarter 2")),
    ("Q3", _l("Quarter 3")),
    ("Q4", _l("Quarter 4")),
]
MONTHS: list[Any] = [
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


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


# --- scope -------------------------------------------------------------------------------------


@dataclass
class Reach:
    """The regions a user may see (id → region, above the desa level) and the national level."""

    regions: dict[int, Region]
    national: bool
    home: list[Region]  # the agencies' own regions, highest first

    def ordered(self) -> list[Region]:
        return sorted(self.regions.values(), key=lambda r: r.code)


def reach_of(user: User, permission: str = VIEW) -> Reach:
    own = {
        g.agency.region_id
        for g in user.grants
        if g.agency is not None and permission in permissions_for_roles([g.role])
    }
    tree = region_tree()
    ids: set[int] = set()
    for region_id in own:
        ids |= descendants(region_id, tree)
    regions = {
        r.id: r
        for r in db.session.scalars(
            select(Region).where(Region.id.in_(ids), Region.level != RegionLevel.DESA)
        )
    }
    roots = set(tree.get(None, []))
    home = sorted((regions[i] for i in own if i in regions), key=lambda r: (r.level.depth, r.code))
    return Reach(regions, bool(roots) and roots <= own, home)


def _region_or_404(reach: Reach, code: str | None) -> Region | None:
    """The region named by ``code`` (``nasional``: None) when the user may see it; no code: the
    user's own top region."""
    code = (code or "").strip()
    if not code:
        if reach.home:
            return reach.home[0]
        if reach.national:
            return None
        abort(404)
    if code.lower() == NATIONAL:
        if reach.national:
            return None
        abort(404)
    for region in reach.regions.values():
        if region.code == code:
            return region
    abort(404)


def _region_code(region: Region | None) -> str:
    return region.code if region is not None else NATIONAL


def _region_name(region: Region | None) -> str:
    return region.label if region is not None else _("National")


def _below_kabkota(region: Region | None) -> bool:
    return region is not None and region.level.depth > RegionLevel.KABKOTA.depth


def _period_or_400(code: str | None) -> Period:
    try:
        return parse(code or "")
    except PeriodError:
        abort(400)


def _default_period(region: Region | None) -> str:
    where = (
        IndicatorValue.region_id.is_(None)
        if region is None
        else IndicatorValue.region_id == region.id
    )
    latest = db.session.scalar(
        select(func.max(func.substr(IndicatorValue.period, 1, 4))).where(where)
    )
    return str(latest or dt.datetime.now(JAKARTA).year)


def _requested_period(region: Region | None) -> Period:
    """``?period=2025-07``, or ``?year=2025&part=Q3`` from the picker, else the latest year."""
    if request.args.get("period"):
        return _period_or_400(request.args["period"])
    year = (request.args.get("year") or "").strip()
    if year:
        part = (request.args.get("part") or "").strip()
        return _period_or_400(f"{year}-{part}" if part else year)
    return _period_or_400(_default_period(region))


def _period_name(period: Period) -> str:
    if period.kind == "bulan":
        return f"{MONTHS[period.first_month - 1]} {period.year}"
    if period.kind == "triwulan":
        return _("Quarter %(n)d %(year)d", n=(period.first_month + 2) // 3, year=period.year)
    if period.kind == "semester":
        return _("Semester %(n)d %(year)d", n=(period.first_month + 5) // 6, year=period.year)
    return str(period.year)


def _name(definition: IndicatorDefinition) -> str:
    return definition.name_en if str(get_locale()) == "en" else definition.name_id


# --- what is shown (§6.5-§6.7) ------------------------------------------------------------------


@dataclass
class Shown:
    """One figure as the page shows it."""

    figure: Figure
    text: str  # "32,83", "<5" or "—"
    number: str | None  # the value with a dot, for charts; None when not drawn
    marked: bool = False  # a rate computed from fewer than 5 victims
    hidden: bool = False  # not shown at all (disclosure control)
    reason: str | None = None  # why there is no value
    target: str | None = None
    capaian: str | None = None
    capaian_number: str | None = None

    @property
    def definition(self) -> IndicatorDefinition:
        return self.figure.definition

    @property
    def is_count(self) -> bool:
        return self.figure.denominator is None and self.figure.definition.scale == 1


def show(figure: Figure, *, low: bool) -> Shown:
    definition = figure.definition
    value = figure.value
    target = format_id(figure.target, definition.rounding) if figure.target is not None else None
    if value is None:
        return Shown(
            figure, "—", None, reason=figure.reason or _("Cannot be computed."), target=target
        )
    count = figure.denominator is None and definition.scale == 1
    if count:
        small = value < SUPPRESS_BELOW if low else is_small(value)
        if small:
            return Shown(figure, "<5", None, hidden=True, target=target)
    else:
        few = (
            figure.numerator is not None and figure.numerator < SUPPRESS_BELOW
            if low
            else figure.suppressed
        )
        if few and low:
            return Shown(figure, "—", None, hidden=True, target=target)
        if few:
            shown = Shown(figure, format_id(value, definition.rounding), str(value), marked=True)
            return _with_capaian(shown, target)
    shown = Shown(figure, format_id(value, definition.rounding), str(value))
    return _with_capaian(shown, target)


def _with_capaian(shown: Shown, target: str | None) -> Shown:
    shown.target = target
    achieved = shown.figure.capaian
    if achieved is not None:
        shown.capaian = format_id(achieved)
        shown.capaian_number = str(achieved)
    return shown


def hidden_cells(cells: dict[str, int], *, low: bool) -> dict[str, bool]:
    """Which cells of a breakdown are hidden: ``suppress_table`` (1-4, and a second cell when
    one alone could be recomputed from the total); below kab/kota every count under 5, zero too."""
    if low:
        cells = {k: (c if c >= SUPPRESS_BELOW else 1) for k, c in cells.items()}
    return suppress_table(cells, total_shown=True)


def _category_label(dimension: str, vocabulary: Any, value: str) -> str:
    if value == UNKNOWN:
        return _("Unknown")
    if dimension == "disabilitas":
        return _("With a disability") if value == "ya" else _("Without a disability")
    if dimension == "kelompok_umur":
        return _("%(band)s years", band=value)
    return label(value, vocabulary) if vocabulary is not None else value


def _band_order(value: str) -> int:
    head = value.split("-")[0].rstrip("+")
    return int(head) if head.isdigit() else 999


@dataclass
class Breakdown:
    dimension: str
    title: Any
    rows: list[tuple[str, str, str | None]]  # label, text, number for the chart
    total: str | None
    disjoint: bool
    chart: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> list[list[str]]:
        rows = [[r[0], r[1]] for r in self.rows]
        if self.total is not None:
            rows.append([_("Total"), self.total])
        return rows


def breakdowns(items: list[Figure], *, low: bool) -> list[Breakdown]:
    by_code: dict[str, list[Figure]] = {}
    for f in items:
        if f.breakdown:
            by_code.setdefault(f.definition.code, []).append(f)
    out = []
    for dimension, title, vocabulary, disjoint in DIMENSIONS:
        figs = by_code.get(BREAKDOWN_PREFIX + dimension, [])
        cells = {f.breakdown: int(f.numerator or 0) for f in figs}
        hidden = hidden_cells(cells, low=low)
        keys = sorted(cells, key=_band_order) if dimension == "kelompok_umur" else sorted(cells)
        rows = [
            (
                _category_label(dimension, vocabulary, key),
                "<5" if hidden[key] else format_id(decimal.Decimal(cells[key]), 0),
                None if hidden[key] else str(cells[key]),
            )
            for key in keys
        ]
        total = None
        if disjoint and cells:
            whole = sum(cells.values())
            small = whole < SUPPRESS_BELOW if low else is_small(whole)
            total = "<5" if small else format_id(decimal.Decimal(whole), 0)
        chart = {
            "type": "hbar",
            "labels": [r[0] for r in rows],
            "series": [{"label": _("Victims"), "data": [r[2] for r in rows]}],
            "unit": "",
        }
        out.append(Breakdown(dimension, title, rows, total, disjoint, chart))
    return out


def _headline_codes(definitions: Iterable[IndicatorDefinition]) -> list[str]:
    return sorted({d.code for d in definitions if d.headline})


def trend_charts(
    region: Region | None, year: int, codes: list[str], *, low: bool
) -> list[dict[str, Any]]:
    """Per unit (%, per 100.000, ...): the monthly values of the headline rates of the year."""
    series: dict[str, dict[str, Any]] = {}
    texts: dict[str, list[str]] = {}
    units: dict[str, list[str]] = {}
    region_id = region.id if region is not None else None
    for month in range(1, 13):
        for f in queries.figures(region_id, f"{year}-{month:02d}", codes=codes):
            if f.breakdown or f.definition.scale == 1:
                continue
            code = f.definition.code
            if code not in series:
                series[code] = {"label": _name(f.definition), "data": [None] * 12}
                texts[code] = ["—"] * 12
                units.setdefault(f.definition.unit, []).append(code)
            shown = show(f, low=low)
            series[code]["data"][month - 1] = shown.number
            texts[code][month - 1] = shown.text + ("*" if shown.marked else "")
    labels = [str(m)[:3] for m in MONTHS]
    charts = []
    for unit, members in sorted(units.items()):
        chosen = [series[c] for c in members]
        shown_texts = [texts[c] for c in members]
        charts.append(
            {
                "title": _("Monthly trend %(year)d (%(unit)s)", year=year, unit=unit),
                "chart": {"type": "line", "labels": labels, "series": chosen, "unit": unit},
                "columns": [_("Month"), *(s["label"] for s in chosen)],
                "table": [
                    [str(month), *(t[i] for t in shown_texts)] for i, month in enumerate(MONTHS)
                ],
            }
        )
    return charts


def target_chart(headline: list[Shown]) -> dict[str, Any]:
    """The year's value of each headline indicator against its target, as capaian (%)."""
    with_target = [s for s in headline if s.capaian_number is not None]
    return {
        "title": _("Achievement against the target"),
        "chart": {
            "type": "hbar",
            "labels": [_name(s.definition) for s in with_target],
            "series": [
                {
                    "label": _("Achievement (capaian)"),
                    "data": [s.capaian_number for s in with_target],
                }
            ],
            "unit": "%",
            "reference": 100,
        },
        "columns": [_("Indicator"), _("Value"), _("Target"), _("Achievement (capaian)")],
        "table": [
            [
                _name(s.definition),
                f"{s.text}{'*' if s.marked else ''} {s.definition.unit}",
                f"{s.target} {s.definition.unit}",
                f"{s.capaian} %",
            ]
            for s in with_target
        ],
    }


def _fmt_chart_cell(number: str | None) -> str:
    return format_id(decimal.Decimal(number)) if number is not None else "—"


# --- the dashboard ------------------------------------------------------------------------------


@bp.route("/indikator")
@requires(VIEW)
def dashboard() -> Any:
    reach = reach_of(_me())
    region = _region_or_404(reach, request.args.get("region"))
    period = _requested_period(region)
    low = _below_kabkota(region)
    region_id = region.id if region is not None else None
    items = queries.figures(region_id, period.code)
    whole = [f for f in items if not f.breakdown]
    headline = [show(f, low=low) for f in whole if f.definition.headline]
    others = [
        show(f, low=low)
        for f in whole
        if not f.definition.headline and not f.definition.code.startswith(BREAKDOWN_PREFIX)
    ]
    codes = _headline_codes(f.definition for f in whole) or _headline_codes(
        db.session.scalars(select(IndicatorDefinition).where(IndicatorDefinition.headline))
    )
    trends = trend_charts(region, period.year, codes, low=low)
    children = _children(reach, region)
    return render_template(
        "indicators/dashboard.html",
        reach=reach,
        region=region,
        region_code=_region_code(region),
        region_name=_region_name(region),
        period=period,
        period_name=_period_name(period),
        period_parts=PERIOD_PARTS,
        months=MONTHS,
        years=_years(),
        low=low,
        headline=headline,
        others=others,
        breakdowns=breakdowns(items, low=low),
        trends=trends,
        target_chart=target_chart(headline),
        referrals=_referral_rows(region, period),
        children=children,
        closed=queries.closed(region_id, period.code),
        has_values=bool(items),
        name=_name,
        fmt_cell=_fmt_chart_cell,
        rollup_form=RollupForm(formdata=None, period=period.code, region=_region_code(region)),
        can_manage=_me().has_permission(MANAGE),
        can_close=_me().has_permission(CLOSE) and period.end <= dt.datetime.now(dt.UTC),
    )


def _years() -> list[int]:
    now = dt.datetime.now(JAKARTA).year
    stored = {
        int(y)
        for y in db.session.scalars(select(func.substr(IndicatorValue.period, 1, 4)).distinct())
        if y and y.isdigit()
    }
    return sorted(stored | {now, now - 1}, reverse=True)


def _children(reach: Reach, region: Region | None) -> list[Region]:
    if region is None:
        return [r for r in reach.ordered() if r.parent_id is None]
    return [r for r in reach.ordered() if r.parent_id == region.id]


def _referral_rows(region: Region | None, period: Period) -> list[Any]:
    from app.referrals.metrics import referral_metrics

    agency_ids = None
    if region is not None:
        agency_ids = agencies_in(descendants(region.id, region_tree()))
    return referral_metrics(period.start, period.end, by="agency", agency_ids=agency_ids)


# --- one indicator ------------------------------------------------------------------------------


@bp.route("/indikator/<code>")
@requires(VIEW)
def detail(code: str) -> Any:
    reach = reach_of(_me())
    region = _region_or_404(reach, request.args.get("region"))
    period = _requested_period(region)
    definition = db.session.scalar(
        select(IndicatorDefinition)
        .where(IndicatorDefinition.code == code)
        .order_by(IndicatorDefinition.version.desc())
        .limit(1)
    )
    if definition is None:
        abort(404)
    low = _below_kabkota(region)
    items = queries.figures(region.id if region is not None else None, period.code, codes=[code])
    whole = next((f for f in items if not f.breakdown), None)
    parts = [f for f in items if f.breakdown]
    cells = {f.breakdown: int(f.numerator or 0) for f in parts}
    hidden = hidden_cells(cells, low=low)
    return render_template(
        "indicators/detail.html",
        definition=definition,
        name=_name,
        region=region,
        region_code=_region_code(region),
        region_name=_region_name(region),
        period=period,
        period_name=_period_name(period),
        whole=show(whole, low=low) if whole is not None else None,
        parts=[(f, hidden[f.breakdown]) for f in parts],
        count_text=lambda n: _count_text(n, low),
        rate_text=lambda f, n, d: _revision_value(f, n, d, low),
        closed=queries.closed(region.id if region is not None else None, period.code),
        category=lambda key: _category_of(definition, key),
    )


def _category_of(definition: IndicatorDefinition, key: str) -> str:
    """A breakdown category's name, with the vocabulary of the definition's dimension."""
    dimension = definition.params.get("dimension", "")
    vocabulary = next((v for d, _t, v, _j in DIMENSIONS if d == dimension), None)
    return _category_label(dimension, vocabulary, key)


def _count_text(number: decimal.Decimal | None, low: bool) -> str:
    if number is None:
        return "—"
    small = number < SUPPRESS_BELOW if low else is_small(number)
    return "<5" if small else format_id(number, 0 if number == int(number) else 2)


def _revision_value(
    figure: Figure,
    numerator: decimal.Decimal | None,
    denominator: decimal.Decimal | None,
    low: bool,
) -> str:
    from app.indicators.math import value_of

    definition = figure.definition
    value = value_of(numerator, denominator, definition.scale, definition.rounding)
    if value is None:
        return "—"
    if denominator is None and definition.scale == 1:
        return _count_text(value, low)
    if low and numerator is not None and numerator < SUPPRESS_BELOW:
        return "—"
    return format_id(value, definition.rounding)


# --- rollup jobs --------------------------------------------------------------------------------


@bp.route("/indikator/rollup", methods=["POST"])
@requires(MANAGE)
def start_rollup() -> Any:
    form = RollupForm()
    if not form.validate():
        abort(400)
    me = _me()
    region = _region_or_404(reach_of(me, MANAGE), form.region.data)
    period = _period_or_400(form.period.data)
    job = ops.start_job("rollup", period.code, region, actor=me)
    return redirect(url_for("indicators.job", job_id=job.id))


def _job_or_404(job_id: int) -> ReportJob:
    job = db.session.get(ReportJob, job_id)
    if job is None:
        abort(404)
    me = _me()
    if job.requested_by_id == me.id:
        return job
    reach = reach_of(me, MANAGE)
    if (job.region_id is None and reach.national) or job.region_id in reach.regions:
        return job
    abort(404)


def _job_json(job: ReportJob) -> dict[str, Any]:
    state = job.shown_state(utcnow(), stall_after())
    return {
        "id": job.id,
        "kind": job.kind,
        "period": job.period,
        "region": _region_code(job.region),
        "state": state,
        "progress": job.progress,
        "message": job.message,
        "done": job.finished,
        "can_retry": state in ("macet", "gagal"),
    }


@bp.route("/indikator/pekerjaan/<int:job_id>")
@requires(MANAGE)
def job(job_id: int) -> Any:
    found = _job_or_404(job_id)
    return render_template(
        "indicators/job.html",
        job=found,
        status=_job_json(found),
        region_name=_region_name(found.region),
        period_name=_period_name(parse(found.period)),
        step=min(100, max(0, found.progress)) // 5 * 5,
    )


@bp.route("/indikator/pekerjaan/<int:job_id>.json")
@requires(MANAGE)
def job_json(job_id: int) -> Any:
    return jsonify(_job_json(_job_or_404(job_id)))


@bp.route("/indikator/pekerjaan/<int:job_id>/ulangi", methods=["POST"])
@requires(MANAGE)
def job_retry(job_id: int) -> Any:
    """Start a stalled or failed rollup job again."""
    found = _job_or_404(job_id)
    try:
        ops.retry_job(found, actor=_me(), now=utcnow(), stall_after=stall_after())
    except DomainError as error:
        flash(str(error.message), "warning")
    return redirect(url_for("indicators.job", job_id=found.id))


# --- closing a period ---------------------------------------------------------------------------


@bp.route("/indikator/tutup", methods=["GET", "POST"])
@requires(CLOSE)
def close() -> Any:
    me = _me()
    form = CloseForm()
    source = request.form if request.method == "POST" else request.args
    region = _region_or_404(reach_of(me, CLOSE), source.get("region"))
    # opened without a period (a bare link): the default one of the dashboard
    period = _period_or_400(source.get("period") or _default_period(region))
    form.period.data, form.region.data = period.code, _region_code(region)
    error = None
    if request.method == "POST":
        if form.validate():
            try:
                close_period(period.code, region, actor=me)
            except DomainError as refused:
                db.session.rollback()
                error = str(refused.message)
            else:
                flash(_("The period %(period)s is closed.", period=_period_name(period)), "success")
                return redirect(
                    url_for("indicators.dashboard", period=period.code, region=_region_code(region))
                )
        else:
            error = _("The period was not closed.")
    return render_template(
        "indicators/close.html",
        form=form,
        region_name=_region_name(region),
        period_name=_period_name(period),
        region_code=_region_code(region),
        period=period,
        closed=queries.closed(region.id if region is not None else None, period.code),
        error=error,
    ), (422 if error else 200)


# --- targets ------------------------------------------------------------------------------------


def _target_definitions(year: int) -> list[IndicatorDefinition]:
    from app.indicators.definitions import current_definitions

    return [
        d
        for d in current_definitions(dt.date(year, 1, 1))
        if d.direction in ("higher", "lower") and not d.code.startswith(BREAKDOWN_PREFIX)
    ]


@bp.route("/indikator/target", methods=["GET", "POST"])
@requires(MANAGE)
def targets() -> Any:
    me = _me()
    reach = reach_of(me, MANAGE)
    source = request.form if request.method == "POST" else request.args
    region = _region_or_404(reach, source.get("region"))
    if region is None:  # targets belong to a region; the national level has none
        if not reach.home:
            abort(404)
        region = reach.home[0]
    try:
        year = int(source.get("year") or dt.datetime.now(JAKARTA).year)
    except ValueError:
        abort(400)
    if not 2000 <= year <= 2100:
        abort(400)
    definitions = _target_definitions(year)
    stored = {
        t.code: t.value
        for t in db.session.scalars(
            select(IndicatorTarget).where(
                IndicatorTarget.region_id == region.id, IndicatorTarget.year == year
            )
        )
    }
    status, error = 200, None
    if request.method == "POST":
        form = target_form(definitions, request.form)
        if form.validate():
            try:
                saved = _save_targets(form, definitions, region, year, stored, me)
            except DomainError as refused:
                db.session.rollback()
                status, error = 422, str(refused.message)
            else:
                flash(_("%(n)d targets saved.", n=saved), "success")
                return redirect(url_for("indicators.targets", region=region.code, year=year))
        else:
            status, error = 422, _("Nothing was saved: correct the marked fields.")
    else:
        form = target_form(definitions)
        form.year.data = year
        for d in definitions:
            getattr(form, d.code).data = decimal_text(stored.get(d.code))
    regions = [r for r in reach.ordered() if not _below_kabkota(r) or r in reach.home]
    return render_template(
        "indicators/targets.html",
        form=form,
        definitions=definitions,
        region=region,
        regions=regions,
        year=year,
        name=_name,
        error=error,
    ), status


def _save_targets(
    form: Any,
    definitions: list[IndicatorDefinition],
    region: Region,
    year: int,
    stored: dict[str, decimal.Decimal],
    actor: User,
) -> int:
    saved = 0
    for d in definitions:
        value = parse_decimal(getattr(form, d.code).data)
        if value is None or stored.get(d.code) == value:
            continue
        set_target(d.code, region, year, value, actor=actor)
        saved += 1
    return saved
