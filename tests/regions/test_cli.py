"""``flask regions import`` and ``flask population import`` (interfaces.md §2): a good file is
applied and counted, a file with any bad row writes nothing and names every bad line."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.enums import RegionLevel, Sex
from app.extensions import db
from app.regions.models import Population, Region
from app.regions.queries import get_region_by_code

GOOD_REGIONS = """code,name,level,parent_code
91,Provinsi Uji,provinsi,
91.71,Kota Uji,kabkota,91
91.71.01,Kecamatan Satu,kecamatan,91.71
91.71.01.1001,Desa Satu,desa,91.71.01
91.71.02,"Kecamatan Dua, Utara",kecamatan,91.71
"""


@pytest.fixture
def english(app, monkeypatch):
    """Run the commands in English (they use the default locale, which is Indonesian)."""
    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", "en")


@pytest.fixture
def run(app, tmp_path):
    runner = app.test_cli_runner()
    files = iter(range(1000))

    def invoke(group: str, text: str | None, *options: str, path=None):
        if path is None:
            path = tmp_path / f"file{next(files)}.csv"
            path.write_text(text, encoding="utf-8")
        return runner.invoke(args=[group, "import", str(path), *options])

    return invoke


def test_region_columns(app):
    from app.regions.cli import POPULATION_COLUMNS, REGION_COLUMNS

    assert REGION_COLUMNS == ("code", "name", "level", "parent_code")
    assert POPULATION_COLUMNS == ("region_code", "year", "sex", "age_from", "age_to", "count")


def region_codes() -> list[str]:
    return list(
        db.session.scalars(select(Region.code).where(Region.code.like("91%")).order_by(Region.code))
    )


def bad_lines(output: str) -> list[int]:
    return [int(n) for n in re.findall(r"^line (\d+): ", output, flags=re.MULTILINE)]


# --- regions -------------------------------------------------------------------------------


def test_a_good_region_file_is_imported(run):
    result = run("regions", GOOD_REGIONS)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created 5, updated 0, unchanged 0"
    assert region_codes() == ["91", "91.71", "91.71.01", "91.71.01.1001", "91.71.02"]
    desa = get_region_by_code("91.71.01.1001")
    assert desa.level is RegionLevel.DESA and desa.parent.code == "91.71.01"
    assert get_region_by_code("91.71.02").name == "Kecamatan Dua, Utara"
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "region.create"))
    assert {e.actor_label for e in entries} == {"import"}


def test_re_running_the_same_file_changes_nothing(run):
    run("regions", GOOD_REGIONS)
    result = run("regions", GOOD_REGIONS)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created 0, updated 0, unchanged 5"


def test_a_renamed_region_is_updated(run):
    run("regions", GOOD_REGIONS)
    result = run("regions", GOOD_REGIONS.replace("Desa Satu", "Kelurahan Satu"))
    assert result.output.strip() == "created 0, updated 1, unchanged 4"
    assert get_region_by_code("91.71.01.1001").name == "Kelurahan Satu"


def test_the_columns_may_come_in_any_order(run):
    result = run(
        "regions",
        "level,parent_code,name,code\nprovinsi,,Provinsi Uji,91\nkabkota,91,Kota Uji,91.71\n",
    )
    assert result.exit_code == 0, result.output
    assert region_codes() == ["91", "91.71"]


def test_a_bad_region_file_names_every_bad_line_and_writes_nothing(run, english):
    text = (
        "code,name,level,parent_code\n"  # line 1
        "91,Provinsi Uji,provinsi,\n"  # line 2: good
        "91.7,Kota Uji,kabkota,91\n"  # line 3: bad code
        "91.72,Kota Dua,kabupaten,91\n"  # line 4: unknown level
        "\n"  # line 5: blank, skipped
        "92.71,Kota Lain,kabkota,91\n"  # line 6: not under its parent
        "91.73,,kabkota,91\n"  # line 7: no name
        "91.74,Kota Empat,kabkota\n"  # line 8: a value missing
        "91.71.01,Kecamatan,kecamatan,91\n"  # line 9: parent two levels up
    )
    result = run("regions", text)
    assert result.exit_code != 0
    assert bad_lines(result.output) == [3, 4, 6, 7, 8, 9]
    assert "NN.NN" in result.output and "91." in result.output
    assert "6 bad row(s); nothing was imported" in result.output
    assert region_codes() == []
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action == "region.create", AuditEntry.actor_label == "import"
            )
        )
        == 0
    )


def test_a_mixed_region_file_writes_nothing(run):
    result = run("regions", GOOD_REGIONS + "91.71.01.999,Desa Rusak,desa,91.71.01\n")
    assert result.exit_code != 0
    assert bad_lines(result.output) == [7]
    assert region_codes() == []


def test_a_parent_must_come_before_its_children(run, english):
    result = run(
        "regions",
        "code,name,level,parent_code\n91.71,Kota Uji,kabkota,91\n91,Provinsi Uji,provinsi,\n",
    )
    assert result.exit_code != 0
    assert bad_lines(result.output) == [2]
    assert "earlier line" in result.output
    assert region_codes() == []


def test_a_repeated_code_is_a_bad_row(run, english):
    result = run("regions", GOOD_REGIONS + "91.71,Kota Uji Lagi,kabkota,91\n")
    assert result.exit_code != 0
    assert bad_lines(result.output) == [7]
    assert "already on line 3" in result.output
    assert region_codes() == []


def test_changing_the_level_or_parent_of_a_stored_region_is_refused(run, english):
    run("regions", GOOD_REGIONS + "91.72,Kota Dua,kabkota,91\n")
    result = run(
        "regions",
        "code,name,level,parent_code\n"
        "91.71.01,Kecamatan Satu,kecamatan,91.72\n"
        "91,Provinsi Uji,kabkota,91\n",
    )
    assert result.exit_code != 0
    assert bad_lines(result.output) == [2, 3]
    assert "cannot change" in result.output
    assert get_region_by_code("91.71.01").parent.code == "91.71"


@pytest.mark.parametrize(
    "header",
    [
        "code,name,level",
        "code,name,level,parent_code,extra",
        "kode,nama,tingkat,induk",
        "",
    ],
)
def test_a_wrong_header_is_refused_in_one_line(run, header):
    result = run("regions", header + ("\n91,Provinsi Uji,provinsi,\n" if header else ""))
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert region_codes() == []


def test_a_missing_file_is_refused_in_one_line(run, tmp_path):
    result = run("regions", None, path=tmp_path / "nowhere.csv")
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1
    assert "nowhere.csv" in result.output


def test_a_file_that_is_not_utf8_is_refused(run, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("code,name,level,parent_code\n91,Prov\xednsi,provinsi,\n".encode("latin-1"))
    result = run("regions", None, path=path)
    assert result.exit_code != 0
    assert region_codes() == []


def test_a_byte_order_mark_is_accepted(run, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text(GOOD_REGIONS, encoding="utf-8-sig")
    result = run("regions", None, path=path)
    assert result.exit_code == 0, result.output


def test_a_dry_run_counts_and_writes_nothing(run):
    result = run("regions", GOOD_REGIONS, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "created 5, updated 0, unchanged 0" in result.output
    assert "nothing written" in result.output
    assert region_codes() == []


def test_a_dry_run_still_reports_bad_rows(run):
    result = run("regions", GOOD_REGIONS + "91.7,Kota,kabkota,91\n", "--dry-run")
    assert result.exit_code != 0
    assert bad_lines(result.output) == [7]


# --- population ----------------------------------------------------------------------------


GOOD_POPULATION = """region_code,year,sex,age_from,age_to,count
91.71,2025,P,0,17,20000
91.71,2025,P,18,,40000
91.71,2025,L,0,17,20000
91.71,2025,L,18,,38000
"""


@pytest.fixture
def regions(run):
    result = run("regions", GOOD_REGIONS)
    assert result.exit_code == 0, result.output


def population() -> list[tuple]:
    rows = db.session.scalars(select(Population).order_by(Population.sex, Population.age_from))
    return [(p.region.code, p.year, p.sex.value, p.age_from, p.age_to, p.count) for p in rows]


def test_a_good_population_file_is_imported(run, regions):
    result = run("population", GOOD_POPULATION)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created 4, updated 0, unchanged 0"
    assert population() == [
        ("91.71", 2025, "L", 0, 17, 20000),
        ("91.71", 2025, "L", 18, None, 38000),
        ("91.71", 2025, "P", 0, 17, 20000),
        ("91.71", 2025, "P", 18, None, 40000),
    ]
    assert db.session.scalar(select(Population.sex).limit(1)) in (Sex.L, Sex.P)


def test_re_running_a_population_file_is_unchanged_and_a_new_count_updates(run, regions):
    run("population", GOOD_POPULATION)
    assert run("population", GOOD_POPULATION).output.strip() == "created 0, updated 0, unchanged 4"
    result = run("population", GOOD_POPULATION.replace("38000", "38500"))
    assert result.output.strip() == "created 0, updated 1, unchanged 3"
    assert ("91.71", 2025, "L", 18, None, 38500) in population()


def test_a_bad_population_file_names_every_bad_line_and_writes_nothing(run, regions, english):
    text = (
        "region_code,year,sex,age_from,age_to,count\n"  # 1
        "91.71,2025,P,0,17,20000\n"  # 2: good
        "91.71,20x5,P,18,,40000\n"  # 3: year not a number
        "91.71,2025,X,0,17,100\n"  # 4: sex
        "91.79,2025,L,0,17,100\n"  # 5: unknown region
        "91.71,2025,L,10,5,100\n"  # 6: age_to below age_from
        "91.71,2025,L,0,17,-5\n"  # 7: negative count
        "91.71,2025,L,18,,1.000\n"  # 8: count not a whole number
        "91.71,2025,P,10,30,100\n"  # 9: overlaps line 2
        "91.71,1800,P,0,17,100\n"  # 10: year out of range
        "91.71,2025,P,0,17,20000\n"  # 11: repeats line 2
    )
    result = run("population", text)
    assert result.exit_code != 0
    assert bad_lines(result.output) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "year: '20x5' is not a whole number" in result.output
    assert "count: '1.000' is not a whole number" in result.output
    assert "overlap" in result.output and "91.79" in result.output
    assert population() == []


def test_a_mixed_population_file_writes_nothing(run, regions):
    result = run("population", GOOD_POPULATION + "91.71,2025,L,5,9,-1\n")
    assert result.exit_code != 0
    assert bad_lines(result.output) == [6]
    assert population() == []


def test_a_population_file_with_a_wrong_header_is_refused(run, regions):
    result = run("population", "region,year,sex,age_from,age_to,count\n91.71,2025,P,0,,1\n")
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1
    assert "region_code" in result.output
    assert population() == []


def test_a_population_dry_run_writes_nothing(run, regions):
    result = run("population", GOOD_POPULATION, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "created 4, updated 0, unchanged 0" in result.output
    assert population() == []


def test_population_needs_the_regions_first(run):
    result = run("population", GOOD_POPULATION)
    assert result.exit_code != 0
    assert bad_lines(result.output) == [2, 3, 4, 5]
