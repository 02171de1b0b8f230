from __future__ import annotations

from app.auth.models import User
from app.core.db import utcnow
from app.core.tasks import enqueue_after_commit
from app.extensions import db
from app.notifications.models import Notification


def notify(
    user: User,
    kind: str,
    *,
    case_id: int | None = None,
    reference: str | None = None,
    key: str | None = None,
) -> Notification:
    """A message for ``user``. ``key`` names what it is about (e.g. ``transition:42``); a user
    gets at most one message per key (the caller checks; the database enforces it).

    Its e-mail copy (``notifications.send_email``) is queued for when the transaction commits."""
    note = Notification(user_id=user.id, kind=kind, case_id=case_id, reference=reference, key=key)
    db.session.add(note)
    db.session.flush()
    enqueue_after_commit(db.session, "notifications.send_email", note.id)
    return note


def mark_all_read(user: User) -> int:
    now = utcnow()
    unread = db.session.query(Notification).filter(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    count = 0
    for note in unread:
        note.read_at = now
        count += 1
    db.session.flush()
    return count
