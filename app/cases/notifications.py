"""Who is told about what happens to a case (in-app, by reference only)."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import RoleGrant, User
from app.cases.models import Case
from app.core.enums import Role
from app.extensions import db
from app.notifications.operations import notify


def notify_supervisors_high_risk(case: Case) -> None:
    supervisors = db.session.scalars(
        select(User)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(
            RoleGrant.role == Role.SUPERVISOR,
            RoleGrant.agency_id == case.agency_id,
            User.active.is_(True),
        )
        .distinct()
    )
    for user in supervisors:
        notify(user, "high_risk_case", case_id=case.id, reference=case.reference)
