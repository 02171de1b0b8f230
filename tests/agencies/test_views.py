from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.agencies.models import Agency, SubTaskForceMember, TaskForce
from app.agencies.queries import get_agency_by_code
from app.core.enums import AgencyType, Role, ServiceType, SubTaskForceKey
from app.core.permissions import route_permission
from app.extensions import db
from tests.factories import AgencyFactory, TaskForceFactory, UserFactory
from tests.fixtures import login_as


def html(response) -> str:
    return response.get_data(as_text=True)


def _sub(task_force, key):
    return next(s for s in task_force.sub_task_forces if s.key is key)


@pytest.fixture
def kota_gt(place):
    task_force = TaskForceFactory(region=place.kota)
    db.session.commit()
    return task_force


# --- access ---------------------------------------------------------------------------------


def test_every_route_declares_its_permission(app):
    endpoints = [r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("agencies.")]
    assert len(endpoints) == 10
    for endpoint in endpoints:
        if endpoint == "agencies.search":
            # the agency search of the case page's forms: for those who plan services
            assert route_permission(app.view_functions[endpoint]) == "cases:manage"
            continue
        assert route_permission(app.view_functions[endpoint]) in {
            "agencies:manage",
            "taskforces:manage",
        }, endpoint


def _urls(agency_id: int, task_force_id: int, sub_id: int) -> list[tuple[str, str]]:
    sub = f"/admin/gugus-tugas/{task_force_id}/sub-gugus-tugas/{sub_id}/anggota"
    return [
        ("get", "/admin/lembaga"),
        ("get", "/admin/lembaga/baru"),
        ("post", "/admin/lembaga/baru"),
        ("get", f"/admin/lembaga/{agency_id}"),
        ("get", f"/admin/lembaga/{agency_id}/ubah"),
        ("post", f"/admin/lembaga/{agency_id}/ubah"),
        ("get", "/admin/gugus-tugas"),
        ("get", "/admin/gugus-tugas/baru"),
        ("post", "/admin/gugus-tugas/baru"),
        ("get", f"/admin/gugus-tugas/{task_force_id}"),
        ("post", sub),
        ("post", sub + "/hapus"),
    ]


def test_anonymous_is_sent_to_sign_in(client, kota_gt):
    agency = AgencyFactory(region=kota_gt.region)
    db.session.commit()
    for method, url in _urls(agency.id, kota_gt.id, kota_gt.sub_task_forces[0].id):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert "/masuk" in response.headers["Location"], url


def test_user_without_the_permission_gets_403(client, kota_gt):
    agency = AgencyFactory(region=kota_gt.region)
    user = UserFactory(roles=[(Role.MANAJER_KASUS, agency), (Role.SUPERVISOR, agency)])
    db.session.commit()
    login_as(client, user)
    for method, url in _urls(agency.id, kota_gt.id, kota_gt.sub_task_forces[0].id):
        assert getattr(client, method)(url).status_code == 403, url
    assert b"/admin/lembaga" not in client.get("/beranda").data


def test_admin_sees_both_in_the_navigation(admin_client):
    page = html(admin_client.get("/beranda"))
    assert "/admin/lembaga" in page
    assert "/admin/gugus-tugas" in page


# --- agencies -------------------------------------------------------------------------------


def test_list_and_filters(en_client, place):
    AgencyFactory(
        code="UPTD-LIST", name="UPTD PPA Uji", region=place.kota, services=[ServiceType.PENGADUAN]
    )
    AgencyFactory(
        code="RS-LIST",
        name="RSUD Uji",
        type=AgencyType.FASKES,
        region=place.kecamatan,
        services=[ServiceType.REHABILITASI_KESEHATAN],
    )
    AgencyFactory(code="OFF-LIST", region=place.kabupaten, active=False)
    db.session.commit()

    page = html(en_client.get("/admin/lembaga"))
    assert all(code in page for code in ("UPTD-LIST", "RS-LIST", "OFF-LIST"))
    assert "Complaint handling" in page and "Health facility" in page

    page = html(en_client.get("/admin/lembaga?type=faskes"))
    assert "RS-LIST" in page and "UPTD-LIST" not in page
    page = html(en_client.get("/admin/lembaga?service=pengaduan"))
    assert "UPTD-LIST" in page and "RS-LIST" not in page
    page = html(en_client.get("/admin/lembaga?q=rsud"))
    assert "RS-LIST" in page and "UPTD-LIST" not in page
    page = html(en_client.get("/admin/lembaga?region=91.71"))
    assert "UPTD-LIST" in page and "RS-LIST" in page and "OFF-LIST" not in page
    page = html(en_client.get("/admin/lembaga?status=inactive"))
    assert "OFF-LIST" in page and "UPTD-LIST" not in page
    # a filter value that is not in the vocabulary is ignored, not an error
    response = en_client.get("/admin/lembaga?type=xyz&service=zzz&page=abc")
    assert response.status_code == 200
    assert "UPTD-LIST" in html(response)


def test_list_is_paginated_by_50(admin_client, place):
    for n in range(52):
        AgencyFactory(code=f"PG-{n:03d}", region=place.kota)
    db.session.commit()
    first = html(admin_client.get("/admin/lembaga?region=91.71"))
    assert "PG-049" in first and "PG-050" not in first
    assert "page=2" in first
    second = html(admin_client.get("/admin/lembaga?region=91.71&page=2"))
    assert "PG-050" in second and "PG-051" in second and "PG-000" not in second


def test_create_form_renders_checkboxes(admin_client, place):
    page = html(admin_client.get("/admin/lembaga/baru"))
    assert page.count('type="checkbox"') == len(ServiceType)
    assert 'name="services"' in page
    assert 'list="region-options"' in page
    assert '<option value="91.71">' in page


def test_create_agency(admin_client, place):
    response = admin_client.post(
        "/admin/lembaga/baru",
        data={
            "code": " uptdppa-9171 ",
            "name": "UPTD PPA  Kota Jayapura",
            "type": "uptd_ppa",
            "region": "91.71",
            "services": ["pengaduan", "rehabilitasi_sosial"],
        },
    )
    assert response.status_code == 302, html(response)
    agency = get_agency_by_code("UPTDPPA-9171")
    assert response.headers["Location"].endswith(f"/admin/lembaga/{agency.id}")
    assert agency.name == "UPTD PPA Kota Jayapura"
    assert set(agency.service_types) == {ServiceType.PENGADUAN, ServiceType.REHABILITASI_SOSIAL}
    page = html(admin_client.get(response.headers["Location"]))
    assert "UPTDPPA-9171" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"type": ""}, "This field is required."),
        ({"type": "xyz"}, "Not a valid choice"),
        ({"region": "99.99"}, "There is no region with the code"),
        ({"code": "UPTD PPA"}, "is not valid"),
        ({"services": ["pengaduan", "pijat"]}, "not a valid choice"),
        ({"code": "TAKEN-1"}, "Another agency already has the code"),
    ],
)
def test_create_agency_errors(en_client, place, data, message):
    AgencyFactory(code="TAKEN-1", region=place.kota)
    db.session.commit()
    form = {
        "code": "NEW-1",
        "name": "Baru",
        "type": "faskes",
        "region": "91.71",
        "services": ["pengaduan"],
        **data,
    }
    response = en_client.post("/admin/lembaga/baru", data=form)
    assert response.status_code == 422
    assert message.lower() in html(response).lower()
    assert get_agency_by_code("NEW-1") is None
    assert (
        db.session.scalar(
            select(func.count()).select_from(Agency).where(Agency.code.in_(["NEW-1", "UPTD PPA"]))
        )
        == 0
    )


def test_detail_shows_services_and_memberships(en_client, place, kota_gt):
    agency = AgencyFactory(
        code="POLRES-9171",
        name="Polresta Jayapura",
        region=place.kota,
        type=AgencyType.KEPOLISIAN,
        services=[ServiceType.PENEGAKAN_HUKUM, ServiceType.BANTUAN_HUKUM],
    )
    db.session.add(
        SubTaskForceMember(
            sub_task_force=_sub(kota_gt, SubTaskForceKey.PENEGAKAN_HUKUM), agency=agency
        )
    )
    db.session.commit()
    page = html(en_client.get(f"/admin/lembaga/{agency.id}"))
    assert "Polresta Jayapura" in page
    assert "Police (Unit PPA)" in page
    assert "Legal aid" in page and "Law enforcement" in page
    assert kota_gt.name in page
    assert f"/admin/gugus-tugas/{kota_gt.id}" in page


def test_edit_agency(admin_client, place):
    agency = AgencyFactory(code="EDIT-1", region=place.kota, services=[ServiceType.PENGADUAN])
    db.session.commit()
    page = html(admin_client.get(f"/admin/lembaga/{agency.id}/ubah"))
    assert re.search(
        r'<input[^>]*checked[^>]*value="pengaduan"|<input[^>]*value="pengaduan"'
        r"[^>]*checked",
        page,
    )
    assert 'value="91.71"' in page
    response = admin_client.post(
        f"/admin/lembaga/{agency.id}/ubah",
        data={
            "name": "Diubah",
            "type": "dinas_ppa",
            "region": "91.03",
            "services": ["mediasi", "pendampingan"],
            "version": str(agency.version),
        },
    )
    assert response.status_code == 302, html(response)
    db.session.expire_all()
    agency = get_agency_by_code("EDIT-1")
    assert (agency.name, agency.type, agency.region.code, agency.active) == (
        "Diubah",
        AgencyType.DINAS_PPA,
        "91.03",
        False,
    )  # the box was left unticked
    assert set(agency.service_types) == {ServiceType.MEDIASI, ServiceType.PENDAMPINGAN}


def test_edit_with_stale_version_is_422(en_client, place):
    agency = AgencyFactory(code="STALE-1", name="Asli", region=place.kota)
    db.session.commit()
    response = en_client.post(
        f"/admin/lembaga/{agency.id}/ubah",
        data={
            "name": "Baru",
            "type": "uptd_ppa",
            "region": "91.71",
            "active": "y",
            "version": str(agency.version - 1),
        },
    )
    assert response.status_code == 422
    assert "Reload the page" in html(response)
    db.session.expire_all()
    assert get_agency_by_code("STALE-1").name == "Asli"


def test_edit_with_unknown_region_is_422(en_client, place):
    agency = AgencyFactory(code="REG-1", region=place.kota)
    db.session.commit()
    response = en_client.post(
        f"/admin/lembaga/{agency.id}/ubah",
        data={
            "name": "Baru",
            "type": "uptd_ppa",
            "region": "12.99",
            "active": "y",
            "version": str(agency.version),
        },
    )
    assert response.status_code == 422
    assert "There is no region with the code" in html(response)


@pytest.mark.parametrize("suffix", ["", "/ubah"])
def test_unknown_agency_is_404(admin_client, suffix):
    assert admin_client.get(f"/admin/lembaga/999999{suffix}").status_code == 404


# --- task forces ----------------------------------------------------------------------------


def test_task_force_list(admin_client, kota_gt):
    page = html(admin_client.get("/admin/gugus-tugas"))
    assert kota_gt.name in page
    assert f"/admin/gugus-tugas/{kota_gt.id}" in page


def test_task_force_create(admin_client, place, kota_gt):
    page = html(admin_client.get("/admin/gugus-tugas/baru"))
    assert 'value="91.03"' in page and 'value="91"' in page
    assert 'value="91.71"' not in page  # already has one
    assert 'value="91.71.01"' not in page  # a district
    response = admin_client.post("/admin/gugus-tugas/baru", data={"region": "91.03", "name": ""})
    assert response.status_code == 302, html(response)
    task_force = db.session.scalar(
        select(TaskForce).where(TaskForce.region_id == place.kabupaten.id)
    )
    assert response.headers["Location"].endswith(f"/admin/gugus-tugas/{task_force.id}")
    assert task_force.name == "GT P2TPPO Kabupaten Jayapura Uji"
    assert len(task_force.sub_task_forces) == 6


@pytest.mark.parametrize("region", ["91.71", "91.71.01", ""])
def test_task_force_create_refused(admin_client, kota_gt, region):
    response = admin_client.post("/admin/gugus-tugas/baru", data={"region": region})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(TaskForce)) == 1


def test_task_force_detail(en_client, place, kota_gt):
    stf = _sub(kota_gt, SubTaskForceKey.REHABILITASI_KESEHATAN)
    rs = AgencyFactory(code="RSUD-9171", region=place.kota, type=AgencyType.FASKES)
    AgencyFactory(code="PKM-ABE", region=place.kecamatan, type=AgencyType.FASKES)
    AgencyFactory(code="RS-9103", region=place.kabupaten, type=AgencyType.FASKES)
    db.session.add(SubTaskForceMember(sub_task_force=stf, agency=rs))
    UserFactory(name="Dr. Koordinator", roles=[(Role.KOORDINATOR_SUBGT, stf)])
    db.session.commit()
    response = en_client.get(f"/admin/gugus-tugas/{kota_gt.id}")
    assert response.status_code == 200
    page = html(response)
    assert '<html lang="en">' in page
    for title in (
        "Prevention and child participation",
        "Health rehabilitation",
        "Social rehabilitation, repatriation and reintegration",
        "Development of legal norms",
        "Law enforcement",
        "Coordination and cooperation",
    ):
        assert title in page
    assert "Temporary shelter" in page  # reviewed by the rehsos Sub GT
    assert "Dr. Koordinator" in page
    assert "RSUD-9171" in page
    assert 'data-confirm="Remove RSUD-9171 from this Sub GT?"' in page
    # the add-member select of the health Sub GT offers the district's agency, not the other
    # regency's, nor the member
    section = page[page.index(f'id="subgt-{stf.id}"') :]
    section = section[: section.index("</section>")]
    options = re.findall(r'<option value="\d+">([^<]*)</option>', section)
    assert any(o.startswith("PKM-ABE") for o in options)
    assert not any(o.startswith(("RS-9103", "RSUD-9171")) for o in options)
    # CSP: no inline script or handlers
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert " onclick=" not in page and " onsubmit=" not in page


def test_member_add_and_remove(en_client, place, kota_gt):
    stf = _sub(kota_gt, SubTaskForceKey.PENEGAKAN_HUKUM)
    polres = AgencyFactory(code="POLRES-9171", region=place.kota, type=AgencyType.KEPOLISIAN)
    db.session.commit()
    base = f"/admin/gugus-tugas/{kota_gt.id}/sub-gugus-tugas/{stf.id}/anggota"

    response = en_client.post(base, data={f"stf{stf.id}-agency": str(polres.id)})
    assert response.status_code == 302, html(response)
    assert response.headers["Location"].endswith(f"/admin/gugus-tugas/{kota_gt.id}#subgt-{stf.id}")
    db.session.expire_all()
    assert [m.agency_id for m in stf.members] == [polres.id]

    response = en_client.post(base + "/hapus", data={"agency_id": str(polres.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert stf.members == []

    # removing a non-member is refused with a message, nothing changes
    response = en_client.post(
        base + "/hapus", data={"agency_id": str(polres.id)}, follow_redirects=True
    )
    assert "is not a member of this Sub GT" in html(response)


def test_member_add_refused(en_client, place, kota_gt):
    stf = _sub(kota_gt, SubTaskForceKey.PENEGAKAN_HUKUM)
    other = AgencyFactory(code="POLRES-9103", region=place.kabupaten, type=AgencyType.KEPOLISIAN)
    db.session.commit()
    base = f"/admin/gugus-tugas/{kota_gt.id}/sub-gugus-tugas/{stf.id}/anggota"
    response = en_client.post(base, data={f"stf{stf.id}-agency": str(other.id)})
    assert response.status_code == 422
    assert "Not a valid choice" in html(response)
    response = en_client.post(base, data={f"stf{stf.id}-agency": ""})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(SubTaskForceMember)) == 0


def test_member_add_operation_refusal_is_shown_on_the_form(en_client, place, kota_gt, monkeypatch):
    from app.agencies import operations
    from app.core.errors import DomainError

    stf = _sub(kota_gt, SubTaskForceKey.PENEGAKAN_HUKUM)
    agency = AgencyFactory(code="RACE-1", region=place.kota)
    db.session.commit()

    def refuse(*args, **kwargs):
        raise DomainError("Refused for a reason.", field="agency")

    monkeypatch.setattr(operations, "add_member", refuse)
    response = en_client.post(
        f"/admin/gugus-tugas/{kota_gt.id}/sub-gugus-tugas/{stf.id}/anggota",
        data={f"stf{stf.id}-agency": str(agency.id)},
    )
    assert response.status_code == 422
    assert "Refused for a reason." in html(response)


def test_unknown_task_force_or_sub_task_force_is_404(admin_client, place, kota_gt):
    other = TaskForceFactory(region=place.kabupaten)
    agency = AgencyFactory(region=place.kota)
    db.session.commit()
    foreign = other.sub_task_forces[0].id
    assert admin_client.get("/admin/gugus-tugas/999999").status_code == 404
    url = f"/admin/gugus-tugas/{kota_gt.id}/sub-gugus-tugas/{foreign}/anggota"
    assert admin_client.post(url, data={f"stf{foreign}-agency": str(agency.id)}).status_code == 404
    assert admin_client.post(url + "/hapus", data={"agency_id": str(agency.id)}).status_code == 404
    own = kota_gt.sub_task_forces[0].id
    url = f"/admin/gugus-tugas/{kota_gt.id}/sub-gugus-tugas/{own}/anggota/hapus"
    assert admin_client.post(url, data={"agency_id": "999999"}).status_code == 404


# --- language -------------------------------------------------------------------------------


def test_english_ui(admin_client, place):
    AgencyFactory(
        code="EN-1",
        region=place.kota,
        type=AgencyType.RUMAH_AMAN,
        services=[ServiceType.PENAMPUNGAN_SEMENTARA],
    )
    db.session.commit()
    assert admin_client.post("/bahasa", data={"locale": "en"}).status_code == 302
    page = html(admin_client.get("/admin/lembaga"))
    assert '<html lang="en">' in page
    assert "New agency" in page and "Safe house / shelter" in page
    assert "Temporary shelter" in page
    page = html(admin_client.get("/admin/lembaga/baru"))
    assert "Services provided" in page and "Region (Kemendagri code)" in page
    page = html(admin_client.get("/admin/gugus-tugas"))
    assert "New task force" in page


def test_default_language_renders(admin_client, place):
    response = admin_client.get("/admin/lembaga")
    assert response.status_code == 200
    assert '<html lang="id">' in html(response)
