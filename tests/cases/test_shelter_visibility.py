"""Where a victim is sheltered (domain.md §3.3) is seen only by the people working on the case
and by the shelter's own staff: not by someone who opened the case with break-the-glass, not by
the receiving agency of another referral, and not in an access export handed to whoever asked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.cases.intake import ConsentData, VictimData
from app.cases.operations import add_consent
from app.core.db import utcnow
from app.core.enums import AgencyType, Role, ServiceType
from app.extensions import db
from app.referrals.operations import Sharing, save_referral
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as

SHELTER_NAME = "Rumah Aman Melati Tersembunyi"
SHELTER_CODE = "RA-MELATI"
REASON = "Korban datang malam hari ke UPTD kami dan butuh rujukan segera."


@pytest.fixture
def world() -> dict[str, Any]:
    owner = AgencyFactory(code="UPTD-B", services=[ServiceType.PENGADUAN])
    shelter = AgencyFactory(
        code=SHELTER_CODE,
        name=SHELTER_NAME,
        type=AgencyType.RUMAH_AMAN,
        services=[ServiceType.PENAMPUNGAN_SEMENTARA, ServiceType.REHABILITASI_SOSIAL],
    )
    hospital = AgencyFactory(
        code="RSUD-X", name="RSUD Kota Uji", services=[ServiceType.REHABILITASI_KESEHATAN]
    )
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, owner)])
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, owner)])
    case = create_case(
        owner,
        actor=manager,
        case_manager=manager,
        victims=[VictimData(sex="P", name="Laras", age=30, violence_types=["fisik"])],
    )
    victim = case.victims[0]
    for agency in (shelter, hospital):
        add_consent(
            victim,
            ConsentData(
                purpose=f"rujukan:{agency.code}",
                decision="setuju",
                given_by="korban",
                at=utcnow(),
            ),
            actor=manager,
        )
    referrals = {}
    for service, agency in (
        ("penampungan_sementara", shelter),
        ("rehabilitasi_kesehatan", hospital),
    ):
        track = create_track(case, victim, service, provider=agency, actor=manager)
        db.session.flush()
        referrals[agency.code] = save_referral(
            track.id,
            expected_version=track.version,
            to_agency=agency,
            sharing=Sharing(identity=True),
            message="Mohon layanan.",
            actor=manager,
            send=True,
        )
    db.session.commit()
    return {
        "owner": owner,
        "shelter": shelter,
        "hospital": hospital,
        "manager": manager,
        "supervisor": supervisor,
        "case": case,
        "victim": victim,
        "referrals": referrals,
    }


def _page(client: Any, user: Any, url: str) -> str:
    login_as(client, user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["manager", "supervisor"])
def test_the_people_working_on_the_case_see_the_shelter(client, world, who):
    html = _page(client, world[who], f"/kasus/{world['case'].id}")
    assert SHELTER_NAME in html
    assert "data-shelter-hidden" not in html


def test_a_break_the_glass_viewer_does_not_learn_the_shelter(client, world):
    outsider = UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory(code="UPTD-A"))])
    login_as(client, outsider)
    client.post("/akses-darurat", data={"reference": world["case"].reference, "reason": REASON})
    response = client.get(f"/kasus/{world['case'].id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert SHELTER_NAME not in html
    assert SHELTER_CODE not in html
    assert "data-shelter-hidden" in html
    # the rest of the case stays as the grant shows it
    assert "RSUD Kota Uji" in html


def test_the_receiving_agency_of_another_referral_does_not_learn_the_shelter(client, world):
    nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, world["hospital"])])
    referral = world["referrals"]["RSUD-X"]
    inbox = _page(client, nurse, "/rujukan")
    page = client.get(f"/rujukan/{referral.id}").get_data(as_text=True)
    for html in (inbox, page):
        assert world["case"].reference in html
        assert SHELTER_NAME not in html and SHELTER_CODE not in html
    assert client.get(f"/kasus/{world['case'].id}").status_code in (403, 404)


def test_the_shelter_staff_see_the_referral_to_them(client, world):
    staff = UserFactory(roles=[(Role.PETUGAS_LAYANAN, world["shelter"])])
    html = _page(client, staff, f"/rujukan/{world['referrals'][SHELTER_CODE].id}")
    assert world["case"].reference in html
    assert "Laras" in html  # the identity the referral shares


def test_an_access_export_does_not_say_where_the_person_is_sheltered(world):
    from app.privacy.operations import record_request
    from app.privacy.queries import export_data

    request = record_request(
        world["case"],
        world["victim"],
        kind="akses",
        requester="Korban sendiri, datang langsung",
        received_at=utcnow(),
        actor=world["supervisor"],
    )
    data = export_data(world["victim"], request, utcnow())
    text = json.dumps(data, ensure_ascii=False)
    assert SHELTER_NAME not in text and SHELTER_CODE not in text
    services = {s["service_type"]: s for s in data["records"][0]["services"]}
    shelter = services["penampungan_sementara"]
    assert shelter["provider"] is None and shelter["withheld"]
    assert [r["to_agency"] for r in shelter["referrals"]] == [None]
    assert services["rehabilitasi_kesehatan"]["provider"] == "RSUD Kota Uji"
    assert "rujukan:RSUD-X" in {c["purpose"] for c in data["records"][0]["consents"]}
