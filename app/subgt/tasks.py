"""Telling the agencies' supervisors about an escalated coordination note
(``subgt.notify_escalation``), after the note is committed.

Idempotent: every message carries the key ``coordination:<note id>`` and a user gets one message
per key, so a retried task tells nobody twice. The supervisors of the case's agency get a link to
the case (``case_id``); those of the provider agency do not (they reach it through their
referral). The message names the case by reference only, never the note's text.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.grants import supervisors_of
from app.cases.models import Case
from app.core.tasks import task
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.operations import notify
from app.referrals.models import CoordinationNote
from app.services.models import ServiceTrack

KIND = "subgt_escalation"


@task(name="subgt.notify_escalation")
def notify_escalation(note_id: int) -> int:
    """Notify the supervisors of both agencies of an escalated note; the number told."""
    note = db.session.get(CoordinationNote, note_id)
    if note is None or not note.escalated:
        return 0
    found = db.session.execute(
        sa.select(Case.id, Case.reference, Case.agency_id, ServiceTrack.provider_id)
        .join(ServiceTrack, ServiceTrack.case_id == Case.id)
        .where(ServiceTrack.id == note.track_id)
    ).one_or_none()
    if found is None:
        return 0
    case_id, reference, agency_id, provider_id = found
    key = f"coordination:{note.id}"
    already = set(
        db.session.scalars(sa.select(Notification.user_id).where(Notification.key == key))
    )
    recipients: list[tuple[int, int | None]] = [(agency_id, case_id)]
    if provider_id is not None and provider_id != agency_id:
        recipients.append((provider_id, None))
    sent = 0
    for agency, link_case_id in recipients:
        for user in supervisors_of(agency):
            if user.id in already or user.id == note.author_id:
                continue
            notify(user, KIND, case_id=link_case_id, reference=reference, key=key)
            already.add(user.id)
            sent += 1
    db.session.flush()
    return sent
