"""Who is told about what happens to a case (in-app, by reference only)."""

from __future__ import annotations

from app.auth.grants import supervisors_of
from app.cases.models import Case
from app.notifications.operations import notify


def notify_supervisors_high_risk(case: Case) -> None:
    for user in supervisors_of(case.agency_id):
        notify(user, "high_risk_case", case_id=case.id, reference=case.reference)
