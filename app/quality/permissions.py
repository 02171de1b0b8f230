"""Who may work on data quality: the data officers (analis_data) and supervisors of an agency."""

from __future__ import annotations

from typing import Any

from app.core.enums import Role

QUALITY_ROLES: tuple[Role, ...] = (Role.ANALIS_DATA, Role.SUPERVISOR)
"""Roles whose holders check and verify the cases of their agency (domain.md §7)."""


def quality_agency_ids(user: Any) -> set[int]:
    """The agencies whose cases ``user`` checks: where they are analis_data or supervisor."""
    if not getattr(user, "active", False):
        return set()
    return {g.agency_id for g in user.grants if g.role in QUALITY_ROLES and g.agency_id is not None}


def can_verify_case(user: Any, case: Any) -> bool:
    return case.agency_id in quality_agency_ids(user)
