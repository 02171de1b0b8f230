"""Telling the other side of a referral, after the step is committed (``referrals.notify``).

Idempotent: each message carries the key ``referral:<id>:<what>`` and a user gets one message
per key. Messages name the case by reference only; the receiving agency's staff are led to the
referral page (they cannot open the case).

- sent, withdrawn → the receiving agency's staff;
- accepted, declined, started, completed → the case manager and whoever sent it;
- a progress note → the other side.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.core.tasks import task
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.operations import notify
from app.referrals.models import Referral, ReferralEvent
from app.referrals.queries import receiving_staff

TO_RECEIVER = {"sent": "referral_received", "withdrawn": "referral_withdrawn"}
TO_SENDER = {
    "accepted": "referral_accepted",
    "declined": "referral_declined",
    "started": "referral_started",
    "completed": "referral_completed",
}


def _sending_side(referral: Referral) -> list[User]:
    people: dict[int, User] = {}
    manager = referral.case.case_manager
    if manager is not None:
        people[manager.id] = manager
    sent = db.session.scalar(
        sa.select(ReferralEvent.actor_id).where(
            ReferralEvent.referral_id == referral.id, ReferralEvent.kind == "send"
        )
    )
    if sent is not None and sent not in people:
        user = db.session.get(User, sent)
        if user is not None:
            people[user.id] = user
    return list(people.values())


@task(name="referrals.notify")
def notify_referral(referral_id: int, what: str) -> int:
    """Notify the people concerned by ``what`` happened to the referral; the number told."""
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        return 0
    actor_id: int | None = None
    to_receiver = False
    if what in TO_RECEIVER:
        kind, to_receiver = TO_RECEIVER[what], True
    elif what in TO_SENDER:
        kind = TO_SENDER[what]
    elif what.startswith("note:"):
        event = db.session.get(ReferralEvent, int(what.split(":", 1)[1]))
        if event is None or event.referral_id != referral.id:
            return 0
        kind = "referral_note"
        actor_id = event.actor_id
        to_receiver = event.agency_id == referral.from_agency_id
    else:
        return 0
    users = receiving_staff(referral.to_agency_id) if to_receiver else _sending_side(referral)
    key = f"referral:{referral.id}:{what}"
    already = set(
        db.session.scalars(sa.select(Notification.user_id).where(Notification.key == key))
    )
    sent = 0
    for user in users:
        if user.id in already or user.id == actor_id or not user.active:
            continue
        notify(
            user,
            kind,
            case_id=None if to_receiver else referral.case_id,
            reference=referral.case.reference,
            key=key,
        )
        sent += 1
    db.session.flush()
    return sent
