"""The periodic deadline check (architecture.md §4: deadlines are rows, checked every few minutes).

``deadlines.check_overdue`` is idempotent: each step stamps the row it acted on, in the same
transaction as its notifications (``FlaskTask`` commits at the end of the task), so a second run
finds nothing left to do.

1. Every open deadline past its due time is marked missed (``missed_at = due_at``) and the
   responsible person is notified (``deadline_missed``) — or, when no active person is
   responsible, the receiving agency's referral staff (a referral's answer) or the agency's
   supervisors; ``notified_at`` records it.
2. A missed deadline still not done ``ESCALATION_GRACE`` after its due time is escalated once to
   the responsible agency's supervisors — for a referral's answer also the sending agency's
   supervisors and the Sub GT coordinators of the service (``deadline_escalated``);
   ``escalated_at`` records it. People outside the case's agency get a message that leads to
   the referral or the Sub GT board, never to the case.
   With no supervisor at the agency the row is stamped all the same (and a warning logged), so
   the check does not retry it forever.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import sqlalchemy as sa

from app.agencies.models import SubTaskForce, SubTaskForceMember
from app.auth.grants import holders_of, supervisors_of
from app.auth.models import RoleGrant, User
from app.core.db import utcnow
from app.core.enums import SERVICE_SUBTASKFORCE, Role
from app.core.tasks import task
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.notifications.operations import notify

# the permission of who receives an agency's referrals (app.core.permissions)
RECEIVE_REFERRALS = "referrals:receive"

log = logging.getLogger(__name__)

# How long a missed deadline may stay undone before the supervisors hear of it. A module constant
# rather than a setting: it is a service-standard policy, changed by a reviewed commit.
ESCALATION_GRACE = dt.timedelta(hours=24)


def _notify_all(users: list[User], kind: str, deadline: Deadline) -> None:
    """Tell ``users``. Those outside the case's agency (a referral's receiving agency, a Sub GT
    coordinator) cannot open the case: their message leads to the referral or the Sub GT board
    instead (``key``), still naming the case by reference only."""
    case = deadline.case
    reference = case.reference
    case_agency = case.agency_id
    referral_id = _referral_of(deadline)
    for user in users:
        if any(g.agency_id == case_agency for g in user.grants):
            notify(user, kind, case_id=deadline.case_id, reference=reference)
        elif referral_id is not None and any(
            g.agency_id == deadline.responsible_agency_id for g in user.grants
        ):
            key = f"referral:{referral_id}:deadline:{deadline.id}:{kind}"
            notify(user, kind, reference=reference, key=key)
        else:
            notify(user, kind, reference=reference, key=f"subgt:deadline:{deadline.id}:{kind}")


# A ``referral_response`` deadline awaits the answer to a referral; which one (the latest sent
# for the track) is the referrals' to say, built on the deadlines: they register it from their
# ``init_app`` (``referrals.queries.latest_sent_referral``).
_awaited_referral: list[Callable[[int], int | None]] = []


def register_awaited_referral(find: Callable[[int], int | None]) -> None:
    _awaited_referral[:] = [find]


def _referral_of(deadline: Deadline) -> int | None:
    """The referral whose answer a ``referral_response`` deadline awaits."""
    if deadline.code is not DeadlineCode.REFERRAL_RESPONSE or deadline.track_id is None:
        return None
    if not _awaited_referral:
        return None
    return _awaited_referral[0](deadline.track_id)


def _responsible(deadline: Deadline) -> list[User]:
    """Who is told first: the responsible person; else, for a referral's answer, the receiving
    agency's referral staff; else the responsible agency's supervisors."""
    user = deadline.responsible_user
    if user is not None and user.active:
        return [user]
    if deadline.code is DeadlineCode.REFERRAL_RESPONSE:
        staff = holders_of(deadline.responsible_agency_id, RECEIVE_REFERRALS)
        if staff:
            return staff
    return supervisors_of(deadline.responsible_agency_id)


def _escalation(deadline: Deadline) -> list[User]:
    """Who hears of a deadline still missed after the grace period: the responsible agency's
    supervisors; for a referral's answer also the sending agency's supervisors and the
    coordinators of the Sub GT that reviews the service (domain.md §5)."""
    people = {u.id: u for u in supervisors_of(deadline.responsible_agency_id)}
    if deadline.code is DeadlineCode.REFERRAL_RESPONSE:
        people.update({u.id: u for u in supervisors_of(deadline.case.agency_id)})
        for user in _subgt_coordinators(deadline):
            people.setdefault(user.id, user)
    return list(people.values())


def _subgt_coordinators(deadline: Deadline) -> list[User]:
    track = deadline.track
    key = SERVICE_SUBTASKFORCE.get(track.service_type) if track is not None else None
    if track is None or key is None:
        return []
    members = {deadline.responsible_agency_id, track.case.agency_id}
    sub_task_forces = sa.select(SubTaskForceMember.sub_task_force_id).where(
        SubTaskForceMember.agency_id.in_(members)
    )
    return list(
        db.session.scalars(
            sa.select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .join(SubTaskForce, SubTaskForce.id == RoleGrant.sub_task_force_id)
            .where(
                RoleGrant.role == Role.KOORDINATOR_SUBGT,
                SubTaskForce.key == key,
                SubTaskForce.id.in_(sub_task_forces),
                User.active.is_(True),
            )
            .distinct()
            .order_by(User.id)
        )
    )


def mark_missed(now: dt.datetime) -> int:
    overdue = db.session.scalars(
        sa.select(Deadline)
        .where(
            Deadline.completed_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.missed_at.is_(None),
            Deadline.due_at < now,
        )
        .order_by(Deadline.id)
        .with_for_update(skip_locked=True)
    ).all()
    for deadline in overdue:
        deadline.missed_at = deadline.due_at
        deadline.notified_at = now
        _notify_all(_responsible(deadline), "deadline_missed", deadline)
    db.session.flush()
    return len(overdue)


def escalate(now: dt.datetime) -> int:
    due = db.session.scalars(
        sa.select(Deadline)
        .where(
            Deadline.completed_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.missed_at.is_not(None),
            Deadline.escalated_at.is_(None),
            Deadline.due_at <= now - ESCALATION_GRACE,
        )
        .order_by(Deadline.id)
        .with_for_update(skip_locked=True)
    ).all()
    for deadline in due:
        people = _escalation(deadline)
        if not people:
            log.warning(
                "deadline %s missed, but agency %s has no supervisor to escalate to",
                deadline.id,
                deadline.responsible_agency_id,
            )
        deadline.escalated_at = now
        _notify_all(people, "deadline_escalated", deadline)
    db.session.flush()
    return len(due)


@task(name="deadlines.check_overdue")
def check_overdue(now: str | dt.datetime | None = None) -> dict[str, int]:
    """Mark, notify and escalate missed deadlines. ``now`` (aware datetime or ISO string) is
    for tests and replays; the beat schedule sends nothing and the current time is used."""
    if isinstance(now, str):
        now = dt.datetime.fromisoformat(now)
    if now is None:
        now = utcnow()
    elif now.tzinfo is None:
        raise ValueError("naive datetime given as now")
    return {"missed": mark_missed(now), "escalated": escalate(now)}
