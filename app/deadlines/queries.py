"""Reading deadlines: "Tenggat saya" and who answers for an agency's missed deadlines."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.auth.grants import agencies_where
from app.auth.models import User
from app.deadlines.models import Deadline
from app.extensions import db

SUPERVISE = "cases:supervise"


def deadlines_for(user: User, *, limit: int | None = None) -> list[Deadline]:
    """ "Tenggat saya": the open deadlines ``user`` answers for — their own, and every deadline of
    an agency where they are supervisor — overdue first, then by due time (sorting by ``due_at``
    does both: an overdue deadline is due before any that is not); the first ``limit`` only, with
    their cases loaded in one more statement."""
    supervised = sorted(agencies_where(user, SUPERVISE))
    whose = Deadline.responsible_user_id == user.id
    if supervised:
        whose = sa.or_(whose, Deadline.responsible_agency_id.in_(supervised))
    return list(
        db.session.scalars(
            sa.select(Deadline)
            .where(Deadline.completed_at.is_(None), Deadline.cancelled_at.is_(None), whose)
            .order_by(Deadline.due_at, Deadline.id)
            .limit(limit)
            .options(selectinload(Deadline.case))
        )
    )
