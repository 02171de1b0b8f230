"""Reading deadlines: "Tenggat saya" and who answers for an agency's missed deadlines."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import RoleGrant, User
from app.core.enums import Role
from app.deadlines.models import Deadline
from app.extensions import db


def agency_supervisors(agency_id: int) -> list[User]:
    """The active supervisors of an agency, in a stable order."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.role == Role.SUPERVISOR,
                RoleGrant.agency_id == agency_id,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


def deadlines_for(user: User) -> list[Deadline]:
    """ "Tenggat saya": the open deadlines ``user`` answers for — their own, and every deadline of
    an agency where they are supervisor — overdue first, then by due time. (Sorting by ``due_at``
    does both: an overdue deadline is due before any that is not.)"""
    supervised = [g.agency_id for g in user.grants if g.role is Role.SUPERVISOR and g.agency_id]
    whose = Deadline.responsible_user_id == user.id
    if supervised:
        whose = sa.or_(whose, Deadline.responsible_agency_id.in_(supervised))
    return list(
        db.session.scalars(
            sa.select(Deadline)
            .where(Deadline.completed_at.is_(None), Deadline.cancelled_at.is_(None), whose)
            .order_by(Deadline.due_at, Deadline.id)
        )
    )
