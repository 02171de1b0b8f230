"""What the history page calls each step of a track and each event of a referral."""

from __future__ import annotations

from typing import Any

from app.core.i18n import lazy_gettext as _l
from app.workflow.labels import event_label

STEP_EVENTS: dict[str, Any] = {
    "complete_referred": _l("Service completed by the provider"),
    "referral_declined": _l("Referral declined by the provider"),
    "referral_withdrawn": _l("Referral withdrawn by the sending agency"),
}

REFERRAL_EVENTS: dict[str, Any] = {
    "send": _l("Referral sent"),
    "opened": _l("Opened by the receiving agency"),
    "accept": _l("Referral accepted"),
    "decline": _l("Referral declined"),
    "start": _l("Service started"),
    "complete": _l("Service completed"),
    "withdraw": _l("Referral withdrawn"),
    "note": _l("Progress note written"),
}


def step_label(event: str) -> str:
    return str(STEP_EVENTS.get(event) or event_label(event, track=True))


def referral_event_label(kind: str) -> str:
    return str(REFERRAL_EVENTS.get(kind, kind))
