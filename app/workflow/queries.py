"""The read side of the workflow: transfers and who may manage a case.

A transfer is reached through the case it belongs to (``transfer_of``, the case already loaded
in the user's scope) or, by the receiving agency, through ``incoming_transfer_for`` (only the
transfers to an agency the user supervises); another id is not found.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.agencies.models import Agency
from app.agencies.queries import Nearby
from app.auth.grants import agencies_where, role_holders
from app.auth.models import User
from app.cases.models import Case
from app.cases.queries import TimelineItem, actor_name
from app.core.enums import Role, ServiceType, TransferState
from app.core.memo import read_once
from app.extensions import db
from app.services.queries import service_tracks_of
from app.workflow.models import CaseTransfer, CaseTransition
from app.workflow.permissions import SUPERVISE, may_supervise_agency

INBOX_LIMIT = 200


def transfer_of(case: Case, transfer_id: int) -> CaseTransfer | None:
    """The transfer when it is one of ``case``'s; another case's id is not found."""
    return db.session.scalar(
        select(CaseTransfer).where(CaseTransfer.id == transfer_id, CaseTransfer.case_id == case.id)
    )


def incoming_transfers(user: User) -> list[CaseTransfer]:
    """The transfers to the agencies ``user`` supervises, those waiting for an answer first,
    then the newest (at most ``INBOX_LIMIT``)."""
    agencies = agencies_where(user, SUPERVISE)
    if not agencies:
        return []
    return list(
        db.session.scalars(
            select(CaseTransfer)
            .where(CaseTransfer.to_agency_id.in_(agencies))
            .order_by(
                (CaseTransfer.state == TransferState.MENUNGGU).desc(),
                CaseTransfer.requested_at.desc(),
            )
            .limit(INBOX_LIMIT)
        )
    )


def incoming_transfer_for(user: User, transfer_id: int) -> CaseTransfer | None:
    """The transfer when it is to an agency ``user`` supervises; any other is not found."""
    transfer = db.session.get(CaseTransfer, transfer_id)
    if transfer is None or not may_supervise_agency(user, transfer.to_agency_id):
        return None
    return transfer


def transfer_targets(nearby: Nearby, case: Case) -> list[Agency]:
    """The agencies near the case (``app.agencies.queries.nearby_agencies``) that handle
    complaints, other than the case's own: the transfer form lists them; the search finds any
    other, and ``request_transfer`` accepts any active agency that handles complaints."""
    return [a for a in nearby.providing(ServiceType.PENGADUAN) if a.id != case.agency_id]


def transitions_of(case: Case) -> list[CaseTransition]:
    """The case's transitions (of the case and of its tracks) with their actors, in order (read
    once per page while one is rendered: the panel's track histories and the timeline)."""
    return read_once(
        ("case_transitions", case.id),
        lambda: list(
            db.session.scalars(
                select(CaseTransition)
                .where(CaseTransition.case_id == case.id)
                .options(joinedload(CaseTransition.actor))
                .order_by(CaseTransition.at, CaseTransition.id)
            )
        ),
    )


def transfers_of(case: Case) -> list[CaseTransfer]:
    """The case's transfer requests, newest first, with the agencies and new cases they name."""
    return list(
        db.session.scalars(
            select(CaseTransfer)
            .where(CaseTransfer.case_id == case.id)
            .options(joinedload(CaseTransfer.to_agency), joinedload(CaseTransfer.new_case))
            .order_by(CaseTransfer.requested_at.desc())
        )
    )


def case_manager_candidates(case: Case) -> list[User]:
    """Active case managers and supervisors of the case's agency."""
    return role_holders(case.agency_id, (Role.MANAJER_KASUS, Role.SUPERVISOR), by_name=True)


def transitions_timeline(case: Case) -> list[TimelineItem]:
    """The case's registration and later transitions, of the case and of its service tracks
    (imported history included), for the case page's timeline
    (``app.cases.page.register_timeline_source``)."""
    tracks = {t.id: t for t in service_tracks_of(case)}
    return [
        TimelineItem(
            t.at, "transition", actor_name(t.actor, t.actor_label), t, tracks.get(t.track_id or 0)
        )
        for t in transitions_of(case)
    ]
