"""The read side of break-the-glass: running grants, and the weekly access review."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.audit.models import AuditEntry
from app.auth.grants import agencies_where
from app.auth.models import RoleGrant, User
from app.breakglass.models import BreakGlassAttempt
from app.cases.models import BreakGlassGrant, Case
from app.cases.permissions import SUPERVISE
from app.cases.queries import scope_condition
from app.core.db import utcnow
from app.extensions import db

JAKARTA = ZoneInfo("Asia/Jakarta")
WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


def active_grant(
    user: User, case_id: int, *, now: dt.datetime | None = None
) -> BreakGlassGrant | None:
    """The user's grant on the case that is still running (the latest), or None."""
    return db.session.scalar(
        sa.select(BreakGlassGrant)
        .where(
            BreakGlassGrant.user_id == user.id,
            BreakGlassGrant.case_id == case_id,
            BreakGlassGrant.expires_at > (now or utcnow()),
        )
        .order_by(BreakGlassGrant.expires_at.desc())
        .limit(1)
    )


def in_own_scope(user: User, case_id: int) -> bool:
    """The case is the user's to see without any break-the-glass grant."""
    return (
        db.session.scalar(
            sa.select(Case.id).where(Case.id == case_id, scope_condition(user, break_glass=False))
        )
        is not None
    )


# --- the weekly access review ------------------------------------------------------------------


def parse_week(value: str | None) -> dt.date | None:
    """The Monday of an ISO week written ``YYYY-Www`` (what ``<input type=week>`` sends), or
    None when it is not one."""
    match = WEEK_PATTERN.match((value or "").strip())
    if not match:
        return None
    try:
        return dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        return None


def week_label(monday: dt.date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def current_week(now: dt.datetime | None = None) -> dt.date:
    today = (now or utcnow()).astimezone(JAKARTA).date()
    return today - dt.timedelta(days=today.weekday())


def week_bounds(monday: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Monday 00:00 to the next Monday 00:00, Asia/Jakarta, in UTC."""
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=JAKARTA)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=7)).astimezone(dt.UTC)


@dataclass
class ReviewedGrant:
    grant: BreakGlassGrant
    views: list[AuditEntry] = field(default_factory=list)


@dataclass
class Review:
    monday: dt.date
    to_our_cases: list[ReviewedGrant]
    by_our_staff: list[ReviewedGrant]
    unmatched: list[BreakGlassAttempt]  # attempts of our staff that named no case


def _views_under(grant: BreakGlassGrant) -> list[AuditEntry]:
    """What the grantee opened under the grant (``break_glass.view`` entries), oldest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(
                AuditEntry.actor_id == grant.user_id,
                AuditEntry.action == "break_glass.view",
                AuditEntry.object_type == "case",
                AuditEntry.object_id == str(grant.case_id),
                AuditEntry.at >= grant.granted_at,
                AuditEntry.at <= grant.expires_at,
            )
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )


def _grants(condition: Any, start: dt.datetime, end: dt.datetime) -> list[ReviewedGrant]:
    grants = db.session.scalars(
        sa.select(BreakGlassGrant)
        .join(Case, Case.id == BreakGlassGrant.case_id)
        .where(condition, BreakGlassGrant.granted_at >= start, BreakGlassGrant.granted_at < end)
        .options(selectinload(BreakGlassGrant.user).selectinload(User.grants))
        .order_by(BreakGlassGrant.granted_at, BreakGlassGrant.id)
    ).unique()
    return [ReviewedGrant(g, _views_under(g)) for g in grants]


def review_for(user: User, monday: dt.date) -> Review:
    """The week's access review of a supervisor: every grant to a case of their agencies, every
    grant their agencies' staff used on another agency's case, and their staff's attempts that
    named no case."""
    agencies = agencies_where(user, SUPERVISE)
    start, end = week_bounds(monday)
    if not agencies:
        return Review(monday, [], [], [])
    staff = sa.select(RoleGrant.user_id).where(RoleGrant.agency_id.in_(agencies))
    to_ours = _grants(Case.agency_id.in_(agencies), start, end)
    by_staff = _grants(
        sa.and_(BreakGlassGrant.user_id.in_(staff), Case.agency_id.not_in(agencies)), start, end
    )
    unmatched = list(
        db.session.scalars(
            sa.select(BreakGlassAttempt)
            .where(
                BreakGlassAttempt.user_id.in_(staff),
                BreakGlassAttempt.at >= start,
                BreakGlassAttempt.at < end,
            )
            .order_by(BreakGlassAttempt.at, BreakGlassAttempt.id)
        )
    )
    return Review(monday, to_ours, by_staff, unmatched)
