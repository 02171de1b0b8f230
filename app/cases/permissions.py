"""Who may do what with a case. Visibility itself is decided in ``queries.cases_visible_to``.

The predicates about the case's workflow (``may_take_case_step``, ``may_manage``,
``may_supervise``, ``may_supervise_agency``) live here, for every domain that acts on a case."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from app.auth.grants import roles_at
from app.auth.models import User
from app.cases.models import Case
from app.core.enums import CaseState, Role

if TYPE_CHECKING:
    from app.agencies.models import Agency

MANAGE = "cases:manage"
SUPERVISE = "cases:supervise"


def may_take_case_step(user: User, case: Case, permission: str) -> bool:
    """``permission`` held through a role at the case's agency; for ``cases:manage`` only by
    the case's own case manager or a supervisor of the agency (a case manager may also pick up
    a case nobody manages yet)."""
    if permission not in user.permissions_at(case.agency_id):
        return False
    roles = roles_at(user, case.agency_id)
    if permission == MANAGE:
        return Role.SUPERVISOR in roles or (
            Role.MANAJER_KASUS in roles and case.case_manager_id in (None, user.id)
        )
    return True


def may_manage(user: User, case: Case) -> bool:
    return may_take_case_step(user, case, MANAGE)


def may_supervise(user: User, case: Case) -> bool:
    return may_supervise_agency(user, case.agency_id)


def may_supervise_agency(user: User, agency_id: int) -> bool:
    return SUPERVISE in user.permissions_at(agency_id)


def can_create_case(user: User) -> bool:
    return user.has_permission("cases:create")


def intake_agencies(user: User) -> list[Agency]:
    """Agencies the user may register complaints for."""
    roles = (Role.PETUGAS_PENGADUAN, Role.MANAJER_KASUS, Role.SUPERVISOR)
    seen: dict[int, Agency] = {}
    for grant in user.grants:
        if grant.role in roles and grant.agency is not None and grant.agency.active:
            seen.setdefault(grant.agency.id, grant.agency)
    return list(seen.values())


def can_edit_case(user: User, case: Case) -> bool:
    """The intake record may be edited by whoever may work on the case."""
    roles = roles_at(user, case.agency_id)
    if Role.SUPERVISOR in roles:
        return True
    if Role.MANAJER_KASUS in roles and case.case_manager_id == user.id:
        return True
    if case.state is CaseState.DRAFT or case.case_manager_id is None:
        return case.registered_by_id == user.id and bool(
            roles & {Role.PETUGAS_PENGADUAN, Role.MANAJER_KASUS}
        )
    return False


def can_add_note(user: User, case: Case) -> bool:
    return case.state is not CaseState.DRAFT and can_edit_case(user, case)


def can_reveal_identity(user: User, case: Case) -> bool:
    """People who work on the case see a child's identity on request (each reveal recorded)."""
    return can_edit_case(user, case)


def can_see_shelter(
    user: User, case: Case, shelter_agency_ids: Iterable[int] = (), *, took_over: bool = False
) -> bool:
    """Where a victim of the case is sheltered (domain.md §3.3): only the people who work on the
    case (its case manager, the agency's supervisors, the registering officer until a case
    manager is assigned), those who work on the case it was transferred into (``took_over``:
    the victim's case manager now) and the shelter's own staff. Not someone who opened the case
    with break-the-glass, nor the receiving agency of another referral."""
    if can_edit_case(user, case) or took_over:
        return True
    shelters = set(shelter_agency_ids)
    return any(g.agency_id in shelters for g in user.grants)
