"""Setting, finishing and cancelling follow-ups, and their reminders. Called inside the caller's
transaction; every change is written to the audit trail (the follow-up's history: the row is
never deleted, its note never changed)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from app.audit.operations import record
from app.auth.models import User
from app.cases.models import Case
from app.cases.queries import in_scope
from app.core.db import utcnow
from app.core.errors import DomainError
from app.core.i18n import lazy_gettext as _l
from app.extensions import db
from app.notifications.operations import notify
from app.services.models import ServiceTrack
from app.tasks.calendar import jakarta_today, reminder_day
from app.tasks.models import NOTE_MAX, FollowUp
from app.tasks.permissions import can_follow_up

# how far ahead a follow-up may be set: a year (a longer wait is a plan, not a follow-up)
AHEAD_MAX = dt.timedelta(days=366)

REMINDER_KIND = "follow_up_due"


def schedule_follow_up(
    case: Case,
    *,
    actor: User,
    due_on: dt.date | None,
    note: str | None = None,
    track_id: int | None = None,
    today: dt.date | None = None,
) -> FollowUp:
    """A follow-up of ``actor`` on ``case`` (or one of its service tracks) for ``due_on``."""
    if not can_follow_up(actor, case):
        raise DomainError(_l("You cannot set a follow-up on this case."))
    today = today or jakarta_today()
    if due_on is None:
        raise DomainError(_l("Choose the day of the follow-up."), field="due_on")
    if due_on < today:
        raise DomainError(_l("The follow-up cannot be in the past."), field="due_on")
    if due_on > today + AHEAD_MAX:
        raise DomainError(_l("A follow-up can be set at most a year ahead."), field="due_on")
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise DomainError(
            _l("The note may have at most %(n)d characters.", n=NOTE_MAX), field="note"
        )
    track = None
    if track_id is not None:
        track = db.session.get(ServiceTrack, track_id)
        if track is None or track.case_id != case.id:
            raise DomainError(_l("Choose a service of this case."), field="track_id")
        if track.ended_at is not None:
            raise DomainError(_l("This service has already ended."), field="track_id")
    follow_up = FollowUp(
        case_id=case.id,
        track_id=track.id if track is not None else None,
        user_id=actor.id,
        due_on=due_on,
        note=note,
    )
    db.session.add(follow_up)
    db.session.flush()
    record(
        actor,
        "follow_up.schedule",
        "follow_up",
        follow_up.id,
        {
            "case_id": case.id,
            "track_id": follow_up.track_id,
            "due_on": due_on.isoformat(),
            "note": note is not None,  # whether there is one; its text stays in its column
        },
    )
    return follow_up


def _check_open(follow_up: FollowUp, actor: User, version: int | None) -> None:
    if follow_up.user_id != actor.id:
        raise DomainError(_l("Only who set a follow-up can finish or cancel it."))
    if version is not None and version != follow_up.version:
        raise DomainError(_l("This follow-up was changed meanwhile; look at it again."))
    if not follow_up.is_open:
        raise DomainError(_l("This follow-up is already done or cancelled."))


def complete_follow_up(follow_up: FollowUp, *, actor: User, version: int | None = None) -> FollowUp:
    """``actor`` did what they meant to do."""
    _check_open(follow_up, actor, version)
    follow_up.done_at = utcnow()
    db.session.flush()
    record(actor, "follow_up.done", "follow_up", follow_up.id, {"case_id": follow_up.case_id})
    return follow_up


def cancel_follow_up(follow_up: FollowUp, *, actor: User, version: int | None = None) -> FollowUp:
    """``actor`` no longer needs the follow-up."""
    _check_open(follow_up, actor, version)
    follow_up.cancelled_at = utcnow()
    db.session.flush()
    record(actor, "follow_up.cancel", "follow_up", follow_up.id, {"case_id": follow_up.case_id})
    return follow_up


def send_reminders(now: dt.datetime) -> int:
    """Remind each open follow-up once, on its day from ``calendar.REMIND_FROM`` (Jakarta) — or
    at the first run after, when the work was down then: an in-app notification whose e-mail copy
    names the kind of message and the case's reference with a link, never the note. A follow-up
    whose owner can no longer see the case, or whose account is inactive, is stamped without a
    message. Each row is locked (``SKIP LOCKED``) and stamped in the caller's transaction: two
    runs never remind it twice, and the notification's key (``follow_up:<id>``) makes sure."""
    today = reminder_day(now)
    due = db.session.scalars(
        sa.select(FollowUp)
        .where(
            FollowUp.done_at.is_(None),
            FollowUp.cancelled_at.is_(None),
            FollowUp.reminded_at.is_(None),
            FollowUp.due_on <= today,
        )
        .order_by(FollowUp.id)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for follow_up in due:
        follow_up.reminded_at = now
        user = db.session.get(User, follow_up.user_id)
        if user is None or not user.active or not in_scope(user, {follow_up.case_id}):
            continue
        notify(
            user,
            REMINDER_KIND,
            case_id=follow_up.case_id,
            reference=follow_up.case.reference,
            key=f"follow_up:{follow_up.id}",
        )
        sent += 1
    db.session.flush()
    return sent
