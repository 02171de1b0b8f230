"""Benchmark: the case page (prints figures; no assertion).

Renders the case page of many different cases, each as a supervisor of the case's agency, in
process (the Flask test client: the application and its SQL, without a web server), and prints
per page the SQL statements, the HTML size, the p50/p95 of the time, and the CPU spent by this
process and by the PostgreSQL backends serving it (the figure that holds on a loaded machine).

    python bench/case_page.py [--cases N] [--agencies N] [--keep] [--profile]

Database: ``BENCH_DATABASE_URL`` when set (an existing database, e.g. a generated national
history; nothing is loaded into it unless ``--agencies`` asks); otherwise a throw-away
``simpul_bench_casepage`` with the demo loaded, dropped at the end (``--keep`` keeps it).

``--profile`` renders the pages under cProfile and prints, besides, the milliseconds per page
spent in each part: the SQL (the driver), the ORM, decryption, the templates, the workflow
diagram, the forms, Babel's formatting and translation, the rest.

``--agencies N`` adds N active agencies with services, spread over new provinces and kab/kota
(as a national installation has), before measuring: the page must not grow with them.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import time
from typing import Any

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/simpul_bench_casepage"


def pg(*args: str) -> None:
    """The PostgreSQL client tools on PATH, with fixed arguments (no shell)."""
    subprocess.run(["/usr/bin/env", *args], check=True)  # noqa: S603  (fixed argument list)


def add_agencies(count: int) -> None:
    """``count`` agencies with three services each, in new provinces (codes 80-99) and their
    kab/kota (16 agencies in each), written in bulk."""
    import sqlalchemy as sa

    from app.core.enums import AgencyType, RegionLevel, ServiceType
    from app.extensions import db

    services = [s.value for s in ServiceType]
    # LPSK is one national institution, listed near every case: not among the added agencies
    types = [t.value for t in AgencyType if t is not AgencyType.LPSK]
    per_kabkota = 16
    kabkota_needed = max(1, -(-count // per_kabkota))
    provinces = [f"{p}" for p in range(80, 100)]
    conn = db.session.connection()
    region_ids: list[int] = []
    for i in range(kabkota_needed):
        province = provinces[i % len(provinces)]
        province_id = conn.execute(
            sa.text("SELECT id FROM regions WHERE code = :c"), {"c": province}
        ).scalar()
        if province_id is None:
            province_id = conn.execute(
                sa.text(
                    "INSERT INTO regions (code, name, level, created_at, updated_at, version)"
                    " VALUES (:c, :n, :l, now(), now(), 1) RETURNING id"
                ),
                {"c": province, "n": f"Provinsi Bangku {province}", "l": RegionLevel.PROVINSI},
            ).scalar_one()
        code = f"{province}.{(i // len(provinces)) + 1:02d}"
        region_id = conn.execute(
            sa.text(
                "INSERT INTO regions (code, name, level, parent_id, created_at, updated_at,"
                " version) VALUES (:c, :n, :l, :p, now(), now(), 1)"
                " ON CONFLICT (code) DO UPDATE SET name = excluded.name RETURNING id"
            ),
            {
                "c": code,
                "n": f"Kabupaten Bangku {code}",
                "l": RegionLevel.KABKOTA,
                "p": province_id,
            },
        ).scalar_one()
        region_ids.append(region_id)
    start = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM agencies")).scalar_one()
    rows = [
        {
            "code": f"BANGKU-{start + n:05d}",
            "name": f"Lembaga Bangku {start + n}",
            "type": types[n % len(types)],
            "region_id": region_ids[n // per_kabkota],
        }
        for n in range(count)
    ]
    conn.execute(
        sa.text(
            "INSERT INTO agencies (code, name, type, region_id, active, created_at, updated_at,"
            " version) VALUES (:code, :name, :type, :region_id, true, now(), now(), 1)"
        ),
        rows,
    )
    ids = conn.execute(
        sa.text("SELECT id FROM agencies WHERE code LIKE 'BANGKU-%' ORDER BY id")
    ).scalars()
    conn.execute(
        sa.text("INSERT INTO agency_services (agency_id, service_type) VALUES (:a, :s)"),
        [
            {"a": agency_id, "s": services[(n + k * 5) % len(services)]}
            for n, agency_id in enumerate(ids)
            for k in range(3)
        ],
    )
    db.session.commit()


def sign_in(client: Any, user: Any) -> None:
    from flask import session as request_session

    from app.auth.sessions import start_session

    with client.session_transaction() as session:
        with client.application.test_request_context():
            start_session(user)
            written = dict(request_session)
        session.clear()
        session.update(written)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process of this machine (0 when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# The parts of a page's time, by where a function is defined (the first that matches), for the
# time spent in the function itself; and the functions whose whole time (callees included) is
# shown besides.
PARTS = (
    ("SQL (driver)", ("psycopg", "psycopg2")),
    ("ORM and SQL building", ("sqlalchemy",)),
    ("decryption", ("cryptography", "app/core/encryption.py")),
    ("templates (Jinja)", ("jinja2", ".html", "markupsafe")),
    ("forms (WTForms)", ("wtforms", "flask_wtf")),
    ("Babel (format, translate)", ("babel", "flask_babel")),
    ("Flask, Werkzeug", ("flask/", "werkzeug", "flask_login", "flask_limiter", "itsdangerous")),
)
WHOLE = (
    ("workflow diagram", "render_svg"),
    ("panel (build_panel)", "build_panel"),
    ("sections (build_page)", "build_page"),
    ("render_template", "render_template"),
    ("forms built (FormMeta.__call__)", "__call__", "wtforms/form.py"),
    ("decrypt_value", "decrypt_value"),
)


def print_parts(profiler: cProfile.Profile, pages: int) -> None:
    stats = pstats.Stats(profiler)
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    parts: dict[str, float] = {}
    total = 0.0
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in table.items():
        total += tottime
        part = next(
            (name for name, marks in PARTS if any(m in filename for m in marks)), "the rest"
        )
        parts[part] = parts.get(part, 0.0) + tottime
    print(f"profile: {total * 1000 / pages:.1f} ms of CPU per page (under the profiler), of which")
    for part, seconds in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"  {part:32} {seconds * 1000 / pages:6.1f} ms")
    print("including callees:")
    for label, name, *where in WHOLE:
        cumulative = sum(
            ct
            for (filename, _line, fn), (_cc, _nc, _tt, ct, _callers) in table.items()
            if fn == name and (not where or where[0] in filename)
        )
        print(f"  {label:32} {cumulative * 1000 / pages:6.1f} ms")
    if os.environ.get("BENCH_PROFILE_TOP"):
        stats.sort_stats("cumulative").print_stats(int(os.environ["BENCH_PROFILE_TOP"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=int, default=200, help="case pages to render (default 200)")
    parser.add_argument("--agencies", type=int, default=0, help="agencies to add first")
    parser.add_argument("--keep", action="store_true", help="keep the throw-away database")
    parser.add_argument("--profile", action="store_true", help="split the time by part")
    args = parser.parse_args()

    given = os.environ.get("BENCH_DATABASE_URL")
    url = given or DEFAULT_URL
    name = url.rsplit("/", 1)[1]
    if not given:
        pg("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name)
        pg("createdb", "-h", "127.0.0.1", "-U", "postgres", name)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app import create_app
    from app.auth.models import RoleGrant, User
    from app.cases.models import Case
    from app.core.enums import Role
    from app.extensions import db
    from tests.sql_count import count_statements

    app = create_app({"MAIL_BACKEND": "none", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        if not given:
            from app.demo.operations import load_demo

            upgrade()
            load_demo()
            db.session.commit()
            print(f"database {name}: demo loaded")
        if args.agencies:
            add_agencies(args.agencies)
            print(f"added {args.agencies} agencies")
        agencies = db.session.scalar(sa.select(sa.func.count()).select_from(sa.table("agencies")))
        supervisors: dict[int, User] = {}
        for grant in db.session.scalars(
            sa.select(RoleGrant)
            .join(User, User.id == RoleGrant.user_id)
            .where(RoleGrant.role == Role.SUPERVISOR, User.active.is_(True))
            .order_by(RoleGrant.id)
        ):
            if grant.agency_id is not None:
                supervisors.setdefault(grant.agency_id, grant.user)
        cases = list(
            db.session.execute(
                sa.select(Case.id, Case.agency_id)
                .where(Case.agency_id.in_(list(supervisors)))
                .order_by(Case.id.desc())
                .limit(args.cases)
            )
        )
        clients: dict[int, Any] = {}
        for agency_id in {row.agency_id for row in cases}:
            client = app.test_client()
            sign_in(client, supervisors[agency_id])
            clients[agency_id] = client
        engine = db.engine
        db.session.remove()
    # the PostgreSQL backends serving the pages, for the CPU they spend (when on this machine)
    backends: set[int] = set()
    sa.event.listen(engine, "connect", lambda conn, _record: backends.add(conn.info.backend_pid))
    engine.dispose()
    print(f"{agencies} agencies; {len(cases)} case pages, each as a supervisor of its agency")

    # each request in an application context of its own, as in a web server
    times: list[float] = []
    statements: list[int] = []
    sizes: list[int] = []
    statuses: dict[int, int] = {}
    # CPU time (not wall time): the split that holds on a loaded machine
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    if cases:  # a first page, not measured: the connection made, the templates compiled
        clients[cases[0].agency_id].get(f"/kasus/{cases[0].id}")
    backend_start = {pid: cpu_seconds(pid) for pid in backends}
    cpu_start = time.process_time()
    for row in cases:
        client = clients[row.agency_id]
        with count_statements(engine) as counted:
            start = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            response = client.get(f"/kasus/{row.id}")
            if profiler is not None:
                profiler.disable()
            times.append((time.perf_counter() - start) * 1000)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        statements.append(counted.n)
        sizes.append(len(response.data))
    print(f"status codes: {statuses}")
    print(
        f"SQL statements per page: median {statistics.median(statements):.0f},"
        f" max {max(statements)} (target ≤ 40)"
    )
    print(
        f"HTML per page: median {statistics.median(sizes) / 1024:.1f} KB,"
        f" max {max(sizes) / 1024:.1f} KB (target ≤ 200 KB)"
    )
    print(
        f"time per page (in process): p50 {percentile(times, 0.5):.1f} ms,"
        f" p95 {percentile(times, 0.95):.1f} ms, max {max(times):.1f} ms"
    )
    python_cpu = time.process_time() - cpu_start
    backend_cpu = sum(cpu_seconds(pid) - backend_start.get(pid, 0.0) for pid in backends)
    print(
        f"CPU per page: {python_cpu * 1000 / len(cases):.1f} ms in this process (Python),"
        f" {backend_cpu * 1000 / len(cases):.1f} ms in PostgreSQL"
        " (its backends' user + system time; 0 when the server is on another machine)"
    )
    if profiler is not None:
        print_parts(profiler, len(cases))
    try:
        load = os.getloadavg()
        print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    except OSError:
        pass
    engine.dispose()
    if not given and not args.keep:
        pg("dropdb", "-h", "127.0.0.1", "-U", "postgres", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
