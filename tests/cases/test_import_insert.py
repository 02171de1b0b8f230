"""``flask cases import`` on PostgreSQL writes each batch as plain rows, table by table
(``app.intake.rows``), instead of ORM objects flushed through the unit of work: the rows it
writes are those the flush writes, and those the import of each record on its own writes through
the intake's operation (``register_case``) — every column of every table, foreign keys pointing
at the same rows, the same audit entries sealed into a chain that verifies — and a batch takes
the same statements whatever its size."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from app.audit.operations import SystemActor
from app.audit.queries import verify_chain
from app.extensions import Model, db
from app.intake import importing
from tests.cases.test_import import english as english_fixture
from tests.cases.test_import import line, terminated
from tests.cases.test_import import world as world_fixture
from tests.cases.test_import_chunks import records
from tests.sql_count import count_statements

world = world_fixture
english = english_fixture

# What an import writes. Left out of the comparison: the time the row was written (the two
# imports run a moment apart) and what the seal computes from it.
TABLES = (
    "cases",
    "case_types",
    "persons",
    "victims",
    "victim_violence_types",
    "victim_ampk_categories",
    "perpetrators",
    "perpetrator_relations",
    "guardians",
    "witnesses",
    "consent_entries",
    "service_tracks",
    "case_transitions",
    "audit_entries",
)
WRITTEN_AT = {"created_at", "updated_at", "recorded_at"}
SEAL = {"at", "prev_hash", "entry_hash", "hmac"}


def table_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables, decrypted (the ciphertext differs on every write)."""
    tables = Model.metadata.tables
    return {
        name: [dict(row._mapping) for row in db.session.execute(sa.select(tables[name]))]
        for name in TABLES
    }


def keys() -> dict[str, set[tuple[Any, ...]]]:
    tables = Model.metadata.tables
    return {
        name: {tuple(row) for row in db.session.execute(sa.select(*tables[name].primary_key))}
        for name in TABLES
    }


def written(before: dict[str, set[tuple[Any, ...]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows added since ``before`` (their keys), each id replaced by its rank among the new
    rows of its table (the two imports take different ids from the sequences), and the columns
    that hold the time of writing left out."""
    tables = Model.metadata.tables

    def key(name: str, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[c.key] for c in tables[name].primary_key.columns)

    new = {
        name: sorted(
            (row for row in rows if key(name, row) not in before[name]),
            key=lambda row, name=name: key(name, row),
        )
        for name, rows in table_rows().items()
    }
    rank = {
        name: {row["id"]: i for i, row in enumerate(rows)}
        for name, rows in new.items()
        if "id" in tables[name].columns
    }

    def renumber(table: sa.Table, column: sa.Column[Any], value: Any) -> Any:
        if column.primary_key and column.key == "id":
            return ("id", rank[table.name][value])
        for fk in column.foreign_keys:
            target = fk.column.table.name
            if target in rank and value in rank[target]:
                return (target, rank[target][value])
        return value

    result: dict[str, list[dict[str, Any]]] = {}
    for name, rows in new.items():
        table = tables[name]
        result[name] = []
        for row in rows:
            out = {
                key: renumber(table, table.columns[key], value)
                for key, value in row.items()
                if key not in WRITTEN_AT and not (name == "audit_entries" and key in SEAL)
            }
            if name == "audit_entries":
                if out["object_type"] == "case":
                    out["object_id"] = ("cases", rank["cases"][int(out["object_id"])])
                changes = dict(out["changes"])
                if "track" in changes:
                    changes["track"] = ("service_tracks", rank["service_tracks"][changes["track"]])
                out["changes"] = changes
            result[name].append(out)
    return result


def rich() -> list[str]:
    """Records that fill what ``records`` leaves empty: a guardian who is also the perpetrator,
    an AMPK child, a TPPO screening, a consent given twice (recorded once), several victims and
    perpetrators, a case closed without completion."""
    child = terminated()
    child["external_id"] = "rich-1"
    child["case_types"] = ["kta", "tpks", "ampk"]
    child["victims"][0]["ampk_categories"] = ["kejahatan_seksual", "kekerasan_fisik_psikis"]
    child["victims"][0]["guardians"].append(
        {"name": " Pelaku Wali ", "relation": "ayah", "phone": "0811000", "perpetrator": "x1"}
    )
    child["victims"][0]["consents"].append(dict(child["victims"][0]["consents"][0]))
    child["perpetrators"][0]["key"] = "x1"
    child["perpetrators"].append(
        {"sex": "P", "notes": "catatan", "relationship": {"v1": "tetangga"}}
    )
    child["victims"].append(
        {
            "key": "v2",
            "sex": "L",
            "name": "Adik Fiktif",
            "nik": "3273010101150001",
            "birth_date": "2015-01-01",
            "violence_types": ["psikis", "psikis"],
            "address": "Jl. Fiktif 1",
            "phone": "0812000",
            "consents": [
                {
                    "purpose": "layanan",
                    "decision": "setuju",
                    "given_by": "wali",
                    "at": "2025-05-02T14:00:00+07:00",
                }
            ],
        }
    )
    child["witnesses"].append({"name": "Saksi Dua", "phone": "0813000"})
    tppo = {
        "external_id": "rich-2",
        "agency": "UPTDPPA-3273",
        "received_at": "2025-08-01T10:00:00+07:00",
        "channel": "rujukan_masuk",
        "case_types": ["tppo"],
        "risk": "tinggi",
        "victims": [
            {
                "key": "v1",
                "sex": "P",
                "birth_date": "2008-02-10",
                "violence_types": ["trafficking", "eksploitasi"],
                "tppo": {
                    "proses": ["perekrutan", "pengiriman", "perekrutan"],
                    "cara": ["penipuan", "jeratan_utang"],
                    "tujuan": ["kerja_paksa"],
                    "cross_border": True,
                    "destination_country": "Malaysia",
                    "recruiter": "Agen Fiktif",
                    "documents": "paspor ditahan agen",
                },
            }
        ],
        "perpetrators": [{"sex": "L", "relationship": {"v1": "agen_penyalur"}}],
        "status": "ditutup",
        "closed_at": "2025-08-05T10:00:00+07:00",
        "closed_reason": "Korban pindah ke luar daerah.",
    }
    return [line(child), line(tppo)]


@pytest.mark.postgres  # the batch is inserted without a flush on PostgreSQL only
def test_the_rows_inserted_are_those_the_flush_writes(world, english, monkeypatch):
    lines = records(9) + rich()
    before = keys()
    savepoint = db.session.begin_nested()
    monkeypatch.setattr(importing, "INSERT_WITHOUT_FLUSH", False)
    flushed = importing.import_lines(lines, actor=SystemActor("import"), chunk_size=4)
    assert (flushed.imported, flushed.rejected) == (11, [])
    by_flush = written(before)
    savepoint.rollback()
    assert written(before) == {name: [] for name in TABLES}

    monkeypatch.setattr(importing, "INSERT_WITHOUT_FLUSH", True)
    inserted = importing.import_lines(lines, actor=SystemActor("import"), chunk_size=4)
    assert inserted.summary() == flushed.summary()
    by_insert = written(before)
    assert by_insert == by_flush
    # the file writes something in every table an import writes
    assert {name for name, rows in by_insert.items() if rows} == set(TABLES)
    assert verify_chain().problems == []


@pytest.mark.postgres  # the batch is written as plain rows on PostgreSQL only
def test_the_rows_inserted_are_those_registering_each_record_writes(world, english):
    """The batch against each record imported on its own: ``import_case`` registers it through
    the intake's operation (``register_case``, as the form does, under the legacy rules) and
    creates its tracks through ``create_tracks``, each flushed through the unit of work."""
    lines = records(6) + rich()
    before = keys()
    savepoint = db.session.begin_nested()
    lookups = importing.Lookups()
    for text in lines:
        parsed = importing.parse_line(importing.json.loads(text))
        outcome = importing.import_case(parsed, actor=SystemActor("import"), lookups=lookups)
        assert outcome.status == "imported", outcome.reason
    one_by_one = written(before)
    savepoint.rollback()

    batch = importing.import_lines(lines, actor=SystemActor("import"))
    assert (batch.imported, batch.rejected) == (8, [])
    got = written(before)
    # the one difference: a case registered on its own is flushed three times (registered,
    # assessed and given its manager, arrived in its state), each time a new version
    assert [case.pop("version") for case in one_by_one["cases"]] == [3] * 8
    assert [case.pop("version") for case in got["cases"]] == [1] * 8
    assert got == one_by_one
    assert verify_chain().problems == []


@pytest.mark.postgres  # the batch is inserted without a flush on PostgreSQL only
def test_a_batch_takes_the_same_statements_whatever_its_size(world, english):
    def statements(first: int, n: int) -> list[str]:
        lines = records(first + n)[first:]
        with count_statements() as counted:
            result = importing.import_lines(lines, actor=SystemActor("import"), chunk_size=100)
        assert result.imported == n
        return counted.statements

    statements(0, 3)  # the agency's first case of the year starts its counter
    few, many = statements(3, 3), statements(6, 12)
    assert len(few) == len(many)
    # every row goes in with its id: nothing is read back row by row
    inserts = [s for s in many if s.lstrip().upper().startswith("INSERT")]
    assert inserts and not [s for s in inserts if "RETURNING" in s.upper()]


@pytest.mark.postgres  # the batch is inserted without a flush on PostgreSQL only
def test_the_same_file_again_inserts_nothing(world, english):
    lines = records(6)
    first = importing.import_lines(lines, actor=SystemActor("import"))
    before = keys()
    again = importing.import_lines(lines, actor=SystemActor("import"))
    assert (first.imported, again.imported, again.skipped) == (6, 0, 6)
    assert written(before) == {name: [] for name in TABLES}
