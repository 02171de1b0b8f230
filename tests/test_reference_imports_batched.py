"""The reference imports (``flask regions|agencies|population import``) read what a file needs
once and write the file together: the SQL statements of an import do not grow with its rows, the
audit chain verifies after one, and a refusal of the database ends the command with its reason
having written nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from app.agencies.models import Agency
from app.audit.queries import verify_chain
from app.extensions import db
from app.regions import operations as region_ops
from app.regions.models import Population, Region


@pytest.fixture
def english(app, monkeypatch):
    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", "en")


@pytest.fixture
def run(app, tmp_path):
    runner = app.test_cli_runner()
    files = iter(range(1000))

    def invoke(group: str, text: str):
        path = tmp_path / f"file{next(files)}.csv"
        path.write_text(text, encoding="utf-8")
        return runner.invoke(args=[group, "import", str(path)])

    return invoke


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []
    engine = db.engine

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def regions_file(kecamatan: int) -> str:
    rows = ["code,name,level,parent_code", "93,Provinsi Uji,provinsi,", "93.71,Kota Uji,kabkota,93"]
    rows += [f"93.71.{k:02d},Kecamatan {k},kecamatan,93.71" for k in range(1, kecamatan + 1)]
    return "\n".join(rows) + "\n"


def population_file(kecamatan: int) -> str:
    rows = ["region_code,year,sex,age_from,age_to,count"]
    for k in range(1, kecamatan + 1):
        for sex in ("L", "P"):
            rows += [f"93.71.{k:02d},2025,{sex},0,17,100", f"93.71.{k:02d},2025,{sex},18,,300"]
    return "\n".join(rows) + "\n"


def agencies_file(n: int, *, first: int = 1) -> str:
    rows = ["code,name,type,region_code,services"]
    rows += [
        f"UJI-{i:04d},Lembaga Uji {i},faskes,93.71.01,rehabilitasi_kesehatan;kedaruratan"
        for i in range(first, first + n)
    ]
    return "\n".join(rows) + "\n"


def test_the_statements_of_a_reference_import_do_not_grow_with_its_rows(run, english):
    with statements() as small:
        assert run("regions", regions_file(3)).exit_code == 0
    with statements() as large:
        assert run("regions", regions_file(60).replace("93", "94")).exit_code == 0
    assert len(large) <= len(small) + 2, (len(small), len(large))

    with statements() as small:
        assert run("population", population_file(3)).exit_code == 0
    with statements() as large:
        assert run("population", population_file(40).replace("93.71", "94.71")).exit_code == 0
    # the rows of a year read for the regions of one parent together, whatever their number
    assert len(large) <= len(small) + 2, (len(small), len(large))

    with statements() as small:
        assert run("agencies", agencies_file(3)).exit_code == 0
    with statements() as large:
        assert run("agencies", agencies_file(80, first=100)).exit_code == 0
    assert len(large) <= len(small) + 2, (len(small), len(large))

    assert (
        db.session.scalar(
            select(func.count()).select_from(Region).where(Region.code.like("9_.71.%"))
        )
        == 63
    )
    assert db.session.scalar(select(func.count()).select_from(Population)) == 4 * 43
    assert (
        db.session.scalar(select(func.count()).select_from(Agency).where(Agency.code.like("UJI-%")))
        == 83
    )
    assert verify_chain().problems == []


def test_updating_through_an_import_is_counted_and_audited(run, english):
    assert run("regions", regions_file(2)).output.strip() == "created 4, updated 0, unchanged 0"
    renamed = regions_file(2).replace("Kecamatan 2", "Kecamatan Dua")
    assert run("regions", renamed).output.strip() == "created 0, updated 1, unchanged 3"
    assert run("population", population_file(2)).exit_code == 0
    changed = population_file(2).replace(",18,,300", ",18,,301")
    assert run("population", changed).output.strip() == "created 0, updated 4, unchanged 4"
    assert run("agencies", agencies_file(2)).exit_code == 0
    fewer = agencies_file(2).replace(";kedaruratan", "")
    assert run("agencies", fewer).output.strip() == "created 0, updated 2, unchanged 0"
    agency = db.session.scalar(select(Agency).where(Agency.code == "UJI-0001"))
    db.session.refresh(agency)
    assert [s.service_type.value for s in agency.services] == ["rehabilitasi_kesehatan"]
    assert verify_chain().problems == []


def test_a_file_the_database_refuses_writes_nothing_and_says_why(run, english, monkeypatch):
    assert run("regions", regions_file(1)).exit_code == 0
    before = db.session.scalar(select(func.count()).select_from(Region))
    # a book that misses what is stored: the file's rows would all be new, and the database
    # refuses the codes it already has when the file is written
    real_init = region_ops.ImportBook.__init__

    def forgetful(self: region_ops.ImportBook) -> None:
        real_init(self)
        self.regions.clear()

    monkeypatch.setattr(region_ops.ImportBook, "__init__", forgetful)
    result = run("regions", regions_file(1) + "93.71.09,Kecamatan Baru,kecamatan,93.71\n")
    assert result.exit_code == 1
    assert result.output.startswith("Error: the database refused the file (")
    assert len(result.output.strip().splitlines()) == 1
    assert db.session.scalar(select(func.count()).select_from(Region)) == before


def test_new_rows_under_rows_stored_before_are_inserted_with_their_parents(run, english):
    """The new rows of a file are inserted table by table with their ids (PostgreSQL), beside
    the changes to rows stored before: a kecamatan under a stored kabkota, a desa under a new
    kecamatan, a new province after them with its kabkota, a rename, agencies with their
    services in a stored region."""
    from app.audit.models import AuditEntry

    assert run("regions", regions_file(1)).exit_code == 0
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    more = regions_file(3).replace("Kecamatan 1", "Kecamatan Satu") + (
        "93.71.02.2001,Desa Uji,desa,93.71.02\n"
        "95,Provinsi Baru,provinsi,\n"
        "95.01,Kabupaten Baru,kabkota,95\n"
    )
    result = run("regions", more)
    assert result.output.strip() == "created 5, updated 1, unchanged 2", result.exception
    stored = {
        region.code: (region.name, region.level.value, region.parent and region.parent.code)
        for region in db.session.scalars(
            select(Region).where(Region.code.like("93%") | Region.code.like("95%"))
        )
    }
    assert stored == {
        "93": ("Provinsi Uji", "provinsi", None),
        "93.71": ("Kota Uji", "kabkota", "93"),
        "93.71.01": ("Kecamatan Satu", "kecamatan", "93.71"),
        "93.71.02": ("Kecamatan 2", "kecamatan", "93.71"),
        "93.71.03": ("Kecamatan 3", "kecamatan", "93.71"),
        "93.71.02.2001": ("Desa Uji", "desa", "93.71.02"),
        "95": ("Provinsi Baru", "provinsi", None),
        "95.01": ("Kabupaten Baru", "kabkota", "95"),
    }
    assert run("agencies", agencies_file(2)).exit_code == 0
    services = {
        agency.code: [s.service_type.value for s in agency.services]
        for agency in db.session.scalars(select(Agency).where(Agency.code.like("UJI-%")))
    }
    assert services == {
        "UJI-0001": ["kedaruratan", "rehabilitasi_kesehatan"],
        "UJI-0002": ["kedaruratan", "rehabilitasi_kesehatan"],
    }
    # a service taken away from a stored agency, then given back (a new row under it)
    fewer = agencies_file(1).replace(";kedaruratan", "")
    assert run("agencies", fewer).output.strip() == "created 0, updated 1, unchanged 0"
    again = agencies_file(1).replace("rehabilitasi_kesehatan;kedaruratan", "kedaruratan")
    assert run("agencies", again).output.strip() == "created 0, updated 1, unchanged 0"
    agency = db.session.scalar(select(Agency).where(Agency.code == "UJI-0001"))
    db.session.refresh(agency)
    assert [s.service_type.value for s in agency.services] == ["kedaruratan"]
    # the rename and five regions, two agencies, then two changes: one entry each
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries + 10
    assert verify_chain().problems == []
