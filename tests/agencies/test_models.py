"""The database itself refuses what the operations refuse."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.agencies.models import Agency, SubTaskForce
from app.core.enums import AgencyType, SubTaskForceKey
from app.extensions import db
from tests.factories import AgencyFactory, KabkotaFactory, TaskForceFactory

INSERT_AGENCY = text(
    "INSERT INTO agencies (code, name, type, region_id, active, created_at, updated_at, version)"
    " VALUES (:code, 'Uji', :type, :region_id, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
)


def test_duplicate_agency_code_is_refused():
    existing = AgencyFactory(code="DUP-1")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(
            Agency(code="DUP-1", name="Lain", type=AgencyType.FASKES, region=existing.region)
        )
        db.session.flush()


def test_same_sub_task_force_key_twice_is_refused():
    task_force = TaskForceFactory()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(
            SubTaskForce(task_force_id=task_force.id, key=SubTaskForceKey.PENEGAKAN_HUKUM)
        )
        db.session.flush()


def test_second_task_force_for_a_region_is_refused_by_the_database():
    task_force = TaskForceFactory()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            text(
                "INSERT INTO task_forces (region_id, name, created_at)"
                " VALUES (:region_id, 'GT lagi', CURRENT_TIMESTAMP)"
            ),
            {"region_id": task_force.region_id},
        )


def test_raw_insert_with_a_known_agency_type_works():
    region = KabkotaFactory()
    with db.session.begin_nested():
        db.session.execute(
            INSERT_AGENCY, {"code": "RAW-OK", "type": "faskes", "region_id": region.id}
        )


def test_unknown_agency_type_is_refused_by_the_check():
    region = KabkotaFactory()
    with pytest.raises(IntegrityError) as info, db.session.begin_nested():
        db.session.execute(INSERT_AGENCY, {"code": "RAW-1", "type": "xyz", "region_id": region.id})
    assert "ck_agencies_agency_type" in str(info.value)


def test_unknown_service_type_is_refused_by_the_check():
    agency = AgencyFactory()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            text("INSERT INTO agency_services (agency_id, service_type) VALUES (:id, 'pijat')"),
            {"id": agency.id},
        )


def test_unknown_sub_task_force_key_is_refused_by_the_check():
    task_force = TaskForceFactory()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            text("INSERT INTO sub_task_forces (task_force_id, key) VALUES (:id, 'lainnya')"),
            {"id": task_force.id},
        )


def test_same_service_twice_is_refused():
    agency = AgencyFactory()
    insert = text("INSERT INTO agency_services (agency_id, service_type) VALUES (:id, 'pengaduan')")
    db.session.execute(insert, {"id": agency.id})
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(insert, {"id": agency.id})
