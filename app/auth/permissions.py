"""Who may act on accounts."""

from __future__ import annotations

from app.auth.models import User


def can_manage_users(user: User) -> bool:
    return user.has_permission("users:manage")
