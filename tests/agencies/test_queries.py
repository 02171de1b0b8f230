from __future__ import annotations

import pytest

from app.agencies import queries as q
from app.core.enums import AgencyType, Role, ServiceType, SubTaskForceKey
from tests.factories import AgencyFactory, TaskForceFactory, UserFactory


def _sub(task_force, key):
    return next(s for s in task_force.sub_task_forces if s.key is key)


@pytest.mark.parametrize(
    ("code", "ancestor", "expected"),
    [
        ("32.73", "32.73", True),
        ("32.73.01", "32.73", True),
        ("32.73.01.1001", "32", True),
        ("32.74", "32.73", False),
        ("32.731", "32.73", False),  # a shared prefix is not "under"
        ("32", "32.73", False),
    ],
)
def test_region_code_within(code, ancestor, expected):
    assert q.region_code_within(code, ancestor) is expected


def test_agency_list_filters(place):
    AgencyFactory(
        code="UPTD-A",
        name="UPTD PPA Jayapura",
        region=place.kota,
        services=[ServiceType.PENGADUAN, ServiceType.REHABILITASI_SOSIAL],
    )
    AgencyFactory(
        code="RS-B",
        name="RSUD Abepura",
        type=AgencyType.FASKES,
        region=place.kecamatan,
        services=[ServiceType.REHABILITASI_KESEHATAN],
    )
    AgencyFactory(
        code="LBH-C",
        name="LBH 100%_persen",
        type=AgencyType.BANTUAN_HUKUM,
        region=place.kabupaten,
        active=False,
    )

    def codes(**kwargs):
        return [
            a.code
            for a in q.list_agencies(q.AgencyFilters(**kwargs)).items
            if a.code in {"UPTD-A", "RS-B", "LBH-C"}
        ]

    assert codes() == ["LBH-C", "RS-B", "UPTD-A"]
    assert codes(type=AgencyType.FASKES) == ["RS-B"]
    assert codes(service_type=ServiceType.PENGADUAN) == ["UPTD-A"]
    assert codes(region_code="91.71") == ["RS-B", "UPTD-A"]
    assert codes(region_code="91") == ["LBH-C", "RS-B", "UPTD-A"]
    assert codes(active=False) == ["LBH-C"]
    assert codes(active=True) == ["RS-B", "UPTD-A"]
    assert codes(search="abepura") == ["RS-B"]
    assert codes(search="uptd-a") == ["UPTD-A"]
    assert codes(search="100%_") == ["LBH-C"]
    assert codes(search="%") == ["LBH-C"]  # wildcards are taken literally


def test_list_agencies_paginates(place):
    for n in range(7):
        AgencyFactory(code=f"PAGE-{n}", region=place.kota)
    page = q.list_agencies(q.AgencyFilters(region_code="91.71"), page=2, per_page=5)
    assert page.total == 7
    assert [a.code for a in page.items] == ["PAGE-5", "PAGE-6"]


def test_agencies_providing(place):
    AgencyFactory(code="P-KOTA", region=place.kota, services=[ServiceType.PEMULANGAN])
    AgencyFactory(code="P-KEC", region=place.kecamatan, services=[ServiceType.PEMULANGAN])
    AgencyFactory(code="P-KAB", region=place.kabupaten, services=[ServiceType.PEMULANGAN])
    AgencyFactory(code="P-OFF", region=place.kota, services=[ServiceType.PEMULANGAN], active=False)
    AgencyFactory(code="P-NONE", region=place.kota, services=[ServiceType.MEDIASI])
    AgencyFactory(code="P-KBRI", type=AgencyType.PERWAKILAN_RI, services=[ServiceType.PEMULANGAN])

    def codes(*args, **kwargs):
        return [a.code for a in q.agencies_providing(*args, **kwargs) if a.code.startswith("P-")]

    assert codes(ServiceType.PEMULANGAN) == ["P-KAB", "P-KBRI", "P-KEC", "P-KOTA"]
    assert codes("pemulangan", place.kota) == ["P-KBRI", "P-KEC", "P-KOTA"]
    assert codes("pemulangan", "91.71", include_national=False) == ["P-KEC", "P-KOTA"]
    assert codes("pemulangan", "91.71", active_only=False) == ["P-KBRI", "P-KEC", "P-KOTA", "P-OFF"]
    assert codes(ServiceType.MEDIASI, place.kabupaten) == []


def test_sub_task_force_for_service(place):
    kota_gt = TaskForceFactory(region=place.kota)
    province_gt = TaskForceFactory(region=place.province)

    found = q.sub_task_force_for_service(place.kota, ServiceType.REHABILITASI_KESEHATAN)
    assert found is _sub(kota_gt, SubTaskForceKey.REHABILITASI_KESEHATAN)
    # a district's cases go to its regency/city's GT
    found = q.sub_task_force_for_service("91.71.01", "pemulangan")
    assert found is _sub(kota_gt, SubTaskForceKey.REHSOS_PEMULANGAN_REINTEGRASI)
    # a regency without a GT of its own falls back to the province's
    found = q.sub_task_force_for_service(place.kabupaten, ServiceType.BANTUAN_HUKUM)
    assert found is _sub(province_gt, SubTaskForceKey.PENEGAKAN_HUKUM)
    # services no Sub GT reviews
    assert q.sub_task_force_for_service(place.kota, ServiceType.PENGADUAN) is None
    assert q.sub_task_force_for_service(place.kota, ServiceType.MEDIASI) is None


def test_sub_task_force_for_service_without_any_task_force(place):
    assert q.sub_task_force_for_service(place.kota, ServiceType.PENEGAKAN_HUKUM) is None


def test_services_reviewed_by():
    assert q.services_reviewed_by(SubTaskForceKey.PENEGAKAN_HUKUM) == [
        ServiceType.BANTUAN_HUKUM,
        ServiceType.PENEGAKAN_HUKUM,
    ]
    assert q.services_reviewed_by("pencegahan_partisipasi_anak") == []
    assert ServiceType.PEMULANGAN in q.services_reviewed_by("rehsos_pemulangan_reintegrasi")


def test_task_force_queries(place):
    kota_gt = TaskForceFactory(region=place.kota)
    stf = _sub(kota_gt, SubTaskForceKey.PENEGAKAN_HUKUM)
    member = AgencyFactory(code="M-1", region=place.kota)
    from app.agencies import operations as ops
    from app.audit.operations import SystemActor

    ops.add_member(stf, member, actor=SystemActor())
    AgencyFactory(code="M-2", region=place.kecamatan)
    AgencyFactory(code="M-3", region=place.kabupaten)
    AgencyFactory(code="M-4", type=AgencyType.LPSK)
    AgencyFactory(code="M-5", region=place.kota, active=False)

    assert q.get_task_force(kota_gt.id) is kota_gt
    assert q.get_task_force(0) is None
    assert q.get_task_force_for_region("91.71") is kota_gt
    assert q.get_sub_task_force_of(kota_gt, stf.id) is stf
    assert q.get_sub_task_force_of(kota_gt, stf.id + 1000) is None
    assert kota_gt in q.list_task_forces()
    assert [a.code for a in q.member_candidates(stf) if a.code.startswith("M-")] == ["M-2", "M-4"]
    assert q.sub_task_forces_of_agency(member) == [stf]
    regions = q.regions_without_task_force()
    assert place.province in regions and place.kabupaten in regions
    assert place.kota not in regions and place.kecamatan not in regions


def test_coordinators_of(place):
    task_force = TaskForceFactory(region=place.kota)
    stf = _sub(task_force, SubTaskForceKey.REHABILITASI_KESEHATAN)
    coordinator = UserFactory(name="Koordinator Kesehatan", roles=[(Role.KOORDINATOR_SUBGT, stf)])
    UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory(region=place.kota))])
    result = q.coordinators_of(task_force)
    assert result[stf.id] == [coordinator]
    assert sum(len(users) for users in result.values()) == 1
