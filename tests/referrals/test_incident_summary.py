"""The incident summary of a referral is written by the sender for that referral (starting from a
suggestion of facts about that victim), stored encrypted, and is all the receiver reads of what
happened: never the case's chronology. A child referred without identity still shows sex and age
band, so the receiving staff recognise the patient."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.cases.intake import ConsentData, PerpetratorData, VictimData
from app.cases.operations import add_consent
from app.core.db import utcnow
from app.core.enums import Role, ServiceType
from app.extensions import db
from app.referrals import operations as ops
from app.referrals.models import Referral
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as

MOTHER = "Ratna Kusumawardani"
CHILD = "Putri Anjani Lestari"
# the chronology tells the child's story: it must never reach the mother's hospital
KRONOLOGI = (
    "Ibu korban dipukul suaminya. Anaknya yang berusia 14 tahun mengaku dicabuli oleh "
    "ayah tirinya sejak setahun terakhir di kamar belakang."
)
WRITTEN = "Ibu mengalami memar di wajah dan lengan; perlu visum dan perawatan luka."


@pytest.fixture
def s() -> dict[str, Any]:
    uptd = AgencyFactory(services=[ServiceType.PENGADUAN])
    rsud = AgencyFactory(services=[ServiceType.REHABILITASI_KESEHATAN])
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, uptd)])
    nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)])
    case = create_case(
        uptd,
        actor=manager,
        case_manager=manager,
        case_types=["ktp", "kta", "tpks"],
        incident_date=dt.date(2025, 3, 10),
        kronologi=KRONOLOGI,
        victims=[
            VictimData(
                sex="P",
                name=MOTHER,
                birth_date=dt.date(1988, 6, 1),
                violence_types=["fisik"],
            ),
            VictimData(
                sex="P",
                name=CHILD,
                birth_date=dt.date(2010, 9, 9),
                violence_types=["seksual"],
            ),
        ],
        perpetrators=[
            PerpetratorData(
                name="Hendra", sex="L", age=41, relationships={1: "suami_istri", 2: "lainnya"}
            )
        ],
    )
    mother, child = case.victims
    tracks = {}
    for v in (mother, child):
        tracks[v.id] = create_track(
            case, v, ServiceType.REHABILITASI_KESEHATAN, provider=rsud, actor=manager
        )
        add_consent(
            v,
            ConsentData(
                purpose=f"rujukan:{rsud.code}",
                decision="setuju",
                given_by="korban" if v is mother else "wali",
                given_by_name=None if v is mother else MOTHER,
                at=utcnow(),
            ),
            actor=manager,
        )
    db.session.flush()
    return locals()


def textarea(page: str, element_id: str) -> str:
    match = re.search(rf'<textarea[^>]*id="{element_id}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match is not None, element_id
    return unescape(match.group(1))


def test_the_mothers_health_referral_never_shows_her_childs_story(client, app, s):
    case, mother = s["case"], s["mother"]
    track = s["tracks"][mother.id]
    login_as(client, s["manager"])
    page = client.get(f"/kasus/{case.id}").get_data(as_text=True)
    suggestion = textarea(page, f"rsum-{track.id}")
    # the suggestion: facts about the mother and this service only
    assert "Rehabilitasi" in suggestion and "Fisik" in suggestion and "2025" in suggestion
    for secret in ("dicabuli", "Seksual", KRONOLOGI[:30], CHILD):
        assert secret not in suggestion, secret

    response = client.post(
        f"/kasus/{case.id}/layanan/{track.id}/rujukan",
        data={
            "to_agency": s["rsud"].id,
            "version": track.version,
            "action": "send",
            "share_incident": "y",
            "incident_summary": WRITTEN,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    referral = db.session.scalars(select(Referral)).one()
    assert referral.incident_summary == WRITTEN

    nurse = app.test_client()
    login_as(nurse, s["nurse"])
    detail = nurse.get(f"/rujukan/{referral.id}").get_data(as_text=True)
    assert WRITTEN in detail
    for secret in ("dicabuli", "ayah tirinya", CHILD, MOTHER, "TPKS", "Kekerasan Seksual"):
        assert secret not in detail, secret


def test_the_summary_is_stored_encrypted(s):
    mother = s["mother"]
    referral = ops.save_referral(
        s["tracks"][mother.id].id,
        expected_version=s["tracks"][mother.id].version,
        to_agency=s["rsud"],
        sharing=ops.Sharing(incident=True, incident_summary=WRITTEN),
        message=None,
        actor=s["manager"],
        send=True,
    )
    raw = db.session.scalar(
        sa.select(sa.type_coerce(Referral.__table__.c.incident_summary, sa.Text)).where(
            Referral.id == referral.id
        )
    )
    assert raw.startswith("enc1:") and "memar" not in raw


def test_without_the_incident_section_no_summary_is_kept(s):
    referral = ops.save_referral(
        s["tracks"][s["mother"].id].id,
        expected_version=s["tracks"][s["mother"].id].version,
        to_agency=s["rsud"],
        sharing=ops.Sharing(incident=False, incident_summary=WRITTEN),
        message=None,
        actor=s["manager"],
        send=True,
    )
    assert referral.incident_summary is None


def test_a_referral_without_a_written_summary_says_so(client, s):
    """Referrals sent before the summary existed have none (the migration copies nothing from
    the chronology): the receiver reads that no summary was written."""
    referral = ops.save_referral(
        s["tracks"][s["mother"].id].id,
        expected_version=s["tracks"][s["mother"].id].version,
        to_agency=s["rsud"],
        sharing=ops.Sharing(incident=True),
        message=None,
        actor=s["manager"],
        send=True,
    )
    login_as(client, s["nurse"])
    page = client.get(f"/rujukan/{referral.id}").get_data(as_text=True)
    assert "Tidak ada ringkasan" in page
    assert "dicabuli" not in page


def test_a_child_referred_without_identity_shows_sex_and_age_band(client, s):
    child = s["child"]
    referral = ops.save_referral(
        s["tracks"][child.id].id,
        expected_version=s["tracks"][child.id].version,
        to_agency=s["rsud"],
        sharing=ops.Sharing(),
        message="Mohon pemeriksaan",
        actor=s["manager"],
        send=True,
    )
    login_as(client, s["nurse"])
    page = client.get(f"/rujukan/{referral.id}").get_data(as_text=True)
    section = re.search(r'id="penerima-layanan".*?</section>', page, re.S)
    assert section is not None
    text = " ".join(re.sub(r"<[^>]+>", " ", section.group(0)).split())
    assert "Perempuan" in text and "13-17 tahun" in text
    assert CHILD not in page and "dicabuli" not in page
