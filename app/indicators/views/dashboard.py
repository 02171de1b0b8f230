"""The dashboard of one region and period, and the detail of one indicator with its revisions
(domain.md §6).

Scope: ``scope.reach_of`` (anything else is a 404). Disclosure control (§6.7) is applied to
everything shown, by ``disclosure.py``: counts of 1-4 are ``<5``, a cell hidden so that one cannot
be recomputed from a total is "dirahasiakan", rates from such counts are marked, and below the
kabupaten/kota level no count under 5 (zero too) and no rate computed from one is shown."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

from flask import abort, render_template, request
from flask_babel import LazyString, get_locale

from app.core.enums import CaseType, IncidentPlace, Relationship, Sex, ViolenceType
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l
from app.core.labels import label
from app.core.memo import read_once, shared_reads
from app.core.permissions import requires
from app.indicators import bp, disclosure, queries
from app.indicators.compute import UNKNOWN
from app.indicators.forms import RollupForm
from app.indicators.models import IndicatorDefinition
from app.indicators.periods import JAKARTA, Period
from app.indicators.queries import Figure
from app.indicators.scope import CLOSE, MANAGE, VIEW, reach_of
from app.indicators.views.common import (
    BREAKDOWN_PREFIX,
    MONTHS,
    PERIOD_PARTS,
    definition_name,
    definition_text,
    me,
    period_name,
    reason_text,
    region_code,
    region_name,
    region_or_404,
    requested_period,
    unit_name,
)
from app.regions.models import Region

# (dimension, title, vocabulary of its categories, categories are disjoint: a total is shown)
DIMENSIONS: list[tuple[str, LazyString, type[enum.StrEnum] | None, bool]] = [
    ("jenis_kekerasan", _l("Type of violence"), ViolenceType, False),
    ("tempat_kejadian", _l("Place of the incident"), IncidentPlace, False),
    ("kelompok_umur", _l("Age group"), None, True),
    ("jenis_kelamin", _l("Sex"), Sex, True),
    ("disabilitas", _l("Disability"), None, True),
    ("hubungan_pelaku", _l("Relationship to the perpetrator"), Relationship, False),
    ("jenis_kasus", _l("Type of case"), CaseType, False),
]
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
        return reason_text(self.figure.reason) or str(_("Cannot be computed."))

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


def _words() -> disclosure.Words:
    """The words of the page's cells, looked up once for a rendered page (a page shows a
    hundred figures or more)."""
    return read_once(("indicators.page_words", str(get_locale())), disclosure.page_words)


def show(figure: Figure, *, low: bool) -> Shown:
    cells = disclosure.figure_cells(figure, low=low, words=_words())
    rounding = figure.definition.rounding
    target = _words().number(figure.target, rounding) if figure.target is not None else None
    return Shown(figure, cells.value, cells.achieved, target)


def _category_label(dimension: str, vocabulary: type[enum.StrEnum] | None, value: str) -> str:
    if value == UNKNOWN:
        return str(_("Unknown"))
    if dimension == "disabilitas":
        return str(_("With a disability") if value == "ya" else _("Without a disability"))
    if dimension == "kelompok_umur":
        return str(_("%(band)s years", band=value))
    return label(value, vocabulary) if vocabulary is not None else value


def _band_order(value: str) -> int:
    head = value.split("-")[0].rstrip("+")
    return int(head) if head.isdigit() else 999


@dataclass
class Breakdown:
    dimension: str
    title: LazyString
    rows: list[tuple[str, disclosure.Cell]]  # label, cell
    total: disclosure.Cell | None  # shown where the categories are disjoint
    disjoint: bool
    chart: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> list[list[str]]:
        """The chart's table: the same text as every other table of the page."""
        rows = [[name, cell.display] for name, cell in self.rows]
        if self.total is not None:
            rows.append([str(_("Total")), self.total.display])
        return rows


def breakdowns(items: list[Figure], *, low: bool) -> list[Breakdown]:
    words = _words()
    by_code: dict[str, list[Figure]] = {}
    for f in items:
        if f.breakdown:
            by_code.setdefault(f.definition.code, []).append(f)
    out = []
    for dimension, title, vocabulary, disjoint in DIMENSIONS:
        shown = disclosure.breakdown(
            by_code.get(BREAKDOWN_PREFIX + dimension, []), low=low, words=words
        )
        cells = shown.cells
        keys = sorted(cells, key=_band_order) if dimension == "kelompok_umur" else sorted(cells)
        rows = [(_category_label(dimension, vocabulary, key), cells[key]) for key in keys]
        total = shown.total if disjoint and cells else None
        chart: dict[str, Any] = {
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


def trend_charts(year: int, months: dict[str, list[Figure]], *, low: bool) -> list[dict[str, Any]]:
    """Per unit (%, per 100.000, ...): the monthly values of the headline rates of the year
    (``months``: the figures of each month of the year, ``queries.dashboard_figures``)."""
    series: dict[str, dict[str, Any]] = {}
    texts: dict[str, list[str]] = {}
    units: dict[str, list[str]] = {}
    none = _words().none
    for month in range(1, 13):
        for f in months.get(f"{year}-{month:02d}", []):
            if f.breakdown or disclosure.kind(f.definition) == "count":
                continue
            code = f.definition.code
            if code not in series:
                series[code] = {"label": definition_name(f.definition), "data": [None] * 12}
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
                "title": _("Monthly trend %(year)d (%(unit)s)", year=year, unit=unit_name(unit)),
                "chart": {
                    "type": "line",
                    "labels": labels,
                    "series": chosen,
                    "unit": unit_name(unit),
                },
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
            "labels": [definition_name(s.definition) for s in with_target],
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
                definition_name(s.definition),
                f"{s.cell.display} {unit_name(s.definition.unit)}"
                if s.cell.shown
                else s.cell.display,
                f"{s.target} {unit_name(s.definition.unit)}",
                f"{s.achieved.display} %" if s.achieved.shown else s.achieved.display,
            ]
            for s in with_target
        ],
    }


# --- the dashboard ------------------------------------------------------------------------------


@bp.route("/indikator")
@requires(VIEW)
def dashboard() -> Any:
    # the twelve months of the trend ask the same questions of the region (its subtree, its
    # agencies, its targets): asked once for the page
    with shared_reads():
        return _dashboard()


def _dashboard() -> Any:
    user = me()
    reach = reach_of(user)
    region = region_or_404(reach, request.args.get("region"))
    period = requested_period(region)
    low = disclosure.dashboard_low(region)
    region_id = region.id if region is not None else None
    # the period's figures and the trend's twelve months, read together
    months = [f"{period.year}-{month:02d}" for month in range(1, 13)]
    read = queries.dashboard_figures(region_id, period.code, months)
    items = read.figures
    whole = [f for f in items if not f.breakdown]
    headline = [show(f, low=low) for f in whole if f.definition.headline]
    others = [
        show(f, low=low)
        for f in whole
        if not f.definition.headline and not f.definition.code.startswith(BREAKDOWN_PREFIX)
    ]
    return render_template(
        "indicators/dashboard.html",
        reach=reach,
        region=region,
        region_code=region_code(region),
        region_name=region_name(region),
        period=period,
        period_name=period_name(period),
        period_parts=PERIOD_PARTS,
        months=MONTHS,
        years=_years(),
        low=low,
        headline=headline,
        others=others,
        breakdowns=breakdowns(items, low=low),
        trends=trend_charts(period.year, read.months, low=low),
        target_chart=target_chart(headline),
        referrals=_referral_rows(region, period, low=low),
        children=reach.children(region),
        closed=queries.closed(region_id, period.code),
        has_values=bool(items),
        name=definition_name,
        unit=unit_name,
        rollup_form=RollupForm(formdata=None, period=period.code, region=region_code(region)),
        can_manage=user.has_permission(MANAGE),
        can_close=user.has_permission(CLOSE) and period.end <= dt.datetime.now(dt.UTC),
    )


def _years() -> list[int]:
    now = dt.datetime.now(JAKARTA).year
    return sorted(queries.stored_years() | {now, now - 1}, reverse=True)


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

    @classmethod
    def of(cls, name: str, cells: disclosure.ReferralCells) -> ReferralRow:
        return cls(
            name,
            cells.sent,
            cells.accepted,
            cells.declined,
            cells.decline_rate,
            cells.overdue,
            cells.median_hours,
        )


def _referral_rows(region: Region | None, period: Period, *, low: bool) -> list[ReferralRow]:
    """The receiving agencies' referral figures stored by the rollup of the period."""
    words = _words()
    return [
        ReferralRow.of(
            m.agency_name or words.none, disclosure.referral_cells(m, low=low, words=words)
        )
        for m in queries.referral_rows(region.id if region is not None else None, period.code)
    ]


# --- one indicator ------------------------------------------------------------------------------


@bp.route("/indikator/<code>")
@requires(VIEW)
def detail(code: str) -> Any:
    reach = reach_of(me())
    region = region_or_404(reach, request.args.get("region"))
    period = requested_period(region)
    definition = queries.latest_definition(code)
    if definition is None:
        abort(404)
    low = disclosure.dashboard_low(region)
    region_id = region.id if region is not None else None
    items = queries.figures(region_id, period.code, codes=[code])
    whole = next((f for f in items if not f.breakdown), None)
    parts = [f for f in items if f.breakdown]
    words = _words()
    shown = disclosure.breakdown(parts, low=low, words=words)
    return render_template(
        "indicators/detail.html",
        definition=definition,
        name=definition_name,
        unit=unit_name,
        describe=definition_text,
        reason_text=reason_text,
        region=region,
        region_code=region_code(region),
        region_name=region_name(region),
        period=period,
        period_name=period_name(period),
        whole=show(whole, low=low) if whole is not None else None,
        parts=[(f, shown.cells[f.breakdown]) for f in parts],
        count_text=lambda n: disclosure.count(n, low=low, words=words).text,
        rate_text=lambda f, n, d: (
            disclosure.figure_cell(f.definition, n, d, low=low, words=words).display
        ),
        closed=queries.closed(region_id, period.code),
        category=lambda key: _category_of(definition, key),
    )


def _category_of(definition: IndicatorDefinition, key: str) -> str:
    """A breakdown category's name, with the vocabulary of the definition's dimension."""
    dimension = str(definition.params.get("dimension", ""))
    vocabulary = next((v for d, _t, v, _j in DIMENSIONS if d == dimension), None)
    return _category_label(dimension, vocabulary, key)
