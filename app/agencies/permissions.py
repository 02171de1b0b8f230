"""Who may act on agencies and task forces."""

from __future__ import annotations

from app.core.permissions import Visitor


def can_manage_agencies(user: Visitor | None) -> bool:
    """Create, edit, deactivate and import agencies (administrators)."""
    return bool(user and user.is_authenticated and user.has_permission("agencies:manage"))


def can_manage_task_forces(user: Visitor | None) -> bool:
    """Create task forces and manage the member agencies of their Sub GTs (administrators)."""
    return bool(user and user.is_authenticated and user.has_permission("taskforces:manage"))
