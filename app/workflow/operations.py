"""The workflow's operations: a step on a case or a service track (through the engine,
:mod:`app.workflow.engine`, the one writer of history and state), the intervention plan,
transfers (pelimpahan) and who manages a case. Nothing here commits. Whether the actor may see
the record at all (its agency scope) is checked before, where the record is loaded for the actor
(a record outside the scope is a 404).

After the commit, ``workflow.notify_transition`` tells the people who have to act next (see
:mod:`app.workflow.tasks`); the task is only sent when the transaction commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from blinker import Namespace
from sqlalchemy import select

from app.agencies.models import Agency
from app.audit.operations import record
from app.auth.models import User
from app.cases.intake import JAKARTA
from app.cases.models import Case
from app.cases.operations import ConflictError, intake_from_case
from app.core.db import utcnow
from app.core.enums import CaseState, Channel, ServiceType, TransferState
from app.core.errors import DomainError, require_version
from app.core.i18n import lazy_gettext as _l
from app.core.tasks import enqueue_after_commit
from app.extensions import db
from app.services.models import ServiceTrack
from app.workflow import engine
from app.workflow.engine import (
    CASE_CLOSED,
    REASON_LIMIT,
    REASONS,
    Actor,
    TransitionRefused,
)
from app.workflow.models import CaseTransfer, CaseTransition
from app.workflow.permissions import may_supervise_agency, may_take_case_step
from app.workflow.queries import case_manager_candidates
from app.workflow.registration import register_case
from app.workflow.tracks import create_track

__all__ = [
    "CASE_CLOSED",
    "REASONS",
    "REASON_LIMIT",
    "TransitionRefused",
    "apply_case_event",
    "apply_track_event",
    "transfer_accepted",
]

_signals = Namespace()

# Sent by ``accept_transfer`` once the receiving agency's case is registered, before the case
# moves to ``dilimpahkan``, synchronously and in the same transaction:
# ``transfer_accepted.send(transfer, case=…, new_case=…, actor=…)``. The domains built on the
# workflow connect to it from their ``init_app`` (privacy carries a data-subject restriction over
# to the new case); a receiver that raises refuses the acceptance, and nothing is kept.
transfer_accepted = _signals.signal("transfer-accepted")


def apply_case_event(
    case_id: int,
    event: str,
    *,
    actor: Actor,
    expected_version: int | None,
    reason: str | None = None,
    approve: bool = False,
    approvals: frozenset[str] = frozenset(),
    data: dict[str, Any] | None = None,
) -> CaseTransition:
    """Apply ``event`` to the case through the engine (:func:`app.workflow.engine.apply`): the
    case moves to the transition's target and a transition row is appended.

    The case follows the workflow (key, version) pinned on it. ``expected_version`` is the
    version the person saw: required (``DomainError`` when it is missing or impossible),
    ``ConflictError`` when the case changed since. ``approve``: the confirmation the step
    declares is given; ``approvals`` are confirmations the caller vouches for (see
    :mod:`app.workflow.facts`); both are kept in the row's ``data`` under ``approvals``.
    ``data``: the step data the definition declares (``closure``, ``duplicate_of`` — a case
    reference, kept as its id). Entering ``terminasi``, ``ditutup`` or ``dilimpahkan`` sets
    ``closed_at`` (and, for ``ditutup``, ``closed_reason``); leaving them (``reopen``) clears
    both. Raises ``TransitionRefused`` with the reason when the event is not possible, not
    permitted, an input is missing or a guard does not hold.
    """
    step = engine.apply(
        _case(case_id),
        event,
        actor=actor,
        inputs=engine.Inputs(
            reason=reason, approve=approve, approvals=approvals, data=dict(data or {})
        ),
        expected_version=expected_version,
    )
    row: CaseTransition = step.row
    return row


def apply_track_event(
    track_id: int,
    event: str,
    *,
    actor: Actor,
    reason: str | None = None,
    outcome: str | None = None,
    expected_version: int | None,
) -> CaseTransition:
    """Apply ``event`` to a service track through the engine and append the transition row
    (with ``track_id``; the outcome, when given, in its ``data``).

    ``expected_version`` is the version of the track the person saw: required (``DomainError``
    when it is missing or impossible), ``ConflictError`` when the track changed since. The case
    row is locked first (then the track), so a track event and a case event of the
    same case (e.g. ``terminate``, which counts the open tracks) never interleave. Entering
    ``berjalan`` sets ``started_at`` when it is empty; entering an ended state sets ``ended_at``
    and ``end_reason`` (the reason, else the outcome).
    """
    step = engine.apply(
        _track(track_id),
        event,
        actor=actor,
        inputs=engine.Inputs(reason=reason, outcome=outcome),
        expected_version=expected_version,
    )
    row: CaseTransition = step.row
    return row


def _case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None:
        raise LookupError(f"no case {case_id}")
    return case


def _track(track_id: int) -> ServiceTrack:
    track = db.session.get(ServiceTrack, track_id)
    if track is None:
        raise LookupError(f"no service track {track_id}")
    return track


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
    case = engine.lock_case(case_id)
    if case.version != expected_version:
        raise ConflictError(engine.CASE_CHANGED, changes={})
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
    engine.flush(engine.CASE_CHANGED)
    return track


def jakarta_today() -> dt.date:
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

    def check(case: Case) -> tuple[int, str]:
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
        return to_agency.id, text

    transfer = engine.request_transfer_step(
        case_id, actor=actor, expected_version=expected_version, check=check
    )
    record(
        actor,
        "transfer.request",
        "case",
        transfer.case_id,
        {"transfer": transfer.id, "to_agency": to_agency.code},
    )
    enqueue_after_commit(db.session, "workflow.notify_transfer", transfer.id)
    return transfer


def _lock_transfer(transfer_id: int, expected_version: int | None) -> CaseTransfer:
    """The transfer, locked, at the version the person saw (required)."""
    expected_version = require_version(expected_version)
    transfer = engine.lock_transfer(transfer_id)
    if transfer.version != expected_version:
        raise ConflictError(engine.TRANSFER_CHANGED, changes={})
    if transfer.state is not TransferState.MENUNGGU:
        raise DomainError(_l("This transfer has already been answered or withdrawn."))
    return transfer


def accept_transfer(transfer_id: int, *, actor: User, expected_version: int | None) -> CaseTransfer:
    """The receiving agency's supervisor takes the case over: the case moves to
    ``dilimpahkan`` (its open deadlines stop) and the receiving agency gets a case of its own —
    a new reference, channel ``pelimpahan_masuk``, the same people and incident, linked to the
    original — registered now, so its own clocks start. The consent ledger is not copied: the
    people's consent is asked again by the agency that now serves them. A data-subject
    restriction in force is carried over: the restriction follows the person (the receivers of
    ``transfer_accepted``)."""
    transfer = _lock_transfer(transfer_id, expected_version)
    if not may_supervise_agency(actor, transfer.to_agency_id):
        raise TransitionRefused(
            _l("Only a supervisor of the receiving agency may answer a transfer."),
            event="transfer",
        )
    case = engine.lock_case(transfer.case_id)
    intake = intake_from_case(case)
    intake.channel = Channel.PELIMPAHAN_MASUK.value
    now = utcnow()
    intake.received_at = now
    # quick: a case registered on the quick intake may not have its victims' types of violence
    # yet; the receiving agency completes them as the sending one would have
    new_case = register_case(intake, agency=transfer.to_agency, actor=actor, now=now, quick=True)
    new_case.transferred_from_id = case.id
    # counted once, where and when the people were first registered (domain.md §6)
    new_case.first_received_at = case.first_received_at
    new_case.first_agency_id = case.first_agency_id
    # what follows the people to the agency that now serves them (a data-subject restriction)
    transfer_accepted.send(transfer, case=case, new_case=new_case, actor=actor)
    engine.accept_transfer_step(case, transfer, new_case, actor=actor)
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
    engine.end_transfer(transfer, TransferState.DITOLAK, actor=actor, reason=text)
    record(actor, "transfer.decline", "case", transfer.case_id, {"transfer": transfer.id})
    enqueue_after_commit(db.session, "workflow.notify_transfer", transfer.id)
    return transfer


def withdraw_transfer(
    transfer_id: int, *, actor: User, expected_version: int | None
) -> CaseTransfer:
    """The sending side withdraws a request not answered yet."""
    transfer = _lock_transfer(transfer_id, expected_version)
    case = engine.lock_case(transfer.case_id)
    if not may_take_case_step(actor, case, "cases:manage"):
        raise TransitionRefused(_l("You may not withdraw this transfer."), event="transfer")
    engine.end_transfer(transfer, TransferState.DIBATALKAN, actor=actor)
    record(actor, "transfer.withdraw", "case", case.id, {"transfer": transfer.id})
    enqueue_after_commit(db.session, "workflow.notify_transfer", transfer.id)
    return transfer


# --- who manages the case ----------------------------------------------------------------------


def assign_case_manager(
    case_id: int, manager: User, *, actor: User, expected_version: int | None
) -> Case:
    """A supervisor of the case's agency (re)assigns its case manager: an active case manager or
    supervisor of that agency. The case's open deadlines follow; the new manager is told.
    ``expected_version``: the case's version the person saw (required)."""
    expected_version = require_version(expected_version)
    case = engine.lock_case(case_id)
    if case.version != expected_version:
        raise ConflictError(engine.CASE_CHANGED, changes={})
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
    engine.set_case_manager(case, manager, actor)
    engine.flush(engine.CASE_CHANGED)
    return case
