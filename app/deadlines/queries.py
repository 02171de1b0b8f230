"""Reading deadlines: "Tenggat saya" and who answers for an agency's missed deadlines."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.auth.grants import agencies_where
from app.auth.models import User
from app.deadlines.models import Deadline
from app.extensions import db

SUPERVISE = "cases:supervise"


def answered_by(user: User) -> sa.ColumnElement[bool]:
    """The deadlines ``user`` answers for: their own, and every deadline of an agency where
    they are supervisor ("Tenggat saya"; "Tugas saya" reads the same)."""
    supervised = sorted(agencies_where(user, SUPERVISE))
    whose: sa.ColumnElement[bool] = Deadline.responsible_user_id == user.id
    if supervised:
        whose = sa.or_(whose, Deadline.responsible_agency_id.in_(supervised))
    return sa.and_(Deadline.completed_at.is_(None), Deadline.cancelled_at.is_(None), whose)


def deadlines_for(user: User, *, limit: int | None = None) -> list[Deadline]:
    """ "Tenggat saya": the open deadlines ``user`` answers for — their own, and every deadline of
    an agency where they are supervisor — overdue first, then by due time (sorting by ``due_at``
    does both: an overdue deadline is due before any that is not); the first ``limit`` only, with
    their cases loaded in one more statement."""
    return list(
        db.session.scalars(
            sa.select(Deadline)
            .where(answered_by(user))
            .order_by(Deadline.due_at, Deadline.id)
            .limit(limit)
            .options(selectinload(Deadline.case))
        )
    )
