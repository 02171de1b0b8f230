"""The weekly access review reminder: every Monday morning the supervisors of each agency whose
cases were opened under break-the-glass last week (or whose staff opened another agency's case)
are told to review those grants. Idempotent: one message per supervisor and week (its key)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from app.auth.grants import supervisors_of
from app.auth.models import RoleGrant
from app.breakglass import queries
from app.cases.models import BreakGlassGrant, Case
from app.core.db import utcnow
from app.core.tasks import task
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.operations import notify

WEEK = dt.timedelta(days=7)


def agencies_to_review(monday: dt.date) -> set[int]:
    """Agencies with a grant to review in the week of ``monday``: the case's agency and the
    agencies of the person who used it."""
    start, end = queries.week_bounds(monday)
    in_week = sa.and_(BreakGlassGrant.granted_at >= start, BreakGlassGrant.granted_at < end)
    owners = db.session.scalars(
        sa.select(Case.agency_id)
        .join(BreakGlassGrant, BreakGlassGrant.case_id == Case.id)
        .where(in_week)
        .distinct()
    )
    users = db.session.scalars(
        sa.select(RoleGrant.agency_id)
        .join(BreakGlassGrant, BreakGlassGrant.user_id == RoleGrant.user_id)
        .where(in_week, RoleGrant.agency_id.is_not(None))
        .distinct()
    )
    return {a for a in [*owners, *users] if a is not None}


@task(name="breakglass.weekly_review")
def weekly_review(now: str | None = None) -> dict[str, int]:
    """Tell the supervisors of each agency with grants last week to review them."""
    moment = dt.datetime.fromisoformat(now) if now else utcnow()
    monday = queries.current_week(moment) - WEEK
    label = queries.week_label(monday)
    told = 0
    agencies = agencies_to_review(monday)
    for agency_id in sorted(agencies):
        for supervisor in supervisors_of(agency_id):
            key = f"breakglass:review:{label}"
            exists = db.session.scalar(
                sa.select(Notification.id).where(
                    Notification.user_id == supervisor.id, Notification.key == key
                )
            )
            if exists is None:
                notify(supervisor, "break_glass_review", key=key)
                told += 1
    return {"agencies": len(agencies), "notified": told}
