"""Benchmark: the imports of interfaces.md §2 on generated files (prints figures; no assertion).

Creates a throw-away PostgreSQL database (``BENCH_DATABASE_URL`` or
``postgresql://postgres@127.0.0.1:5432/simpul_import_bench``), migrates it, then times, each
through its CLI command on a file written for the run:

* ``flask regions import``: the demo city and a generated province around it (``--regions``);
* ``flask agencies import``: the demo agencies and generated ones (``--agencies``);
* ``flask population import``: rows for the generated kecamatan (``--population``);
* ``flask users create`` (once per demo account: a password is hashed each time);
* ``flask cases import``: the demo case records, repeated under new ``external_id``s up to
  ``--cases``; then the same file again (everything skipped) and ``flask audit verify``'s check.

Each line gives rows (or cases) per second and the CPU time spent per row by this process and by
the PostgreSQL backends serving the database (read from /proc: PostgreSQL on this machine), the
figure that holds when the machine is shared. ``--profile FILE`` writes a cProfile of the case
import. The database is dropped at the end.

    python bench/import_speed.py --cases 2000
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/simpul_import_bench"
)
AGE_BANDS = [(0, 4), (5, 9), (10, 14), (15, 17), (18, 24), (25, 59), (60, None)]


def pg(*args: str) -> None:
    """The PostgreSQL client tools on PATH, with fixed arguments (no shell)."""
    subprocess.run(["/usr/bin/env", *args], check=True)  # noqa: S603  (fixed argument list)


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def region_rows(wanted: int) -> tuple[list[list[Any]], list[str]]:
    """The demo city's regions, then kab/kota of a generated province (99), each with 20
    kecamatan of 10 desa, until ``wanted`` rows. Returns the rows and the generated kecamatan."""
    from app.demo import data

    rows: list[list[Any]] = [
        [data.PROVINCE[0], data.PROVINCE[1], "provinsi", ""],
        [data.KABKOTA[0], data.KABKOTA[1], "kabkota", data.PROVINCE[0]],
    ]
    for suffix, name, villages in data.KECAMATAN:
        kec = f"{data.KABKOTA[0]}.{suffix}"
        rows.append([kec, name, "kecamatan", data.KABKOTA[0]])
        for i, village in enumerate(villages, start=1):
            rows.append([f"{kec}.{1000 + i}", village, "desa", kec])
    rows.append(["99", "Provinsi Bangku Uji", "provinsi", ""])
    kecamatan: list[str] = []
    kab = 0
    while len(rows) < wanted:
        kab += 1
        kab_code = f"99.{kab:02d}"
        rows.append([kab_code, f"Kabupaten Uji {kab}", "kabkota", "99"])
        for k in range(1, 21):
            kec = f"{kab_code}.{k:02d}"
            rows.append([kec, f"Kecamatan Uji {kab}-{k}", "kecamatan", kab_code])
            kecamatan.append(kec)
            for d in range(1, 11):
                rows.append([f"{kec}.{2000 + d}", f"Desa Uji {kab}-{k}-{d}", "desa", kec])
    return rows[:wanted], [k for k in kecamatan if any(r[0] == k for r in rows[:wanted])]


def agency_rows(wanted: int, kecamatan: list[str]) -> list[list[Any]]:
    from app.demo import data

    rows: list[list[Any]] = [
        [code, name, str(kind), region, ";".join(str(s) for s in services)]
        for code, name, kind, region, services in data.AGENCIES
    ]
    kinds = ["faskes", "bantuan_hukum", "lembaga_masyarakat", "kepolisian", "dinas_sosial"]
    services = {
        "faskes": "rehabilitasi_kesehatan;kedaruratan",
        "bantuan_hukum": "bantuan_hukum;pendampingan",
        "lembaga_masyarakat": "pendampingan",
        "kepolisian": "penegakan_hukum",
        "dinas_sosial": "rehabilitasi_sosial;pemberdayaan_ekonomi",
    }
    i = 0
    while len(rows) < wanted:
        i += 1
        kind = kinds[i % len(kinds)]
        region = kecamatan[i % len(kecamatan)]
        rows.append([f"UJI-{i:05d}", f"Lembaga Uji {i}", kind, region, services[kind]])
    return rows


def population_rows(wanted: int, kecamatan: list[str]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for region in kecamatan:
        for year in (2024, 2025, 2026):
            for age_from, age_to in AGE_BANDS:
                for sex in ("P", "L"):
                    rows.append([region, year, sex, age_from, age_to if age_to else "", 1000])
                    if len(rows) == wanted:
                        return rows
    return rows


def case_lines(wanted: int) -> list[str]:
    """The demo records, again and again under new external ids, ``wanted`` in all."""
    from app.demo.cases import demo_records

    base = demo_records()
    lines = []
    for n in range(wanted):
        record = copy.deepcopy(base[n % len(base)])
        record["external_id"] = f"bench-{n + 1}"
        lines.append(json.dumps(record, ensure_ascii=False))
    return lines


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds (user + system) of each PostgreSQL backend serving ``database`` on this
    machine, by process id (read from /proc; empty where there is none)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not title.startswith("postgres: ") or f" {database} " not in title:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def timed(runner: Any, args: list[str], rows: int, label: str, database: str) -> float:
    before = backend_cpu(database)
    start, cpu = time.perf_counter(), time.process_time()
    result = runner.invoke(args=args)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = backend_cpu(database)
    server = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
    if result.exit_code != 0:
        print(result.output, file=sys.stderr)
        raise SystemExit(f"{label}: exit {result.exit_code}")
    rate = rows / elapsed if elapsed else float("inf")
    last = (result.output.strip().splitlines() or [""])[-1]
    print(
        f"{label:22} {rows:7d} rows in {elapsed:7.2f} s = {rate:8.0f} rows/s "
        f"(CPU: this process {cpu:6.2f} s, PostgreSQL {server:6.2f} s = "
        f"{1000 * (cpu + server) / rows:5.2f} ms per row; {last})"
    )
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=5000)
    parser.add_argument("--agencies", type=int, default=2000)
    parser.add_argument("--population", type=int, default=5000)
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the case import")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()

    name = URL.rsplit("/", 1)[1]
    pg("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name)
    pg("createdb", "-h", "127.0.0.1", "-U", "postgres", name)
    os.environ["DATABASE_URL"] = URL
    os.environ.pop("REDIS_URL", None)

    from flask_migrate import upgrade

    from app import create_app
    from app.audit.queries import verify_chain
    from app.demo import data
    from app.extensions import db

    app = create_app({"MAIL_BACKEND": "none"})
    runner = app.test_cli_runner()
    load = os.getloadavg()
    print(f"database {name}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with app.app_context(), tempfile.TemporaryDirectory() as tmp:
        upgrade()
        folder = Path(tmp)
        regions, kecamatan = region_rows(options.regions)
        path = write_csv(folder / "regions.csv", ["code", "name", "level", "parent_code"], regions)
        timed(runner, ["regions", "import", str(path)], len(regions), "regions import", name)
        agencies = agency_rows(options.agencies, kecamatan)
        path = write_csv(
            folder / "agencies.csv", ["code", "name", "type", "region_code", "services"], agencies
        )
        timed(runner, ["agencies", "import", str(path)], len(agencies), "agencies import", name)
        population = population_rows(options.population, kecamatan)
        path = write_csv(
            folder / "population.csv",
            ["region_code", "year", "sex", "age_from", "age_to", "count"],
            population,
        )
        timed(
            runner, ["population", "import", str(path)], len(population), "population import", name
        )

        # the demo accounts the case records name (case managers), as `flask users create` does
        users = [u for u in data.USERS if not u[2].scoped_to_subtaskforce]
        start = time.perf_counter()
        for email, full_name, role, agency_code in users:
            result = runner.invoke(
                args=[
                    "users",
                    "create",
                    "--email",
                    email,
                    "--name",
                    full_name,
                    "--role",
                    str(role),
                    "--agency",
                    agency_code,
                    "--password",
                    data.DEMO_PASSWORD,
                ]
            )
            if result.exit_code != 0:
                raise SystemExit(result.output)
        elapsed = time.perf_counter() - start
        print(
            f"{'users create':22} {len(users):7d} rows in {elapsed:7.2f} s = "
            f"{len(users) / elapsed:8.0f} rows/s   (one command per user, password hashed)"
        )

        lines = case_lines(options.cases)
        path = folder / "cases.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if options.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
            timed(runner, ["cases", "import", str(path)], len(lines), "cases import", name)
            profiler.disable()
            profiler.dump_stats(options.profile)
        else:
            timed(runner, ["cases", "import", str(path)], len(lines), "cases import", name)
        timed(runner, ["cases", "import", str(path)], len(lines), "cases import again", name)
        start = time.perf_counter()
        report = verify_chain()
        print(
            f"audit chain verified in {time.perf_counter() - start:.2f} s: "
            f"{report.sealed} entries sealed, {len(report.problems)} problems"
        )
        db.session.remove()
        db.engine.dispose()
    if not options.keep:
        pg("dropdb", "-h", "127.0.0.1", "-U", "postgres", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
