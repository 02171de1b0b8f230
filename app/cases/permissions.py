"""Who may do what with a case. Visibility itself is decided in ``queries.cases_visible_to``."""

from __future__ import annotations

from typing import Any

from app.cases.models import Case
from app.core.enums import CaseState, Role


def _roles_at(user: Any, agency_id: int) -> set[Role]:
    return {g.role for g in user.grants if g.agency_id == agency_id}


def can_create_case(user: Any) -> bool:
    return user.has_permission("cases:create")


def intake_agencies(user: Any) -> list[Any]:
    """Agencies the user may register complaints for."""
    roles = (Role.PETUGAS_PENGADUAN, Role.MANAJER_KASUS, Role.SUPERVISOR)
    seen: dict[int, Any] = {}
    for grant in user.grants:
        if grant.role in roles and grant.agency is not None and grant.agency.active:
            seen.setdefault(grant.agency.id, grant.agency)
    return list(seen.values())


def can_edit_case(user: Any, case: Case) -> bool:
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


def can_add_note(user: Any, case: Case) -> bool:
    return case.state is not CaseState.DRAFT and can_edit_case(user, case)


def can_reveal_identity(user: Any, case: Case) -> bool:
    """People who work on the case see a child's identity on request (each reveal recorded)."""
    return can_edit_case(user, case)
