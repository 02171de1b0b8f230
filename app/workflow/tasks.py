"""Telling people about workflow steps, after the step is committed.

``workflow.notify_transition`` is sent by the engine only when the transaction that made the
step commits (``enqueue_after_commit``). It is idempotent: each message carries the key
``transition:<id>`` and a user gets one message per key (UNIQUE (user_id, key)), so a retried or
duplicated task notifies nobody twice. Messages name the case by reference only.

Who hears of what (never the person who took the step):

- a plan proposed → the agency's supervisors, who approve it;
- the plan approved, the case terminated, closed, reopened or transferred → the case manager;
- the last open service of a case in monitoring ended → the agency's supervisors, who approve
  the termination;
- a transfer requested or withdrawn → the receiving agency's supervisors; answered → whoever
  asked.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.grants import supervisors_of
from app.auth.models import User
from app.cases.models import Case
from app.core.enums import TRACK_ENDED, CaseState, TrackState, TransferState
from app.core.tasks import task
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.operations import notify
from app.services.models import ServiceTrack
from app.workflow.models import CaseTransfer, CaseTransition

TO_CASE_MANAGER = {
    "start_intervention": "plan_approved",
    "terminate": "case_terminated",
    "close": "case_closed",
    "reopen": "case_reopened",
    "transfer": "case_transferred",
}


def _recipients(transition: CaseTransition, case: Case) -> tuple[str | None, list[User]]:
    if transition.track_id is None:
        if transition.event == "propose_plan":
            return "plan_awaiting_approval", supervisors_of(case.agency_id)
        kind = TO_CASE_MANAGER.get(transition.event)
        if kind and case.case_manager is not None:
            return kind, [case.case_manager]
        return None, []
    if TrackState(transition.to_state) in TRACK_ENDED and case.state is CaseState.PEMANTAUAN:
        still_open = db.session.scalar(
            sa.select(sa.func.count(ServiceTrack.id)).where(
                ServiceTrack.case_id == case.id, ServiceTrack.state.not_in(TRACK_ENDED)
            )
        )
        if not still_open:
            return "ready_for_termination", supervisors_of(case.agency_id)
    return None, []


@task(name="workflow.notify_transition")
def notify_transition(transition_id: int) -> int:
    """Notify the people who act next on the step ``transition_id``; the number notified."""
    transition = db.session.get(CaseTransition, transition_id)
    if transition is None:
        return 0
    case = db.session.get(Case, transition.case_id)
    if case is None:
        return 0
    kind, users = _recipients(transition, case)
    if kind is None:
        return 0
    key = f"transition:{transition.id}"
    already = set(
        db.session.scalars(sa.select(Notification.user_id).where(Notification.key == key))
    )
    sent = 0
    for user in users:
        if user.id == transition.actor_id or user.id in already or not user.active:
            continue
        notify(user, kind, case_id=case.id, reference=case.reference, key=key)
        sent += 1
    db.session.flush()
    return sent


TRANSFER_KINDS = {
    TransferState.MENUNGGU: "transfer_requested",
    TransferState.DITERIMA: "transfer_accepted",
    TransferState.DITOLAK: "transfer_declined",
    TransferState.DIBATALKAN: "transfer_withdrawn",
}


@task(name="workflow.notify_transfer")
def notify_transfer(transfer_id: int) -> int:
    """A transfer requested or withdrawn → the receiving agency's supervisors (the message leads
    to their transfer inbox: they cannot open the case); answered → whoever asked. Idempotent per
    (transfer, state)."""
    transfer = db.session.get(CaseTransfer, transfer_id)
    if transfer is None or transfer.state not in TRANSFER_KINDS:
        return 0
    kind = TRANSFER_KINDS[transfer.state]
    reference = transfer.case.reference
    if transfer.state in (TransferState.MENUNGGU, TransferState.DIBATALKAN):
        users, case_id = supervisors_of(transfer.to_agency_id), None
    else:
        users = [transfer.requested_by] if transfer.requested_by is not None else []
        case_id = transfer.case_id
    key = f"transfer:{transfer.id}:{transfer.state.value}"
    already = set(
        db.session.scalars(sa.select(Notification.user_id).where(Notification.key == key))
    )
    sent = 0
    for user in users:
        if user.id in already or not user.active:
            continue
        notify(user, kind, case_id=case_id, reference=reference, key=key)
        sent += 1
    db.session.flush()
    return sent


@task(name="workflow.notify_assignment")
def notify_assignment(case_id: int, user_id: int) -> int:
    """The new case manager hears of the case (once per case and manager)."""
    case = db.session.get(Case, case_id)
    user = db.session.get(User, user_id)
    if case is None or user is None or not user.active or case.case_manager_id != user.id:
        return 0
    key = f"assign:{case.id}:{user.id}"
    if db.session.scalar(
        sa.select(Notification.id).where(Notification.user_id == user.id, Notification.key == key)
    ):
        return 0
    notify(user, "case_assigned", case_id=case.id, reference=case.reference, key=key)
    db.session.flush()
    return 1
