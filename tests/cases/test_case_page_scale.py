"""The case page at national scale: its SQL statements stay under the ceiling and do not grow
with the agencies of the country nor with the case's tracks and notes; its HTML stays under
200 KB; its forms list the agencies near the case, and an agency of another province chosen
through the search is accepted by the plan; a case with many services draws the forms of some of
them, and links to the others'."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from flask import request_started
from sqlalchemy import func, insert, select

from app.agencies.models import Agency, AgencyService
from app.agencies.queries import NEARBY_NATIONAL_TYPES
from app.cases.intake import ConsentData, PerpetratorData, VictimData
from app.cases.operations import add_note
from app.casework.panel import TRACK_FORMS
from app.core.enums import AgencyType, RegionLevel, Role, ServiceType
from app.extensions import db
from app.regions.models import Region
from app.services.models import ServiceTrack
from app.workflow.operations import apply_case_event, plan_service
from tests.factories import AgencyFactory, KabkotaFactory, KecamatanFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case
from tests.fixtures import login_as
from tests.sql_count import count_statements

CEILING = 40
MAX_HTML = 200 * 1024
SERVICES = list(ServiceType)


@pytest.fixture
def world() -> SimpleNamespace:
    kabkota = KabkotaFactory()
    province = kabkota.parent
    uptd = AgencyFactory(region=kabkota, services=SERVICES)
    near = AgencyFactory(
        region=KecamatanFactory(parent=kabkota),
        name="Puskesmas Dekat Kasus",
        services=[ServiceType.REHABILITASI_KESEHATAN],
    )
    provincial = AgencyFactory(
        region=province,
        name="UPTD PPA Provinsi Kasus",
        services=[ServiceType.PENGADUAN, ServiceType.REHABILITASI_SOSIAL],
    )
    neighbour = AgencyFactory(
        region=KabkotaFactory(parent=province),
        name="RSUD Kabupaten Tetangga",
        services=[ServiceType.REHABILITASI_KESEHATAN, ServiceType.PENGADUAN],
    )
    far = AgencyFactory(
        code="RSJAUH-01",
        name="Rumah Sakit Jauhari Seberang",
        services=[
            ServiceType.REHABILITASI_KESEHATAN,
            ServiceType.PENGADUAN,
            ServiceType.BANTUAN_HUKUM,
        ],
    )
    assert far.region.parent.code != province.code
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, uptd)])
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, uptd)])
    case = create_case(
        uptd,
        actor=manager,
        case_manager=manager,
        victims=[
            VictimData(
                sex="P",
                name=name,
                birth_date=dt.date(1990 + n, 5, 1),
                violence_types=["fisik"],
                consents=[
                    ConsentData(
                        purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED
                    )
                ],
            )
            for n, name in enumerate(["Siti Aminah", "Dewi Lestari", "Rina Marlina"])
        ],
        perpetrators=[PerpetratorData(name="Joko", sex="L", age=35, relationships={1: "lainnya"})],
    )
    db.session.flush()
    for event in ("start_identification", "start_assessment"):
        apply_case_event(case.id, event, actor=manager, expected_version=case.version)
    case.assessment_completed_at = RECEIVED + dt.timedelta(days=2)
    db.session.flush()
    apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)
    w = SimpleNamespace(
        kabkota=kabkota,
        province=province,
        uptd=uptd,
        near=near,
        provincial=provincial,
        neighbour=neighbour,
        far=far,
        manager=manager,
        supervisor=supervisor,
        case=case,
    )
    # one of each thing the page shows: planned tracks (one with a provider, a shelter), a note
    plan(w, ServiceType.PENDAMPINGAN)
    plan(w, ServiceType.REHABILITASI_KESEHATAN, provider=near)
    plan(w, ServiceType.PENAMPUNGAN_SEMENTARA)
    add_note(case, "Catatan pertama.", actor=manager)
    db.session.flush()
    return w


def plan(
    w: SimpleNamespace, service: ServiceType, provider: Any = None, victim: int = 0
) -> ServiceTrack:
    return plan_service(
        w.case.id,
        w.case.victims[victim].id,
        service,
        provider=provider,
        target_date=None,
        actor=w.manager,
        expected_version=w.case.version,
    )


def add_agencies_elsewhere(count: int) -> None:
    """``count`` active agencies with three services each, in 20 provinces of their own (codes
    80-99) with 5 kab/kota each: far from the case."""
    kabkota_ids = []
    for p in range(80, 100):
        province = Region(code=str(p), name=f"Provinsi Jauh {p}", level=RegionLevel.PROVINSI)
        db.session.add(province)
        db.session.flush()
        for k in range(1, 6):
            region = Region(
                code=f"{p}.{k:02d}",
                name=f"Kabupaten Jauh {p}.{k}",
                level=RegionLevel.KABKOTA,
                parent_id=province.id,
            )
            db.session.add(region)
            db.session.flush()
            kabkota_ids.append(region.id)
    types = [t for t in AgencyType if t not in NEARBY_NATIONAL_TYPES]
    ids = db.session.scalars(
        insert(Agency).returning(Agency.id),
        [
            {
                "code": f"JAUH-{n:05d}",
                "name": f"Lembaga Jauh {n}",
                "type": types[n % len(types)],
                "region_id": kabkota_ids[n % len(kabkota_ids)],
                "active": True,
            }
            for n in range(count)
        ],
    ).all()
    db.session.execute(
        insert(AgencyService),
        [
            {"agency_id": agency_id, "service_type": SERVICES[(n + k * 5) % len(SERVICES)]}
            for n, agency_id in enumerate(ids)
            for k in range(3)
        ],
    )
    db.session.flush()


def select_of(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</select>", start)]


def page(client: Any, case: Any) -> tuple[int, str]:
    """The case page's HTML and the statements its request sent (from the request's start: the
    test client's own commit of what the test wrote before is not the page's)."""
    started: list[int] = []

    def mark(sender: Any, **extra: Any) -> None:
        started.append(counted.n)

    with count_statements() as counted, request_started.connected_to(mark):
        response = client.get(f"/kasus/{case.id}")
    assert response.status_code == 200
    del counted.statements[: started[0]]
    assert counted.n <= CEILING, counted.report(40)
    return counted.n, response.get_data(as_text=True)


def test_the_statements_do_not_grow_with_the_country_nor_with_the_case(client, world):
    w = world
    login_as(client, w.supervisor)
    page(client, w.case)  # the first view of the day is audited (a few statements more)
    before, html = page(client, w.case)
    assert before <= CEILING
    assert "Rumah Sakit Jauhari" not in html  # another province: found by the search only

    add_agencies_elsewhere(2000)
    assert db.session.scalar(select(func.count(Agency.id))) > 2000
    for n in range(50):
        add_note(w.case, f"Catatan perkembangan {n}.", actor=w.manager)
    db.session.flush()
    after, html = page(client, w.case)
    assert after <= before, f"{before} statements before, {after} after"
    assert len(html.encode()) <= MAX_HTML, f"{len(html.encode()) / 1024:.0f} KB"
    assert "Lembaga Jauh" not in html

    more = [s for s in SERVICES if s not in (ServiceType.PENGADUAN, ServiceType.MEDIASI)]
    for n in range(25):
        plan(w, more[n % len(more)], victim=1 + n // len(more))
    plan(w, ServiceType.BANTUAN_HUKUM, provider=w.far)  # chosen through the search
    db.session.flush()
    after, html = page(client, w.case)
    assert after <= before, f"{before} statements before, {after} after"
    assert html.count('id="track-') == 29


def test_the_forms_list_the_agencies_near_the_case(client, world):
    w = world
    login_as(client, w.manager)
    _, html = page(client, w.case)
    plan_form = html[
        html.index('id="plan-provider"') : html.index("</select>", html.index('id="plan-provider"'))
    ]
    assert w.near.name in plan_form  # the case's kab/kota (a kecamatan of it)
    assert w.provincial.name in plan_form  # the province's own
    assert w.neighbour.name not in plan_form  # another kab/kota of the province: by search
    assert w.far.name not in plan_form
    assert "data-agency-search" in html
    assert "There are more than it can show" not in html and "lebih banyak" not in html
    transfer = html[
        html.index('id="to_agency"') : html.index("</select>", html.index('id="to_agency"'))
    ]
    assert w.provincial.name in transfer
    assert w.uptd.name not in transfer  # never the case's own agency


def test_the_plan_takes_an_agency_of_another_province_found_by_the_search(client, world):
    w = world
    login_as(client, w.manager)
    found = client.get(
        "/lembaga/cari", query_string={"q": "Jauhari", "layanan": "bantuan_hukum"}
    ).get_json()
    assert [a["id"] for a in found["agencies"]] == [w.far.id]
    response = client.post(
        f"/kasus/{w.case.id}/rencana",
        data={
            "version": str(w.case.version),
            "victim": str(w.case.victims[0].id),
            "service_type": "bantuan_hukum",
            "provider": str(found["agencies"][0]["id"]),
            "target_date": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    track = db.session.scalars(
        select(ServiceTrack).where(ServiceTrack.case_id == w.case.id).order_by(ServiceTrack.id)
    ).all()[-1]
    assert track.provider_id == w.far.id
    # the case page now offers the far provider on the track's referral form
    _, html = page(client, w.case)
    referral = html[html.index(f'id="rto-{track.id}"') :]
    assert f'value="{w.far.id}" selected' in referral[: referral.index("</select>")]


@pytest.mark.parametrize(
    ("provider", "service"),
    [("999999999", "bantuan_hukum"), ("far", "mediasi"), ("abc", "bantuan_hukum")],
)
def test_the_plan_refuses_a_provider_that_is_not_one(client, world, provider, service):
    w = world
    login_as(client, w.manager)
    tracks = db.session.scalar(select(func.count(ServiceTrack.id)))
    response = client.post(
        f"/kasus/{w.case.id}/rencana",
        data={
            "version": str(w.case.version),
            "victim": str(w.case.victims[0].id),
            "service_type": service,
            "provider": str(w.far.id) if provider == "far" else provider,
            "target_date": "",
        },
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(ServiceTrack.id))) == tracks


def plan_many(w: SimpleNamespace, count: int) -> list[ServiceTrack]:
    """``count`` more planned services (at most 26) for the case's second and third victims."""
    more = [s for s in SERVICES if s not in (ServiceType.PENGADUAN, ServiceType.MEDIASI)]
    tracks = [plan(w, more[n % len(more)], victim=1 + n // len(more)) for n in range(count)]
    db.session.flush()
    return tracks


def test_a_case_with_many_services_draws_the_forms_of_some_and_links_to_the_others(client, world):
    w = world
    tracks = plan_many(w, 26)
    login_as(client, w.supervisor)
    page(client, w.case)  # the first view of the day is audited
    _, html = page(client, w.case)
    assert len(html.encode()) <= MAX_HTML, f"{len(html.encode()) / 1024:.0f} KB"
    assert html.count('id="track-') == 29
    # the referral forms of the first services only (every one is planned: each may be referred)
    assert html.count('name="to_agency" id="rto-') == TRACK_FORMS
    last = tracks[-1]
    assert f'id="rto-{last.id}"' not in html
    link = f"/kasus/{w.case.id}?layanan={last.id}#track-{last.id}"
    assert f'href="{link}"' in html

    with count_statements() as counted:
        response = client.get(link)
    assert response.status_code == 200
    assert counted.n <= CEILING, counted.report(40)
    shown = response.get_data(as_text=True)
    assert f'id="rto-{last.id}"' in shown  # the service asked for, with its referral form
    assert f'action="/kasus/{w.case.id}/layanan/{last.id}/cancel"' in shown
    assert shown.count('name="to_agency" id="rto-') == TRACK_FORMS + 1
    assert len(shown.encode()) <= MAX_HTML


def test_a_refused_referral_of_a_service_beyond_them_shows_its_form_again(client, world):
    w = world
    last = plan_many(w, 26)[-1]
    login_as(client, w.manager)
    response = client.post(
        f"/kasus/{w.case.id}/layanan/{last.id}/rujukan",
        data={"version": str(last.version), "to_agency": "", "action": "send"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    referral = html[html.index(f'id="rto-{last.id}"') - 2000 :]
    assert f'action="/kasus/{w.case.id}/layanan/{last.id}/rujukan"' in referral
    assert html.count('name="to_agency" id="rto-') == TRACK_FORMS + 1
