"""Who holds which role where: the one place that reads role grants to answer "what may this
person do at this agency", "where may this person do X" and "who supervises this agency".

Every domain's ``permissions.py`` and scoped ``queries`` build on these three functions instead
of walking ``user.grants`` themselves. An inactive account holds nothing."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from app.agencies.models import TaskForce
from app.auth.models import RoleGrant, User
from app.core.enums import Role
from app.core.permissions import ROLE_PERMISSIONS
from app.extensions import db


def roles_at(user: User, agency_id: int | None) -> frozenset[Role]:
    """The roles ``user`` holds at the agency (none when inactive or without an agency)."""
    if not user.active or agency_id is None:
        return frozenset()
    return frozenset(g.role for g in user.grants if g.agency_id == agency_id)


def agencies_where(user: User, permission: str) -> set[int]:
    """The ids of the agencies where ``user`` holds a role granting ``permission``."""
    if not user.active:
        return set()
    return {
        g.agency_id
        for g in user.grants
        if g.agency_id is not None and permission in ROLE_PERMISSIONS[g.role]
    }


def role_holders(agency_id: int, roles: Iterable[Role], *, by_name: bool = False) -> list[User]:
    """The active users holding one of ``roles`` at the agency, each once, by account (or by
    name, then account)."""
    order = (User.name, User.id) if by_name else (User.id,)
    return list(
        db.session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.agency_id == agency_id,
                RoleGrant.role.in_(list(roles)),
                User.active.is_(True),
            )
            .distinct()
            .order_by(*order)
        )
    )


def supervisors_of(agency_id: int) -> list[User]:
    """The active supervisors of an agency, in a stable order (by account)."""
    return role_holders(agency_id, (Role.SUPERVISOR,))


def holders_of(agency_id: int, permission: str) -> list[User]:
    """The active users holding a role at the agency that grants ``permission`` (by account)."""
    return role_holders(
        agency_id, (role for role, granted in ROLE_PERMISSIONS.items() if permission in granted)
    )


def coordinators_of(task_force: TaskForce) -> dict[int, list[User]]:
    """``{sub_task_force_id: [users]}``: who holds the Sub GT coordinator role on each Sub GT."""
    ids = [s.id for s in task_force.sub_task_forces]
    result: dict[int, list[User]] = {i: [] for i in ids}
    if not ids:
        return result
    rows = db.session.execute(
        select(RoleGrant.sub_task_force_id, User)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.role == Role.KOORDINATOR_SUBGT,
            RoleGrant.sub_task_force_id.in_(ids),
        )
        .order_by(User.name)
    )
    for sub_task_force_id, user in rows:
        result[sub_task_force_id].append(user)
    return result
