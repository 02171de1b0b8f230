"""The read side of service tracks, always through a case already loaded in the user's scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from app.cases.models import Case, Victim
from app.core.i18n import lazy_gettext as _l
from app.core.memo import read_once
from app.extensions import db
from app.services.models import ServiceTrack


def track_of(case: Case, track_id: int) -> ServiceTrack | None:
    """The service track when it belongs to ``case``; another case's id is not found."""
    return db.session.scalar(
        select(ServiceTrack).where(ServiceTrack.id == track_id, ServiceTrack.case_id == case.id)
    )


def service_tracks_of(case: Case) -> list[ServiceTrack]:
    """The case's service tracks, by victim (in the case's order), then as they were planned
    (read once per page while one is rendered: ``app.core.memo``)."""
    return read_once(
        ("service_tracks", case.id),
        lambda: list(
            db.session.scalars(
                select(ServiceTrack)
                .join(Victim, Victim.id == ServiceTrack.victim_id)
                .where(ServiceTrack.case_id == case.id)
                .options(joinedload(ServiceTrack.provider), contains_eager(ServiceTrack.victim))
                .order_by(Victim.position, ServiceTrack.created_at, ServiceTrack.id)
            )
        ),
    )


def tracks_keep(victim: Victim, label: str) -> Any:
    """A victim with a service track may not be removed from the intake: the refusal (a lazy
    message), or None (``app.cases.operations.register_victim_removal_guard``)."""
    if db.session.scalar(
        select(ServiceTrack.id).where(ServiceTrack.victim_id == victim.id).limit(1)
    ):
        return _l(
            "Victim %(label)s has recorded consent decisions or services and cannot be removed.",
            label=label,
        )
    return None
