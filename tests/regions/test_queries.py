"""The read side: region listings and the population totals of domain.md §6.2."""

from __future__ import annotations

import pytest

from app.core.enums import RegionLevel, Sex
from app.extensions import db
from app.regions import operations as ops
from app.regions import queries as q


def codes(regions) -> list[str]:
    return [r.code for r in regions]


# --- regions -------------------------------------------------------------------------------


def test_regions_come_in_code_order(tree):
    rows = codes(db.session.scalars(q.regions_query(search="91")))
    assert rows == ["91", "91.71", "91.71.01", "91.71.01.1001", "91.72"]


def test_regions_filter_by_level(tree):
    page = q.list_regions(level=RegionLevel.KABKOTA, search="91")
    assert codes(page.items) == ["91.71", "91.72"]
    assert codes(q.list_regions(level="desa", search="91").items) == ["91.71.01.1001"]


def test_regions_filter_by_parent(tree):
    assert codes(q.list_regions(parent_id=tree.prov.id).items) == ["91.71", "91.72"]
    assert codes(q.list_regions(parent_id=tree.desa.id).items) == []


def test_regions_search_by_code_prefix_or_name(tree):
    assert codes(q.list_regions(search="91.71.0").items) == ["91.71.01", "91.71.01.1001"]
    assert codes(q.list_regions(search="kabupaten lain").items) == ["91.72"]
    assert codes(q.list_regions(search="UJI", parent_id=tree.prov.id).items) == ["91.71"]


@pytest.mark.parametrize("search", ["%", "_", "91\\", "1.71"])
def test_search_wildcards_are_taken_literally(tree, search):
    assert "91.71" not in codes(q.list_regions(search=search).items)


def test_regions_are_paginated(tree, actor):
    for n in range(2, 57):
        ops.upsert_region(f"91.71.{n:02d}", f"Kecamatan {n}", "kecamatan", "91.71", actor=actor)
    first = q.list_regions(parent_id=tree.kab.id, per_page=50)
    second = q.list_regions(parent_id=tree.kab.id, page=2, per_page=50)
    assert (first.total, len(first.items), len(second.items)) == (56, 50, 6)
    assert first.items[0].code == "91.71.01" and second.items[-1].code == "91.71.56"
    assert q.list_regions(parent_id=tree.kab.id, page=9).items == []


def test_children_ancestors_and_counts(tree):
    assert codes(q.region_children(tree.prov.id)) == ["91.71", "91.72"]
    assert codes(q.ancestors(tree.desa)) == ["91", "91.71", "91.71.01"]
    assert q.ancestors(tree.prov) == []
    counts = q.child_counts([tree.prov.id, tree.kab.id, tree.desa.id])
    assert counts == {tree.prov.id: 2, tree.kab.id: 1}
    assert q.child_counts([]) == {}


def test_get_region_and_get_region_by_code(tree):
    assert q.get_region(tree.kec.id) is tree.kec
    assert q.get_region_by_code("91.71.01") is tree.kec
    assert q.get_region(10**9) is None and q.get_region_by_code("99.99") is None


# --- population ----------------------------------------------------------------------------


@pytest.fixture
def figures(tree, actor):
    """Add rows to 91.71 for 2025: ``figures([("P", 0, 17, 100), ...])``."""

    def add(rows, year=2025, code="91.71"):
        for sex, age_from, age_to, count in rows:
            ops.upsert_population(code, year, sex, age_from, age_to, count, actor=actor)
        return q.get_region_by_code(code).id

    return add


def test_worked_example_of_domain_md(figures):
    """penduduk perempuan 60,000 and penduduk anak 40,000 as in domain.md §6.2."""
    region_id = figures(
        [
            ("P", 0, 17, 20_000),
            ("P", 18, None, 40_000),
            ("L", 0, 17, 20_000),
            ("L", 18, None, 38_000),
        ]
    )
    assert q.population_total(region_id, 2025, sex="P") == 60_000
    assert q.population_total(region_id, 2025, max_age=17) == 40_000
    assert q.population_total(region_id, 2025) == 118_000
    assert q.population_total(region_id, 2025, sex=Sex.L, max_age=17) == 20_000


def test_fine_age_bands_add_up(figures):
    bands = [(0, 4, 10), (5, 9, 20), (10, 14, 30), (15, 17, 40), (18, 24, 50), (25, None, 60)]
    region_id = figures([(sex, a, b, n) for sex in "PL" for a, b, n in bands])
    assert q.population_total(region_id, 2025, max_age=17) == 2 * 100
    assert q.population_total(region_id, 2025, sex="P") == 210
    assert q.population_total(region_id, 2025, max_age=4) == 20


def test_no_figures_is_none_not_zero(figures):
    region_id = figures([("P", 0, None, 1000)], year=2024)
    assert q.population_total(region_id, 2025) is None
    assert q.population_total(region_id, 2025, sex="P") is None
    assert q.population_total(region_id, 2024, sex="P") == 1000


def test_a_count_of_zero_is_zero(figures):
    region_id = figures([("P", 0, None, 0), ("L", 0, None, 0)])
    assert q.population_total(region_id, 2025) == 0


def test_a_range_straddling_17_and_18_makes_children_unknown(figures):
    region_id = figures(
        [
            ("P", 0, 14, 100),
            ("P", 15, 19, 50),
            ("P", 20, None, 300),
            ("L", 0, 17, 100),
            ("L", 18, None, 300),
        ]
    )
    assert q.population_total(region_id, 2025, max_age=17) is None
    assert q.population_total(region_id, 2025, sex="P", max_age=17) is None
    assert q.population_total(region_id, 2025, sex="L", max_age=17) == 100
    assert q.population_total(region_id, 2025, sex="P") == 450  # all ages are still known


def test_a_single_open_range_gives_no_children(figures):
    region_id = figures([("P", 0, None, 100), ("L", 0, None, 100)])
    assert q.population_total(region_id, 2025) == 200
    assert q.population_total(region_id, 2025, max_age=17) is None


def test_only_one_sex_gives_no_total_of_both(figures):
    region_id = figures([("P", 0, 17, 100), ("P", 18, None, 200)])
    assert q.population_total(region_id, 2025, sex="P") == 300
    assert q.population_total(region_id, 2025) is None
    assert q.population_total(region_id, 2025, max_age=17) is None


@pytest.mark.parametrize(
    "rows",
    [
        [("P", 0, 4, 1), ("P", 10, None, 1)],  # a gap at 5-9
        [("P", 5, None, 1)],  # does not start at 0
        [("P", 0, 17, 1), ("P", 18, 64, 1)],  # 65 and above missing
    ],
)
def test_incomplete_ranges_give_no_total(figures, rows):
    region_id = figures(rows)
    assert q.population_total(region_id, 2025, sex="P") is None


def test_children_need_ranges_up_to_17(figures):
    region_id = figures([("P", 0, 4, 1), ("P", 5, 9, 1)])
    assert q.population_total(region_id, 2025, sex="P", max_age=17) is None
    assert q.population_total(region_id, 2025, sex="P", max_age=9) == 2


def test_the_region_and_year_are_kept_apart(figures):
    here = figures([("P", 0, None, 1), ("L", 0, None, 2)])
    figures([("P", 0, None, 10), ("L", 0, None, 20)], year=2024)
    figures([("P", 0, None, 100), ("L", 0, None, 200)], code="91.72")
    assert q.population_total(here, 2025) == 3


def test_the_summary_says_why_a_total_is_missing(figures):
    region_id = figures([("P", 0, 19, 10), ("P", 20, None, 5)])
    summary = q.population_summary(region_id, 2025)
    assert summary["penduduk_perempuan"] == q.PopulationFigure(15)
    assert summary["penduduk_anak"].value is None and summary["penduduk_anak"].reason
    assert summary["penduduk"].value is None and summary["penduduk"].reason


def test_population_rows_and_years(figures):
    region_id = figures([("P", 18, None, 2), ("L", 0, None, 3), ("P", 0, 17, 1)])
    figures([("P", 0, None, 1)], year=2023)
    rows = q.population_rows(region_id, 2025)
    assert [(r.sex.value, r.age_from) for r in rows] == [("L", 0), ("P", 0), ("P", 18)]
    assert q.population_years(region_id) == [2025, 2023]
    assert q.get_population_row(region_id, 2025, "P", 18).count == 2
    assert q.get_population_row(region_id, 2025, "P", 5) is None
