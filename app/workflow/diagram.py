"""Workflow definitions drawn for people: a self-contained inline SVG of the state machine and a
plain list of its steps (who may take each one, under which conditions).

The SVG needs no script and no inline style (the Content-Security-Policy forbids both): it uses
presentation attributes for sensible defaults and CSS classes (``wf-*``, styled in
``static/css/app.css``) for the rest. The layout is vertical so that it reads on a phone:

* each state gets a row, its layer: the longest path from the initial state, back edges (such as
  ``reopen``) ignored; the main path sits in column 0, side states beside it (``_HINTS``);
* a transition leaving three or more states (``close``, ``transfer``, a track's alternative ends)
  is drawn once, from a dashed note "from any open stage" beside its targets;
* back edges and edges skipping over other states run in lanes on the left.

Call within a request or an application context with a locale: labels are translated.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import get_locale
from markupsafe import Markup, escape

from app.core.enums import CaseState, Role, TrackState
from app.core.i18n import lazy_gettext as _l
from app.core.labels import label
from app.core.permissions import ROLE_PERMISSIONS
from app.workflow.labels import event_label
from app.workflow.operations import REASONS
from workflows.definition import Guard, Workflow
from workflows.facts import RISK_TINGGI, CaseFacts, TrackFacts
from workflows.referral_v1 import ReferralFacts

GROUP_MIN = 3
"""A transition leaving at least this many states is drawn once, from a note."""

WORKFLOW_NAMES: dict[str, str] = {"ktpa": "KtP/A", "tppo": "TPPO"}

# --- geometry (SVG user units) ------------------------------------------------------------------

NODE_W = 148
NODE_H = 44
COL_GAP = 28
ROW_GAP = 24
MARGIN = 12
LANE_GAP = 14
TRUNK_GAP = 12
FONT_SIZE = 14
LINE_HEIGHT = 16
BASELINE_SHIFT = 5  # from a line's middle to its baseline (dominant-baseline is not everywhere)
WRAP_AT = 17  # characters per line inside a node
MAX_LINES = 2

NOTE = "*"
"""Hint key of the note of a grouped transition."""

# (column, row or None for the computed layer), by state value; NOTE places the first note.
_CASE_HINTS: dict[str, tuple[int, int | None]] = {
    CaseState.KEDARURATAN: (1, None),
    NOTE: (1, 8),
    CaseState.DITUTUP: (1, 9),
    CaseState.DILIMPAHKAN: (1, 10),
}
_TRACK_HINTS: dict[str, tuple[int, int | None]] = {
    NOTE: (1, 0),
    TrackState.DITOLAK_KORBAN: (1, 1),
    TrackState.TIDAK_TERSEDIA: (1, 2),
    TrackState.DIBATALKAN: (1, 3),
}


# --- labels -----------------------------------------------------------------------------------


def state_label(state: Any, *, track: bool = False) -> str:
    """The translated name of a state (of its own vocabulary when it is one, else of the track's
    or the case's); its value made readable when it has no label."""
    if isinstance(state, enum.StrEnum):
        text = label(state)
    else:
        text = label(str(state), TrackState if track else CaseState)
    if text == str(state):
        return text.replace("_", " ").capitalize()
    return text


def workflow_title(workflow: Workflow[Any, Any], *, track: bool = False) -> str:
    if workflow.key == "referral":
        return str(_l("Referral workflow v%(version)d", version=workflow.version))
    if track:
        return str(_l("Service track workflow v%(version)d", version=workflow.version))
    name = WORKFLOW_NAMES.get(workflow.key, workflow.key.upper())
    return str(_l("%(name)s case workflow v%(version)d", name=name, version=workflow.version))


def _any_stage_label(track: bool) -> str:
    return str(_l("From any active stage") if track else _l("From any open stage"))


# --- guards and roles ---------------------------------------------------------------------------

_CASE_SNAPSHOTS: tuple[CaseFacts, ...] = tuple(
    CaseFacts(
        risk=risk,
        emergency_handled=False,
        has_service_consent=False,
        assessment_complete=False,
        tppo_screening_complete=False,
        planned_tracks=0,
        plan_approved=False,
        open_tracks=1,
        closure_approved=False,
        transfer_accepted=False,
    )
    for risk in ("", RISK_TINGGI)
)
_TRACK_SNAPSHOTS: tuple[TrackFacts, ...] = tuple(
    TrackFacts(provider_is_own_agency=own, refusal_consent_recorded=False) for own in (False, True)
)
_REFERRAL_SNAPSHOTS: tuple[ReferralFacts, ...] = (ReferralFacts(consent_or_override=False),)


@functools.cache
def guard_reason(guard: Guard[Any]) -> str:
    """The English refusal reason a guard gives: the first one it returns on "nothing done"
    snapshots of either kind; the guard's name made readable when none makes it fail."""
    for facts in (*_CASE_SNAPSHOTS, *_TRACK_SNAPSHOTS, *_REFERRAL_SNAPSHOTS):
        try:
            reason = guard(facts)
        except (AttributeError, TypeError):
            continue
        if reason is not None:
            return reason
    return guard.__name__.replace("_", " ").capitalize()


def translated_reason(guard: Guard[Any]) -> str:
    reason = guard_reason(guard)
    return str(REASONS.get(reason, reason))


def roles_with(permission: str) -> tuple[Role, ...]:
    return tuple(role for role, granted in ROLE_PERMISSIONS.items() if permission in granted)


# --- explain ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One row of a workflow's table, in words."""

    event: str
    event_label: str
    sources: tuple[str, ...]
    target: str
    who: tuple[str, ...]
    conditions: tuple[str, ...]
    requires_reason: bool
    from_any: bool = False
    """True when the step leaves so many stages that the diagram draws it from a note."""


def _ordered(workflow: Workflow[Any, Any], states: Iterable[Any]) -> list[Any]:
    order = {state: i for i, state in enumerate(workflow.states)}
    return sorted(states, key=order.__getitem__)


def explain(workflow: Workflow[Any, Any], *, track: bool = False) -> list[Step]:
    """Every transition of ``workflow`` as a :class:`Step`, in table order."""
    return [
        Step(
            event=t.event,
            event_label=str(event_label(t.event, track=track)),
            sources=tuple(state_label(s, track=track) for s in _ordered(workflow, t.sources)),
            target=state_label(t.target, track=track),
            who=tuple(label(role) for role in roles_with(t.permission)),
            conditions=tuple(translated_reason(g) for g in t.guards),
            requires_reason=t.requires_reason,
            from_any=len(t.sources) >= GROUP_MIN,
        )
        for t in workflow.transitions
    ]


# --- layout -----------------------------------------------------------------------------------


@dataclass
class _Box:
    col: int
    row: int


@dataclass
class _Layout:
    boxes: dict[str, _Box] = field(default_factory=dict)
    notes: dict[frozenset[str], _Box] = field(default_factory=dict)
    back: set[tuple[str, str]] = field(default_factory=set)  # (source, target) back edges


def _edges(workflow: Workflow[Any, Any]) -> list[tuple[str, str]]:
    """(source, target) pairs of the transitions drawn between states (not from a note)."""
    pairs: list[tuple[str, str]] = []
    for t in workflow.transitions:
        if len(t.sources) >= GROUP_MIN:
            continue
        for s in _ordered(workflow, t.sources):
            if (str(s), str(t.target)) not in pairs:
                pairs.append((str(s), str(t.target)))
    return pairs


def _back_edges(initial: str, edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Edges into a state still on the depth-first search stack (they close a cycle)."""
    succ: dict[str, list[str]] = {}
    for s, t in edges:
        succ.setdefault(s, []).append(t)
    back: set[tuple[str, str]] = set()
    done: set[str] = set()
    on_stack: set[str] = set()

    def visit(state: str) -> None:
        on_stack.add(state)
        for nxt in succ.get(state, []):
            if nxt in on_stack:
                back.add((state, nxt))
            elif nxt not in done:
                visit(nxt)
        on_stack.discard(state)
        done.add(state)

    visit(initial)
    return back


def _layers(
    initial: str, edges: list[tuple[str, str]], back: set[tuple[str, str]]
) -> dict[str, int]:
    """Longest distance from ``initial`` over the forward edges (a DAG once back edges are out)."""
    forward = [e for e in edges if e not in back]
    layer = {initial: 0}
    for _ in range(len(edges) + 1):  # Bellman-Ford style relaxation on a DAG: bounded passes
        changed = False
        for s, t in forward:
            if s in layer and layer.get(t, -1) < layer[s] + 1:
                layer[t] = layer[s] + 1
                changed = True
        if not changed:
            break
    return layer


def _layout(workflow: Workflow[Any, Any], track: bool) -> _Layout:
    hints = _TRACK_HINTS if track else _CASE_HINTS
    states = [str(s) for s in workflow.states]
    edges = _edges(workflow)
    out = _Layout(back=_back_edges(str(workflow.initial), edges))
    layers = _layers(str(workflow.initial), edges, out.back)
    taken: set[tuple[int, int]] = set()

    def place(col: int, row: int) -> _Box:
        while (col, row) in taken:
            col += 1
        taken.add((col, row))
        return _Box(col, row)

    for state in states:  # hinted states first, so the computed ones make way for them
        if state in hints and (hints[state][1] is not None or state in layers):
            col, row = hints[state]
            out.boxes[state] = place(col, row if row is not None else layers[state])
    for state in states:
        if state not in out.boxes and state in layers:
            out.boxes[state] = place(0, layers[state])

    # States reached only through a grouped transition: a note, then its targets below it.
    side_col = max((b.col for b in out.boxes.values()), default=0) + 1
    note_hint: tuple[int, int | None] | None = hints.get(NOTE)
    for t in workflow.transitions:
        if len(t.sources) < GROUP_MIN:
            continue
        key = frozenset(str(s) for s in t.sources)
        if key not in out.notes:
            rows = [out.boxes[s].row for s in key if s in out.boxes]
            if note_hint is not None and note_hint[1] is not None:
                out.notes[key] = place(note_hint[0], note_hint[1])
                note_hint = None
            else:
                out.notes[key] = place(side_col, min(rows, default=0))
        target = str(t.target)
        if target not in out.boxes:
            note = out.notes[key]
            row = note.row + 1
            while (note.col, row) in taken:
                row += 1
            out.boxes[target] = place(note.col, row)
    for state in states:  # anything else (unreachable through drawn edges): at the bottom
        if state not in out.boxes:
            bottom = max((b.row for b in out.boxes.values()), default=-1) + 1
            out.boxes[state] = place(0, bottom)
    return out


# --- drawing ----------------------------------------------------------------------------------


def _wrap(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > WRAP_AT:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    if len(lines) > MAX_LINES:
        lines = [*lines[: MAX_LINES - 1], " ".join(lines[MAX_LINES - 1 :])]
        last = lines[-1]
        if len(last) > WRAP_AT:
            lines[-1] = last[: WRAP_AT - 1].rstrip() + "…"
    return lines or [""]


def _attrs(**attrs: Any) -> str:
    parts = []
    for name, value in attrs.items():
        if value is None:
            continue
        parts.append(f'{name.rstrip("_").replace("_", "-")}="{escape(str(value))}"')
    return " ".join(parts)


def _fmt(value: float) -> str:
    return f"{value:g}"


class _Canvas:
    def __init__(self, layout: _Layout, lanes: int) -> None:
        self.layout = layout
        self.left = MARGIN + lanes * LANE_GAP + (4 if lanes else 0)
        boxes = [*layout.boxes.values(), *layout.notes.values()]
        self.cols = max(b.col for b in boxes) + 1
        self.rows = max(b.row for b in boxes) + 1
        trunk = any(n.col == self.cols - 1 for n in layout.notes.values())
        self.width = (
            self.left
            + self.cols * NODE_W
            + (self.cols - 1) * COL_GAP
            + (TRUNK_GAP + 8 if trunk else 0)
            + MARGIN
        )
        self.height = MARGIN * 2 + self.rows * (NODE_H + ROW_GAP) - ROW_GAP

    def x(self, box: _Box) -> float:
        return self.left + box.col * (NODE_W + COL_GAP)

    def y(self, box: _Box) -> float:
        return MARGIN + box.row * (NODE_H + ROW_GAP)

    def cx(self, box: _Box) -> float:
        return self.x(box) + NODE_W / 2

    def cy(self, box: _Box) -> float:
        return self.y(box) + NODE_H / 2

    def lane_x(self, lane: int) -> float:
        return self.left - (lane + 1) * LANE_GAP

    def occupied(self, col: int, row: int) -> bool:
        return any(
            b.col == col and b.row == row
            for b in (*self.layout.boxes.values(), *self.layout.notes.values())
        )

    def column_clear(self, col: int, rows: range) -> bool:
        return not any(self.occupied(col, r) for r in rows)


def _path(points: list[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)


def _route(c: _Canvas, s: _Box, t: _Box, lane: int | None) -> list[tuple[float, float]]:
    """The polyline of an edge from box ``s`` to box ``t``; ``lane`` for side routes."""
    if lane is not None:
        lx = c.lane_x(lane)
        return [(c.x(s), c.cy(s)), (lx, c.cy(s)), (lx, c.cy(t)), (c.x(t), c.cy(t))]
    if s.col == t.col:
        return [(c.cx(s), c.y(s) + NODE_H), (c.cx(t), c.y(t))]
    if t.col > s.col:  # away from the main column: sideways first, then down into the top
        side = c.x(s) + NODE_W
        return [(side, c.cy(s)), (c.cx(t), c.cy(s)), (c.cx(t), c.y(t))]
    side = c.x(t) + NODE_W  # back towards it: down first, then sideways into the side
    return [(c.cx(s), c.y(s) + NODE_H), (c.cx(s), c.cy(t)), (side, c.cy(t))]


def _needs_lane(c: _Canvas, s: _Box, t: _Box, back: bool) -> bool:
    if back or t.row <= s.row:
        return True
    if s.col == t.col:
        return not c.column_clear(s.col, range(s.row + 1, t.row))
    if t.col > s.col:
        return c.occupied(t.col, s.row) or not c.column_clear(t.col, range(s.row + 1, t.row))
    return c.occupied(s.col, t.row) or not c.column_clear(s.col, range(s.row + 1, t.row))


def _node(
    c: _Canvas,
    box: _Box,
    text: str,
    classes: list[str],
    *,
    tooltip: str | None = None,
    current: bool = False,
    dashed: bool = False,
    state: str | None = None,
) -> list[str]:
    x, y = c.x(box), c.y(box)
    lines = _wrap(text)
    first = c.cy(box) - (len(lines) - 1) * LINE_HEIGHT / 2
    out = [
        "<g "
        + _attrs(
            class_=" ".join(classes),
            data_state=state,
            aria_current="step" if current else None,
        )
        + ">",
        f"<title>{escape(tooltip or text)}</title>",
        "<rect "
        + _attrs(
            x=_fmt(x),
            y=_fmt(y),
            width=NODE_W,
            height=NODE_H,
            rx=10,
            ry=10,
            fill="#fde68a" if current else "#ffffff",
            stroke="#5b2a86" if not dashed else "#6c757d",
            stroke_width=3 if current else 1.5,
            stroke_dasharray="5 4" if dashed else None,
        )
        + "/>",
    ]
    for i, line in enumerate(lines):
        out.append(
            "<text "
            + _attrs(
                x=_fmt(c.cx(box)),
                y=_fmt(first + i * LINE_HEIGHT + BASELINE_SHIFT),
                text_anchor="middle",
                font_size=FONT_SIZE - (1 if dashed else 0),
                fill="#212529",
                class_="wf-node-label",
            )
            + f">{escape(line)}</text>"
        )
    out.append("</g>")
    return out


def _edge(
    points: list[tuple[float, float]],
    marker: str,
    tooltip: str,
    classes: str,
    **data: str,
) -> str:
    return (
        "<g "
        + _attrs(class_=classes, **{f"data_{k}": v for k, v in data.items()})
        + f"><title>{escape(tooltip)}</title><path "
        + _attrs(
            d=_path(points),
            fill="none",
            stroke="#495057",
            stroke_width=1.5,
            stroke_linejoin="round",
            marker_end=f"url(#{marker})",
        )
        + "/></g>"
    )


def _goes_back(layout: _Layout, source: str, target: str) -> bool:
    return (source, target) in layout.back or (layout.boxes[target].row <= layout.boxes[source].row)


def _ended(workflow: Workflow[Any, Any], state: Any, layout: _Layout) -> bool:
    """Final, or left only by going back (``terminasi`` and ``ditutup`` can only be reopened)."""
    if state in workflow.final_states:
        return True
    exits = workflow.events_from(state)
    return bool(exits) and all(
        len(t.sources) < GROUP_MIN and _goes_back(layout, str(state), str(t.target)) for t in exits
    )


# The drawings made, by (workflow, current state, kind, locale): a definition never changes once
# released, so a drawing is made once per worker and reused by every case page showing it.
_DRAWN: dict[tuple[int, str | None, bool, str], tuple[Workflow[Any, Any], Markup]] = {}
_DRAWN_MAX = 1024  # far more than the workflows, their states and the locales (a guard)


def render_svg(workflow: Workflow[Any, Any], *, current: Any = None, track: bool = False) -> Markup:
    """The workflow as an inline ``<svg>``; ``current`` (a state) is highlighted. Drawn once
    per workflow, state, kind and locale, then reused."""
    key = (id(workflow), None if current is None else str(current), track, str(get_locale()))
    drawn = _DRAWN.get(key)
    if drawn is not None and drawn[0] is workflow:
        return drawn[1]
    svg = _draw_svg(workflow, current=current, track=track)
    if len(_DRAWN) >= _DRAWN_MAX:
        _DRAWN.clear()
    _DRAWN[key] = (workflow, svg)
    return svg


def _draw_svg(workflow: Workflow[Any, Any], *, current: Any, track: bool) -> Markup:
    layout = _layout(workflow, track)
    current_value = str(current) if current is not None else None
    ident = f"wf-{workflow.key}-{workflow.version}"
    marker = f"{ident}-arrow"
    title = workflow_title(workflow, track=track)

    # Which edges run in a lane on the left: one lane per (event, target).
    pre = _Canvas(layout, 0)
    lane_of: dict[tuple[str, str], int] = {}
    for t in workflow.transitions:
        if len(t.sources) >= GROUP_MIN:
            continue
        for s in _ordered(workflow, t.sources):
            sb, tb = layout.boxes[str(s)], layout.boxes[str(t.target)]
            if _needs_lane(pre, sb, tb, _goes_back(layout, str(s), str(t.target))):
                lane_of.setdefault((t.event, str(t.target)), len(lane_of))
    c = _Canvas(layout, len(lane_of))

    parts = [
        "<svg "
        + _attrs(
            xmlns="http://www.w3.org/2000/svg",
            class_="wf-diagram",
            viewBox=f"0 0 {_fmt(c.width)} {_fmt(c.height)}",
            width="100%",
            role="img",
            aria_label=title,
            aria_labelledby=f"{ident}-title",
            font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
            data_workflow=f"{workflow.key}-{workflow.version}",
        )
        + ">",
        f'<title id="{escape(ident)}-title">{escape(title)}</title>',
        "<defs><marker "
        + _attrs(
            id=marker,
            viewBox="0 0 10 10",
            refX=9,
            refY=5,
            markerWidth=7,
            markerHeight=7,
            orient="auto",
        )
        + '><path d="M0,0 L10,5 L0,10 z" fill="#495057" class="wf-arrowhead"/></marker></defs>',
        '<g class="wf-edges">',
    ]
    for t in workflow.transitions:
        name = str(event_label(t.event, track=track))
        target = str(t.target)
        if len(t.sources) >= GROUP_MIN:
            note = layout.notes[frozenset(str(s) for s in t.sources)]
            tb = layout.boxes[target]
            x_out = c.x(note) + NODE_W
            trunk = x_out + TRUNK_GAP
            points = [
                (x_out, c.cy(note)),
                (trunk, c.cy(note)),
                (trunk, c.cy(tb)),
                (c.x(tb) + NODE_W, c.cy(tb)),
            ]
            parts.append(
                _edge(points, marker, name, "wf-edge wf-edge-group", event=t.event, target=target)
            )
            continue
        for s in _ordered(workflow, t.sources):
            source = str(s)
            sb, tb = layout.boxes[source], layout.boxes[target]
            back = _goes_back(layout, source, target)
            lane = lane_of.get((t.event, target)) if _needs_lane(c, sb, tb, back) else None
            classes = "wf-edge wf-edge-back" if back else "wf-edge"
            parts.append(
                _edge(
                    _route(c, sb, tb, lane),
                    marker,
                    f"{name}: {state_label(s, track=track)} → {state_label(t.target, track=track)}",
                    classes,
                    event=t.event,
                    source=source,
                    target=target,
                )
            )
    parts.append("</g>")

    parts.append('<g class="wf-nodes">')
    for key, note in layout.notes.items():
        sources = ", ".join(state_label(s, track=track) for s in _ordered(workflow, key))
        text = _any_stage_label(track)
        parts.extend(_node(c, note, text, ["wf-note"], tooltip=f"{text}: {sources}", dashed=True))
    for state in workflow.states:
        value = str(state)
        node_classes = ["wf-node"]
        if state == workflow.initial:
            node_classes.append("wf-initial")
        if _ended(workflow, state, layout):
            node_classes.append("wf-final")
        is_current = value == current_value
        if is_current:
            node_classes.append("wf-current")
        parts.extend(
            _node(
                c,
                layout.boxes[value],
                state_label(state, track=track),
                node_classes,
                current=is_current,
                state=value,
            )
        )
    parts.append("</g></svg>")
    return Markup("".join(parts))  # noqa: S704  (every text and attribute value is escaped)


def grouped_steps(workflow: Workflow[Any, Any], *, track: bool = False) -> list[Step]:
    """The steps the diagram draws from a note, for a line of text under it."""
    return [step for step in explain(workflow, track=track) if step.from_any]


__all__ = [
    "GROUP_MIN",
    "Step",
    "explain",
    "grouped_steps",
    "guard_reason",
    "render_svg",
    "state_label",
    "workflow_title",
]
