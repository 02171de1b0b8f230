"""The periodic deadline check (architecture.md §4: deadlines are rows, checked every few minutes).

``deadlines.check_overdue`` is idempotent: each step stamps the row it acted on, in the same
transaction as its notifications (``FlaskTask`` commits at the end of the task), so a second run
finds nothing left to do.

1. Every open deadline past its due time is marked missed (``missed_at = due_at``) and the
   responsible person is notified (``deadline_missed``) — or, when no active person is
   responsible, the agency's supervisors; ``notified_at`` records it.
2. A missed deadline still not done ``ESCALATION_GRACE`` after its due time is escalated once to
   the responsible agency's supervisors (``deadline_escalated``); ``escalated_at`` records it.
   With no supervisor at the agency the row is stamped all the same (and a warning logged), so
   the check does not retry it forever.
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from app.auth.models import User
from app.cases.models import Case
from app.core.db import utcnow
from app.deadlines.models import Deadline
from app.deadlines.queries import agency_supervisors
from app.extensions import celery, db
from app.notifications.operations import notify

log = logging.getLogger(__name__)

# How long a missed deadline may stay undone before the supervisors hear of it. A module constant
# rather than a setting: it is a service-standard policy, changed by a reviewed commit.
ESCALATION_GRACE = dt.timedelta(hours=24)


def _notify_all(users: list[User], kind: str, deadline: Deadline) -> None:
    reference = db.session.scalar(sa.select(Case.reference).where(Case.id == deadline.case_id))
    for user in users:
        notify(user, kind, case_id=deadline.case_id, reference=reference)


def _responsible(deadline: Deadline) -> list[User]:
    user = deadline.responsible_user
    if user is not None and user.active:
        return [user]
    return agency_supervisors(deadline.responsible_agency_id)


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
        supervisors = agency_supervisors(deadline.responsible_agency_id)
        if not supervisors:
            log.warning(
                "deadline %s missed, but agency %s has no supervisor to escalate to",
                deadline.id,
                deadline.responsible_agency_id,
            )
        deadline.escalated_at = now
        _notify_all(supervisors, "deadline_escalated", deadline)
    db.session.flush()
    return len(due)


@celery.task(name="deadlines.check_overdue")
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
