"""A small case history written through the operations: a registered case with a consent ledger,
a service track and a referral sent and accepted — rows in consent_entries, case_transitions and
referral_events — and a draft whose victims both have consent decisions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.cases.intake import ConsentData, VictimData
from app.cases.operations import add_consent, save_draft
from app.core.db import utcnow
from app.core.enums import Role, ServiceType
from app.referrals import operations as referrals
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case, make_intake


@dataclass
class History:
    case: Any
    victim: Any
    manager: Any
    nurse: Any
    referral: Any
    consent_id: int
    transition_id: int
    event_id: int


def write_history() -> History:
    from sqlalchemy import select

    from app.cases.models import ConsentEntry
    from app.extensions import db
    from app.referrals.models import ReferralEvent
    from app.workflow.models import CaseTransition

    uptd = AgencyFactory(services=[ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN])
    rsud = AgencyFactory(services=[ServiceType.REHABILITASI_KESEHATAN])
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, uptd)])
    nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)])
    case = create_case(uptd, actor=manager, case_manager=manager)
    victim = case.victims[0]
    track = create_track(
        case, victim, ServiceType.REHABILITASI_KESEHATAN, provider=rsud, actor=manager
    )
    add_consent(
        victim,
        ConsentData(
            purpose=f"rujukan:{rsud.code}", decision="setuju", given_by="korban", at=utcnow()
        ),
        actor=manager,
    )
    referral = referrals.save_referral(
        track.id,
        expected_version=track.version,
        to_agency=rsud,
        sharing=referrals.Sharing(incident=True),
        message="Mohon visum et repertum",
        actor=manager,
        send=True,
    )
    referrals.accept_referral(referral.id, actor=nurse, expected_version=referral.version)
    db.session.flush()

    def first(column: Any, where: Any) -> int:
        return db.session.scalar(select(column).where(where).order_by(column).limit(1))

    return History(
        case=case,
        victim=victim,
        manager=manager,
        nurse=nurse,
        referral=referral,
        consent_id=first(ConsentEntry.id, ConsentEntry.victim_id == victim.id),
        transition_id=first(CaseTransition.id, CaseTransition.case_id == case.id),
        event_id=first(ReferralEvent.id, ReferralEvent.referral_id == referral.id),
    )


def _victim(name: str, purpose: str = "layanan") -> VictimData:
    return VictimData(
        sex="P",
        name=name,
        birth_date=dt.date(1994, 5, 1),
        violence_types=["fisik"],
        consents=[ConsentData(purpose=purpose, decision="setuju", given_by="korban", at=RECEIVED)],
    )


def draft_dropping_a_victim(agency: Any, actor: Any) -> tuple[Any, int]:
    """A draft with two victims, each with a consent decision, saved again without the first:
    the first victim's ledger goes with it (nothing of a draft is history yet). Returns the
    draft and the id of the removed victim."""
    draft = create_case(agency, actor=actor, draft=True, victims=[_victim("Siti"), _victim("Ani")])
    removed, kept = draft.victims
    kept_data = _victim("Ani")
    kept_data.id = kept.id
    save_draft(
        draft,
        make_intake(victims=[kept_data]),
        expected_version=draft.version,
        actor=actor,
    )
    return draft, removed.id
