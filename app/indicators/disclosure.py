"""Disclosure control (domain.md §6.7) in one place: what a person may see of a figure.

Every renderer for people — the dashboard and its charts, the detail page, the monthly report
(XLSX and PDF) — asks this module for a :class:`Cell` and shows its ``text`` (or draws its
``number``); none decides on its own. The machine-readable JSON of ``flask indicators show``
keeps exact numbers, and its ``suppressed`` flag comes from :func:`published_suppressed`.

The rules:

- a count of 1-4 is *small* and shown as ``<5``; zero is shown as ``0``;
- where a total of a row is published and it would let a small cell be recomputed, or narrowed
  below "1 to 4", another cell is hidden too (*secondary*), shown as "dirahasiakan" ("hidden" in
  English) — never ``<5`` and never zero, since it holds 5 or more; when no other cell can
  protect it, the total is hidden;
- a percentage or rate computed from a small count (its numerator, or the denominator of a
  percentage) is *marked* with ``*`` and a footnote;
- below the kabupaten/kota level (dashboards), every count under 5 — zero too — is ``<5`` and a
  rate computed from such a count is not shown at all (*withheld*, shown like a secondary cell);
- a chart draws only what is shown: a hidden cell is ``None`` (a gap), never a zero bar.

A median (hours) is a measure, not a count: it is never ``<5``; it is marked when the number of
referrals it is the median of is small (where that number is known).

The renderers ask in terms of what they show — a figure (:func:`figure_cells`), the categories of
a breakdown (:func:`breakdown`), a receiving agency's referrals (:func:`referral_cells`), a
data-quality score (:func:`score`) — so the dashboard and the report cannot differ. "Below the
kabupaten/kota level" (``low``) is a rule of the dashboards (:func:`dashboard_low`); the monthly
report, an export, applies the rules of every publication."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from app.core.enums import RegionLevel
from app.core.formatting import current_language, format_number
from app.core.i18n import gettext as _
from app.indicators.math import format_id, value_of

if TYPE_CHECKING:
    from app.indicators.models import IndicatorDefinition
    from app.indicators.queries import Figure
    from app.referrals.metrics import MetricRow
    from app.regions.models import Region

SUPPRESS_BELOW = 5  # counts of 1-4 are shown as "<5"

Number = int | Decimal


class State(enum.StrEnum):
    SHOWN = "shown"  # the value, as it is
    ZERO = "zero"  # 0, shown as 0
    SMALL = "small"  # a count of 1-4 (below kab/kota: any count under 5): "<5"
    SECONDARY = "secondary"  # hidden so that a small cell cannot be recomputed from the total
    WITHHELD = "withheld"  # a rate (or capaian) hidden because it would give a small count away
    NONE = "none"  # no value: it cannot be computed ("—", with the figure's reason)


HIDDEN_STATES = frozenset({State.SMALL, State.SECONDARY, State.WITHHELD})


@dataclass(frozen=True)
class Words:
    """How the states read: the report is always in Bahasa Indonesia, the pages in the user's
    language (:func:`page_words`)."""

    small: str = "<5"
    hidden: str = "dirahasiakan"
    none: str = "—"
    mark: str = "*"
    locale: str = "id"  # the number format: "1.234,50" (id), "1,234.50" (en)

    def number(self, value: Decimal | None, places: int = 2) -> str:
        """``value`` in the language's number format; ``—`` for no value."""
        if value is None:
            return self.none
        return (
            format_id(value, places)
            if self.locale == "id"
            else format_number(value, places, self.locale)
        )


INDONESIAN = Words()


def page_words() -> Words:
    """The words of the pages, in the user's language ("dirahasiakan" / "hidden")."""
    # the msgid names what it is for: the English catalogue shows it as "hidden"
    return Words(hidden=_("hidden (disclosure control)"), locale=current_language())


@dataclass(frozen=True)
class Cell:
    """One figure as a person may see it.

    ``value`` is exact and for code only (sorting is not allowed on it: the order of rows would
    give hidden values away); renderers use ``text`` (``display`` with the mark), ``number`` for
    charts and ``export`` for spreadsheets."""

    value: Decimal | None = field(repr=False)  # never in a log line or an error page
    text: str  # "1.234", "32,83", "0", "<5", "dirahasiakan", "—"
    state: State
    marked: bool = False  # computed from a small count: "*" and a footnote
    mark: str = "*"
    places: int = 0  # decimal places of the text

    @property
    def shown(self) -> bool:
        return self.state in (State.SHOWN, State.ZERO)

    @property
    def hidden(self) -> bool:
        return self.state in HIDDEN_STATES

    @property
    def suppressed(self) -> bool:
        """Whether a publication hides or marks it (the JSON's ``suppressed``)."""
        return self.hidden or self.marked

    @property
    def display(self) -> str:
        """The text with its mark: ``12,50*``."""
        return self.text + (self.mark if self.marked else "")

    @property
    def number(self) -> str | None:
        """The value with a dot, for a chart; None (a gap) when it is not shown."""
        if not self.shown or self.value is None:
            return None
        return str(self.value)

    def export(self) -> int | Decimal | str:
        """A spreadsheet cell: a number when it is shown unmarked, else the text (with the
        mark)."""
        if self.shown and not self.marked and self.value is not None:
            return int(self.value) if self.places == 0 else self.value
        return self.display


def _as_decimal(value: Number | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def is_small(count: Number | None, *, low: bool = False) -> bool:
    """A count that is not shown: 1-4; below kab/kota (``low``) 0-4."""
    if count is None:
        return False
    return count < SUPPRESS_BELOW if low else 0 < count < SUPPRESS_BELOW


def rate_is_marked(numerator: Number | None, denominator: Number | None) -> bool:
    """A percentage or rate computed from a count of 1-4 (its numerator, or ``denominator``
    when it is a count of people — pass None for a population) is marked."""
    return is_small(numerator) or is_small(denominator)


def _cell(
    value: Decimal, state: State, text: str, words: Words, marked: bool = False, places: int = 0
) -> Cell:
    return Cell(value, text, state, marked, words.mark, places)


def no_value(words: Words = INDONESIAN) -> Cell:
    return Cell(None, words.none, State.NONE, False, words.mark)


def count(number: Number | None, *, low: bool = False, words: Words = INDONESIAN) -> Cell:
    """A count of people (or referrals, or cases) on its own."""
    value = _as_decimal(number)
    if value is None:
        return no_value(words)
    if is_small(value, low=low):
        return _cell(value, State.SMALL, words.small, words)
    if value == 0:
        return _cell(value, State.ZERO, "0", words)
    places = 0 if value == int(value) else 2
    return _cell(value, State.SHOWN, words.number(value, places), words, places=places)


def rate(
    value: Decimal | None,
    *,
    numerator: Number | None,
    denominator: Number | None = None,
    places: int = 2,
    low: bool = False,
    words: Words = INDONESIAN,
) -> Cell:
    """A percentage or rate; ``denominator`` only when it is a count of people (a percentage),
    not a population. Marked when computed from a small count; below kab/kota withheld when its
    numerator (or that denominator) is under 5."""
    if value is None:
        return no_value(words)
    if low and (is_small(numerator, low=True) or is_small(denominator, low=True)):
        return _cell(value, State.WITHHELD, words.hidden, words, places=places)
    marked = rate_is_marked(numerator, denominator)
    state = State.ZERO if value == 0 else State.SHOWN
    return _cell(value, state, words.number(value, places), words, marked, places)


def measure(
    value: Decimal | None,
    *,
    base: Number | None = None,
    places: int = 2,
    words: Words = INDONESIAN,
) -> Cell:
    """A median or another measure that is not a count: shown, marked when the number it is
    computed from (``base``, when known) is small."""
    if value is None:
        return no_value(words)
    state = State.ZERO if value == 0 else State.SHOWN
    return _cell(value, state, words.number(value, places), words, is_small(base), places)


def kind(definition: IndicatorDefinition) -> str:
    """``count``, ``measure`` (a median) or ``rate`` (has a denominator or a scale)."""
    if definition.scale == 1 and not definition.denominator:
        measured = str((definition.params or {}).get("measure", ""))
        if measured.startswith("median") or definition.unit == "jam":
            return "measure"
        return "count"
    return "rate"


def figure_cell(
    definition: IndicatorDefinition,
    numerator: Number | None,
    denominator: Number | None,
    *,
    low: bool = False,
    words: Words = INDONESIAN,
) -> Cell:
    """A stored figure (a value, or a revision of one) on its own."""
    value = value_of(
        _as_decimal(numerator), _as_decimal(denominator), definition.scale, definition.rounding
    )
    what = kind(definition)
    if what == "count":
        return count(value, low=low, words=words)
    if what == "measure":
        return measure(value, places=definition.rounding, words=words)
    return rate(
        value,
        numerator=numerator,
        denominator=denominator if definition.scale == 100 else None,
        places=definition.rounding,
        low=low,
        words=words,
    )


def cell_of(figure: Figure, *, low: bool = False, words: Words = INDONESIAN) -> Cell:
    return figure_cell(
        figure.definition, figure.numerator, figure.denominator, low=low, words=words
    )


def below_kabkota(region: Region | None) -> bool:
    """A kecamatan (or lower); None is the national level."""
    return region is not None and region.level.depth > RegionLevel.KABKOTA.depth


def dashboard_low(region: Region | None) -> bool:
    """Whether a dashboard of ``region`` shows no cell under 5 (zero too): below kab/kota."""
    return below_kabkota(region)


def capaian(of: Cell, achieved: Decimal | None, *, words: Words = INDONESIAN) -> Cell:
    """The achievement against the target of a value: hidden with it (it would give the value
    back), marked with it."""
    if achieved is None:
        return no_value(words)
    if of.hidden:
        return _cell(achieved, State.WITHHELD, words.hidden, words, places=2)
    state = State.ZERO if achieved == 0 else State.SHOWN
    return _cell(achieved, state, words.number(achieved), words, of.marked, 2)


@dataclass(frozen=True)
class FigureCells:
    """A stored figure as a person may see it: its value and its capaian against the target."""

    value: Cell
    achieved: Cell


def figure_cells(figure: Figure, *, low: bool = False, words: Words = INDONESIAN) -> FigureCells:
    """The cells of a figure (the dashboard's card and table, the report's row)."""
    value = cell_of(figure, low=low, words=words)
    return FigureCells(value, capaian(value, figure.capaian, words=words))


@dataclass(frozen=True)
class ReferralCells:
    """One row of referral figures (per receiving agency or per Sub GT)."""

    sent: Cell
    accepted: Cell
    declined: Cell
    decline_rate: Cell  # a percentage of the answered referrals
    overdue: Cell
    median_hours: Cell  # a measure, marked when few were accepted

    def export(self) -> list[int | Decimal | str]:
        return [
            c.export()
            for c in (
                self.sent,
                self.accepted,
                self.declined,
                self.decline_rate,
                self.overdue,
                self.median_hours,
            )
        ]


def referral_cells(
    metric: MetricRow, *, low: bool = False, words: Words = INDONESIAN
) -> ReferralCells:
    return ReferralCells(
        count(metric.sent, low=low, words=words),
        count(metric.accepted, low=low, words=words),
        count(metric.declined, low=low, words=words),
        rate(
            metric.decline_rate,
            numerator=metric.declined,
            denominator=metric.accepted + metric.declined,
            low=low,
            words=words,
        ),
        count(metric.overdue, low=low, words=words),
        measure(metric.median_hours_to_accept, base=metric.accepted, words=words),
    )


def score(percent: Decimal | None, *, cases: int, words: Words = INDONESIAN) -> Cell:
    """A data-quality score: the percentage of ``cases`` cases without a problem."""
    return rate(percent, numerator=None, denominator=cases, words=words)


# --- rows of a breakdown -----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """The cells of one breakdown (category → cell) and their total."""

    cells: dict[str, Cell]
    total: Cell

    def hidden(self) -> dict[str, bool]:
        return {key: cell.hidden for key, cell in self.cells.items()}


def _protected(counts: Mapping[str, int], state: Mapping[str, State], low: bool) -> bool:
    """Whether the published total, with the shown cells, leaves every small cell anywhere in
    its whole range (1-4; below kab/kota 0-4). A reader knows a small cell is in that range and
    a secondary one is 5 or more."""
    lowest = 0 if low else 1
    highest = SUPPRESS_BELOW - 1
    hidden = [k for k, s in state.items() if s in (State.SMALL, State.SECONDARY)]
    bounds = {
        k: (lowest, highest) if state[k] is State.SMALL else (SUPPRESS_BELOW, None) for k in hidden
    }
    together = sum(counts[k] for k in hidden)
    for key in hidden:
        if state[key] is not State.SMALL:
            continue
        others = [bounds[k] for k in hidden if k != key]
        others_low = sum(b[0] for b in others)
        unbounded = any(b[1] is None for b in others)
        others_high = sum(b[1] or 0 for b in others)
        least = lowest if unbounded else max(lowest, together - others_high)
        most = min(highest, together - others_low)
        if (least, most) != (lowest, highest):
            return False
    return True


def row_states(
    counts: Mapping[str, Number], *, total_shown: bool = True, low: bool = False
) -> tuple[dict[str, State], State]:
    """The state of each cell of one breakdown and of its total. When the total is published
    (``total_shown``) and a small cell could be recomputed from it, further cells are hidden:
    the smallest shown cell that protects every small cell, else the smallest and again; when
    none is left, the total itself. Zero cells stay zero (they protect nothing)."""
    whole = {k: int(c) for k, c in counts.items()}

    def alone(n: int) -> State:
        return State.SMALL if is_small(n, low=low) else State.ZERO if n == 0 else State.SHOWN

    state = {k: alone(n) for k, n in whole.items()}
    total = alone(sum(whole.values()))
    if not total_shown or total is not State.SHOWN:
        return state, total  # no exact total is published
    candidates = sorted((n, k) for k, n in whole.items() if state[k] is State.SHOWN)
    while not _protected(whole, state, low):
        if not candidates:
            return state, State.SECONDARY
        chosen = candidates[0]
        for candidate in candidates:
            if _protected(whole, {**state, candidate[1]: State.SECONDARY}, low):
                chosen = candidate
                break
        candidates.remove(chosen)
        state[chosen[1]] = State.SECONDARY
    return state, total


def row(
    counts: Mapping[str, Number],
    *,
    total_shown: bool = True,
    low: bool = False,
    words: Words = INDONESIAN,
) -> Row:
    """The cells of one breakdown (category → count of people)."""
    states, total_state = row_states(counts, total_shown=total_shown, low=low)
    texts = {State.SMALL: words.small, State.SECONDARY: words.hidden}

    def make(number: Number, state: State) -> Cell:
        value = Decimal(number)
        if state in texts:
            return _cell(value, state, texts[state], words)
        return count(value, words=words)

    cells = {key: make(n, states[key]) for key, n in counts.items()}
    return Row(cells, make(sum(Decimal(n) for n in counts.values()), total_state))


def breakdown(items: Iterable[Figure], *, low: bool = False, words: Words = INDONESIAN) -> Row:
    """The cells of the categories of one breakdown (the figures of one code, region and
    period), protected as if its total were published: it is for the disjoint dimensions, and
    the number of victims is published beside the others."""
    counts = {f.breakdown: int(f.numerator or 0) for f in items if f.breakdown}
    return row(counts, total_shown=True, low=low, words=words)


def suppress_table(
    cells: Mapping[str, Number], *, total_shown: bool = True, low: bool = False
) -> dict[str, bool]:
    """Which cells of one breakdown are hidden (small or secondary)."""
    states, _total = row_states(cells, total_shown=total_shown, low=low)
    return {key: state in HIDDEN_STATES for key, state in states.items()}


def published_suppressed(figure: Figure, items: Iterable[Figure]) -> bool:
    """Whether a publication (the monthly report, at any level) hides or marks ``figure``;
    ``items`` holds the other categories of its breakdown (same code, region and period)."""
    if not figure.breakdown:
        return cell_of(figure).suppressed
    counts = {
        f.breakdown: int(f.numerator or 0)
        for f in items
        if f.breakdown
        and f.definition.code == figure.definition.code
        and f.period == figure.period
        and f.region == figure.region
    }
    counts[figure.breakdown] = int(figure.numerator or 0)
    return suppress_table(counts, total_shown=True)[figure.breakdown]
