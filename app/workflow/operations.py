"""The workflow engine (architecture.md §2.6): the one place a case or a service track changes
state.

Each function locks the row (``SELECT … FOR UPDATE``), checks the version the person saw,
resolves the definition pinned on the record, checks the permission and the guards, appends the
transition row, sets the dependent columns, flushes and writes the audit entry. Nothing here
commits. Whether the actor may see the record at all (its agency scope) is checked before, where
the record is loaded for the actor (a record outside the scope is a 404).

No notification is enqueued yet: no task reacts to a transition so far.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.audit.operations import SystemActor, record
from app.auth.models import User
from app.cases.models import Case
from app.cases.operations import ConflictError
from app.core.db import utcnow
from app.core.enums import TRACK_ENDED, CaseState, TrackState
from app.core.errors import DomainError
from app.deadlines.operations import meet_first_response
from app.extensions import db
from app.services.models import ServiceTrack
from app.workflow.facts import case_facts, track_facts
from app.workflow.models import CaseTransition
from workflows import definition, ktpa_v1, tppo_v1, track_v1
from workflows.definition import Transition, Workflow
from workflows.registry import get_workflow

Actor = User | SystemActor

TRACK_WORKFLOW = ("track", 1)

# A case in these states is closed (CHECK closed_iff_closed_at).
CASE_CLOSED = frozenset({CaseState.TERMINASI, CaseState.DITUTUP, CaseState.DILIMPAHKAN})

REASON_LIMIT = 500  # cases.closed_reason and service_tracks.end_reason

# The refusal reasons of the definitions are plain English constants; the same text as literals
# here, so they are extracted for translation. An unknown reason is shown as it is.
REASONS: dict[str, Any] = {
    definition.REASON_REQUIRED: _l("A reason is required."),
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
}


class TransitionRefused(DomainError):
    """The workflow does not allow the event now; ``message`` says why (translated), ``reason``
    is the definition's English text."""

    def __init__(self, message: Any, *, event: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.event = event
        self.reason = reason if reason is not None else str(message)


def _refusal(event: str, reason: str) -> TransitionRefused:
    return TransitionRefused(REASONS.get(reason, reason), event=event, reason=reason)


def _transition(workflow: Workflow[Any, Any], state: Any, event: str) -> Transition[Any, Any]:
    t = workflow.transition(state, event)
    if t is None:
        raise TransitionRefused(
            _l("Event %(event)s is not possible from state %(state)s.", event=event, state=state),
            event=event,
            reason=definition.NOT_POSSIBLE.format(event=event, state=state),
        )
    return t


def _check_permission(actor: Actor, t: Transition[Any, Any]) -> None:
    if isinstance(actor, SystemActor) or actor.has_permission(t.permission):
        return
    raise TransitionRefused(
        _l("You may not take this step: it needs the permission %(p)s.", p=t.permission),
        event=t.event,
        reason=f"You may not take this step: it needs the permission {t.permission}.",
    )


def _check_length(text: str | None, field: str) -> str | None:
    text = text.strip() if text else None
    if text and len(text) > REASON_LIMIT:
        raise DomainError(_l("At most %(n)d characters.", n=REASON_LIMIT), field=field)
    return text or None


def _flush(stale_message: Any) -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise ConflictError(stale_message, changes={}) from None


_CASE_CHANGED = _l(
    "Someone else changed this case in the meantime. Nothing was saved: reload the page and try "
    "again."
)
_TRACK_CHANGED = _l(
    "Someone else changed this service in the meantime. Nothing was saved: reload the page and "
    "try again."
)


def _lock_case(case_id: int) -> Case:
    # populate_existing: a case already in the session is refreshed with the locked row
    return db.session.execute(
        select(Case)
        .where(Case.id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _actor_columns(actor: Actor) -> dict[str, Any]:
    return {
        "actor_id": actor.id,
        "actor_label": actor.label if isinstance(actor, SystemActor) else "user",
    }


def apply_case_event(
    case_id: int,
    event: str,
    *,
    actor: Actor,
    expected_version: int | None = None,
    reason: str | None = None,
    approvals: frozenset[str] = frozenset(),
    data: dict[str, Any] | None = None,
) -> CaseTransition:
    """Apply ``event`` to the case: the case moves to the transition's target and a transition
    row is appended.

    The case follows the workflow (key, version) pinned on it. ``expected_version`` is the
    version the person saw (``ConflictError`` when the case changed since). ``approvals`` are
    the confirmations the caller vouches for (see :mod:`app.workflow.facts`); they are kept in
    the row's ``data`` under ``approvals``. Entering ``terminasi``, ``ditutup`` or
    ``dilimpahkan`` sets ``closed_at`` (and, for ``ditutup``, ``closed_reason``); leaving them
    (``reopen``) clears both. Raises ``TransitionRefused`` with the reason when the event is not
    possible, not permitted or a guard does not hold.
    """
    case = _lock_case(case_id)
    if expected_version is not None and case.version != expected_version:
        raise ConflictError(_CASE_CHANGED, changes={})
    workflow = get_workflow(case.workflow_key, case.workflow_version)
    source = CaseState(case.state)
    t = _transition(workflow, source, event)
    _check_permission(actor, t)
    reason = _check_length(reason, "reason")
    decision = workflow.decide(source, event, case_facts(case, reason=reason, approvals=approvals))
    if not decision.allowed:
        raise _refusal(event, decision.reason or "")
    target = CaseState(decision.target)

    row_data = dict(data or {})
    if approvals:
        row_data["approvals"] = sorted(approvals)
    transition = CaseTransition(
        case_id=case.id,
        kind="workflow",
        event=event,
        from_state=source.value,
        to_state=target.value,
        reason=reason,
        data=row_data,
        **_actor_columns(actor),
    )
    db.session.add(transition)
    if target in CASE_CLOSED:
        case.closed_at = utcnow()
        case.closed_reason = reason if target is CaseState.DITUTUP else None
    else:
        case.closed_at = None
        case.closed_reason = None
    case.state = target
    _flush(_CASE_CHANGED)
    if source is CaseState.DITERIMA:
        # the first step taken on a registered case is its first response
        meet_first_response(case, at=transition.at or utcnow())
    record(
        actor,
        "case.transition",
        "case",
        case.id,
        {"event": event, "from": source.value, "to": target.value},
    )
    return transition


def apply_track_event(
    track_id: int,
    event: str,
    *,
    actor: Actor,
    reason: str | None = None,
    outcome: str | None = None,
    expected_version: int | None = None,
) -> CaseTransition:
    """Apply ``event`` to a service track (workflow ``track`` v1) and append the transition row
    (with ``track_id``; the outcome, when given, in its ``data``).

    The case row is locked first (then the track), so a track event and a case event of the
    same case (e.g. ``terminate``, which counts the open tracks) never interleave. Entering
    ``berjalan`` sets ``started_at`` when it is empty; entering an ended state sets ``ended_at``
    and ``end_reason`` (the reason, else the outcome).
    """
    case_id = db.session.execute(
        select(ServiceTrack.case_id).where(ServiceTrack.id == track_id)
    ).scalar_one()
    _lock_case(case_id)
    track = db.session.execute(
        select(ServiceTrack)
        .where(ServiceTrack.id == track_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if expected_version is not None and track.version != expected_version:
        raise ConflictError(_TRACK_CHANGED, changes={})
    workflow = get_workflow(*TRACK_WORKFLOW)
    source = TrackState(track.state)
    t = _transition(workflow, source, event)
    _check_permission(actor, t)
    reason = _check_length(reason, "reason")
    outcome = _check_length(outcome, "outcome")
    decision = workflow.decide(source, event, track_facts(track, reason=reason, outcome=outcome))
    if not decision.allowed:
        raise _refusal(event, decision.reason or "")
    target = TrackState(decision.target)

    now = utcnow()
    transition = CaseTransition(
        case_id=track.case_id,
        track_id=track.id,
        kind="workflow",
        event=event,
        from_state=source.value,
        to_state=target.value,
        reason=reason,
        data={"outcome": outcome} if outcome else {},
        at=now,
        **_actor_columns(actor),
    )
    db.session.add(transition)
    if target is TrackState.BERJALAN and track.started_at is None:
        track.started_at = now
    if target in TRACK_ENDED:
        track.ended_at = now
        track.end_reason = reason or outcome
    track.state = target
    _flush(_TRACK_CHANGED)
    record(
        actor,
        "track.transition",
        "case",
        track.case_id,
        {
            "track": track.id,
            "service_type": track.service_type.value,
            "event": event,
            "from": source.value,
            "to": target.value,
        },
    )
    return transition
