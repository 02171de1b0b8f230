"""The read side of service tracks, always through a case already loaded in the user's scope."""

from __future__ import annotations

from sqlalchemy import select

from app.cases.models import Case
from app.extensions import db
from app.services.models import ServiceTrack


def track_of(case: Case, track_id: int) -> ServiceTrack | None:
    """The service track when it belongs to ``case``; another case's id is not found."""
    return db.session.scalar(
        select(ServiceTrack).where(ServiceTrack.id == track_id, ServiceTrack.case_id == case.id)
    )
