"""Permissions named ``resource:action``, the one place that maps roles to them, and the route
decorators every view must use (a test fails when a route declares none)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, Protocol, TypeVar, cast

from flask import abort
from flask_login import current_user

from app.core.enums import Role
from app.core.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
"""Marker for routes anyone may open (login page, language switch, health check)."""

AUTHENTICATED = "account:use"
"""Every signed-in, active user holds this: home page, own profile, logout."""

# Every permission the application knows, with what it allows.
PERMISSIONS: dict[str, str] = {
    AUTHENTICATED: "use one's own account: home page, profile, language, password",
    "regions:manage": "create and edit regions and import them",
    "agencies:manage": "create and edit agencies and import them",
    "taskforces:manage": "create task forces and manage Sub GT memberships",
    "population:manage": "create and edit population figures and import them",
    "users:manage": "create and edit users and their role grants",
    "cases:create": "register a complaint (pengaduan)",
    "cases:view_own": "see the cases one registered or manages",
    "cases:manage": "assess, plan and run the services of own or assigned cases",
    "cases:supervise": "see and supervise every case of one's agency; approve and reassign",
    "referrals:receive": "see and act on referrals addressed to one's agency",
    "subgt:review": "review pseudonymised service tracks and referrals of one's Sub GT",
    "indicators:view": "see indicator dashboards of one's region; request its monthly report",
    "indicators:manage": "run rollups and set targets",
    "periods:close": "close a reporting period",
    "quality:review": "see the data-quality queue and scores of one's agency; verify cases",
}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.PETUGAS_PENGADUAN: frozenset({"cases:create", "cases:view_own"}),
    Role.MANAJER_KASUS: frozenset({"cases:create", "cases:view_own", "cases:manage"}),
    Role.SUPERVISOR: frozenset(
        {"cases:create", "cases:view_own", "cases:manage", "cases:supervise", "quality:review"}
    ),
    Role.PETUGAS_LAYANAN: frozenset({"referrals:receive"}),
    Role.KOORDINATOR_SUBGT: frozenset({"subgt:review"}),
    Role.ANALIS_DATA: frozenset(
        {"indicators:view", "indicators:manage", "periods:close", "quality:review"}
    ),
    Role.PIMPINAN: frozenset({"indicators:view", "periods:close"}),
    Role.ADMIN: frozenset(
        {
            "regions:manage",
            "agencies:manage",
            "taskforces:manage",
            "population:manage",
            "users:manage",
        }
    ),
}

# Permissions that open case data (identities, narratives, services, referrals, case lists).
CASE_DATA_PERMISSIONS: frozenset[str] = frozenset(
    {
        "cases:create",
        "cases:view_own",
        "cases:manage",
        "cases:supervise",
        "referrals:receive",
        "subgt:review",
        "quality:review",
    }
)

CASE_DATA_ROLES: frozenset[Role] = frozenset(
    role for role, perms in ROLE_PERMISSIONS.items() if perms & CASE_DATA_PERMISSIONS
)
"""The roles whose permissions open case data ("case roles"). An administrator account never
holds one (``auth.operations.grant_role``): administration has no access to case content."""


class Visitor(Protocol):
    """Whoever opens a page, as the core sees them (the core imports no domain): the user's
    model, or Flask-Login's anonymous visitor, who is not authenticated."""

    @property
    def is_authenticated(self) -> bool: ...

    def has_permission(self, permission: str) -> bool: ...


class HasRoles(Protocol):
    @property
    def role_set(self) -> frozenset[Role]: ...


def permissions_for_roles(roles: Iterable[Role]) -> frozenset[str]:
    granted: set[str] = {AUTHENTICATED}
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def _mark(view: F, permission: str) -> F:
    view.required_permission = permission  # type: ignore[attr-defined]
    return view


def public(view: F) -> F:
    """The route needs no sign-in."""
    return _mark(view, PUBLIC)


def requires(permission: str) -> Callable[[F], F]:
    """The route needs a signed-in user holding ``permission`` (403 otherwise)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_permission(permission):
                abort(403)
            return view(*args, **kwargs)

        return _mark(cast(F, guarded), permission)

    return decorate


def route_permission(view: Callable[..., Any]) -> str | None:
    """The permission a view function declared, or None when it declared none."""
    return getattr(view, "required_permission", None)
