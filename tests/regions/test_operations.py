"""The write side of regions and population: every rule refused, every write audited."""

from __future__ import annotations

import pytest
from flask_babel import LazyString, force_locale
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.enums import RegionLevel, Sex
from app.core.errors import DomainError
from app.extensions import db
from app.regions import operations as ops
from app.regions.models import Population, Region
from app.regions.queries import get_region_by_code


def audit(action: str, object_id: object | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == str(object_id))
    return list(db.session.scalars(query))


def english(message: object) -> str:
    """A message as the English UI shows it (the default locale is Indonesian)."""
    with force_locale("en"):
        return str(message)


def refused(field: str | None, call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    assert info.value.field == field, str(info.value.message)
    assert isinstance(info.value.message, LazyString)  # translatable
    return info.value


# --- regions: creating ---------------------------------------------------------------------


def test_upsert_creates_every_level_under_its_parent(tree):
    assert [tree.prov.level, tree.kab.level, tree.kec.level, tree.desa.level] == list(RegionLevel)
    assert tree.prov.parent is None
    assert tree.desa.parent is tree.kec and tree.kec.parent is tree.kab
    assert tree.kab.parent is tree.prov
    assert tree.kab.version == 1


def test_upsert_reports_created_and_audits(actor):
    region, outcome = ops.upsert_region("92", "Provinsi Baru", "provinsi", None, actor=actor)
    assert outcome == "created"
    [entry] = audit("region.create", region.id)
    assert entry.object_type == "region"
    assert entry.actor_label == "test" and entry.actor_id is None
    assert entry.changes == {
        "code": "92",
        "name": "Provinsi Baru",
        "level": "provinsi",
        "parent": None,
    }


def test_upsert_audits_with_a_user_actor(admin_user):
    region, _ = ops.upsert_region("92", "Provinsi Baru", "provinsi", None, actor=admin_user)
    [entry] = audit("region.create", region.id)
    assert entry.actor_id == admin_user.id


def test_upsert_collapses_whitespace_in_the_name(actor):
    region, _ = ops.upsert_region(" 92 ", "  Provinsi \t  Baru ", "provinsi", "", actor=actor)
    assert region.code == "92"
    assert region.name == "Provinsi Baru"


# --- regions: updating ---------------------------------------------------------------------


def test_upsert_of_the_same_row_is_unchanged_and_not_audited(tree, actor):
    before = len(audit("region.update"))
    region, outcome = ops.upsert_region("91.71", "Kota Uji", "kabkota", "91", actor=actor)
    assert (region, outcome) == (tree.kab, "unchanged")
    assert len(audit("region.update")) == before
    assert tree.kab.version == 1


def test_upsert_with_a_new_name_updates_it_and_audits_the_diff(tree, actor):
    region, outcome = ops.upsert_region("91.71", "Kota  Uji Baru", "kabkota", "91", actor=actor)
    assert (region, outcome) == (tree.kab, "updated")
    assert tree.kab.name == "Kota Uji Baru"
    assert tree.kab.version == 2
    [entry] = audit("region.update", tree.kab.id)
    assert entry.changes == {"name": ["Kota Uji", "Kota Uji Baru"]}


def test_the_level_of_an_existing_code_cannot_change(tree, actor):
    exc = refused("level", ops.upsert_region, "91", "Provinsi Uji", "kabkota", "91", actor=actor)
    assert "91" in str(exc.message)
    assert tree.prov.level is RegionLevel.PROVINSI


def test_the_parent_of_an_existing_code_cannot_change(tree, actor):
    refused(
        "parent_code",
        ops.upsert_region,
        "91.71.01",
        "Kecamatan Uji",
        "kecamatan",
        "91.72",
        actor=actor,
    )
    assert tree.kec.parent is tree.kab


def test_an_existing_province_cannot_gain_a_parent(tree, actor):
    refused("parent_code", ops.upsert_region, "91", "Provinsi Uji", "provinsi", "91", actor=actor)


# --- regions: refused rows -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "code", "parent"),
    [
        ("provinsi", "9", None),
        ("provinsi", "912", None),
        ("provinsi", "9a", None),
        ("provinsi", "٩٢", None),  # Arabic-Indic digits are not Kemendagri digits
        ("kabkota", "9171", "91"),
        ("kabkota", "91.7", "91"),
        ("kabkota", "91-71", "91"),
        ("kabkota", "91.71.", "91"),
        ("kecamatan", "91.71.1", "91.71"),
        ("kecamatan", "91.71.001", "91.71"),
        ("desa", "91.71.01.101", "91.71.01"),
        ("desa", "91.71.01.10011", "91.71.01"),
        ("desa", "91.71.01.1O01", "91.71.01"),
        ("desa", "", "91.71.01"),
    ],
)
def test_a_code_must_have_the_form_of_its_level(tree, actor, level, code, parent):
    exc = refused("code", ops.upsert_region, code, "Nama", level, parent, actor=actor)
    assert ops.CODE_FORMS[RegionLevel(level)][0] in str(exc.message)


def test_an_unknown_level_is_refused(actor):
    refused("level", ops.upsert_region, "92", "Nama", "kabupaten", None, actor=actor)


def test_a_province_has_no_parent(tree, actor):
    refused("parent_code", ops.upsert_region, "92", "Nama", "provinsi", "91", actor=actor)


@pytest.mark.parametrize(
    ("level", "code"),
    [
        ("kabkota", "91.73"),
        ("kecamatan", "91.71.02"),
        ("desa", "91.71.01.1002"),
    ],
)
def test_every_other_level_needs_a_parent(tree, actor, level, code):
    refused("parent_code", ops.upsert_region, code, "Nama", level, None, actor=actor)


def test_the_parent_must_exist(tree, actor):
    exc = refused(
        "parent_code", ops.upsert_region, "91.79.01", "Nama", "kecamatan", "91.79", actor=actor
    )
    assert "91.79" in str(exc.message)


@pytest.mark.parametrize(
    ("level", "code", "parent"),
    [
        ("kecamatan", "91.71.02", "91"),  # a province is two levels up
        ("desa", "91.71.01.1002", "91.71"),  # a kabupaten is two levels up
        ("kabkota", "91.71", "91.71.01"),  # a kecamatan is below
    ],
)
def test_the_parent_must_be_of_the_level_directly_above(tree, actor, level, code, parent):
    refused("parent_code", ops.upsert_region, code, "Nama", level, parent, actor=actor)


@pytest.mark.parametrize(
    ("level", "code", "parent"),
    [
        ("kabkota", "92.71", "91"),
        ("kecamatan", "91.72.01", "91.71"),
        ("desa", "91.71.02.1001", "91.71.01"),
    ],
)
def test_the_code_must_lie_under_the_parents_code(tree, actor, level, code, parent):
    exc = refused("code", ops.upsert_region, code, "Nama", level, parent, actor=actor)
    assert parent + "." in str(exc.message)


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_name_is_required_and_at_most_200_characters(actor, name):
    refused("name", ops.upsert_region, "92", name, "provinsi", None, actor=actor)


def test_a_name_of_200_characters_is_accepted(actor):
    region, _ = ops.upsert_region("92", "x" * 200, "provinsi", None, actor=actor)
    assert len(region.name) == 200


def test_a_refused_row_writes_nothing(tree, actor):
    regions = db.session.scalar(select(func.count(Region.id)))
    entries = db.session.scalar(select(func.count(AuditEntry.id)))
    refused("code", ops.upsert_region, "92.71", "Nama", "kabkota", "91", actor=actor)
    assert db.session.scalar(select(func.count(Region.id))) == regions
    assert db.session.scalar(select(func.count(AuditEntry.id))) == entries


# --- regions: the admin forms --------------------------------------------------------------


def test_create_region_creates_and_audits(tree, actor):
    region = ops.create_region("91.71.02", "Kecamatan Dua", "kecamatan", "91.71", actor=actor)
    assert region.parent is tree.kab
    assert len(audit("region.create", region.id)) == 1


def test_create_region_refuses_an_existing_code(tree, actor):
    refused("code", ops.create_region, "91.71", "Kota Uji", "kabkota", "91", actor=actor)


def test_create_region_checks_the_same_rules(tree, actor):
    refused("code", ops.create_region, "91.7", "Nama", "kabkota", "91", actor=actor)
    refused("parent_code", ops.create_region, "91.73", "Nama", "kabkota", None, actor=actor)
    refused("code", ops.create_region, "92.73", "Nama", "kabkota", "91", actor=actor)


def test_update_region_renames_and_audits(tree, actor):
    ops.update_region(tree.kec, name=" Kecamatan  Baru ", expected_version=1, actor=actor)
    assert tree.kec.name == "Kecamatan Baru"
    assert tree.kec.version == 2
    [entry] = audit("region.update", tree.kec.id)
    assert entry.changes == {"name": ["Kecamatan Uji", "Kecamatan Baru"]}


def test_update_region_with_the_same_name_writes_nothing(tree, actor):
    ops.update_region(tree.kec, name="Kecamatan Uji", expected_version=1, actor=actor)
    assert tree.kec.version == 1
    assert audit("region.update", tree.kec.id) == []


def test_update_region_refuses_a_stale_version(tree, actor):
    ops.update_region(tree.kec, name="Pertama", expected_version=1, actor=actor)
    exc = refused(None, ops.update_region, tree.kec, name="Kedua", expected_version=1, actor=actor)
    assert "Reload" in english(exc.message)
    assert tree.kec.name == "Pertama"


def test_update_region_refuses_an_empty_name(tree, actor):
    refused("name", ops.update_region, tree.kec, name="  ", expected_version=1, actor=actor)
    assert tree.kec.name == "Kecamatan Uji"


# --- population ----------------------------------------------------------------------------


def upsert(actor, code="91.71", year=2025, sex="P", age_from=0, age_to=17, count=1000):
    return ops.upsert_population(code, year, sex, age_from, age_to, count, actor=actor)


def test_upsert_population_creates_and_audits(tree, actor):
    pop, outcome = upsert(actor)
    assert outcome == "created"
    assert (pop.region, pop.year, pop.sex, pop.age_from, pop.age_to, pop.count) == (
        tree.kab,
        2025,
        Sex.P,
        0,
        17,
        1000,
    )
    [entry] = audit("population.create", pop.id)
    assert entry.changes == {
        "region": "91.71",
        "year": 2025,
        "sex": "P",
        "age_from": 0,
        "age_to": 17,
        "count": 1000,
    }


def test_upsert_population_accepts_an_open_ended_range_and_lowercase_sex(tree, actor):
    pop, _ = upsert(actor, sex="l", age_from=75, age_to=None)
    assert pop.sex is Sex.L and pop.age_to is None


def test_upsert_population_of_the_same_row_is_unchanged(tree, actor):
    upsert(actor)
    pop, outcome = upsert(actor)
    assert outcome == "unchanged"
    assert audit("population.update", pop.id) == []


def test_the_same_age_from_is_the_same_row(tree, actor):
    pop, _ = upsert(actor)
    same, outcome = upsert(actor, age_to=14, count=900)
    assert outcome == "updated" and same is pop
    assert (pop.age_to, pop.count) == (14, 900)
    [entry] = audit("population.update", pop.id)
    assert entry.changes == {"age_to": [17, 14], "count": [1000, 900]}
    assert db.session.scalar(select(func.count(Population.id))) == 1


@pytest.mark.parametrize(
    ("age_from", "age_to", "field"),
    [
        (3, 6, "age_from"),  # starts inside 0-4
        (4, 4, "age_from"),
        (1, None, "age_from"),
        (12, None, "age_from"),  # starts inside 10-14
        (14, 20, "age_from"),
        (8, 12, "age_to"),  # ends inside 10-14
        (5, 10, "age_to"),
        (5, None, "age_to"),
    ],
)
def test_overlapping_age_ranges_are_refused(tree, actor, age_from, age_to, field):
    upsert(actor, age_from=0, age_to=4)
    upsert(actor, age_from=10, age_to=14)
    exc = refused(field, upsert, actor, age_from=age_from, age_to=age_to)
    assert "overlap" in english(exc.message)
    assert db.session.scalar(select(func.count(Population.id))) == 2


def test_widening_a_range_into_its_neighbour_is_refused(tree, actor):
    pop, _ = upsert(actor, age_from=0, age_to=4)
    upsert(actor, age_from=5, age_to=9)
    refused("age_to", upsert, actor, age_from=0, age_to=6)
    assert pop.age_to == 4


@pytest.mark.parametrize(("age_from", "age_to"), [(5, 9), (15, None), (5, 5)])
def test_adjacent_age_ranges_are_accepted(tree, actor, age_from, age_to):
    upsert(actor, age_from=0, age_to=4)
    upsert(actor, age_from=10, age_to=14)
    _, outcome = upsert(actor, age_from=age_from, age_to=age_to)
    assert outcome == "created"


def test_ranges_of_another_sex_year_or_region_do_not_overlap(tree, actor):
    upsert(actor, age_from=0, age_to=None)
    assert upsert(actor, sex="L", age_from=0, age_to=None)[1] == "created"
    assert upsert(actor, year=2024, age_from=0, age_to=None)[1] == "created"
    assert upsert(actor, code="91.72", age_from=0, age_to=None)[1] == "created"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "91.79"}, "region_code"),
        ({"code": ""}, "region_code"),
        ({"year": 1899}, "year"),
        ({"year": 2201}, "year"),
        ({"year": "2025"}, "year"),
        ({"year": True}, "year"),
        ({"sex": "X"}, "sex"),
        ({"sex": ""}, "sex"),
        ({"age_from": -1}, "age_from"),
        ({"age_from": 151, "age_to": None}, "age_from"),
        ({"age_from": 10, "age_to": 9}, "age_to"),
        ({"age_to": 151}, "age_to"),
        ({"age_to": 17.0}, "age_to"),
        ({"count": -1}, "count"),
        ({"count": 1.5}, "count"),
        ({"count": 10_000_000_001}, "count"),
    ],
)
def test_invalid_population_rows_are_refused(tree, actor, changes, field):
    refused(field, upsert, actor, **changes)
    assert db.session.scalar(select(func.count(Population.id))) == 0


def test_the_limits_themselves_are_accepted(tree, actor):
    for year in (1900, 2200):
        upsert(actor, year=year, age_from=150, age_to=150, count=0)
    assert db.session.scalar(select(func.count(Population.id))) == 2


def test_create_population_adds_a_row(tree, actor):
    pop = ops.create_population(tree.kec, 2025, Sex.L, 18, None, 5000, actor=actor)
    assert pop.region is tree.kec and pop.count == 5000
    assert len(audit("population.create", pop.id)) == 1


def test_create_population_refuses_an_existing_age_from(tree, actor):
    upsert(actor)
    refused("age_from", ops.create_population, tree.kab, 2025, "P", 0, 4, 10, actor=actor)


def test_create_population_refuses_an_overlap(tree, actor):
    upsert(actor)
    refused("age_from", ops.create_population, tree.kab, 2025, "P", 10, None, 10, actor=actor)


def test_update_population_changes_the_count_and_audits(tree, actor):
    pop, _ = upsert(actor)
    ops.update_population(pop, count=1200, actor=actor)
    assert pop.count == 1200
    [entry] = audit("population.update", pop.id)
    assert entry.changes == {"count": [1000, 1200]}


def test_update_population_refuses_a_negative_count(tree, actor):
    pop, _ = upsert(actor)
    refused("count", ops.update_population, pop, count=-5, actor=actor)
    assert pop.count == 1000


def test_delete_population_removes_the_row_and_audits(tree, actor):
    pop, _ = upsert(actor)
    pop_id = pop.id
    ops.delete_population(pop, actor=actor)
    assert db.session.get(Population, pop_id) is None
    [entry] = audit("population.delete", pop_id)
    assert entry.changes["count"] == 1000 and entry.changes["region"] == "91.71"


def test_operations_never_commit(tree, actor, monkeypatch):
    def no_commit() -> None:
        raise AssertionError("an operation committed")

    monkeypatch.setattr(db.session, "commit", no_commit)
    ops.upsert_region("91.73", "Kab", "kabkota", "91", actor=actor)
    pop, _ = upsert(actor)
    ops.update_population(pop, count=1, actor=actor)
    ops.delete_population(pop, actor=actor)
    assert get_region_by_code("91.73") is not None
