"""Benchmark: indicator rollups on the demo data (prints figures; no assertion).

Creates a throw-away PostgreSQL database (``BENCH_ROLLUP_DATABASE_URL`` or
``postgresql://postgres@127.0.0.1:5432/simpul_bench``; dropped first and at the end, so never the
national benchmark's ``BENCH_DATABASE_URL``), loads the demo (240 cases), then times
``rollup`` for a month, a quarter and a year over every region, a second run of the year (nothing
changes: the idempotent path), and ``flask indicators show`` for the city.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

URL = (
    os.environ.get("BENCH_ROLLUP_DATABASE_URL")
    or "postgresql://postgres@127.0.0.1:5432/simpul_bench"
)


def pg(*args: str) -> None:
    """The PostgreSQL client tools on PATH, with fixed arguments (no shell)."""
    subprocess.run(["/usr/bin/env", *args], check=True)  # noqa: S603  (fixed argument list)


def other_sessions(name: str) -> int:
    """Connections to the database ``name`` (this process has let its own go)."""
    query = f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}'"  # noqa: S608
    done = subprocess.run(  # noqa: S603  (fixed argument list)
        [
            "/usr/bin/env",
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-Atc",
            query,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout.strip() or 0)


def main() -> int:
    name = URL.rsplit("/", 1)[1]
    pg("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name)
    pg("createdb", "-h", "127.0.0.1", "-U", "postgres", name)
    os.environ["DATABASE_URL"] = URL
    os.environ.pop("REDIS_URL", None)

    from flask_migrate import upgrade

    from app import create_app
    from app.audit.operations import SystemActor
    from app.demo.operations import load_demo
    from app.extensions import db
    from app.indicators.operations import rollup
    from app.indicators.queries import figures, region_by_code

    app = create_app({"MAIL_BACKEND": "none"})
    with app.app_context():
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
    # The demo's notifications run on the in-process task thread, which may still be working
    # through them: give it a minute to finish, then drop the database whatever still holds it.
    for _ in range(60):
        if not other_sessions(name):
            break
        time.sleep(1)
    pg("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
