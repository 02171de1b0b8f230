"""A referral's whole life, through the pages both agencies use."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.cases.intake import ConsentData
from app.cases.operations import add_consent
from app.core.db import utcnow
from app.core.enums import ReferralState, Role, ServiceType, TrackState
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.referrals.models import Referral
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as

NAME = "Sulastri Wulandari Pratiwi"


@pytest.fixture
def setting():
    uptd = AgencyFactory(services=[ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN])
    rsud = AgencyFactory(services=[ServiceType.REHABILITASI_KESEHATAN])
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, uptd)])
    nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)])
    case = create_case(uptd, actor=manager, case_manager=manager)
    victim = case.victims[0]
    victim.name = NAME
    track = create_track(
        case, victim, ServiceType.REHABILITASI_KESEHATAN, provider=rsud, actor=manager
    )
    db.session.flush()
    return {
        "uptd": uptd,
        "rsud": rsud,
        "manager": manager,
        "nurse": nurse,
        "case": case,
        "victim": victim,
        "track": track,
    }


def consent(victim, agency, actor):
    add_consent(
        victim,
        ConsentData(
            purpose=f"rujukan:{agency.code}", decision="setuju", given_by="korban", at=utcnow()
        ),
        actor=actor,
    )


def test_a_referral_travels_to_the_hospital_and_back(client, setting):
    s = setting
    case, track = s["case"], s["track"]
    login_as(client, s["manager"])
    page = client.get(f"/kasus/{case.id}").get_data(as_text=True)
    assert f'action="/kasus/{case.id}/layanan/{track.id}/rujukan"' in page

    # no consent yet: refused, nothing written
    response = client.post(
        f"/kasus/{case.id}/layanan/{track.id}/rujukan",
        data={
            "to_agency": s["rsud"].id,
            "action": "send",
            "share_incident": "y",
            "version": str(track.version),  # as the page renders it
        },
    )
    assert response.status_code == 422
    assert db.session.scalars(select(Referral)).all() == []

    consent(s["victim"], s["rsud"], s["manager"])
    response = client.post(
        f"/kasus/{case.id}/layanan/{track.id}/rujukan",
        data={
            "to_agency": s["rsud"].id,
            "action": "send",
            "share_incident": "y",
            "message": "Mohon visum",
            "version": str(track.version),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    referral = db.session.scalars(select(Referral)).one()
    assert referral.state is ReferralState.DIKIRIM
    assert db.session.get(type(track), track.id).state is TrackState.DIRUJUK
    due = db.session.scalars(
        select(Deadline).where(Deadline.code == DeadlineCode.REFERRAL_RESPONSE)
    ).one()
    assert due.responsible_agency_id == s["rsud"].id

    client.post("/keluar")
    login_as(client, s["nurse"])
    inbox = client.get("/rujukan").get_data(as_text=True)
    assert case.reference in inbox and NAME not in inbox
    detail = client.get(f"/rujukan/{referral.id}").get_data(as_text=True)
    assert "Mohon visum" in detail
    assert NAME not in detail  # identity not shared
    assert client.get(f"/kasus/{case.id}").status_code in (403, 404)  # nothing of the case
    assert db.session.get(Referral, referral.id).first_opened_at is not None

    version = lambda: str(db.session.get(Referral, referral.id).version)  # noqa: E731
    assert (
        client.post(f"/rujukan/{referral.id}/terima", data={"version": version()}).status_code
        == 302
    )
    assert (
        client.post(f"/rujukan/{referral.id}/mulai", data={"version": version()}).status_code == 302
    )
    refused = client.post(f"/rujukan/{referral.id}/selesai", data={"version": version()})
    assert refused.status_code == 422
    done = client.post(
        f"/rujukan/{referral.id}/selesai",
        data={"version": version(), "outcome": "Visum selesai, dirawat 2 hari"},
    )
    assert done.status_code == 302
    referral = db.session.get(Referral, referral.id)
    assert referral.state is ReferralState.SELESAI
    assert db.session.get(type(track), track.id).state is TrackState.SELESAI
    assert due.met_at is not None or db.session.get(Deadline, due.id).met_at is not None

    client.post("/keluar")
    login_as(client, s["manager"])
    page = client.get(f"/kasus/{case.id}").get_data(as_text=True)
    assert "Visum selesai" in page
    assert re.search(r"opened|dibuka", page)
