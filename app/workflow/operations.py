"""The workflow engine (architecture.md §2.6): the one place a case or a service track changes
state.

Each function locks the row (``SELECT … FOR UPDATE``), checks the version the person saw
(required: a step without it, or with a version no record can have, is refused as an out-of-date
form — ``app.core.errors.require_version``),
resolves the definition pinned on the record, checks the permission and the guards, appends the
transition row, sets the dependent columns, flushes and writes the audit entry. Nothing here
commits. Whether the actor may see the record at all (its agency scope) is checked before, where
the record is loaded for the actor (a record outside the scope is a 404).

After the commit, ``workflow.notify_transition`` tells the people who have to act next (see
:mod:`app.workflow.tasks`); the task is only sent when the transaction commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.agencies.models import Agency
from app.audit.operations import SystemActor, record
from app.auth.models import RoleGrant, User
from app.cases.models import Case
from app.cases.operations import ConflictError
from app.core.db import utcnow
from app.core.enums import (
    TRACK_ENDED,
    CaseState,
    Channel,
    Role,
    ServiceType,
    TrackState,
    TransferState,
)
from app.core.errors import DomainError, require_version
from app.core.tasks import enqueue_after_commit
from app.deadlines.models import Deadline
from app.deadlines.operations import cancel_open, meet_first_response, meet_open, open_deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.services.models import ServiceTrack
from app.services.operations import create_track
from app.workflow.facts import TRANSFER_ACCEPTED, case_facts, track_facts
from app.workflow.models import CaseTransfer, CaseTransition
from app.workflow.permissions import (
    may_supervise_agency,
    may_take_case_step,
    may_take_track_step,
)
from workflows import definition, ktpa_v1, referral_v1, tppo_v1, track_v1
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
    referral_v1.NO_CONSENT: _l(
        "The victim's consent to this referral (rujukan to the agency) has not been recorded, "
        "and no supervisor has overridden it with a reason."
    ),
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


def _check_permission(actor: Actor, t: Transition[Any, Any], allowed: bool) -> None:
    """``allowed``: whether the user holds the permission where it counts (see
    :mod:`app.workflow.permissions`); the system (imports, tasks) always may."""
    if isinstance(actor, SystemActor) or allowed:
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
    expected_version: int | None,
    reason: str | None = None,
    approvals: frozenset[str] = frozenset(),
    data: dict[str, Any] | None = None,
) -> CaseTransition:
    """Apply ``event`` to the case: the case moves to the transition's target and a transition
    row is appended.

    The case follows the workflow (key, version) pinned on it. ``expected_version`` is the
    version the person saw: required (``DomainError`` when it is missing or impossible),
    ``ConflictError`` when the case changed since. ``approvals`` are
    the confirmations the caller vouches for (see :mod:`app.workflow.facts`); they are kept in
    the row's ``data`` under ``approvals``. Entering ``terminasi``, ``ditutup`` or
    ``dilimpahkan`` sets ``closed_at`` (and, for ``ditutup``, ``closed_reason``); leaving them
    (``reopen``) clears both.
    Raises ``TransitionRefused`` with the reason when the event is not
    possible, not permitted or a guard does not hold.
    """
    expected_version = require_version(expected_version)
    case = _lock_case(case_id)
    if case.version != expected_version:
        raise ConflictError(_CASE_CHANGED, changes={})
    return _case_event(
        case, event, actor=actor, reason=reason, approvals=approvals, data=data, accepting=None
    )


def _case_event(
    case: Case,
    event: str,
    *,
    actor: Actor,
    reason: str | None,
    approvals: frozenset[str],
    data: dict[str, Any] | None,
    accepting: CaseTransfer | None,
) -> CaseTransition:
    """``apply_case_event`` on the locked ``case``. ``accepting``: the transfer whose acceptance
    this ``transfer`` step is — the actor is then the receiving agency's supervisor, and the
    version checked is the transfer's (see ``accept_transfer``)."""
    workflow = get_workflow(case.workflow_key, case.workflow_version)
    source = CaseState(case.state)
    t = _transition(workflow, source, event)
    if accepting is not None:
        allowed = (
            event == "transfer"
            and accepting.case_id == case.id
            and isinstance(actor, User)
            and may_supervise_agency(actor, accepting.to_agency_id)
        )
    else:
        allowed = isinstance(actor, User) and may_take_case_step(actor, case, t.permission)
    _check_permission(actor, t, allowed)
    reason = _check_length(reason, "reason")
    decision = workflow.decide(source, event, case_facts(case, reason=reason, approvals=approvals))
    # a case manager who takes a step on a case nobody manages becomes its case manager
    claim = (
        decision.allowed
        and accepting is None
        and isinstance(actor, User)
        and case.case_manager_id is None
        and Role.MANAJER_KASUS in {g.role for g in actor.grants if g.agency_id == case.agency_id}
    )
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
        # closed as a duplicate (excluded from the indicators): the case it duplicates
        case.duplicate_of_id = row_data.get("duplicate_of") if target is CaseState.DITUTUP else None
    else:
        case.closed_at = None
        case.closed_reason = None
        case.duplicate_of_id = None
    case.state = target
    if claim and isinstance(actor, User):
        _set_case_manager(case, actor, actor)  # in the same flush: one step, one version
    _flush(_CASE_CHANGED)
    if source is CaseState.DITERIMA:
        # the first step taken on a registered case is its first response
        meet_first_response(case, at=transition.at or utcnow())
    if target in CASE_CLOSED:
        cancel_open(case, at=transition.at or utcnow())
    record(
        actor,
        "case.transition",
        "case",
        case.id,
        {"event": event, "from": source.value, "to": target.value},
    )
    enqueue_after_commit(db.session, "workflow.notify_transition", transition.id)
    return transition


def apply_track_event(
    track_id: int,
    event: str,
    *,
    actor: Actor,
    reason: str | None = None,
    outcome: str | None = None,
    expected_version: int | None,
) -> CaseTransition:
    """Apply ``event`` to a service track (workflow ``track`` v1) and append the transition row
    (with ``track_id``; the outcome, when given, in its ``data``).

    ``expected_version`` is the version of the track the person saw: required (``DomainError``
    when it is missing or impossible), ``ConflictError`` when the track changed since. The case
    row is locked first (then the track), so a track event and a case event of the
    same case (e.g. ``terminate``, which counts the open tracks) never interleave. Entering
    ``berjalan`` sets ``started_at`` when it is empty; entering an ended state sets ``ended_at``
    and ``end_reason`` (the reason, else the outcome).
    """
    expected_version = require_version(expected_version)
    track = _lock_track(track_id)
    if track.version != expected_version:
        raise ConflictError(_TRACK_CHANGED, changes={})
    return _track_event(track, event, actor=actor, reason=reason, outcome=outcome)


def apply_linked_track_event(
    track_id: int,
    event: str,
    *,
    actor: Actor,
    reason: str | None = None,
    outcome: str | None = None,
) -> CaseTransition:
    """The track step that a step of a record linked to the track implies (a referral sent,
    accepted, withdrawn…: ``app.referrals.operations``). The caller has already checked the
    version of the record the person saw (the referral's) under the case lock; the track's own
    version is not asked, as the person acted on the referral, not on the track."""
    return _track_event(_lock_track(track_id), event, actor=actor, reason=reason, outcome=outcome)


def _lock_track(track_id: int) -> ServiceTrack:
    case_id = db.session.execute(
        select(ServiceTrack.case_id).where(ServiceTrack.id == track_id)
    ).scalar_one()
    _lock_case(case_id)
    return db.session.execute(
        select(ServiceTrack)
        .where(ServiceTrack.id == track_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _track_event(
    track: ServiceTrack,
    event: str,
    *,
    actor: Actor,
    reason: str | None,
    outcome: str | None,
) -> CaseTransition:
    workflow = get_workflow("track", track.workflow_version)
    source = TrackState(track.state)
    t = _transition(workflow, source, event)
    _check_permission(
        actor, t, isinstance(actor, User) and may_take_track_step(actor, track, t.permission)
    )
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
    _track_deadlines(track, source, target, now)
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
    enqueue_after_commit(db.session, "workflow.notify_transition", transition.id)
    return transition


def _track_deadlines(track: ServiceTrack, source: TrackState, target: TrackState, now: Any) -> None:
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


# --- the intervention plan ---------------------------------------------------------------------

PLANNING = frozenset({CaseState.ASESMEN, CaseState.RENCANA_INTERVENSI})
AMENDING = frozenset({CaseState.INTERVENSI, CaseState.PEMANTAUAN})


def plan_service(
    case_id: int,
    victim_id: int,
    service_type: ServiceType | str,
    *,
    provider: Agency | None,
    target_date: dt.date | None,
    actor: User,
    expected_version: int | None,
    today: dt.date | None = None,
) -> ServiceTrack:
    """Add a service track to the intervention plan (domain.md §3.1): one per victim and
    service type, delivered by ``provider`` (the case's own agency, or another agency it will be
    referred to). The case manager plans at the assessment and plan stages; once the services
    run, only a supervisor may add one (the plan was approved without it). The rules of
    ``check_track`` apply (``mediasi`` in a TPKS case, a provider of that service).
    ``expected_version``: the case's version the person saw (required)."""
    expected_version = require_version(expected_version)
    case = _lock_case(case_id)
    if case.version != expected_version:
        raise ConflictError(_CASE_CHANGED, changes={})
    state = CaseState(case.state)
    if state in PLANNING:
        allowed = may_take_case_step(actor, case, "cases:manage")
    elif state in AMENDING:
        allowed = may_take_case_step(actor, case, "cases:supervise")
        if not allowed and may_take_case_step(actor, case, "cases:manage"):
            raise DomainError(
                _l("Once the services run, only a supervisor may add a service to the plan.")
            )
    else:
        raise DomainError(
            _l("Services are planned at the assessment or intervention-plan stage."),
            field="service_type",
        )
    if not allowed:
        raise TransitionRefused(
            _l("You may not change the intervention plan of this case."), event="plan"
        )
    victim = next((v for v in case.victims if v.id == victim_id), None)
    if victim is None:
        raise DomainError(_l("Choose a victim of this case."), field="victim")
    if provider is not None and not provider.active:
        raise DomainError(_l("This agency is no longer active."), field="provider")
    if target_date is not None and target_date < (today or jakarta_today()):
        raise DomainError(_l("The target date cannot be in the past."), field="target_date")
    try:
        track = create_track(
            case,
            victim,
            service_type,
            provider=provider or case.agency,
            target_date=target_date,
            actor=actor,
        )
    except DomainError as error:
        field = (error.field or "").removeprefix("tracks-0-")
        raise DomainError(error.message, field={"type": "service_type"}.get(field, field)) from None
    case.updated_at = utcnow()  # the plan changed: a supervisor's approval form must be reloaded
    _flush(_CASE_CHANGED)
    return track


def jakarta_today() -> dt.date:
    from app.cases.intake import JAKARTA

    return utcnow().astimezone(JAKARTA).date()


# --- transfers (pelimpahan) --------------------------------------------------------------------

TRANSFER_REASON_MIN = 10


def _transfer_reason(reason: str | None, field: str = "reason") -> str:
    text = (reason or "").strip()
    if len(text) < TRANSFER_REASON_MIN:
        raise DomainError(
            _l("Give the reason in at least %(n)d characters.", n=TRANSFER_REASON_MIN),
            field=field,
        )
    if len(text) > 1000:
        raise DomainError(_l("At most %(n)d characters.", n=1000), field=field)
    return text


def open_transfer_of(case_id: int) -> CaseTransfer | None:
    return db.session.scalar(
        select(CaseTransfer).where(
            CaseTransfer.case_id == case_id, CaseTransfer.state == TransferState.MENUNGGU
        )
    )


def request_transfer(
    case_id: int,
    to_agency: Agency,
    reason: str | None,
    *,
    actor: User,
    expected_version: int | None,
) -> CaseTransfer:
    """Ask ``to_agency`` to take the case over (for instance a case outside this agency's
    competence). Nothing moves until the receiving agency accepts; meanwhile the case goes on as
    before and the request can be withdrawn. ``expected_version``: the case's version the
    person saw (required)."""
    expected_version = require_version(expected_version)
    case = _lock_case(case_id)
    if case.version != expected_version:
        raise ConflictError(_CASE_CHANGED, changes={})
    workflow = get_workflow(case.workflow_key, case.workflow_version)
    t = _transition(workflow, CaseState(case.state), "transfer")
    _check_permission(actor, t, may_take_case_step(actor, case, t.permission))
    if to_agency.id == case.agency_id:
        raise DomainError(_l("Choose another agency."), field="to_agency")
    if not to_agency.active or not to_agency.provides(ServiceType.PENGADUAN):
        raise DomainError(
            _l("The receiving agency must be an active agency that handles complaints."),
            field="to_agency",
        )
    text = _transfer_reason(reason)
    if open_transfer_of(case.id) is not None:
        raise DomainError(
            _l("A transfer of this case is already waiting for an answer."), field="to_agency"
        )
    transfer = CaseTransfer(
        case_id=case.id,
        from_agency_id=case.agency_id,
        to_agency_id=to_agency.id,
        reason=text,
        requested_by_id=actor.id,
    )
    db.session.add(transfer)
    _flush(_CASE_CHANGED)
    record(
        actor,
        "transfer.request",
        "case",
        case.id,
        {"transfer": transfer.id, "to_agency": to_agency.code},
    )
    enqueue_after_commit(db.session, "workflow.notify_transfer", transfer.id)
    return transfer


def _lock_transfer(transfer_id: int, expected_version: int | None) -> CaseTransfer:
    """The transfer, locked, at the version the person saw (required)."""
    expected_version = require_version(expected_version)
    transfer = db.session.execute(
        select(CaseTransfer)
        .where(CaseTransfer.id == transfer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if transfer.version != expected_version:
        raise ConflictError(_TRANSFER_CHANGED, changes={})
    if transfer.state is not TransferState.MENUNGGU:
        raise DomainError(_l("This transfer has already been answered or withdrawn."))
    return transfer


_TRANSFER_CHANGED = _l(
    "Someone else answered this transfer in the meantime. Nothing was saved: reload the page."
)


def accept_transfer(transfer_id: int, *, actor: User, expected_version: int | None) -> CaseTransfer:
    """The receiving agency's supervisor takes the case over: the case moves to
    ``dilimpahkan`` (its open deadlines stop) and the receiving agency gets a case of its own —
    a new reference, channel ``pelimpahan_masuk``, the same people and incident, linked to the
    original — registered now, so its own clocks start. The consent ledger is not copied: the
    people's consent is asked again by the agency that now serves them. A data-subject
    restriction in force is carried over: the restriction follows the person."""
    from app.cases.operations import intake_from_case, register_case
    from app.privacy.operations import carry_restrictions

    transfer = _lock_transfer(transfer_id, expected_version)
    if not may_supervise_agency(actor, transfer.to_agency_id):
        raise TransitionRefused(
            _l("Only a supervisor of the receiving agency may answer a transfer."),
            event="transfer",
        )
    case = _lock_case(transfer.case_id)
    intake = intake_from_case(case)
    intake.channel = Channel.PELIMPAHAN_MASUK.value
    now = utcnow()
    intake.received_at = now
    new_case = register_case(intake, agency=transfer.to_agency, actor=actor, now=now)
    new_case.transferred_from_id = case.id
    # counted once, where and when the people were first registered (domain.md §6)
    new_case.first_received_at = case.first_received_at
    new_case.first_agency_id = case.first_agency_id
    # a data-subject restriction follows the person to the agency that now serves them
    carry_restrictions(case, new_case, actor=actor)
    transfer.new_case_id = new_case.id
    transfer.state = TransferState.DITERIMA
    transfer.decided_by_id = actor.id
    transfer.decided_at = now
    _flush(_TRANSFER_CHANGED)
    _case_event(
        case,
        "transfer",
        actor=actor,
        reason=transfer.reason,
        approvals=frozenset({TRANSFER_ACCEPTED}),
        data={"to_agency": transfer.to_agency.code, "new_case": new_case.reference},
        accepting=transfer,
    )
    record(
        actor,
        "transfer.accept",
        "case",
        case.id,
        {"transfer": transfer.id, "new_case": new_case.id},
    )
    enqueue_after_commit(db.session, "workflow.notify_transfer", transfer.id)
    return transfer


def decline_transfer(
    transfer_id: int, reason: str | None, *, actor: User, expected_version: int | None
) -> CaseTransfer:
    """The receiving agency's supervisor declines, with a reason; the case stays where it is."""
    transfer = _lock_transfer(transfer_id, expected_version)
    if not may_supervise_agency(actor, transfer.to_agency_id):
        raise TransitionRefused(
            _l("Only a supervisor of the receiving agency may answer a transfer."),
            event="transfer",
        )
    text = _transfer_reason(reason, "decision_reason")
    transfer.state = TransferState.DITOLAK
    transfer.decision_reason = text
    transfer.decided_by_id = actor.id
    transfer.decided_at = utcnow()
    _flush(_TRANSFER_CHANGED)
    record(actor, "transfer.decline", "case", transfer.case_id, {"transfer": transfer.id})
    enqueue_after_commit(db.session, "workflow.notify_transfer", transfer.id)
    return transfer


def withdraw_transfer(
    transfer_id: int, *, actor: User, expected_version: int | None
) -> CaseTransfer:
    """The sending side withdraws a request not answered yet."""
    transfer = _lock_transfer(transfer_id, expected_version)
    case = _lock_case(transfer.case_id)
    if not may_take_case_step(actor, case, "cases:manage"):
        raise TransitionRefused(_l("You may not withdraw this transfer."), event="transfer")
    transfer.state = TransferState.DIBATALKAN
    transfer.decided_by_id = actor.id
    transfer.decided_at = utcnow()
    _flush(_TRANSFER_CHANGED)
    record(actor, "transfer.withdraw", "case", case.id, {"transfer": transfer.id})
    enqueue_after_commit(db.session, "workflow.notify_transfer", transfer.id)
    return transfer


# --- who manages the case ----------------------------------------------------------------------


def _set_case_manager(case: Case, manager: User, actor: Actor) -> None:
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


def case_manager_candidates(case: Case) -> list[User]:
    """Active case managers and supervisors of the case's agency."""
    return list(
        db.session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.agency_id == case.agency_id,
                RoleGrant.role.in_((Role.MANAJER_KASUS, Role.SUPERVISOR)),
                User.active.is_(True),
            )
            .distinct()
            .order_by(User.name, User.id)
        )
    )


def assign_case_manager(
    case_id: int, manager: User, *, actor: User, expected_version: int | None
) -> Case:
    """A supervisor of the case's agency (re)assigns its case manager: an active case manager or
    supervisor of that agency. The case's open deadlines follow; the new manager is told.
    ``expected_version``: the case's version the person saw (required)."""
    expected_version = require_version(expected_version)
    case = _lock_case(case_id)
    if case.version != expected_version:
        raise ConflictError(_CASE_CHANGED, changes={})
    if not may_supervise_agency(actor, case.agency_id):
        raise TransitionRefused(
            _l("Only a supervisor may assign the case manager."), event="assign"
        )
    if CaseState(case.state) in CASE_CLOSED or case.state is CaseState.DRAFT:
        raise DomainError(_l("A closed case or a draft is not assigned."), field="case_manager")
    if manager.id not in {u.id for u in case_manager_candidates(case)}:
        raise DomainError(
            _l("Choose a case manager or supervisor of this agency."), field="case_manager"
        )
    if case.case_manager_id == manager.id:
        return case
    _set_case_manager(case, manager, actor)
    _flush(_CASE_CHANGED)
    return case
