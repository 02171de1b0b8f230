"""Who may take a workflow step on a given case or service track.

A definition names one permission per event; here that permission is checked where it counts:
held through a role at the case's agency (or, for the provider's steps, at the agency the track
was referred to), and for ``cases:manage`` only by the case's own case manager or a supervisor of
the agency (a case manager may also pick up a case nobody manages yet). The engine applies this
to every step, whatever the view did before.
"""

from __future__ import annotations

from typing import Any

from app.cases.models import Case
from app.core.enums import Role
from app.services.models import ServiceTrack

MANAGE = "cases:manage"
SUPERVISE = "cases:supervise"
RECEIVE = "referrals:receive"


def _roles_at(user: Any, agency_id: int | None) -> set[Role]:
    if not user.active or agency_id is None:
        return set()
    return {g.role for g in user.grants if g.agency_id == agency_id}


def may_take_case_step(user: Any, case: Case, permission: str) -> bool:
    if permission not in user.permissions_at(case.agency_id):
        return False
    roles = _roles_at(user, case.agency_id)
    if permission == MANAGE:
        return Role.SUPERVISOR in roles or (
            Role.MANAJER_KASUS in roles and case.case_manager_id in (None, user.id)
        )
    return True


def may_take_track_step(user: Any, track: ServiceTrack, permission: str) -> bool:
    if permission == RECEIVE:
        return RECEIVE in user.permissions_at(track.provider_id)
    return may_take_case_step(user, track.case, permission)


def may_supervise(user: Any, case: Case) -> bool:
    return SUPERVISE in user.permissions_at(case.agency_id)


def may_manage(user: Any, case: Case) -> bool:
    return may_take_case_step(user, case, MANAGE)


def may_supervise_agency(user: Any, agency_id: int) -> bool:
    return SUPERVISE in user.permissions_at(agency_id)
