"""Coordination notes of a Sub GT coordinator: the only writer here. Nothing here commits."""

from __future__ import annotations

from app.agencies.models import SubTaskForce
from app.audit.operations import record
from app.auth.models import User
from app.core.errors import DomainError, NotFound
from app.core.i18n import lazy_gettext as _l
from app.core.tasks import enqueue_after_commit
from app.extensions import db
from app.referrals.models import CoordinationNote
from app.services.models import ServiceTrack
from app.subgt.queries import coordinates, on_board

NOTE_LIMIT = 2000


def add_coordination_note(
    track: ServiceTrack,
    sub_task_force: SubTaskForce,
    body: str | None,
    *,
    escalate: bool,
    actor: User,
) -> CoordinationNote:
    """Append a coordinator's note on a track of their Sub GT's board (notes are never edited).

    ``body`` is required, at most 2000 characters. The audit entry records the note but not its
    text. With ``escalate``, the supervisors of the case's agency and of the provider are told
    after commit (``subgt.notify_escalation``)."""
    if not coordinates(actor, sub_task_force) or not on_board(sub_task_force, track):
        raise NotFound(_l("This service is not on your Sub GT's board."))
    text = (body or "").strip()
    if not text:
        raise DomainError(_l("Write the note."), field="body")
    if len(text) > NOTE_LIMIT:
        raise DomainError(_l("At most %(n)d characters.", n=NOTE_LIMIT), field="body")
    note = CoordinationNote(
        sub_task_force_id=sub_task_force.id,
        track_id=track.id,
        author_id=actor.id,
        body=text,
        escalated=bool(escalate),
    )
    db.session.add(note)
    db.session.flush()
    record(
        actor,
        "subgt.note",
        "case",
        track.case_id,
        {
            "note": note.id,
            "track": track.id,
            "sub_task_force": sub_task_force.id,
            "escalated": note.escalated,
        },
    )
    if note.escalated:
        enqueue_after_commit(db.session, "subgt.notify_escalation", note.id)
    return note
