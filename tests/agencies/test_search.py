"""GET /lembaga/cari: the agency search of the case page's forms (providers, referral receivers,
transfer targets) — for staff who plan services, the agency directory only."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.enums import Role, ServiceType
from app.extensions import db
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as

VICTIM_NAME = "Kartika Sulistyowati Rahayu"


@pytest.fixture
def agencies() -> dict[str, Any]:
    uptd = AgencyFactory(code="UPTDPPA-CARI", services=[ServiceType.PENGADUAN])
    far = AgencyFactory(
        code="RSJAUH-01",
        name="Rumah Sakit Jauhari Seberang",
        services=[ServiceType.REHABILITASI_KESEHATAN, ServiceType.PENGADUAN],
    )
    closed = AgencyFactory(
        code="RSJAUH-02", name="Rumah Sakit Jauhari Lama", services=[ServiceType.PENGADUAN]
    )
    closed.active = False
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, uptd)])
    case = create_case(uptd, actor=manager, case_manager=manager)
    case.victims[0].name = VICTIM_NAME
    db.session.flush()
    return {"uptd": uptd, "far": far, "closed": closed, "manager": manager}


def search(client: Any, **params: str) -> Any:
    return client.get("/lembaga/cari", query_string=params)


def test_signed_out_is_sent_to_sign_in(client, agencies):
    response = search(client, q="Rumah")
    assert response.status_code == 302
    assert "/masuk" in response.headers["Location"]


@pytest.mark.parametrize(
    "role", [Role.PETUGAS_LAYANAN, Role.ANALIS_DATA, Role.PIMPINAN, Role.ADMIN]
)
def test_a_role_that_cannot_plan_is_forbidden(client, agencies, role):
    login_as(client, UserFactory(roles=[(role, agencies["uptd"])]))
    assert search(client, q="Rumah").status_code == 403


@pytest.mark.parametrize(
    "text", ["Rumah Sakit Jau", "jauhari", "SEBERANG", "rsjauh-0", "RSJAUH-01"]
)
def test_finds_an_agency_of_another_province_by_a_prefix(client, agencies, text):
    login_as(client, agencies["manager"])
    response = search(client, q=text)
    assert response.status_code == 200
    found = response.get_json()
    assert [a["code"] for a in found["agencies"]] == ["RSJAUH-01"]  # never the inactive one
    assert found["more"] is False
    far = agencies["far"]
    assert found["agencies"][0] == {
        "id": far.id,
        "code": "RSJAUH-01",
        "name": "Rumah Sakit Jauhari Seberang",
        "type": far.type.value,
        "type_label": found["agencies"][0]["type_label"],
        "region": {"code": far.region.code, "name": far.region.name},
        "services": ["pengaduan", "rehabilitasi_kesehatan"],
    }


def test_only_the_providers_of_the_service_asked_for(client, agencies):
    login_as(client, agencies["manager"])
    found = search(client, q="Rumah", layanan="rehabilitasi_kesehatan").get_json()
    assert [a["code"] for a in found["agencies"]] == ["RSJAUH-01"]
    assert search(client, q="Rumah", layanan="mediasi").get_json()["agencies"] == []


def test_the_answer_holds_no_personal_data(client, agencies):
    login_as(client, agencies["manager"])
    for text in ("Kartika", "UPTDPPA", "Rumah"):
        body = search(client, q=text).get_data(as_text=True)
        assert VICTIM_NAME.split()[0] not in body
        assert "@" not in body  # no user's e-mail either


def test_more_than_a_page_says_so(client, agencies):
    for n in range(25):
        AgencyFactory(code=f"BANYAK-{n:02d}", name=f"Lembaga Banyak {n}")
    login_as(client, agencies["manager"])
    found = search(client, q="banyak").get_json()
    assert len(found["agencies"]) == 20
    assert found["more"] is True


@pytest.mark.parametrize(
    "params",
    [{}, {"q": ""}, {"q": " a "}, {"q": "x" * 81}, {"q": "Rumah", "layanan": "bukan_layanan"}],
)
def test_bad_input_is_refused_clearly(client, agencies, params):
    login_as(client, agencies["manager"])
    response = search(client, **params)
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_wildcards_are_plain_characters(client, agencies):
    login_as(client, agencies["manager"])
    assert search(client, q="%%").get_json()["agencies"] == []
    assert search(client, q="__").get_json()["agencies"] == []
