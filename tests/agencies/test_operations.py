from __future__ import annotations

import pytest
from sqlalchemy import select

from app.agencies import operations as ops
from app.agencies.models import Agency, AgencyService, SubTaskForce, TaskForce
from app.audit.models import AuditEntry
from app.core.enums import AgencyType, ServiceType, SubTaskForceKey
from app.core.errors import DomainError
from app.extensions import db
from tests.factories import AgencyFactory, KecamatanFactory, TaskForceFactory, UserFactory

pytestmark = pytest.mark.usefixtures("english")


def audit_entries(object_type: str, object_id: object) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
            .order_by(AuditEntry.id)
        )
    )


def service_rows(agency: Agency) -> set[str]:
    return set(
        db.session.scalars(
            select(AgencyService.service_type).where(AgencyService.agency_id == agency.id)
        )
    )


# --- upsert_agency --------------------------------------------------------------------------


def test_upsert_creates_agency_with_services_and_audit(place, actor):
    agency, outcome = ops.upsert_agency(
        "UPTDPPA-9171",
        "  UPTD PPA   Kota Jayapura ",
        "uptd_ppa",
        "91.71",
        ["pengaduan", ServiceType.REHABILITASI_SOSIAL, "pengaduan"],
        actor=actor,
    )
    assert outcome == "created"
    assert agency.id is not None
    assert agency.name == "UPTD PPA Kota Jayapura"  # whitespace collapsed
    assert agency.type is AgencyType.UPTD_PPA
    assert agency.region.code == "91.71"
    assert agency.active is True
    assert service_rows(agency) == {"pengaduan", "rehabilitasi_sosial"}  # deduplicated
    [entry] = audit_entries("agency", agency.id)
    assert entry.action == "agency.create"
    assert entry.actor_label == "test"
    assert entry.changes["code"] == "UPTDPPA-9171"
    assert entry.changes["services"] == ["pengaduan", "rehabilitasi_sosial"]


def test_upsert_unchanged_then_updated_syncs_services_exactly(place, actor):
    agency, _ = ops.upsert_agency(
        "RSUD-9171",
        "RSUD Jayapura",
        "faskes",
        "91.71",
        ["rehabilitasi_kesehatan", "pengaduan"],
        actor=actor,
    )
    version = agency.version

    again, outcome = ops.upsert_agency(
        "RSUD-9171",
        "RSUD Jayapura",
        "faskes",
        "91.71",
        ["pengaduan", "rehabilitasi_kesehatan"],
        actor=actor,
    )
    assert (again.id, outcome) == (agency.id, "unchanged")
    assert agency.version == version
    assert len(audit_entries("agency", agency.id)) == 1

    _, outcome = ops.upsert_agency(
        "RSUD-9171",
        "RSUD Dok II Jayapura",
        "faskes",
        "91.71.01",
        ["rehabilitasi_kesehatan", "pendampingan"],
        actor=actor,
    )
    assert outcome == "updated"
    assert service_rows(agency) == {"rehabilitasi_kesehatan", "pendampingan"}
    assert agency.region.code == "91.71.01"
    assert agency.version == version + 1
    update = audit_entries("agency", agency.id)[-1]
    assert update.action == "agency.update"
    assert update.changes == {
        "name": ["RSUD Jayapura", "RSUD Dok II Jayapura"],
        "region": ["91.71", "91.71.01"],
        "services": [
            ["pengaduan", "rehabilitasi_kesehatan"],
            ["pendampingan", "rehabilitasi_kesehatan"],
        ],
    }

    _, outcome = ops.upsert_agency(
        "RSUD-9171", "RSUD Dok II Jayapura", "faskes", "91.71.01", [], actor=actor
    )
    assert outcome == "updated"
    assert service_rows(agency) == set()


@pytest.mark.parametrize(
    ("code", "name", "type_", "region", "services", "field"),
    [
        ("uptd-1", "X", "uptd_ppa", "91.71", [], "code"),  # lower case
        ("A", "X", "uptd_ppa", "91.71", [], "code"),  # too short
        ("-ABC", "X", "uptd_ppa", "91.71", [], "code"),  # starts with a dash
        ("UPTD PPA", "X", "uptd_ppa", "91.71", [], "code"),  # space
        ("A" * 41, "X", "uptd_ppa", "91.71", [], "code"),  # too long
        ("OK-1", "   ", "uptd_ppa", "91.71", [], "name"),
        ("OK-1", "x" * 201, "uptd_ppa", "91.71", [], "name"),
        ("OK-1", "X", "xyz", "91.71", [], "type"),
        ("OK-1", "X", "uptd_ppa", "99.99", [], "region"),
        ("OK-1", "X", "uptd_ppa", "", [], "region"),
        ("OK-1", "X", "uptd_ppa", "91.71", ["pengaduan", "pijat"], "services"),
    ],
)
def test_upsert_refuses_bad_values(place, actor, code, name, type_, region, services, field):
    with pytest.raises(DomainError) as info:
        ops.upsert_agency(code, name, type_, region, services, actor=actor)
    assert info.value.field == field
    assert db.session.scalar(select(Agency).where(Agency.code == code)) is None


def test_refusal_messages_name_the_bad_value(place, actor):
    with pytest.raises(DomainError) as info:
        ops.upsert_agency("OK-1", "X", "uptd_ppa", "91.71", ["pijat"], actor=actor)
    assert "'pijat'" in str(info.value.message)
    with pytest.raises(DomainError) as info:
        ops.upsert_agency("OK-1", "X", "uptd_ppa", "12.34", [], actor=actor)
    assert "'12.34'" in str(info.value.message)


def test_upsert_keeps_active_flag(place, actor):
    agency = AgencyFactory(
        code="LBH-9171", region=place.kota, type=AgencyType.BANTUAN_HUKUM, active=False
    )
    _, outcome = ops.upsert_agency(
        "LBH-9171", "LBH Papua", "bantuan_hukum", "91.71", [], actor=actor
    )
    assert outcome == "updated"
    assert agency.active is False


# --- create_agency / update_agency ----------------------------------------------------------


def test_create_agency_refuses_taken_code(place, actor):
    AgencyFactory(code="TAKEN-1")
    with pytest.raises(DomainError) as info:
        ops.create_agency("TAKEN-1", "Lain", "faskes", "91.71", [], actor=actor)
    assert info.value.field == "code"


def test_create_agency_accepts_region_object(place):
    admin = UserFactory()
    agency = ops.create_agency(
        "RA-9171",
        "Rumah Aman",
        AgencyType.RUMAH_AMAN,
        place.kota,
        [ServiceType.PENAMPUNGAN_SEMENTARA],
        actor=admin,
    )
    assert agency.service_types == [ServiceType.PENAMPUNGAN_SEMENTARA]
    [entry] = audit_entries("agency", agency.id)
    assert (entry.actor_id, entry.actor_label) == (admin.id, "user")


def test_update_agency_changes_and_deactivates(place, actor):
    agency = AgencyFactory(region=place.kota, services=[ServiceType.PENGADUAN])
    ops.update_agency(
        agency,
        name="Baru",
        type="dinas_ppa",
        region="91.03",
        services=["mediasi"],
        active=False,
        expected_version=agency.version,
        actor=actor,
    )
    assert (agency.name, agency.type, agency.region.code, agency.active) == (
        "Baru",
        AgencyType.DINAS_PPA,
        "91.03",
        False,
    )
    assert service_rows(agency) == {"mediasi"}
    entry = audit_entries("agency", agency.id)[-1]
    assert entry.changes["active"] == [True, False]
    assert entry.changes["type"] == ["uptd_ppa", "dinas_ppa"]


def test_update_agency_with_stale_version_is_refused(place, actor):
    agency = AgencyFactory(region=place.kota)
    stale = agency.version
    ops.update_agency(
        agency,
        name="Satu",
        type="uptd_ppa",
        region="91.71",
        services=[],
        active=True,
        expected_version=stale,
        actor=actor,
    )
    with pytest.raises(DomainError) as info:
        ops.update_agency(
            agency,
            name="Dua",
            type="uptd_ppa",
            region="91.71",
            services=[],
            active=True,
            expected_version=stale,
            actor=actor,
        )
    assert "Reload" in str(info.value.message)
    assert agency.name == "Satu"


def test_service_only_change_bumps_the_version(place, actor):
    agency = AgencyFactory(region=place.kota)
    version = agency.version
    ops.update_agency(
        agency,
        name=agency.name,
        type=agency.type,
        region=place.kota,
        services=["pengaduan"],
        active=True,
        expected_version=version,
        actor=actor,
    )
    assert agency.version == version + 1


def test_update_without_changes_writes_no_audit(place, actor):
    agency = AgencyFactory(region=place.kota)
    ops.update_agency(
        agency,
        name=agency.name,
        type=agency.type,
        region=place.kota,
        services=[],
        active=True,
        expected_version=agency.version,
        actor=actor,
    )
    assert audit_entries("agency", agency.id) == []


# --- task forces ----------------------------------------------------------------------------


def test_create_task_force_with_six_sub_task_forces(place, actor):
    task_force = ops.create_task_force(place.kota, actor=actor)
    assert task_force.name == "GT P2TPPO Kota Jayapura Uji"
    assert [s.key for s in task_force.sub_task_forces] == list(SubTaskForceKey)
    ids = db.session.scalars(
        select(SubTaskForce.key)
        .where(SubTaskForce.task_force_id == task_force.id)
        .order_by(SubTaskForce.id)
    ).all()
    assert ids == list(SubTaskForceKey)
    [entry] = audit_entries("task_force", task_force.id)
    assert entry.action == "task_force.create"
    assert entry.changes["region"] == "91.71"


def test_create_task_force_for_province_by_code_with_name(place, actor):
    task_force = ops.create_task_force("91", name="  GT  Provinsi ", actor=actor)
    assert task_force.name == "GT Provinsi"
    assert task_force.region.code == "91"


def test_second_task_force_for_a_region_is_refused(place, actor):
    ops.create_task_force(place.kota, actor=actor)
    with pytest.raises(DomainError) as info:
        ops.create_task_force(place.kota, actor=actor)
    assert info.value.field == "region"
    assert (
        db.session.scalar(select(TaskForce.id).where(TaskForce.region_id == place.kota.id))
        is not None
    )


def test_task_force_on_a_kecamatan_is_refused(place, actor):
    with pytest.raises(DomainError) as info:
        ops.create_task_force(place.kecamatan, actor=actor)
    assert info.value.field == "region"
    with pytest.raises(DomainError):
        ops.create_task_force("12.34", actor=actor)


def _sub(task_force: TaskForce, key: SubTaskForceKey) -> SubTaskForce:
    return next(s for s in task_force.sub_task_forces if s.key is key)


def test_add_member_from_the_region_and_below(place, actor):
    task_force = TaskForceFactory(region=place.kota)
    stf = _sub(task_force, SubTaskForceKey.PENEGAKAN_HUKUM)
    polres = AgencyFactory(region=place.kota, type=AgencyType.KEPOLISIAN)
    polsek = AgencyFactory(region=place.kecamatan, type=AgencyType.KEPOLISIAN)
    ops.add_member(stf, polres, actor=actor)
    ops.add_member(stf, polsek, actor=actor)
    assert {m.agency_id for m in stf.members} == {polres.id, polsek.id}
    entries = audit_entries("sub_task_force", stf.id)
    assert [e.action for e in entries] == ["sub_task_force.add_member"] * 2
    assert entries[0].changes == {
        "task_force": "91.71",
        "key": "penegakan_hukum",
        "agency": polres.code,
    }


def test_member_from_another_kabupaten_is_refused(place, actor):
    task_force = TaskForceFactory(region=place.kota)
    other = AgencyFactory(region=place.kabupaten)
    with pytest.raises(DomainError) as info:
        ops.add_member(_sub(task_force, SubTaskForceKey.REHABILITASI_KESEHATAN), other, actor=actor)
    assert info.value.field == "agency"
    assert "91.03" in str(info.value.message)


def test_province_task_force_accepts_agencies_of_its_regencies(place, actor):
    task_force = TaskForceFactory(region=place.province)
    agency = AgencyFactory(region=place.kecamatan)
    ops.add_member(_sub(task_force, SubTaskForceKey.KOORDINASI_KERJA_SAMA), agency, actor=actor)


@pytest.mark.parametrize(
    "agency_type",
    [AgencyType.PERWAKILAN_RI, AgencyType.LPSK, AgencyType.BP2MI, AgencyType.IMIGRASI],
)
def test_national_and_overseas_agencies_may_join_any_task_force(place, actor, agency_type):
    task_force = TaskForceFactory(region=place.kota)
    far_away = AgencyFactory(type=agency_type)  # in a region of its own, elsewhere
    assert not far_away.region.code.startswith("91")
    ops.add_member(
        _sub(task_force, SubTaskForceKey.REHSOS_PEMULANGAN_REINTEGRASI), far_away, actor=actor
    )


def test_duplicate_member_is_refused(place, actor):
    task_force = TaskForceFactory(region=place.kota)
    stf = _sub(task_force, SubTaskForceKey.PENEGAKAN_HUKUM)
    agency = AgencyFactory(region=place.kota)
    ops.add_member(stf, agency, actor=actor)
    with pytest.raises(DomainError) as info:
        ops.add_member(stf, agency, actor=actor)
    assert "already" in str(info.value.message)
    assert len(stf.members) == 1


def test_inactive_agency_cannot_join(place, actor):
    task_force = TaskForceFactory(region=place.kota)
    agency = AgencyFactory(region=place.kota, active=False)
    with pytest.raises(DomainError):
        ops.add_member(_sub(task_force, SubTaskForceKey.PENEGAKAN_HUKUM), agency, actor=actor)


def test_remove_member(place, actor):
    task_force = TaskForceFactory(region=place.kota)
    stf = _sub(task_force, SubTaskForceKey.PENEGAKAN_HUKUM)
    agency = AgencyFactory(region=place.kota)
    ops.add_member(stf, agency, actor=actor)
    ops.remove_member(stf, agency, actor=actor)
    db.session.expire_all()
    assert stf.members == []
    assert agency.memberships == []
    assert audit_entries("sub_task_force", stf.id)[-1].action == "sub_task_force.remove_member"
    with pytest.raises(DomainError):
        ops.remove_member(stf, agency, actor=actor)


def test_agency_in_kecamatan_of_other_kabupaten_is_refused(place, actor):
    task_force = TaskForceFactory(region=place.kabupaten)
    agency = AgencyFactory(region=KecamatanFactory(parent=place.kota, code="91.71.09"))
    with pytest.raises(DomainError):
        ops.add_member(_sub(task_force, SubTaskForceKey.PENEGAKAN_HUKUM), agency, actor=actor)
