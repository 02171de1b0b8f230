"""Benchmark: indicator rollups (prints figures; no assertion).

Two modes:

* ``python bench/rollup.py`` — the demo: creates a throw-away PostgreSQL database
  (``BENCH_ROLLUP_DATABASE_URL`` or ``postgresql://postgres@127.0.0.1:5432/simpul_bench``;
  dropped first and at the end, so never the national benchmark's ``BENCH_DATABASE_URL``), loads
  the demo (240 cases), then times ``rollup`` for a month, a quarter and a year over every region, a
  second run of each (nothing changes: the idempotent path), and reading the city's values.
* ``python bench/rollup.py --existing [--year 2025] [--month 2025-07] [--region CODE]`` — a
  database that is already there (``BENCH_ROLLUP_DATABASE_URL``; e.g. built by
  ``bench/rollup_world.py`` or ``flask demo generate``), left as it is apart from the values of
  the periods rolled up: the rollup of a national year, of a national month and of one
  kab/kota month (default: the kab/kota with the most cases), each run first on a period
  without stored values and then again (unchanged), each in its own process so that its peak
  memory (``ru_maxrss``) is its own; with the SQL statements run, then what the dashboard
  reads (stored values and referral figures) and its statements. ``BENCH_ONLY=kabkota-month``
  (or ``nasional-year``, ``nasional-month``) runs one of the three.

Timings depend on the machine's load: note the load average printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

URL = (
    os.environ.get("BENCH_ROLLUP_DATABASE_URL")
    or "postgresql://postgres@127.0.0.1:5432/simpul_bench"
)
TARGETS = {"nasional-year": 30.0, "nasional-month": 10.0, "kabkota-month": 1.0}
MEMORY_TARGET_MB = 500


def pg(*args: str) -> None:
    """The PostgreSQL client tools on PATH, with fixed arguments (no shell)."""
    subprocess.run(["/usr/bin/env", *args], check=True)  # noqa: S603  (fixed argument list)


def app_context() -> Any:
    os.environ["DATABASE_URL"] = URL
    os.environ.pop("REDIS_URL", None)
    from app import create_app

    return create_app({"MAIL_BACKEND": "none"}).app_context()


class Counted:
    """The SQL statements run on the engine while it is attached."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, *_args: Any) -> None:
        self.n += 1


def one_rollup(period: str, region: str | None, clear: bool) -> dict[str, Any]:
    """Run in a child process: one rollup (after deleting the period's stored values when
    ``clear``), its time, statements and the process's peak memory."""
    from sqlalchemy import delete, event, select

    from app.audit.operations import SystemActor
    from app.extensions import db
    from app.indicators.models import IndicatorValue, ReferralFigure
    from app.indicators.operations import rollup
    from app.indicators.queries import region_by_code

    with app_context():
        if clear:
            where = [IndicatorValue.period == period]
            if region is not None:
                found = region_by_code(region)
                assert found is not None, region
                from app.indicators.compute import descendants, region_tree

                ids = descendants(found.id, region_tree())
                where.append(IndicatorValue.region_id.in_(ids))
            db.session.execute(delete(IndicatorValue).where(*where))
            db.session.execute(delete(ReferralFigure).where(ReferralFigure.period == period))
            db.session.commit()
        # the process's first statement connects and configures the mappers: not the rollup's
        from sqlalchemy.orm import configure_mappers

        configure_mappers()
        db.session.execute(select(1))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        counted = Counted()
        event.listen(db.engine, "before_cursor_execute", counted)
        start = time.perf_counter()
        report = rollup(period, region_code=region, actor=SystemActor("bench"))
        db.session.commit()
        seconds = time.perf_counter() - start
        event.remove(db.engine, "before_cursor_execute", counted)
        stored = db.session.scalar(
            select(db.func.count())
            .select_from(IndicatorValue)
            .where(IndicatorValue.period == period)
        )
    return {
        "period": period,
        "region": region or "nasional",
        "seconds": round(seconds, 2),
        "statements": counted.n,
        "regions": report.regions,
        "written": report.written,
        "unchanged": report.unchanged,
        "stored_values_of_period": stored,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "rss_before_mb": before // 1024,
    }


def child(period: str, region: str | None, clear: bool) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603  (this script, fixed arguments)
        [sys.executable, __file__, "--child", period, region or "-", "1" if clear else "0"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_ROLLUP_DATABASE_URL": URL},
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def dashboard_reads(region: str, period: str) -> None:
    """What the dashboard reads for the region and period: its values and referral figures,
    timed (median of 5) with their statements."""
    from sqlalchemy import event

    from app.extensions import db
    from app.indicators import queries

    with app_context():
        found = queries.region_by_code(region)
        region_id = found.id if found is not None else None
        for name, read in (
            ("values", lambda: queries.figures(region_id, period)),
            ("referral figures", lambda: queries.referral_rows(region_id, period)),
        ):
            times = []
            for _ in range(5):
                db.session.expire_all()
                counted = Counted()
                event.listen(db.engine, "before_cursor_execute", counted)
                start = time.perf_counter()
                rows = read()
                times.append(time.perf_counter() - start)
                event.remove(db.engine, "before_cursor_execute", counted)
            print(
                f"dashboard read of {region} {period} {name}: {len(rows)} rows, "
                f"median {statistics.median(times) * 1000:.1f} ms, {counted.n} statements"
            )


def biggest_kabkota() -> str:
    from sqlalchemy import text

    from app.extensions import db

    with app_context():
        code = db.session.execute(
            text(
                "SELECT r.code FROM cases c JOIN agencies a ON a.id = c.first_agency_id "
                "JOIN regions r ON r.id = a.region_id WHERE r.level = 'kabkota' "
                "GROUP BY r.code ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
    return str(code)


def existing(year: str, month: str, region: str | None) -> int:
    region = region or biggest_kabkota()
    print(f"database {URL.rsplit('/', 1)[1]}; load average {os.getloadavg()}")
    runs = [
        ("nasional-year", year, None),
        ("nasional-month", month, None),
        ("kabkota-month", month, region),
    ]
    only = os.environ.get("BENCH_ONLY")  # e.g. kabkota-month: one of the runs
    for name, period, code in runs:
        if only and name != only:
            continue
        for clear in (True, False):
            r = child(period, code, clear)
            what = "first run (no stored values)" if clear else "again (unchanged)"
            print(
                f"rollup {name:15} {period:8} {r['region']:9} {what:28}: {r['seconds']:7.2f} s "
                f"(target {TARGETS[name]:.0f} s), {r['statements']} statements, "
                f"peak RSS {r['peak_rss_mb']} MB (target {MEMORY_TARGET_MB} MB), "
                f"{r['written']} written, {r['unchanged']} unchanged, {r['regions']} regions",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()}")
    dashboard_reads(region, month)
    dashboard_reads(region, year)
    return 0


def demo() -> int:
    name = URL.rsplit("/", 1)[1]
    pg("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name)
    pg("createdb", "-h", "127.0.0.1", "-U", "postgres", name)

    from flask_migrate import upgrade

    from app.audit.operations import SystemActor
    from app.demo.operations import load_demo
    from app.extensions import db
    from app.indicators.operations import rollup
    from app.indicators.queries import figures, region_by_code

    with app_context():
        upgrade()
        load_demo()
        db.session.commit()
        actor = SystemActor("bench")
        print(f"database {name}: demo loaded")
        for period in ("2025-07", "2025-Q3", "2025"):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                report = rollup(period, actor=actor)
                db.session.commit()
                times.append(time.perf_counter() - start)
            print(
                f"rollup {period:8} all regions: first {times[0]:.2f} s, then "
                f"median {statistics.median(times[1:]):.2f} s "
                f"({report.regions} regions, {report.unchanged} values unchanged on re-run)"
            )
        city = region_by_code("32.73")
        assert city is not None
        start = time.perf_counter()
        items = figures(city.id, "2025")
        print(f"read {len(items)} values of 32.73 for 2025: {time.perf_counter() - start:.3f} s")
        db.session.remove()
        db.engine.dispose()  # let the database go
    # --force: a background thread of the app may still hold a connection
    pg("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", name)
    return 0


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _flag, period, region, clear = sys.argv[1:]
        result = one_rollup(period, None if region == "-" else region, clear == "1")
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--existing", action="store_true")
    parser.add_argument("--year", default="2025")
    parser.add_argument("--month", default="2025-07")
    parser.add_argument("--region", default=None)
    args = parser.parse_args()
    if args.existing:
        return existing(args.year, args.month, args.region)
    return demo()


if __name__ == "__main__":
    sys.exit(main())
