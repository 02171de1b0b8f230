"""Who may take a workflow step on a given case or service track.

A definition names one permission per event; here that permission is checked where it counts:
held through a role at the case's agency (the case predicates of ``app.cases.permissions``,
which every domain shares) or, for the provider's steps, at the agency the track was referred
to. The engine applies this to every step, whatever the view did before.
"""

from __future__ import annotations

from app.auth.models import User
from app.cases.permissions import (
    MANAGE,
    SUPERVISE,
    may_manage,
    may_supervise,
    may_supervise_agency,
    may_take_case_step,
)
from app.services.models import ServiceTrack

RECEIVE = "referrals:receive"

__all__ = [
    "MANAGE",
    "RECEIVE",
    "SUPERVISE",
    "may_manage",
    "may_supervise",
    "may_supervise_agency",
    "may_take_case_step",
    "may_take_track_step",
]


def may_take_track_step(user: User, track: ServiceTrack, permission: str) -> bool:
    if permission == RECEIVE:
        return RECEIVE in user.permissions_at(track.provider_id)
    return may_take_case_step(user, track.case, permission)
