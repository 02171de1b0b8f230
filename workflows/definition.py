"""A small declarative form for workflow definitions, validated when constructed.

A :class:`Workflow` is a table of :class:`Transition` rows. Each row names an event (a verb in
snake_case), the state(s) it leaves, the state it enters, the one permission it needs, the guards
that must hold, and what the person taking the step must give: a reason (``requires_reason``), a
note of what was done (``requires_note``), a confirmation (``approval``: the named approval the
step vouches for) and typed step data (``data``: e.g. the closure kind with the case a duplicate
duplicates). Guards are pure functions of a frozen facts snapshot (see :mod:`workflows.facts`):
they return ``None`` when satisfied, otherwise a refusal reason — a plain English sentence kept
as a module constant so the application can translate it. The application's engine checks the
inputs (:meth:`Transition.missing_input`) before the guards, for every caller alike.

Nothing here imports the application, Flask or SQLAlchemy.
"""

from __future__ import annotations

import enum
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Generic, Protocol, TypeVar

# Refusal reasons of the engine itself (guards keep theirs next to their definition).
NOT_POSSIBLE = "Event {event} is not possible from state {state}."
REASON_REQUIRED = "A reason is required."
NOTE_REQUIRED = "Write briefly what was done."
APPROVAL_REQUIRED = "Tick the confirmation to take this step."

_SNAKE = re.compile(r"^[a-z]+(_[a-z0-9]+)*$")
_PERMISSION = re.compile(r"^[a-z_]+:[a-z_]+$")


class WorkflowError(ValueError):
    """A workflow definition is inconsistent (raised when it is constructed)."""


class UnknownWorkflow(LookupError):
    """No workflow is registered under the requested (key, version)."""


class HasReason(Protocol):
    """Every facts snapshot carries the reason the user typed (or None)."""

    @property
    def reason(self) -> str | None: ...


S = TypeVar("S", bound=enum.StrEnum)
F = TypeVar("F", bound=HasReason)

Guard = Callable[[F], str | None]
"""``guard(facts)`` → None when satisfied, else the refusal reason."""


@dataclass(frozen=True)
class Choice:
    """Typed step data: ``name`` takes one of ``values`` (``missing`` when none is given); a value
    in ``references`` also needs the record named by that reference (e.g. the case a duplicate
    duplicates), ``reference_missing`` when it is not given or not found."""

    name: str
    values: tuple[str, ...]
    missing: str
    references: tuple[tuple[str, str], ...] = ()  # (value, reference name)
    reference_missing: str = ""

    def reference_for(self, value: str | None) -> str | None:
        """The reference ``value`` needs, if any."""
        return dict(self.references).get(value or "")


@dataclass(frozen=True)
class Transition(Generic[S, F]):
    """One row of the table: ``event`` takes the workflow from ``source`` to ``target``."""

    event: str
    source: frozenset[S] | S
    target: S
    permission: str
    guards: tuple[Guard[F], ...] = ()
    requires_reason: bool = False
    # the step asks what was done (kept as its reason): a note, not a justification
    requires_note: bool = False
    # the named confirmation the person gives by taking the step (a tick on the form)
    approval: str | None = None
    data: tuple[Choice, ...] = ()

    @property
    def sources(self) -> frozenset[S]:
        if isinstance(self.source, frozenset):
            return self.source
        return frozenset({self.source})

    @property
    def asks_text(self) -> bool:
        """Whether the step's form must be given a text (a reason or a note)."""
        return self.requires_reason or self.requires_note

    def missing_input(
        self, *, reason: str | None, approved: bool, data: dict[str, str | None]
    ) -> tuple[str, str] | None:
        """What the person has not given that this step asks for: ``(field, refusal reason)``,
        or None. ``data`` holds the step data by name (a reference by its reference name);
        whether a reference names a record the person may see is the application's to check."""
        if self.requires_reason and not _reason_given(reason):
            return "reason", REASON_REQUIRED
        if self.requires_note and not _reason_given(reason):
            return "reason", NOTE_REQUIRED
        if self.approval is not None and not approved:
            return "approve", APPROVAL_REQUIRED
        for choice in self.data:
            value = data.get(choice.name)
            if value not in choice.values:
                return choice.name, choice.missing
            reference = choice.reference_for(value)
            if reference is not None and not (data.get(reference) or "").strip():
                return reference, choice.reference_missing
        return None

    def with_guard(self, guard: Guard[F]) -> Transition[S, F]:
        """This transition with one more guard, checked after the existing ones."""
        return replace(self, guards=(*self.guards, guard))


@dataclass(frozen=True)
class Decision(Generic[S]):
    """The answer of :meth:`Workflow.decide`: a target state, or a refusal with its reason."""

    target: S | None = None
    reason: str | None = None

    @property
    def allowed(self) -> bool:
        return self.target is not None

    @classmethod
    def allow(cls, target: S) -> Decision[S]:
        return cls(target=target)

    @classmethod
    def refuse(cls, reason: str) -> Decision[S]:
        return cls(reason=reason)


def _reason_given(reason: str | None) -> bool:
    return bool(reason and reason.strip())


@dataclass(frozen=True)
class Workflow(Generic[S, F]):
    """A validated state machine; construction raises :class:`WorkflowError` when inconsistent."""

    key: str
    version: int
    initial: S
    states: tuple[S, ...]
    final_states: frozenset[S]
    transitions: tuple[Transition[S, F], ...]
    _index: dict[tuple[str, S], Transition[S, F]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._validate()

    # --- validation -------------------------------------------------------------------------

    def _fail(self, message: str) -> WorkflowError:
        return WorkflowError(f"{self.key} v{self.version}: {message}")

    def _validate(self) -> None:
        if not _SNAKE.match(self.key):
            raise self._fail("the key must be snake_case")
        if self.version < 1:
            raise self._fail("the version must be a positive integer")
        known = set(self.states)
        if len(known) != len(self.states):
            raise self._fail("a state is listed twice")
        if self.initial not in known:
            raise self._fail(f"the initial state {self.initial} is not one of the states")
        for state in self.final_states:
            if state not in known:
                raise self._fail(f"the final state {state} is not one of the states")
        for t in self.transitions:
            if not _SNAKE.match(t.event):
                raise self._fail(f"event {t.event!r} is not a verb in snake_case")
            if not _PERMISSION.match(t.permission or ""):
                raise self._fail(
                    f"event {t.event} declares no permission of the form resource:action"
                )
            if not t.sources:
                raise self._fail(f"event {t.event} has no source state")
            for state in (*t.sources, t.target):
                if state not in known:
                    raise self._fail(f"event {t.event} uses the unknown state {state}")
            for guard in t.guards:
                if not callable(guard):
                    raise self._fail(f"event {t.event} has a guard that is not a function")
            if t.requires_reason and t.requires_note:
                raise self._fail(f"event {t.event} asks for both a reason and a note")
            for choice in t.data:
                if not choice.values or not choice.missing:
                    raise self._fail(f"event {t.event}: the data {choice.name} has no values")
                for value, _reference in choice.references:
                    if value not in choice.values or not choice.reference_missing:
                        raise self._fail(f"event {t.event}: the data {choice.name} refers badly")
            for source in t.sources:
                if source in self.final_states:
                    raise self._fail(f"the final state {source} has an outgoing event {t.event}")
                if (t.event, source) in self._index:
                    raise self._fail(f"event {t.event} is defined twice from state {source}")
                self._index[(t.event, source)] = t
        unreachable = known - self._reachable()
        if unreachable:
            names = ", ".join(s for s in self.states if s in unreachable)
            raise self._fail(f"unreachable from {self.initial}: {names}")
        exits = {source for (_, source) in self._index}
        for state in self.states:
            if state not in self.final_states and state not in exits:
                raise self._fail(f"the state {state} is not final but has no outgoing event")

    def _reachable(self) -> set[S]:
        seen = {self.initial}
        queue = deque([self.initial])
        while queue:
            state = queue.popleft()
            for t in self.events_from(state):
                if t.target not in seen:
                    seen.add(t.target)
                    queue.append(t.target)
        return seen

    # --- queries ----------------------------------------------------------------------------

    @property
    def events(self) -> tuple[str, ...]:
        """Every event name, in order of first appearance."""
        return tuple(dict.fromkeys(t.event for t in self.transitions))

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset(t.permission for t in self.transitions)

    def transition(self, state: S, event: str) -> Transition[S, F] | None:
        return self._index.get((event, state))

    def events_from(self, state: S) -> list[Transition[S, F]]:
        """The transitions leaving ``state``, in table order (guards not evaluated)."""
        return [t for t in self.transitions if state in t.sources]

    def decide(self, state: S, event: str, facts: F) -> Decision[S]:
        """Whether ``event`` may happen in ``state`` given ``facts``; permission is the caller's."""
        t = self._index.get((event, state))
        if t is None:
            return Decision.refuse(NOT_POSSIBLE.format(event=event, state=state))
        if t.requires_reason and not _reason_given(facts.reason):
            return Decision.refuse(REASON_REQUIRED)
        if t.requires_note and not _reason_given(facts.reason):
            return Decision.refuse(NOTE_REQUIRED)
        for guard in t.guards:
            reason = guard(facts)
            if reason is not None:
                return Decision.refuse(reason)
        return Decision.allow(t.target)

    # --- diagram ----------------------------------------------------------------------------

    def to_mermaid(self, highlight: S | None = None) -> str:
        """A Mermaid ``stateDiagram-v2``; ``highlight`` marks one state (e.g. the current one)."""
        order = {state: i for i, state in enumerate(self.states)}
        lines = [
            "stateDiagram-v2",
            f"    %% {self.key} v{self.version}, generated by flask workflows diagram: do not edit",
            f"    [*] --> {self.initial}",
        ]
        for t in self.transitions:
            for source in sorted(t.sources, key=order.__getitem__):
                lines.append(f"    {source} --> {t.target}: {t.event}")
        for state in self.states:
            if state in self.final_states:
                lines.append(f"    {state} --> [*]")
        if highlight is not None:
            if highlight not in order:
                raise WorkflowError(f"{self.key} v{self.version}: unknown state {highlight}")
            lines.append("    classDef current fill:#fde68a,stroke:#b45309,stroke-width:3px")
            lines.append(f"    class {highlight} current")
        return "\n".join(lines) + "\n"


def add_guard(
    transitions: Iterable[Transition[S, F]],
    guard: Guard[F],
    where: Callable[[Transition[S, F]], bool],
) -> tuple[Transition[S, F], ...]:
    """``transitions`` with ``guard`` appended to every row for which ``where(row)`` holds."""
    return tuple(t.with_guard(guard) if where(t) else t for t in transitions)
