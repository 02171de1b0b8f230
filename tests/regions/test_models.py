"""The database itself refuses bad regions and population rows, even when the operations are
bypassed. Each failing write runs in a savepoint so the test's transaction survives."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core.enums import RegionLevel, Sex
from app.extensions import db
from app.regions.models import Population, Region
from tests.conftest import uses_postgres


@pytest.fixture
def province():
    region = Region(code="91", name="Provinsi Uji", level=RegionLevel.PROVINSI)
    db.session.add(region)
    db.session.flush()
    return region


@pytest.fixture
def kabkota(province):
    region = Region(code="91.71", name="Kota Uji", level=RegionLevel.KABKOTA, parent_id=province.id)
    db.session.add(region)
    db.session.flush()
    return region


def rejected(*objects, constraint: str | None) -> None:
    """Flushing ``objects`` fails on ``constraint`` (None: SQLite does not name UNIQUE ones)."""
    with pytest.raises(IntegrityError) as info, db.session.begin_nested():
        db.session.add_all(objects)
        db.session.flush()
    if constraint is not None:
        assert constraint in str(info.value.orig), str(info.value.orig)


def rejected_sql(sql: str, *constraints: str, **params) -> None:
    """``sql`` fails on one of ``constraints`` (PostgreSQL reports the first it checks)."""
    with pytest.raises(IntegrityError) as info, db.session.begin_nested():
        db.session.execute(sa.text(sql), params)
    assert any(c in str(info.value.orig) for c in constraints), str(info.value.orig)


def test_a_valid_tree_is_stored(kabkota):
    assert kabkota.id is not None and kabkota.parent.code == "91"


def test_a_province_with_a_parent_is_rejected(province):
    rejected(
        Region(code="92", name="X", level=RegionLevel.PROVINSI, parent_id=province.id),
        constraint="ck_regions_parent_unless_provinsi",
    )


def test_a_kabkota_without_a_parent_is_rejected():
    rejected(
        Region(code="91.71", name="X", level=RegionLevel.KABKOTA),
        constraint="ck_regions_parent_unless_provinsi",
    )


@pytest.mark.parametrize(
    ("level", "code"),
    [
        (RegionLevel.PROVINSI, "911"),
        (RegionLevel.KABKOTA, "91.7"),
        (RegionLevel.KECAMATAN, "91.71.1"),
        (RegionLevel.DESA, "91.71.01.101"),
    ],
)
def test_a_code_of_the_wrong_length_for_its_level_is_rejected(kabkota, level, code):
    parent_id = None if level is RegionLevel.PROVINSI else kabkota.id
    rejected(
        Region(code=code, name="X", level=level, parent_id=parent_id),
        constraint="ck_regions_code_length_matches_level",
    )


def test_a_repeated_code_is_rejected(province):
    rejected(
        Region(code="91", name="Lagi", level=RegionLevel.PROVINSI),
        constraint="uq_regions_code" if uses_postgres() else None,
    )


def test_an_unknown_level_is_rejected():
    rejected_sql(
        "INSERT INTO regions (code, name, level, version, created_at, updated_at) "
        "VALUES ('92', 'X', 'negara', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "ck_regions_region_level",
        "ck_regions_code_length_matches_level",
    )


def test_a_region_with_children_cannot_be_deleted(kabkota, province):
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(sa.delete(Region).where(Region.id == province.id))


def population(region, **overrides):
    values = {"year": 2025, "sex": Sex.P, "age_from": 0, "age_to": 17, "count": 100}
    values.update(overrides)
    return Population(region_id=region.id, **values)


def test_a_valid_population_row_is_stored(kabkota):
    db.session.add(population(kabkota))
    db.session.flush()


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"count": -1}, "ck_population_count_not_negative"),
        ({"age_from": -1}, "ck_population_age_from_range"),
        ({"age_from": 151, "age_to": None}, "ck_population_age_from_range"),
        ({"age_from": 10, "age_to": 9}, "ck_population_age_to_after_from"),
        ({"year": 1899}, "ck_population_year_range"),
        ({"year": 2201}, "ck_population_year_range"),
    ],
)
def test_bad_population_rows_are_rejected(kabkota, overrides, constraint):
    rejected(population(kabkota, **overrides), constraint=constraint)


def test_a_repeated_population_row_is_rejected(kabkota):
    db.session.add(population(kabkota))
    db.session.flush()
    rejected(
        population(kabkota, age_to=None, count=5),
        constraint="uq_population_region_id_year_sex_age_from" if uses_postgres() else None,
    )


def test_an_unknown_sex_is_rejected(kabkota):
    rejected_sql(
        "INSERT INTO population (region_id, year, sex, age_from, count, updated_at) "
        "VALUES (:region_id, 2025, 'X', 0, 1, CURRENT_TIMESTAMP)",
        "ck_population_population_sex",
        region_id=kabkota.id,
    )
