"""Who may do what with a case. Visibility itself is decided in ``queries.cases_visible_to``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from app.cases.models import Case
from app.core.enums import CaseState, Role

if TYPE_CHECKING:
    from app.agencies.models import Agency
    from app.auth.models import User


def _roles_at(user: User, agency_id: int) -> set[Role]:
    return {g.role for g in user.grants if g.agency_id == agency_id}


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
    roles = _roles_at(user, case.agency_id)
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
