"""Who may change regions and population figures (every signed-in user may read them)."""

from __future__ import annotations

from app.core.permissions import Visitor


def can_manage_regions(user: Visitor | None) -> bool:
    return bool(user and user.is_authenticated and user.has_permission("regions:manage"))


def can_manage_population(user: Visitor | None) -> bool:
    return bool(user and user.is_authenticated and user.has_permission("population:manage"))
