"""The workflow engine (architecture.md §2.6): the one writer of the history and the state of a
case, a service track, a referral and a transfer.

``apply(aggregate, event, actor=…, inputs=…, expected_version=…)`` is the same for every
aggregate: lock the row (``SELECT … FOR UPDATE``, the case first), check the version the person
saw (required: ``app.core.errors.require_version``; a stale one is a ``ConflictError``), resolve
the definition pinned on the record, check the permission where it counts, check what the step
asks the person to give as the definition declares it (a reason, a note of what was done, the
confirmation it vouches for, typed step data such as the closure kind with the case a duplicate
duplicates: ``Transition.missing_input``), evaluate the guards on a facts snapshot, set the
state, append the history row, flush, then the side effects (deadlines, audit entry, after-commit
notifications). A small adapter per aggregate says how to lock it, which definition and facts
apply, which history row is written and which side effects follow: the case's and the service
track's are here; a domain built on the workflow registers its own (``register_adapter``: the
referral's, ``app.referrals.engine``), so the engine imports no model above it. Nothing here
commits.

The events that create history rather than move a record already in the workflow are here too:
registration (``register``: ``draft`` → ``diterima``), the import of historical cases and tracks
(an ``import`` row that puts the record in the state its history gives), a track entering the
intervention plan (``plan``) and the answers to a transfer. ``tests/workflow/
test_engine_sole_writer.py`` fails when anything but the engine and the registered adapters
writes a history row or a ``state``.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.audit.operations import SystemActor, record
from app.auth.grants import roles_at
from app.auth.models import User
from app.cases.models import Case
from app.cases.operations import ConflictError
from app.cases.queries import cases_visible_to
from app.core.db import utcnow
from app.core.enums import (
    TRACK_ENDED,
    CaseState,
    Role,
    ServiceType,
    TrackState,
    TransferState,
)
from app.core.errors import DomainError, require_version
from app.core.i18n import lazy_gettext as _l
from app.core.tasks import enqueue_after_commit
from app.deadlines.models import Deadline
from app.deadlines.operations import cancel_open, meet_first_response, meet_open, open_deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.services.models import ServiceTrack
from app.workflow.facts import case_facts, track_facts
from app.workflow.models import CaseTransfer, CaseTransition
from app.workflow.permissions import may_take_case_step, may_take_track_step
from workflows import definition, ktpa_v1, referral_v1, tppo_v1, track_v1
from workflows import facts as definition_facts
from workflows.definition import Transition, Workflow
from workflows.registry import get_workflow

Actor = User | SystemActor

# A case in these states is closed (CHECK closed_iff_closed_at).
CASE_CLOSED = frozenset({CaseState.TERMINASI, CaseState.DITUTUP, CaseState.DILIMPAHKAN})

REASON_LIMIT = 500  # cases.closed_reason and service_tracks.end_reason

# The refusal reasons of the definitions are plain English constants; the same text as literals
# here, so they are extracted for translation. An unknown reason is shown as it is.
REASONS: dict[str, Any] = {
    definition.REASON_REQUIRED: _l("A reason is required."),
    definition.NOTE_REQUIRED: _l("Write briefly what was done."),
    definition.APPROVAL_REQUIRED: _l("Tick the confirmation to take this step."),
    ktpa_v1.NOT_HIGH_RISK: _l("Emergency handling is only for a case whose risk is high (tinggi)."),
    ktpa_v1.EMERGENCY_FIRST: _l("A high-risk case needs emergency handling before the assessment."),
    ktpa_v1.EMERGENCY_NOT_HANDLED: _l("The emergency handling has not been recorded as done."),
    ktpa_v1.NO_SERVICE_CONSENT: _l("The victim's consent to services has not been recorded."),
    ktpa_v1.ASSESSMENT_INCOMPLETE: _l("The assessment is not complete."),
    ktpa_v1.NO_PLANNED_TRACK: _l("The intervention plan has no service track."),
    ktpa_v1.PLAN_NOT_APPROVED: _l("The intervention plan has not been approved by a supervisor."),
    ktpa_v1.TRACKS_OPEN: _l("Some service tracks have not ended."),
    ktpa_v1.CLOSURE_NOT_APPROVED: _l("The termination has not been approved by a supervisor."),
    ktpa_v1.TRANSFER_NOT_ACCEPTED: _l("The receiving agency has not accepted the transfer."),
    ktpa_v1.CLOSURE_KIND_MISSING: _l("Choose why the case is closed."),
    ktpa_v1.DUPLICATE_MISSING: _l(
        "Give the reference of the case it duplicates (a case you can see)."
    ),
    tppo_v1.SCREENING_INCOMPLETE: _l("The trafficking (TPPO) screening is not complete."),
    track_v1.OWN_AGENCY_PROVIDER: _l(
        "The service is delivered by the case's own agency; it is not referred."
    ),
    track_v1.OTHER_AGENCY_PROVIDER: _l(
        "The service is delivered by another agency; it must be referred first."
    ),
    track_v1.NO_REFUSAL_CONSENT: _l(
        "The victim's informed refusal has not been recorded in the consent ledger."
    ),
    track_v1.NO_OUTCOME: _l("The outcome of the service has not been given."),
    referral_v1.NO_CONSENT: _l(
        "The victim's consent to this referral to the agency has not been recorded, "
        "and no supervisor has overridden it with a reason."
    ),
}


class TransitionRefused(DomainError):
    """The workflow does not allow the event now; ``message`` says why (translated), ``reason``
    is the definition's English text, ``field`` the input it concerns (if one)."""

    def __init__(
        self,
        message: Any,
        *,
        event: str,
        reason: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.event = event
        self.reason = reason if reason is not None else str(message)


def refusal(event: str, reason: str, field: str | None = None) -> TransitionRefused:
    """The refusal for a definition's ``reason``, translated."""
    return TransitionRefused(REASONS.get(reason, reason), event=event, reason=reason, field=field)


@dataclass(frozen=True)
class Inputs:
    """What the person (or the caller) gives with a step.

    ``approve``: the confirmation the step declares (``Transition.approval``) is ticked;
    ``approvals``: named approvals the caller vouches for (the receiving agency's acceptance of a
    transfer); ``data``: typed step data by name (e.g. ``closure`` and ``duplicate_reference``)
    and what else the history row keeps; ``audit``: more for the audit entry."""

    reason: str | None = None
    outcome: str | None = None
    approve: bool = False
    approvals: frozenset[str] = frozenset()
    data: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    audit: Mapping[str, Any] = field(default_factory=dict)


class Aggregate(Protocol):
    """A record the engine applies steps to (a case, a service track, a referral): its
    adapter says how (``register_adapter``)."""

    # Any: a mapped column (``Mapped[int]``, ``Mapped[CaseState]``…) is not seen by mypy as the
    # plain attribute it is on an instance
    version: Any
    state: Any


A = TypeVar("A", bound=Aggregate)


@dataclass
class Step(Generic[A]):
    """One step being applied: what the adapters write from."""

    record: A
    event: str
    transition: Transition[Any, Any]
    source: Any
    target: Any
    actor: Actor
    inputs: Inputs
    reason: str | None
    outcome: str | None
    data: dict[str, Any]
    at: dt.datetime
    # the transfer whose acceptance this ``transfer`` step is (the actor: the receiving agency)
    accepting: bool = False
    row: Any = None  # the history row the adapter appended


def _check_length(text: str | None, name: str) -> str | None:
    text = text.strip() if text else None
    if text and len(text) > REASON_LIMIT:
        raise DomainError(_l("At most %(n)d characters.", n=REASON_LIMIT), field=name)
    return text or None


def flush(stale_message: Any) -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise ConflictError(stale_message, changes={}) from None


def _actor_columns(actor: Actor) -> dict[str, Any]:
    return {
        "actor_id": actor.id,
        "actor_label": actor.label if isinstance(actor, SystemActor) else "user",
    }


CASE_CHANGED = _l(
    "Someone else changed this case in the meantime. Nothing was saved: reload the page and try "
    "again."
)
TRACK_CHANGED = _l(
    "Someone else changed this service in the meantime. Nothing was saved: reload the page and "
    "try again."
)
TRANSFER_CHANGED = _l(
    "Someone else answered this transfer in the meantime. Nothing was saved: reload the page."
)


# --- locks (always the case first, so steps of one case never interleave) ---------------------


def lock_case(case_id: int) -> Case:
    # populate_existing: a case already in the session is refreshed with the locked row
    return db.session.execute(
        select(Case)
        .where(Case.id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def lock_track(track_id: int) -> ServiceTrack:
    case_id = db.session.execute(
        select(ServiceTrack.case_id).where(ServiceTrack.id == track_id)
    ).scalar_one()
    lock_case(case_id)
    return db.session.execute(
        select(ServiceTrack)
        .where(ServiceTrack.id == track_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def lock_transfer(transfer_id: int) -> CaseTransfer:
    return db.session.execute(
        select(CaseTransfer)
        .where(CaseTransfer.id == transfer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


# --- the adapters ------------------------------------------------------------------------------


class Adapter(ABC, Generic[A]):
    """How the engine handles one kind of record (each adapter implements every abstract step)."""

    changed: Any = CASE_CHANGED

    @abstractmethod
    def lock(self, record: A) -> A: ...

    @abstractmethod
    def workflow(self, record: A) -> Workflow[Any, Any]: ...

    @abstractmethod
    def may(self, actor: User, record: A, t: Transition[Any, Any]) -> bool: ...

    @abstractmethod
    def facts(self, step: Step[A], approvals: frozenset[str]) -> Any: ...

    def resolve(self, record: A, actor: Actor, name: str, value: str) -> Any:
        """The record a reference of step data names (None: not found for this actor)."""
        return None

    @abstractmethod
    def write(self, step: Step[A]) -> None:
        """Set the state and the columns that follow it; add the history row."""
        ...

    @abstractmethod
    def after(self, step: Step[A]) -> None:
        """The side effects once the step is flushed."""
        ...


class CaseAdapter(Adapter[Case]):
    changed = CASE_CHANGED

    def lock(self, record: Case) -> Case:
        return lock_case(record.id)

    def workflow(self, record: Case) -> Workflow[Any, Any]:
        return get_workflow(record.workflow_key, record.workflow_version)

    def may(self, actor: User, record: Case, t: Transition[Any, Any]) -> bool:
        return may_take_case_step(actor, record, t.permission)

    def facts(self, step: Step[Case], approvals: frozenset[str]) -> Any:
        return case_facts(step.record, reason=step.reason, approvals=approvals)

    def resolve(self, record: Case, actor: Actor, name: str, value: str) -> Any:
        query = (cases_visible_to(actor) if isinstance(actor, User) else select(Case)).where(
            Case.reference == value.strip(), Case.id != record.id
        )
        with db.session.no_autoflush:
            return db.session.scalar(query)

    def write(self, step: Step[Case]) -> None:
        case, target = step.record, CaseState(step.target)
        row = CaseTransition(
            case_id=case.id,
            kind="workflow",
            event=step.event,
            from_state=CaseState(step.source).value,
            to_state=target.value,
            reason=step.reason,
            data=step.data,
            **_actor_columns(step.actor),
        )
        db.session.add(row)
        step.row = row
        if target in CASE_CLOSED:
            case.closed_at = utcnow()
            case.closed_reason = step.reason if target is CaseState.DITUTUP else None
            # closed as a duplicate (excluded from the indicators): the case it duplicates
            duplicate = step.data.get("duplicate_of") if target is CaseState.DITUTUP else None
            case.duplicate_of_id = duplicate
        else:
            case.closed_at = None
            case.closed_reason = None
            case.duplicate_of_id = None
        case.state = target
        # a case manager who takes a step on a case nobody manages becomes its case manager
        actor = step.actor
        if (
            isinstance(actor, User)
            and not step.accepting
            and case.case_manager_id is None
            and Role.MANAJER_KASUS in roles_at(actor, case.agency_id)
        ):
            set_case_manager(case, actor, actor)  # in the same flush: one step, one version

    def after(self, step: Step[Case]) -> None:
        case, source, target = step.record, CaseState(step.source), CaseState(step.target)
        row: CaseTransition = step.row
        if source is CaseState.DITERIMA:
            # the first step taken on a registered case is its first response
            meet_first_response(case, at=row.at or utcnow())
        if target in CASE_CLOSED:
            cancel_open(case, at=row.at or utcnow())
        record(
            step.actor,
            "case.transition",
            "case",
            case.id,
            {"event": step.event, "from": source.value, "to": target.value},
        )
        enqueue_after_commit(db.session, "workflow.notify_transition", row.id)


class TrackAdapter(Adapter[ServiceTrack]):
    changed = TRACK_CHANGED

    def lock(self, record: ServiceTrack) -> ServiceTrack:
        return lock_track(record.id)

    def workflow(self, record: ServiceTrack) -> Workflow[Any, Any]:
        return get_workflow("track", record.workflow_version)

    def may(self, actor: User, record: ServiceTrack, t: Transition[Any, Any]) -> bool:
        return may_take_track_step(actor, record, t.permission)

    def facts(self, step: Step[ServiceTrack], approvals: frozenset[str]) -> Any:
        return track_facts(step.record, reason=step.reason, outcome=step.outcome)

    def write(self, step: Step[ServiceTrack]) -> None:
        track, target = step.record, TrackState(step.target)
        row = CaseTransition(
            case_id=track.case_id,
            track_id=track.id,
            kind="workflow",
            event=step.event,
            from_state=TrackState(step.source).value,
            to_state=target.value,
            reason=step.reason,
            data={"outcome": step.outcome} if step.outcome else {},
            at=step.at,
            **_actor_columns(step.actor),
        )
        db.session.add(row)
        step.row = row
        if target is TrackState.BERJALAN and track.started_at is None:
            track.started_at = step.at
        if target in TRACK_ENDED:
            track.ended_at = step.at
            track.end_reason = step.reason or step.outcome
        track.state = target

    def after(self, step: Step[ServiceTrack]) -> None:
        track, source, target = step.record, TrackState(step.source), TrackState(step.target)
        _track_deadlines(track, source, target, step.at)
        record(
            step.actor,
            "track.transition",
            "case",
            track.case_id,
            {
                "track": track.id,
                "service_type": track.service_type.value,
                "event": step.event,
                "from": source.value,
                "to": target.value,
            },
        )
        enqueue_after_commit(db.session, "workflow.notify_transition", step.row.id)


def _track_deadlines(
    track: ServiceTrack, source: TrackState, target: TrackState, now: dt.datetime
) -> None:
    """The clocks a track step stops or starts (domain.md §5): a TPPO service started; the
    police report of a TPKS case made (the legal process referred or started); a temporary
    shelter stay begun (14 days to decide) or ended. A track that ends stops its own clocks."""
    case = track.case
    legal = track.service_type is ServiceType.PENEGAKAN_HUKUM
    if legal and target in (TrackState.BERJALAN, TrackState.DIRUJUK):
        meet_open(case, [DeadlineCode.POLICE_REPORT_TPKS], at=now)
    if target is TrackState.BERJALAN:
        meet_open(case, [DeadlineCode.TPPO_SERVICE_START], at=now, track=track)
        if track.service_type is ServiceType.PENAMPUNGAN_SEMENTARA and source is not target:
            open_deadline(
                DeadlineCode.SHELTER_DECISION,
                case=case,
                start=now,
                agency=case.agency,
                responsible_user=case.case_manager,
                track=track,
            )
    if target in TRACK_ENDED:
        meet_open(case, [DeadlineCode.SHELTER_DECISION], at=now, track=track)
        cancel_open(case, at=now, track=track)


# --- the registry of adapters -----------------------------------------------------------------

_ADAPTERS: dict[type[Any], Adapter[Any]] = {}


def register_adapter(model: type[A], adapter: Adapter[A]) -> None:
    """Let the engine apply steps to records of ``model`` through ``adapter``: the domains built
    on the workflow register theirs from their ``init_app`` (``app.referrals.engine``), so the
    engine names no model above it. Registering a model again replaces its adapter. An adapter
    writes history and ``state`` as the engine does, so its module is listed beside the engine
    in ``tests/workflow/test_engine_sole_writer.py``."""
    _ADAPTERS[model] = adapter


register_adapter(Case, CaseAdapter())
register_adapter(ServiceTrack, TrackAdapter())


def registered_adapters() -> dict[type[Any], Adapter[Any]]:
    """The adapters by model (a copy)."""
    return dict(_ADAPTERS)


def adapter_for(record: A) -> Adapter[A]:
    """The adapter registered for the record's class (or the nearest base class that has one)."""
    for cls in type(record).__mro__:
        adapter = _ADAPTERS.get(cls)
        if adapter is not None:
            return adapter
    raise LookupError(f"no workflow adapter is registered for {type(record).__name__}")


# --- apply -------------------------------------------------------------------------------------


def apply(
    record: A,
    event: str,
    *,
    actor: Actor,
    inputs: Inputs = Inputs(),
    expected_version: int | None = None,
    linked: bool = False,
) -> Step[A]:
    """Apply ``event`` to ``record`` (a case, a service track or a referral) for ``actor``;
    returns the step applied (its ``record``, locked, and the history ``row`` appended).
    ``expected_version``: the version the person saw (required).
    ``linked``: the step a step of a linked record implies (a referral's step on its track):
    the caller checked the version of the record the person acted on, under the case lock.
    Raises ``TransitionRefused`` (not possible, not permitted, an input missing, a guard),
    ``DomainError`` (a text too long), ``ConflictError`` (a stale version)."""
    adapter = adapter_for(record)
    if not linked:
        expected_version = require_version(expected_version)
    locked = adapter.lock(record)
    if not linked and locked.version != expected_version:
        raise ConflictError(adapter.changed, changes={})
    return _apply_locked(adapter, locked, event, actor=actor, inputs=inputs)


def transition(workflow: Workflow[Any, Any], state: Any, event: str) -> Transition[Any, Any]:
    t = workflow.transition(state, event)
    if t is None:
        raise TransitionRefused(
            _l("Event %(event)s is not possible from state %(state)s.", event=event, state=state),
            event=event,
            reason=definition.NOT_POSSIBLE.format(event=event, state=state),
        )
    return t


def check_permission(actor: Actor, t: Transition[Any, Any], allowed: bool) -> None:
    """``allowed``: whether the user holds the permission where it counts (see
    :mod:`app.workflow.permissions`); the system (imports, tasks) always may."""
    if isinstance(actor, SystemActor) or allowed:
        return
    raise TransitionRefused(
        _l("You may not take this step: it needs the permission %(p)s.", p=t.permission),
        event=t.event,
        reason=f"You may not take this step: it needs the permission {t.permission}.",
    )


def _apply_locked(
    adapter: Adapter[A],
    record: A,
    event: str,
    *,
    actor: Actor,
    inputs: Inputs,
    permitted: bool | None = None,
    accepting: bool = False,
) -> Step[A]:
    workflow = adapter.workflow(record)
    source = type(workflow.initial)(record.state)
    t = transition(workflow, source, event)
    if permitted is None:
        permitted = isinstance(actor, User) and adapter.may(actor, record, t)
    check_permission(actor, t, permitted)
    reason = _check_length(inputs.reason, "reason")
    outcome = _check_length(inputs.outcome, "outcome")
    approvals = inputs.approvals
    if t.approval is not None and inputs.approve:
        approvals = approvals | {t.approval}
    declared = {c.name for c in t.data} | {name for c in t.data for _v, name in c.references}
    data = {k: v for k, v in inputs.data.items() if k in declared and v not in (None, "")}
    missing = t.missing_input(
        reason=reason,
        approved=t.approval is None or t.approval in approvals,
        data={k: v for k, v in data.items() if v is None or isinstance(v, str)},
    )
    if missing is not None:
        raise refusal(event, missing[1], field=missing[0])
    for choice in t.data:
        for value, reference in choice.references:
            text = data.pop(reference, None)
            if data.get(choice.name) != value:
                continue
            # the record a reference names, among those the actor may see, kept by its id
            found = adapter.resolve(record, actor, reference, str(text or ""))
            if found is None:
                raise refusal(event, choice.reference_missing, field=reference)
            data[reference] = found.id
    data.update(inputs.extra)
    if approvals and isinstance(record, Case):
        data["approvals"] = sorted(approvals)
    step = Step(
        record=record,
        event=event,
        transition=t,
        source=source,
        target=source,
        actor=actor,
        inputs=inputs,
        reason=reason,
        outcome=outcome,
        data=data,
        at=utcnow(),
        accepting=accepting,
    )
    decision = workflow.decide(source, event, adapter.facts(step, approvals))
    if not decision.allowed:
        raise refusal(event, decision.reason or "")
    step.target = decision.target
    adapter.write(step)
    flush(adapter.changed)
    adapter.after(step)
    return step


# --- the events that start a history ----------------------------------------------------------


def open_draft(case: Case) -> None:
    """A new case starts in its workflow's initial state (``draft``: an intake not yet
    registered); nothing is recorded until it is registered."""
    case.state = get_workflow(case.workflow_key, case.workflow_version).initial


def register(
    case: Case, *, actor: Actor, imported: bool = False, at: dt.datetime | None = None
) -> CaseTransition:
    """The ``register`` event: the draft becomes a case (``diterima``). ``imported``: the
    registration of a historical record (``flask cases import``), a row of kind ``import`` from
    nothing, dated ``at`` by the record and never changed afterwards (case_transitions is
    append-only). The caller checked the intake and the permission to register."""
    workflow = get_workflow(case.workflow_key, case.workflow_version)
    t = transition(workflow, workflow.initial, "register")
    case.state = t.target
    row = CaseTransition(
        case=case,
        **({"at": at, "data": {"external_id": case.external_id}} if imported else {}),
        actor_id=actor.id,
        actor_label="user" if isinstance(actor, User) else actor.label,
        kind="import" if imported else "workflow",
        event="register",
        from_state=None if imported else workflow.initial.value,
        to_state=t.target.value,
    )
    db.session.add(row)
    return row


def registered_state(workflow_key: str, workflow_version: int) -> CaseState:
    """The state the ``register`` event leads to in a workflow (``diterima``)."""
    workflow = get_workflow(workflow_key, workflow_version)
    return CaseState(transition(workflow, workflow.initial, "register").target)


def import_state_allowed(workflow_key: str, workflow_version: int, state: CaseState) -> None:
    """Refuse (``DomainError`` on ``status``) a state that is not one of the workflow's: the
    check of ``import_state``, for an import's batch that writes its rows itself."""
    if state not in get_workflow(workflow_key, workflow_version).states:
        raise DomainError(_l("Unknown state %(state)s.", state=state.value), field="status")


def import_state(
    case: Case,
    state: CaseState,
    *,
    actor: Actor,
    at: dt.datetime,
    reason: str | None,
) -> CaseTransition | None:
    """The ``import`` event: a registered historical case arrives in the ``state`` its record
    gives (interfaces.md §3), one row from ``diterima`` dated ``at``; no row when it is still
    ``diterima``. The import checked the record's history (``check_history``)."""
    source = CaseState(case.state)
    if state is source:
        return None
    import_state_allowed(case.workflow_key, case.workflow_version, state)
    case.state = state
    row = CaseTransition(
        case=case,  # an import's batch flushes the case and this row together
        at=at,
        **_actor_columns(actor),
        kind="import",
        event="import",
        from_state=source.value,
        to_state=state.value,
        reason=reason,
        data={"external_id": case.external_id},
    )
    db.session.add(row)
    return row


@dataclass
class TrackStart:
    """How a new track got to its ``state``: ``at`` (when), ``reason``, and what its first
    history row keeps."""

    state: TrackState
    at: dt.datetime
    reason: str | None
    data: dict[str, Any]


def begin_tracks(
    tracks: list[tuple[ServiceTrack, TrackStart]], *, actor: Actor, imported: bool
) -> None:
    """New service tracks enter their state: ``plan`` (the intervention plan, ``direncanakan``)
    or, ``imported``, ``import`` (a historical track in the state its record gives). One row from
    nothing per track; the tracks are added and flushed here."""
    for track, start in tracks:
        track.state = start.state
        db.session.add(track)
    db.session.flush()
    for track, start in tracks:
        db.session.add(
            CaseTransition(
                case_id=track.case_id,
                track_id=track.id,
                at=start.at,
                **_actor_columns(actor),
                kind="import" if imported else "workflow",
                event="import" if imported else "plan",
                from_state=None,
                to_state=track.state.value,
                reason=start.reason,
                data=start.data,
            )
        )


def import_tracks(tracks: list[tuple[ServiceTrack, TrackStart]], *, actor: Actor) -> None:
    """``begin_tracks`` of an import's batch (``flask cases import``): the historical tracks
    enter the state their records give, one row of kind ``import`` from nothing each. Nothing is
    flushed here: each row names its track and case by relationship, so the batch writes the
    cases, their tracks and these rows together, in the order they were added."""
    for track, start in tracks:
        track.state = start.state
        db.session.add(track)
        db.session.add(
            CaseTransition(
                case=track.case,
                track=track,
                at=start.at,
                **_actor_columns(actor),
                kind="import",
                event="import",
                from_state=None,
                to_state=track.state.value,
                reason=start.reason,
                data=start.data,
            )
        )


# --- transfers (pelimpahan) --------------------------------------------------------------------


def request_transfer_step(
    case_id: int,
    *,
    actor: User,
    expected_version: int | None,
    check: Callable[[Case], tuple[int, str]],
) -> CaseTransfer:
    """The case's manager or supervisor asks another agency to take the case over: the case
    locked at the version the person saw, the ``transfer`` step of its definition allowed to the
    actor, then ``check(case)`` (the caller's validation of the receiving agency and the reason,
    raising a ``DomainError``; it returns the receiving agency's id and the reason). The case's
    state does not change until the receiving agency accepts (``accept_transfer_step``)."""
    expected_version = require_version(expected_version)
    case = lock_case(case_id)
    if case.version != expected_version:
        raise ConflictError(CASE_CHANGED, changes={})
    adapter = CaseAdapter()
    t = transition(adapter.workflow(case), CaseState(case.state), "transfer")
    check_permission(actor, t, adapter.may(actor, case, t))
    to_agency_id, reason = check(case)
    transfer = CaseTransfer(
        case_id=case.id,
        from_agency_id=case.agency_id,
        to_agency_id=to_agency_id,
        reason=reason,
        requested_by_id=actor.id,
    )
    db.session.add(transfer)
    flush(CASE_CHANGED)
    return transfer


def accept_transfer_step(
    case: Case, transfer: CaseTransfer, new_case: Case, *, actor: User
) -> CaseTransition:
    """The receiving agency's supervisor accepted ``transfer`` (its permission checked by the
    caller): the ``transfer`` event of the locked ``case``, its version not asked (the person
    answered the transfer, whose version was checked)."""
    transfer.new_case_id = new_case.id
    transfer.state = TransferState.DITERIMA
    transfer.decided_by_id = actor.id
    transfer.decided_at = utcnow()
    flush(TRANSFER_CHANGED)
    step = _apply_locked(
        CaseAdapter(),
        case,
        "transfer",
        actor=actor,
        inputs=Inputs(
            reason=transfer.reason,
            approvals=frozenset({definition_facts.TRANSFER_ACCEPTED}),
            extra={"to_agency": transfer.to_agency.code, "new_case": new_case.reference},
        ),
        permitted=transfer.case_id == case.id,
        accepting=True,
    )
    row: CaseTransition = step.row
    return row


def end_transfer(
    transfer: CaseTransfer, state: TransferState, *, actor: User, reason: str | None = None
) -> None:
    """A transfer request is declined (with the receiving side's reason) or withdrawn."""
    if state not in (TransferState.DITOLAK, TransferState.DIBATALKAN):
        raise ValueError(f"a transfer does not end as {state}")
    transfer.state = state
    if reason is not None:
        transfer.decision_reason = reason
    transfer.decided_by_id = actor.id
    transfer.decided_at = utcnow()
    flush(TRANSFER_CHANGED)


# --- who manages the case ----------------------------------------------------------------------


def set_case_manager(case: Case, manager: User, actor: Actor) -> None:
    before = case.case_manager_id
    case.case_manager_id = manager.id
    # the case's open deadlines now answer to the case manager (no flush here: a step changes
    # the case's version once)
    with db.session.no_autoflush:
        deadlines = list(
            db.session.scalars(
                select(Deadline).where(
                    Deadline.case_id == case.id,
                    Deadline.completed_at.is_(None),
                    Deadline.cancelled_at.is_(None),
                    Deadline.responsible_agency_id == case.agency_id,
                )
            )
        )
    for deadline in deadlines:
        deadline.responsible_user_id = manager.id
    record(actor, "case.assign", "case", case.id, {"case_manager": [before, manager.id]})
    enqueue_after_commit(db.session, "workflow.notify_assignment", case.id, manager.id)
