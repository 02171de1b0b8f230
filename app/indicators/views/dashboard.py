"""Indicator pages (domain.md §6): the dashboard of one region and period, the detail of one
indicator with its revisions, rollup jobs with their progress, closing a period, yearly targets.

Scope: a user reaches the regions of the agencies where they hold a role with
``indicators:view`` and every region under them (down to the kecamatan level, where figures
stop); the national level only when those regions include every top-level region. Anything else
is a 404. Disclosure control (§6.7) is applied to everything shown, by ``disclosure.py``: counts
of 1-4 are ``<5``, a cell hidden so that one cannot be recomputed from a total is "dirahasiakan",
rates from such counts are marked, and below the kabupaten/kota level no count under 5 (zero too)
and no rate computed from one is shown."""

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
from app.core.idempotency import once_per_form
from app.core.labels import label
from app.core.permissions import permissions_for_roles, requires
from app.core.web import ExplainedBadRequest
from app.extensions import db
from app.indicators import bp, disclosure, queries
from app.indicators import operations as ops
from app.indicators.compute import UNKNOWN, agencies_in, descendants, region_tree
from app.indicators.forms import (
    CloseForm,
    RollupForm,
    decimal_text,
    parse_decimal,
    target_form,
)
from app.indicators.math import format_id
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
    except PeriodError as error:
        raise ExplainedBadRequest(str(error)) from None


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


# --- what is shown (§6.5-§6.7; the rules are disclosure.py) -------------------------------------


@dataclass
class Shown:
    """One figure as the page shows it: its cell and its capaian's (disclosure.py)."""

    figure: Figure
    cell: disclosure.Cell
    achieved: disclosure.Cell  # the capaian against the target
    target: str | None = None

    @property
    def text(self) -> str:  # "32,83", "<5", "dirahasiakan" or "—"
        return self.cell.text

    @property
    def number(self) -> str | None:  # the value with a dot, for charts; None when not drawn
        return self.cell.number

    @property
    def marked(self) -> bool:  # a rate computed from fewer than 5 victims
        return self.cell.marked

    @property
    def hidden(self) -> bool:  # not shown (disclosure control)
        return self.cell.hidden

    @property
    def reason(self) -> str | None:  # why there is no value
        if self.cell.state is not disclosure.State.NONE:
            return None
        return self.figure.reason or _("Cannot be computed.")

    @property
    def capaian(self) -> str | None:
        return None if self.achieved.state is disclosure.State.NONE else self.achieved.text

    @property
    def capaian_number(self) -> str | None:
        return self.achieved.number

    @property
    def definition(self) -> IndicatorDefinition:
        return self.figure.definition

    @property
    def is_count(self) -> bool:
        return disclosure.kind(self.figure.definition) == "count"


def show(figure: Figure, *, low: bool) -> Shown:
    words = disclosure.page_words()
    definition = figure.definition
    cell = disclosure.cell_of(figure, low=low, words=words)
    target = format_id(figure.target, definition.rounding) if figure.target is not None else None
    achieved = disclosure.capaian(cell, figure.capaian, words=words)
    return Shown(figure, cell, achieved, target)


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
    rows: list[tuple[str, disclosure.Cell]]  # label, cell
    total: disclosure.Cell | None  # shown where the categories are disjoint
    disjoint: bool
    chart: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> list[list[str]]:
        """The chart's table: the same text as every other table of the page."""
        rows = [[name, cell.display] for name, cell in self.rows]
        if self.total is not None:
            rows.append([_("Total"), self.total.display])
        return rows


def breakdowns(items: list[Figure], *, low: bool) -> list[Breakdown]:
    words = disclosure.page_words()
    by_code: dict[str, list[Figure]] = {}
    for f in items:
        if f.breakdown:
            by_code.setdefault(f.definition.code, []).append(f)
    out = []
    for dimension, title, vocabulary, disjoint in DIMENSIONS:
        figs = by_code.get(BREAKDOWN_PREFIX + dimension, [])
        cells = {f.breakdown: int(f.numerator or 0) for f in figs}
        # protected as if its total were published: it is for the disjoint dimensions, and the
        # number of victims (jumlah_korban) is shown beside the others
        shown = disclosure.row(cells, total_shown=True, low=low, words=words)
        keys = sorted(cells, key=_band_order) if dimension == "kelompok_umur" else sorted(cells)
        rows = [(_category_label(dimension, vocabulary, key), shown.cells[key]) for key in keys]
        total = shown.total if disjoint and cells else None
        chart = {
            "type": "hbar",
            "labels": [name for name, _cell in rows],
            "series": [
                {
                    "label": _("Victims"),
                    "data": [c.number for _name, c in rows],
                    # what a gap says on the chart: "<5", "dirahasiakan" (never a zero bar)
                    "texts": [None if c.shown else c.display for _name, c in rows],
                }
            ],
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
    none = disclosure.page_words().none
    for month in range(1, 13):
        for f in queries.figures(region_id, f"{year}-{month:02d}", codes=codes):
            if f.breakdown or disclosure.kind(f.definition) == "count":
                continue
            code = f.definition.code
            if code not in series:
                series[code] = {"label": _name(f.definition), "data": [None] * 12}
                texts[code] = [none] * 12
                units.setdefault(f.definition.unit, []).append(code)
            shown = show(f, low=low)
            series[code]["data"][month - 1] = shown.number
            texts[code][month - 1] = shown.cell.display
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
    """The year's value of each headline indicator against its target, as capaian (%); a
    hidden one is a gap in the chart and "dirahasiakan" in its table."""
    with_target = [s for s in headline if s.capaian is not None]
    return {
        "title": _("Achievement against the target"),
        "chart": {
            "type": "hbar",
            "labels": [_name(s.definition) for s in with_target],
            "series": [
                {
                    "label": _("Achievement (capaian)"),
                    "data": [s.capaian_number for s in with_target],
                    "texts": [
                        None if s.achieved.shown else s.achieved.display for s in with_target
                    ],
                }
            ],
            "unit": "%",
            "reference": 100,
        },
        "columns": [_("Indicator"), _("Value"), _("Target"), _("Achievement (capaian)")],
        "table": [
            [
                _name(s.definition),
                f"{s.cell.display} {s.definition.unit}" if s.cell.shown else s.cell.display,
                f"{s.target} {s.definition.unit}",
                f"{s.achieved.display} %" if s.achieved.shown else s.achieved.display,
            ]
            for s in with_target
        ],
    }


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
        referrals=_referral_rows(region, period, low=low),
        children=children,
        closed=queries.closed(region_id, period.code),
        has_values=bool(items),
        name=_name,
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


@dataclass
class ReferralRow:
    """A receiving agency's referral figures as the page shows them (as the report does)."""

    name: str
    sent: disclosure.Cell
    accepted: disclosure.Cell
    declined: disclosure.Cell
    decline_rate: disclosure.Cell
    overdue: disclosure.Cell
    median_hours: disclosure.Cell


def _referral_rows(region: Region | None, period: Period, *, low: bool) -> list[ReferralRow]:
    from app.referrals.metrics import referral_metrics

    agency_ids = None
    if region is not None:
        agency_ids = agencies_in(descendants(region.id, region_tree()))
    words = disclosure.page_words()
    rows = []
    for m in referral_metrics(period.start, period.end, by="agency", agency_ids=agency_ids):
        rows.append(
            ReferralRow(
                m.agency_name or words.none,
                disclosure.count(m.sent, low=low, words=words),
                disclosure.count(m.accepted, low=low, words=words),
                disclosure.count(m.declined, low=low, words=words),
                disclosure.rate(
                    m.decline_rate,
                    numerator=m.declined,
                    denominator=m.accepted + m.declined,
                    low=low,
                    words=words,
                ),
                disclosure.count(m.overdue, low=low, words=words),
                disclosure.measure(m.median_hours_to_accept, base=m.accepted, words=words),
            )
        )
    return rows


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
    words = disclosure.page_words()
    cells = {f.breakdown: int(f.numerator or 0) for f in parts}
    shown = disclosure.row(cells, total_shown=True, low=low, words=words)
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
        parts=[(f, shown.cells[f.breakdown]) for f in parts],
        count_text=lambda n: disclosure.count(n, low=low, words=words).text,
        rate_text=lambda f, n, d: (
            disclosure.figure_cell(f.definition, n, d, low=low, words=words).display
        ),
        closed=queries.closed(region.id if region is not None else None, period.code),
        category=lambda key: _category_of(definition, key),
    )


def _category_of(definition: IndicatorDefinition, key: str) -> str:
    """A breakdown category's name, with the vocabulary of the definition's dimension."""
    dimension = definition.params.get("dimension", "")
    vocabulary = next((v for d, _t, v, _j in DIMENSIONS if d == dimension), None)
    return _category_label(dimension, vocabulary, key)


# --- rollup jobs --------------------------------------------------------------------------------


@bp.route("/indikator/rollup", methods=["POST"])
@requires(MANAGE)
@once_per_form
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


def target_regions(reach: Reach) -> list[Region]:
    """The regions whose targets a user sets (the page's choice, the upload's scope): those
    reached down to the kabupaten/kota level, and the user's own agencies' regions."""
    return [r for r in reach.ordered() if not _below_kabkota(r) or r in reach.home]


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
    regions = target_regions(reach)
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
