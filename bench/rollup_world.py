"""A national-scale database for the rollup benchmark, built from the demo with SQL (no
generator needed; prints what it built and how long it took).

    python bench/rollup_world.py [--cases 1000000] [--keep]

into ``BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/simpul_rollup_big``),
dropped and created anew: migrate, ``load_demo()``, then the demo's world is laid out again in
514 kabupaten/kota (38 provinces) — each copy of the demo's kab/kota with its kecamatan, desa and
20 agencies of every type, plus 8 kecamatan without any agency (7,196 kecamatan in all, most of
them empty) and population figures of the kab/kota for 2021-2026 — and the demo's 264 cases,
with their persons, victims, perpetrators, guardians, consents, case types, violence types,
relations, service tracks, deadlines and referrals, are copied ``--cases / 264`` times: each copy
goes to one kab/kota (skewed: a few kab/kota hold many cases, most hold few), with its own ids,
references and dates moved back by up to four years (so the history covers 2021-2026 and every
copy keeps its own order of events). Foreign-key triggers are off during the copy
(``session_replication_role = replica``); every reference is rewritten to the copy's own rows.

Audit entries, transitions, referral events and notes are not copied: the rollup does not read
them. The real generator (``flask demo generate``) replaces this script."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/simpul_rollup_big")
KABKOTA = 514
PROVINCES = 38
EXTRA_KECAMATAN = 8
BATCH = 200  # copies of the demo per statement

# new ids: provinces, regions and agencies of kab/kota j
SETUP = f"""
CREATE OR REPLACE FUNCTION bench_j(k integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT least({KABKOTA - 1},
               floor({KABKOTA} * power((k * 0.6180339887) - floor(k * 0.6180339887), 1.8)))::int
$$;
CREATE OR REPLACE FUNCTION bench_shift(k integer) RETURNS interval LANGUAGE sql IMMUTABLE AS $$
  SELECT make_interval(days => (k * 389) % 1461)
$$;
CREATE OR REPLACE FUNCTION bench_region(j integer, old integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN old IS NULL THEN NULL
              WHEN old = 1 THEN 1000000 + j % {PROVINCES}
              ELSE 2000000 + j * 100 + old END
$$;
CREATE OR REPLACE FUNCTION bench_agency(j integer, old integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN old IS NULL THEN NULL ELSE 3000000 + j * 100 + old END
$$;
"""

# the statements below are built from this file's constants and the schema's names only
REGIONS = f"""
INSERT INTO regions (id, code, name, level, parent_id, created_at, updated_at, version)
SELECT 1000000 + p, (40 + p)::text, 'Provinsi Bench ' || (40 + p), 'provinsi', NULL,
       now(), now(), 1
FROM generate_series(0, {PROVINCES - 1}) p;

INSERT INTO regions (id, code, name, level, parent_id, created_at, updated_at, version)
SELECT bench_region(j, r.id),
       (40 + j % {PROVINCES})::text || '.' || lpad((j / {PROVINCES} + 1)::text, 2, '0')
         || substr(r.code, 6),
       r.name || ' ' || j, r.level, bench_region(j, r.parent_id), now(), now(), 1
FROM regions r CROSS JOIN generate_series(0, {KABKOTA - 1}) j
WHERE r.code LIKE '32.73%'
ORDER BY length(r.code);

INSERT INTO regions (id, code, name, level, parent_id, created_at, updated_at, version)
SELECT 2000000 + j * 100 + 40 + e,
       (40 + j % {PROVINCES})::text || '.' || lpad((j / {PROVINCES} + 1)::text, 2, '0')
         || '.' || lpad((20 + e)::text, 2, '0'),
       'Kecamatan tanpa lembaga ' || j || '-' || e, 'kecamatan', bench_region(j, 2),
       now(), now(), 1
FROM generate_series(0, {KABKOTA - 1}) j CROSS JOIN generate_series(0, {EXTRA_KECAMATAN - 1}) e;

INSERT INTO agencies (id, code, name, type, region_id, active, created_at, updated_at, version)
SELECT bench_agency(j, a.id), a.code || '-' || j, a.name || ' ' || j, a.type,
       bench_region(j, a.region_id), a.active, now(), now(), 1
FROM agencies a CROSS JOIN generate_series(0, {KABKOTA - 1}) j
WHERE a.id <= 20;

INSERT INTO population (region_id, year, sex, age_from, age_to, count, updated_at)
SELECT bench_region(j, 2), y, p.sex, p.age_from, p.age_to,
       p.count * (6 + j % 7) + j, now()
FROM population p CROSS JOIN generate_series(0, {KABKOTA - 1}) j
CROSS JOIN generate_series(2021, 2026) y
WHERE p.region_id = 3 AND p.year = 2025;
"""  # noqa: S608

# how each table's columns are rewritten in a copy: the foreign keys to copied tables are
# moved by the copy's offset, agencies and regions go to the copy's kab/kota
COPIED = [
    "persons",
    "cases",
    "case_types",
    "victims",
    "perpetrators",
    "guardians",
    "perpetrator_relations",
    "victim_violence_types",
    "consent_entries",
    "service_tracks",
    "deadlines",
    "referrals",
]
OWN_KEY = {  # the column that says a row is one of the demo's (the source of every copy)
    "case_types": "case_id",
    "perpetrator_relations": "victim_id",
    "victim_violence_types": "victim_id",
}
SPECIAL = {
    ("cases", "reference"): "s.reference || '-' || k",
    ("cases", "external_id"): "s.external_id || '-' || k",
}


def columns(conn: Any, table: str) -> list[tuple[str, str]]:
    return [
        (name, kind)
        for name, kind in conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
    ]


def foreign_keys(conn: Any, table: str) -> dict[str, str]:
    return dict(
        conn.execute(
            "SELECT a.attname, c.confrelid::regclass::text FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
            "WHERE c.contype = 'f' AND c.conrelid = %s::regclass",
            (table,),
        ).fetchall()
    )


def copy_statement(conn: Any, table: str, offsets: dict[str, int]) -> str:
    fks = foreign_keys(conn, table)
    cols = columns(conn, table)
    names, exprs = [], []
    for name, kind in cols:
        names.append(f'"{name}"')
        target = fks.get(name)
        if (table, name) in SPECIAL:
            expr = SPECIAL[(table, name)]
        elif name == "id":
            expr = f"s.id + k * {offsets[table]}"
        elif target in offsets:
            expr = f's."{name}" + k * {offsets[target]}'
        elif target == "agencies":
            expr = f'bench_agency(bench_j(k), s."{name}")'
        elif target == "regions":
            expr = f'bench_region(bench_j(k), s."{name}")'
        elif target is not None and target not in ("users",):
            expr = "NULL"  # a table that is not copied
        elif kind in ("timestamp with time zone", "date"):
            expr = f's."{name}" - bench_shift(k)'
            if kind == "date":
                expr = f'(s."{name}" - bench_shift(k))::date'
        else:
            expr = f's."{name}"'
        exprs.append(expr)
    own = OWN_KEY.get(table, "id")
    limit = offsets[fks[own]] if own != "id" else offsets[table]
    return (
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)} "  # noqa: S608
        f"FROM {table} s CROSS JOIN generate_series(%(first)s::int, %(last)s::int) k "
        f"WHERE s.{own} < {limit}"
    )


def pg(*args: str) -> None:
    subprocess.run(["/usr/bin/env", *args], check=True)  # noqa: S603  (fixed argument list)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    args = parser.parse_args()
    name = URL.rsplit("/", 1)[1]
    started = time.perf_counter()
    pg("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name)
    pg("createdb", "-h", "127.0.0.1", "-U", "postgres", name)
    os.environ["DATABASE_URL"] = URL
    os.environ.pop("REDIS_URL", None)

    from flask_migrate import upgrade

    from app import create_app
    from app.demo.operations import load_demo
    from app.extensions import db

    app = create_app({"MAIL_BACKEND": "none"})
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    print(f"migrated, demo loaded: {time.perf_counter() - started:.0f} s", flush=True)

    import psycopg

    with psycopg.connect(URL.replace("postgresql+psycopg", "postgresql")) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(SETUP)
        conn.execute(REGIONS)
        conn.commit()
        print(f"regions and agencies: {time.perf_counter() - started:.0f} s", flush=True)
        offsets: dict[str, int] = {}
        demo_cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        for table in COPIED:
            if table in OWN_KEY:
                continue
            highest = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]  # noqa: S608
            offsets[table] = highest + 1
        statements = {t: copy_statement(conn, t, offsets) for t in COPIED}
        copies = max(1, -(-args.cases // demo_cases) - 1)
        for first in range(1, copies + 1, BATCH):
            last = min(copies, first + BATCH - 1)
            for table in COPIED:
                conn.execute(statements[table], {"first": first, "last": last})
            conn.commit()
            print(
                f"copies {first}-{last} of {copies}: {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        for table in [*COPIED, "regions", "agencies", "population"]:
            if table in OWN_KEY:
                continue
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
            for t in [
                "cases",
                "victims",
                "service_tracks",
                "referrals",
                "deadlines",
                "consent_entries",
                "agencies",
                "regions",
            ]
        }
        kecamatan = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT EXISTS "
            "(SELECT 1 FROM agencies a WHERE a.region_id = r.id)) "
            "FROM regions r WHERE level = 'kecamatan'"
        ).fetchone()
    print(", ".join(f"{t} {n:,}" for t, n in counts.items()))
    print(f"kecamatan {kecamatan[0]:,}, of which without an agency {kecamatan[1]:,}")
    print(f"built in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
