"""The national benchmark (``make bench``): every page of the app served as deployed, on a
generated database of ``BENCH_CASES`` cases, each figure printed beside its target.

What it does, in order:

1. **The database** (``BENCH_DATABASE_URL``, default ``simpul_bench_<N>`` on the local
   PostgreSQL): created when missing, migrated when empty, then filled with
   ``flask demo generate --cases N --seed 1`` (or, where that command does not exist yet,
   ``flask demo load`` — the small demo, said so in the output). An existing database with
   cases is reused as it is. Its keys (encryption, blind index, audit HMAC) live in an instance
   folder of its own (``bench/results/instance-<database>``, or ``BENCH_INSTANCE_PATH``).
2. **Bench accounts** with a known password and a TOTP second factor, one per role the pages
   need: a supervisor of the UPTD PPA with the most cases (case page, list, search, intake,
   home), the analyst of that UPTD (dashboard of its kab/kota, XLSX report), the coordinator of
   a Sub GT of that kab/kota (board) and a service officer of the agency receiving the most
   referrals (inbox).
3. **The rollups** through ``flask indicators rollup`` (national year, national month, one
   kab/kota month): wall time and peak memory of the process.
4. **gunicorn as deployed** (``deploy/gunicorn.conf.py``, ``APP_ENV=production``, throwaway
   secrets, ``SQL_COUNT_HEADER`` on) on a loopback port, a Celery worker when Redis answers.
   Each page is loaded for ``BENCH_SECONDS`` by 1, 4 and 16 connections (``BENCH_CONCURRENCY``)
   of our own HTTP client (threads + ``http.client``), sending what nginx sends
   (``X-Forwarded-Proto: https``): p50/p95/p99, requests/s, SQL statements per request, HTML
   size and the ratio to ``/healthz`` signed in (the floor), measured in the same run.
5. **Memory** of one web worker (``--max-requests 0``) after ``BENCH_MEMORY_REQUESTS``
   (10,000) requests of the page mix, bounded by ``BENCH_MEMORY_SECONDS``.

The machine's load average and the PostgreSQL settings are printed; everything goes into
``bench/results/national-<date>.json``. Figures taken on a shared machine are inflated by the
other load: the load average is printed so a reader can judge.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import http.client
import itertools
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
BIN = Path(PYTHON).parent

CASES = int(os.environ.get("BENCH_CASES") or 1_000_000)
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL") or (
    f"postgresql://postgres@127.0.0.1:5432/simpul_bench_{CASES}"
)
SECONDS = float(os.environ.get("BENCH_SECONDS") or 10)
CONCURRENCY = tuple(int(c) for c in (os.environ.get("BENCH_CONCURRENCY") or "1,4,16").split(","))
MEMORY_REQUESTS = int(os.environ.get("BENCH_MEMORY_REQUESTS") or 10_000)
MEMORY_SECONDS = float(os.environ.get("BENCH_MEMORY_SECONDS") or 600)
ROLLUP_TIMEOUT = float(os.environ.get("BENCH_ROLLUP_TIMEOUT") or 1800)
KEYSET_HOPS = int(os.environ.get("BENCH_KEYSET_HOPS") or 50)
# A partial run, for working on one page: BENCH_PAGES="case page,search" measures only the pages
# whose names contain one of these words (the floor always); BENCH_ROLLUPS="kab/kota month" or
# "none" only those rollups; BENCH_MEMORY_REQUESTS=0 skips the memory phase.
ONLY_PAGES = [w.strip() for w in (os.environ.get("BENCH_PAGES") or "").split(",") if w.strip()]
ONLY_ROLLUPS = [w.strip() for w in (os.environ.get("BENCH_ROLLUPS") or "").split(",") if w.strip()]
MIN_REQUESTS = 5  # per measurement, when a page is too slow to reach it in SECONDS …
MAX_STRETCH = 3  # … within at most this many times SECONDS
# the bench accounts' password: throwaway accounts on a throwaway database, printed nowhere
BENCH_PASSWORD = "Sandi-Lintas-7391-Rahasia-Sementara"  # noqa: S105

# The targets of the issue "National scale" at 1 M cases (None: no target, figure only).
# page: (p95 ms, SQL statements, HTML bytes, requests/s at 16 connections)
TARGETS: dict[str, tuple[float | None, int | None, int | None, float | None]] = {
    "healthz (floor)": (None, None, None, None),
    "case page": (100, 40, 200_000, 100),
    "case list, default": (150, None, None, None),
    "case list, overdue": (150, None, None, None),
    "case list, violence type": (150, None, None, None),
    "case list, deep page": (150, None, None, None),
    "case list, keyset page": (150, None, None, None),
    "search by reference": (100, None, None, None),
    "search by exact name": (100, None, None, None),
    "Sub GT board": (300, None, None, None),
    "dashboard, kab/kota year": (100, None, None, None),
    "home": (None, None, None, None),
    "intake submit": (None, None, None, None),
    "referral inbox": (None, None, None, None),
    "XLSX report": (None, None, None, None),
}
ROLLUP_TARGETS = {"national year": 30.0, "national month": 10.0, "kab/kota month": 1.0}
ROLLUP_MEMORY_TARGET_MB = 500
WORKER_RSS_TARGET_MB = 250


# --- processes ---------------------------------------------------------------------------------


def database_name() -> str:
    return urllib.parse.urlsplit(DATABASE_URL).path.lstrip("/")


def instance_path() -> Path:
    given = os.environ.get("BENCH_INSTANCE_PATH")
    return Path(given) if given else RESULTS / f"instance-{database_name()}"


def redis_url() -> str | None:
    # database 0, the application's as in deploy/simpul.env.example (the tests use 1 to 15)
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return url
    except OSError:
        return None


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "SIMPUL_"))}
    for name in ("REDIS_URL", "DATABASE_OWNER_URL", "APP_ENV", "SECRET_KEY", "SCHEDULER"):
        env.pop(name, None)
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=DATABASE_URL,
        SIMPUL_INSTANCE_PATH=str(instance_path()),
        SCHEDULER="off",  # no periodic work in the middle of a measurement
        MAIL_BACKEND="none",
        LOG_LEVEL="WARNING",
    )
    return env


def development_env() -> dict[str, str]:
    """For the data and the accounts: keys are generated once into the instance folder."""
    return {**base_env(), "APP_ENV": "development"}


def _instance_value(name: str) -> str:
    return (instance_path() / name).read_text().strip()


def production_env(redis: str | None) -> dict[str, str]:
    """As ``deploy/simpul.env.example``, with throwaway secrets and the instance folder's keys."""
    folder = instance_path()
    for sub in ("uploads", "reports"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    env = {
        **base_env(),
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATA_ENCRYPTION_KEYS": _instance_value("data_keys"),
        "BLIND_INDEX_KEYS": _instance_value("blind_index_keys"),
        "AUDIT_HMAC_KEY": _instance_value("audit_hmac_key"),
        "UPLOAD_DIR": str(folder / "uploads"),
        "REPORT_DIR": str(folder / "reports"),
        "PROXY_FIX_HOPS": "1",
        "TRUSTED_PROXIES": "127.0.0.1,::1",
        "TOTP_REQUIRED": "case_roles",
        "BASE_URL": "https://simpul.bench.invalid",
        # the bench accounts sign in a few times from one address, and the intake page checks
        # duplicates for every registration: limits an operator may set, raised for the load
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "DUPLICATE_CHECK_RATE_LIMIT": "1000000 per hour",
        "SQL_COUNT_HEADER": "true",
    }
    if redis:
        env["REDIS_URL"] = redis
    return env


def flask(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [PYTHON, "-m", "flask", "--app", "wsgi", *args]
    return subprocess.run(  # noqa: S603  (fixed argument list)
        command, cwd=ROOT, env=env, text=True, capture_output=True, check=check
    )


def psql(sql: str, database: str = "postgres") -> str:
    parts = urllib.parse.urlsplit(DATABASE_URL)
    command = [
        "/usr/bin/env", "psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
        "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
        "-U", parts.username or "postgres", "-d", database, "-c", sql,
    ]  # fmt: skip
    env = {**os.environ}
    if parts.password:
        env["PGPASSWORD"] = urllib.parse.unquote(parts.password)
    done = subprocess.run(command, env=env, text=True, capture_output=True, check=True)  # noqa: S603
    return done.stdout.strip()


def timed_run(command: list[str], env: dict[str, str], timeout: float) -> tuple[float, int, str]:
    """Run ``command``: wall seconds, peak RSS in MB (the child's own), output. -1 s: timed out."""
    start = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603  (fixed argument list)
        command, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True)
    reader.start()
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            reader.join(5)
            return -1.0, usage.ru_maxrss // 1024, "".join(output)
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join(5)
    if process.returncode:
        raise RuntimeError(f"{' '.join(command[-4:])} failed:\n{''.join(output)[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024, "".join(output)


# --- 1. the database ---------------------------------------------------------------------------


def prepare_database() -> str:
    """Create, migrate and fill the database when it is missing or empty; say what it holds."""
    name = database_name()
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
    if not exists:
        print(f"creating database {name}")
        psql(f'CREATE DATABASE "{name}"')
    has_cases = psql(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'cases'", name
    )
    dev = development_env()
    keys_known = (instance_path() / "data_keys").exists()
    instance_path().mkdir(parents=True, exist_ok=True)
    # an existing database is brought to this code's schema first, as an operator does after
    # an upgrade (nothing happens when it is already there)
    print("migrating (flask db upgrade)" if has_cases == "0" else "bringing the schema up to date")
    flask("db", "upgrade", env=dev)
    if psql("SELECT EXISTS (SELECT 1 FROM cases)", name) == "t":
        if not keys_known:
            print(
                f"WARNING: {name} holds cases but {instance_path()} has no keys: identities "
                "written with other keys cannot be read. Give the instance folder of the run "
                "that filled it as BENCH_INSTANCE_PATH."
            )
        return "existing database"
    commands = flask("demo", "--help", env=dev).stdout
    start = time.perf_counter()
    if re.search(r"^\s+generate\b", commands, flags=re.M):
        print(f"generating {CASES:,} cases (flask demo generate --cases {CASES} --seed 1)")
        generate = [PYTHON, "-m", "flask", "--app", "wsgi", "demo", "generate"]
        subprocess.run(  # noqa: S603  (fixed argument list; its progress shown as it goes)
            [*generate, "--cases", str(CASES), "--seed", "1"],
            cwd=ROOT,
            env=dev,
            check=True,
        )
        source = f"flask demo generate --cases {CASES} --seed 1"
    else:
        print(
            "NOTE: `flask demo generate` does not exist in this tree yet: loading the small demo "
            "(`flask demo load`, a few hundred cases) instead of "
            f"{CASES:,} cases — the figures are NOT national-scale"
        )
        flask("demo", "load", env=dev)
        source = "flask demo load (small demo: the generator is not in this tree)"
    psql("ANALYZE", name)  # the planner's statistics of the new rows, as autovacuum would later
    print(f"data ready and analysed in {time.perf_counter() - start:.0f} s")
    return source


def postgres_facts() -> dict[str, Any]:
    name = database_name()
    settings = {}
    for setting in (
        "server_version", "shared_buffers", "work_mem", "maintenance_work_mem",
        "effective_cache_size", "max_connections", "random_page_cost", "effective_io_concurrency",
        "max_parallel_workers_per_gather", "synchronous_commit", "checkpoint_timeout",
        "max_wal_size", "jit",
    ):  # fmt: skip
        settings[setting] = psql(f"SHOW {setting}", name)
    counts = {}
    for table in (
        "cases", "victims", "service_tracks", "case_transitions", "referrals",
        "referral_events", "audit_entries", "agencies", "regions",
    ):  # fmt: skip
        estimate = psql(
            f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{table}'",  # noqa: S608
            name,
        )
        counts[table] = int(estimate or 0)
        if counts[table] < 100_000:  # small (or never analysed): count exactly
            counts[table] = int(psql(f"SELECT count(*) FROM {table}", name))  # noqa: S608
    size = psql(f"SELECT pg_size_pretty(pg_database_size('{name}'))", name)
    return {"settings": settings, "rows": counts, "size": size}


# --- 2. the bench accounts (run in a child process, inside the application) --------------------


def prepare_accounts() -> dict[str, Any]:
    """Inside the app (development settings, same keys): the accounts and what the pages ask
    for. Printed as JSON on the last line; identities never reach the result file."""
    import pyotp
    import sqlalchemy as sa

    from app import create_app
    from app.agencies.models import Agency, SubTaskForce, TaskForce
    from app.audit.operations import SystemActor
    from app.auth import operations as ops
    from app.auth.models import User
    from app.cases.models import Case, Victim
    from app.core.enums import AgencyType, CaseState, Role
    from app.extensions import db
    from app.referrals.models import Referral
    from app.regions.models import Region

    app = create_app()
    with app.app_context():
        actor = SystemActor("bench")
        uptd_id, _count = db.session.execute(
            sa.select(Case.agency_id, sa.func.count())
            .join(Agency, Agency.id == Case.agency_id)
            .where(Agency.type == AgencyType.UPTD_PPA)
            .group_by(Case.agency_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        ).one()
        uptd = db.session.get(Agency, uptd_id)
        assert uptd is not None
        region = uptd.region
        kabkota = region
        while kabkota.parent_id is not None and kabkota.level.value not in ("kabkota",):
            kabkota = db.session.get(Region, kabkota.parent_id) or kabkota
        receiving = db.session.execute(
            sa.select(Referral.to_agency_id, sa.func.count())
            .group_by(Referral.to_agency_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        ).first()
        inbox_agency = db.session.get(Agency, receiving[0]) if receiving else uptd
        subgts = db.session.scalars(
            sa.select(SubTaskForce)
            .join(TaskForce)
            .where(TaskForce.region_id == kabkota.id)
            .order_by(SubTaskForce.id)
        ).all()
        preferred = [s for s in subgts if s.key.value == "rehabilitasi_kesehatan"] or list(subgts)

        bench_ids: list[int] = []

        def account(key: str, role: Role, scope: Any) -> dict[str, str]:
            email = f"bench-{key}@bench.invalid"
            user = db.session.scalar(sa.select(User).where(User.email == email))
            if user is None:
                user = ops.create_user(email, f"Akun Uji Beban {key}", BENCH_PASSWORD, actor=actor)
            else:
                ops.reset_password(user, BENCH_PASSWORD, actor=actor)
                ops.unlock(user, actor=actor)
            if role is Role.KOORDINATOR_SUBGT:
                held = any(g.sub_task_force_id == scope.id for g in user.grants)
                if not held:
                    ops.grant_role(user, role, sub_task_force=scope, actor=actor)
            elif not any(g.role is role and g.agency_id == scope.id for g in user.grants):
                ops.grant_role(user, role, agency=scope, actor=actor)
            if not user.totp_enabled:
                secret = ops.pending_totp_secret(user)
                ops.enable_totp(user, pyotp.TOTP(secret).now())
            db.session.flush()
            bench_ids.append(user.id)
            return {"email": email, "totp": user.totp_secret or ""}

        accounts = {
            "supervisor": account("supervisor", Role.SUPERVISOR, uptd),
            "analyst": account("analis", Role.ANALIS_DATA, uptd),
            "inbox": account("layanan", Role.PETUGAS_LAYANAN, inbox_agency),
        }
        if preferred:
            accounts["board"] = account("subgt", Role.KOORDINATOR_SUBGT, preferred[0])
        db.session.commit()

        seen = Case.agency_id == uptd.id, Case.state != CaseState.DRAFT
        case_ids = db.session.scalars(
            sa.select(Case.id).where(*seen).order_by(sa.func.random()).limit(5000)
        ).all()
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(*seen)) or 0
        reference = db.session.scalar(
            sa.select(Case.reference)
            .where(*seen, Case.reference.is_not(None))
            .order_by(sa.func.random())
            .limit(1)
        )
        victim = db.session.scalars(
            sa.select(Victim)
            .join(Case)
            .where(*seen, Victim.name.is_not(None))
            .order_by(sa.func.random())
            .limit(1)
        ).first()
        # the data's own latest case, not one of the complaints earlier runs registered
        latest = db.session.scalar(
            sa.select(sa.func.max(Case.received_at)).where(
                *seen,
                sa.or_(Case.registered_by_id.is_(None), Case.registered_by_id.not_in(bench_ids)),
            )
        )
        latest = latest or dt.datetime.now(dt.UTC)
        # the month before the latest case's month: complete in the data, already begun
        month = latest.replace(day=1) - dt.timedelta(days=1)
        return {
            "uptd": {"code": uptd.code, "cases": total},
            "kabkota": {"code": kabkota.code, "id": kabkota.id},
            "inbox_agency": inbox_agency.code if inbox_agency else None,
            "board_subgt": preferred[0].key.value if preferred else None,
            "accounts": accounts,
            "case_ids": list(case_ids),
            "reference": reference,
            "name": victim.name if victim else None,
            "year": str(month.year),
            "month": f"{month.year}-{month.month:02d}",
        }


# --- 4. the load generator ---------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Session:
    """One signed-in person: the cookies every connection of this person sends."""

    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def header(self) -> str:
        with self.lock:
            return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def keep(self, response: http.client.HTTPResponse) -> None:
        for value in response.headers.get_all("Set-Cookie") or []:
            pair = value.split(";", 1)[0]
            name, _, content = pair.partition("=")
            with self.lock:
                self.cookies[name.strip()] = content.strip()


@dataclass
class Reply:
    status: int
    body: bytes
    location: str
    sql: int | None
    seconds: float


class Client:
    """One connection to gunicorn, as nginx would talk to it (HTTPS said in a header)."""

    def __init__(self, port: int, session: Session) -> None:
        self.port = port
        self.session = session
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, form: dict[str, Any] | None = None) -> Reply:
        headers = {
            "Host": "simpul.bench.invalid",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "127.0.0.1",
            "Cookie": self.session.header(),
            "Accept-Language": "id",
        }
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # a browser's same-origin Referer: CSRF protection over HTTPS checks it
            headers["Referer"] = f"https://{headers['Host']}{path}"
        start = time.perf_counter()
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        elapsed = time.perf_counter() - start
        self.session.keep(response)
        if response.getheader("Connection", "").lower() == "close" or response.will_close:
            self.connection.close()
            self.connection = None
        sql = response.getheader("X-SQL-Statements")
        return Reply(
            response.status,
            data,
            response.getheader("Location", ""),
            int(sql) if sql is not None else None,
            elapsed,
        )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def sign_in(port: int, email: str, totp_secret: str) -> Session:
    import pyotp

    session = Session()
    client = Client(port, session)
    page = client.request("GET", "/masuk").body.decode()
    token = CSRF.search(page)
    assert token, "no CSRF token on the sign-in page"
    form = {"csrf_token": token.group(1), "email": email, "password": BENCH_PASSWORD}
    reply = client.request("POST", "/masuk", form)
    if reply.location.endswith("/masuk/kode"):
        page = client.request("GET", "/masuk/kode").body.decode()
        token = CSRF.search(page)
        assert token, "no CSRF token on the code page"
        totp = pyotp.TOTP(totp_secret)
        for offset in (0, 30, 60):  # a code of a later step than the one last used
            code = totp.at(time.time() + offset)
            reply = client.request(
                "POST", "/masuk/kode", {"csrf_token": token.group(1), "code": code}
            )
            if reply.status == 302:
                break
    if reply.status != 302 or "/masuk" in reply.location:
        raise RuntimeError(f"could not sign in {email}: {reply.status} {reply.location}")
    page = client.request("GET", "/beranda").body.decode()
    token = CSRF.search(page)
    session.csrf = token.group(1) if token else ""
    client.close()
    return session


NEXT_PAGE = re.compile(r'href="(/kasus\?[^"]*\bafter=[^"]*)"')


def keyset_url(port: int, session: Session) -> tuple[str | None, int]:
    """Where ``KEYSET_HOPS`` "next page" links lead from the first page of the list, when the
    list pages by keyset (``after=``); the page number reached."""
    client = Client(port, session)
    url, reached = "/kasus", 1
    for _ in range(KEYSET_HOPS):
        links = NEXT_PAGE.findall(client.request("GET", url).body.decode())
        if not links:
            break
        url, reached = html.unescape(links[0]), reached + 1
    client.close()
    return (url if reached > 1 else None), reached


Step = Callable[[Client, int], Reply]


def get(path: str | Callable[[int], str]) -> Step:
    def step(client: Client, i: int) -> Reply:
        return client.request("GET", path(i) if callable(path) else path)

    return step


def post(path: str, form: Callable[[Client, int], dict[str, Any]]) -> Step:
    def step(client: Client, i: int) -> Reply:
        return client.request("POST", path, {"csrf_token": client.session.csrf, **form(client, i)})

    return step


def intake_form(_client: Client, i: int) -> dict[str, Any]:
    """A complaint as the intake form posts it: a new person each time (no duplicate asked)."""
    jakarta = dt.timezone(dt.timedelta(hours=7))
    now = dt.datetime.now(jakarta).replace(second=0, microsecond=0)
    received = (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    tag = secrets.token_hex(4)
    return {
        "received_at": received,
        "channel": "datang_langsung",
        "case_types": ["ktp"],
        "risk": "sedang",
        "kewenangan": "kabkota",
        "reporter_kind": "korban",
        "incident_date": (now - dt.timedelta(days=3)).strftime("%Y-%m-%d"),
        "incident_date_precision": "hari",
        "incident_place": "rumah_tangga",
        "ranah": "domestik",
        "kronologi": "Uji beban: korban datang melapor.",
        "victims-0-sex": "P",
        "victims-0-name": f"Korban Uji {tag} {i}",
        "victims-0-birth_date": f"{1970 + i % 30}-0{1 + i % 9}-1{i % 10}",
        "victims-0-violence_types": ["fisik"],
        "victims-0-nationality": "WNI",
        "victims-0-consents-0-purpose": "layanan",
        "victims-0-consents-0-decision": "setuju",
        "victims-0-consents-0-given_by": "korban",
        "victims-0-consents-0-at": received,
        "perpetrators-0-name": f"Pelaku Uji {tag}",
        "perpetrators-0-sex": "L",
        "perpetrators-0-age": "35",
        "perpetrators-0-relationships-0": "suami_istri",
        "action": "register",
    }


def report_cycle(region_id: int, month: str) -> Step:
    """The XLSX report as a person gets it: ask, wait for the job (polling its JSON), download.
    Timed from the request to the last byte; SQL summed over the requests of the cycle."""

    def step(client: Client, _i: int) -> Reply:
        start = time.perf_counter()
        form = {"csrf_token": client.session.csrf, "period": month, "region": region_id}
        reply = client.request("POST", "/indikator/laporan", {**form, "format": "xlsx"})
        sql = reply.sql or 0
        if reply.status != 302:
            return Reply(reply.status, reply.body, "", sql, time.perf_counter() - start)
        job = urllib.parse.urlsplit(reply.location).path
        while True:
            status = client.request("GET", f"{job}.json")
            sql += status.sql or 0
            state = json.loads(status.body or b"{}")
            if state.get("download_url") or state.get("done"):
                break
            if time.perf_counter() - start > 300:
                return Reply(504, b"", "", sql, time.perf_counter() - start)
            time.sleep(0.05)
        if not state.get("download_url"):
            return Reply(500, b"", "", sql, time.perf_counter() - start)
        file = client.request("GET", urllib.parse.urlsplit(state["download_url"]).path)
        sql += file.sql or 0
        return Reply(file.status, file.body, "", sql, time.perf_counter() - start)

    return step


@dataclass
class Figures:
    page: str
    connections: int
    requests: int
    errors: int
    seconds: float
    p50: float
    p95: float
    p99: float
    rps: float
    sql: float | None
    sql_max: int | None
    html_bytes: int
    html_max: int
    statuses: dict[int, int]


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def load(page: str, step: Step, sessions: Session, port: int, connections: int) -> Figures:
    """``connections`` threads, each with its own connection, for ``SECONDS``."""
    counter = itertools.count()
    replies: list[Reply] = []
    finished: list[int] = []
    lock = threading.Lock()
    begun = time.perf_counter()
    stop, longest = begun + SECONDS, begun + SECONDS * MAX_STRETCH
    done = itertools.count()

    def more() -> bool:
        """Until ``SECONDS`` have passed; a slow page gets up to ``MAX_STRETCH`` times that to
        reach ``MIN_REQUESTS`` (a percentile of one request says little)."""
        now = time.perf_counter()
        if now < stop:
            return True
        return now < longest and next(done) < MIN_REQUESTS - len(replies)

    def work() -> None:
        client = Client(port, sessions)
        mine: list[Reply] = []
        while more():
            try:
                mine.append(step(client, next(counter)))
            except (OSError, http.client.HTTPException):
                mine.append(Reply(599, b"", "", None, 0.0))
        client.close()
        with lock:
            replies.extend(mine)
            finished.append(len(mine))

    start = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    ok = [r for r in replies if r.status < 400]
    latencies = [r.seconds * 1000 for r in ok]
    sqls = [r.sql for r in ok if r.sql is not None]
    statuses: dict[int, int] = {}
    for reply in replies:
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
    return Figures(
        page=page,
        connections=connections,
        requests=len(replies),
        errors=len(replies) - len(ok),
        seconds=elapsed,
        p50=quantile(latencies, 0.50),
        p95=quantile(latencies, 0.95),
        p99=quantile(latencies, 0.99),
        rps=len(ok) / elapsed if elapsed else 0.0,
        sql=statistics.median(sqls) if sqls else None,
        sql_max=max(sqls) if sqls else None,
        html_bytes=int(statistics.median([len(r.body) for r in ok])) if ok else 0,
        html_max=max((len(r.body) for r in ok), default=0),
        statuses=statuses,
    )


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *extra: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    log = open(RESULTS / "gunicorn.log", "ab")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(  # noqa: S603  (fixed argument list)
        [str(BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py", *extra],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.time() + 120
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError("gunicorn did not start: see bench/results/gunicorn.log")
            time.sleep(0.5)
        yield port, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def memory_mb(pid: int) -> dict[str, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values


# --- the run -----------------------------------------------------------------------------------


def pages(facts: dict[str, Any]) -> list[tuple[str, str, Step]]:
    ids = facts["case_ids"] or [1]
    per_page = 25
    deep = max(1, min(100_000, int(facts["uptd"]["cases"] * 0.8) // per_page))
    kab, year, month = facts["kabkota"]["code"], facts["year"], facts["month"]
    chosen: list[tuple[str, str, Step]] = [
        ("healthz (floor)", "supervisor", get("/healthz")),
        ("case page", "supervisor", get(lambda i: f"/kasus/{ids[i % len(ids)]}")),
        ("case list, default", "supervisor", get("/kasus")),
        ("case list, overdue", "supervisor", get("/kasus?overdue=y")),
        ("case list, violence type", "supervisor", get("/kasus?violence_type=fisik")),
        ("case list, deep page", "supervisor", get(f"/kasus?page={deep}")),
    ]
    if facts.get("keyset_url"):
        keyset = facts["keyset_url"]
        chosen.append(("case list, keyset page", "supervisor", get(keyset)))
    if facts["reference"]:
        ref = facts["reference"]
        chosen.append(
            ("search by reference", "supervisor", post("/kasus/cari", lambda c, i: {"q": ref}))
        )
    if facts["name"]:
        name = facts["name"]
        chosen.append(
            ("search by exact name", "supervisor", post("/kasus/cari", lambda c, i: {"q": name}))
        )
    if "board" in facts["accounts"]:
        chosen.append(("Sub GT board", "board", get("/subgt")))
    chosen += [
        ("dashboard, kab/kota year", "analyst", get(f"/indikator?region={kab}&period={year}")),
        ("home", "supervisor", get("/beranda")),
        ("intake submit", "supervisor", post("/kasus/baru", intake_form)),
        ("referral inbox", "inbox", get("/rujukan")),
        ("XLSX report", "analyst", report_cycle(facts["kabkota"]["id"], month)),
    ]
    return chosen


def verdict(value: float | None, target: float | None, *, higher: bool = False) -> str:
    if target is None or value is None or value != value:
        return ""
    good = value >= target if higher else value <= target
    return "PASS" if good else "MISS"


def run_pages(
    port: int, sessions: dict[str, Session], chosen: list[tuple[str, str, Step]]
) -> list[Figures]:
    results: list[Figures] = []
    for page, who, step in chosen:
        session = sessions[who]
        warm = Client(port, session)
        first = step(warm, 0)
        warm.close()
        if first.status >= 400:
            print(f"  {page}: HTTP {first.status} on the first request — {first.body[:200]!r}")
        levels = (1,) if page == "XLSX report" else CONCURRENCY
        for connections in levels:
            figures = load(page, step, session, port, connections)
            results.append(figures)
            print(
                f"  {page:<26} c={connections:<3} n={figures.requests:<6} p50 {figures.p50:8.1f}"
                f" p95 {figures.p95:8.1f} p99 {figures.p99:8.1f} ms  {figures.rps:7.1f} req/s"
                f"  sql {f'{figures.sql:g}' if figures.sql is not None else '-'}"
                f"  {figures.html_bytes / 1024:7.1f} KB  errors {figures.errors}",
                flush=True,
            )
    return results


def memory_phase(
    env: dict[str, str], sessions: dict[str, Session], facts: dict[str, Any]
) -> dict[str, Any]:
    """One worker, never recycled, through ``MEMORY_REQUESTS`` requests of the GET pages."""
    with gunicorn(env, "--workers", "1", "--max-requests", "0") as (port, process):
        workers = children(process.pid)
        steps = [s for name, who, s in pages(facts) if name not in ("intake submit", "XLSX report")]
        whos = [
            who for name, who, _s in pages(facts) if name not in ("intake submit", "XLSX report")
        ]
        clients = {who: Client(port, sessions[who]) for who in set(whos)}
        start = time.perf_counter()
        done = 0
        while done < MEMORY_REQUESTS and time.perf_counter() - start < MEMORY_SECONDS:
            index = done % len(steps)
            with contextlib.suppress(OSError, http.client.HTTPException):
                steps[index](clients[whos[index]], done)
            done += 1
        elapsed = time.perf_counter() - start
        memory = memory_mb(workers[0]) if workers else {}
        for client in clients.values():
            client.close()
    return {
        "requests": done,
        "seconds": round(elapsed, 1),
        "rss_mb": round(memory.get("VmRSS", 0), 1),
        "peak_rss_mb": round(memory.get("VmHWM", 0), 1),
    }


def rollup_in_process(period: str, region: str | None) -> dict[str, Any]:
    """In a child process: ``flask indicators rollup`` itself, timed from the command's start
    to its end (the interpreter and the application's start-up left out)."""
    import resource

    from app import create_app

    app = create_app()
    args = ["indicators", "rollup", "--period", period, *(["--region", region] if region else [])]
    start = time.perf_counter()
    result = app.test_cli_runner().invoke(args=args)
    seconds = time.perf_counter() - start
    if result.exit_code:
        raise SystemExit(f"flask {' '.join(args)} failed: {result.output}{result.exception!r}")
    return {
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "summary": result.output.strip().splitlines()[0] if result.output.strip() else "",
    }


def rollups(env: dict[str, str], facts: dict[str, Any]) -> list[dict[str, Any]]:
    results = []
    for label, period, region in (
        ("national year", facts["year"], None),
        ("national month", facts["month"], None),
        ("kab/kota month", facts["month"], facts["kabkota"]["code"]),
    ):
        if ONLY_ROLLUPS and not any(w in label for w in ONLY_ROLLUPS):
            continue
        command = [PYTHON, __file__, "--rollup", period, *([region] if region else [])]
        wall, peak, output = timed_run(command, env, ROLLUP_TIMEOUT)
        if wall < 0:
            measured: dict[str, Any] = {"seconds": -1.0, "summary": "stopped"}
        else:
            measured = json.loads(output.strip().splitlines()[-1])
        results.append(
            {
                "rollup": label,
                "period": period,
                "region": region,
                "seconds": round(measured["seconds"], 2),
                "process_seconds": round(wall, 2),
                "peak_rss_mb": peak,
                "summary": measured["summary"],
            }
        )
        shown = (
            f"{measured['seconds']:8.2f} s (process {wall:.1f} s)"
            if wall >= 0
            else f"> {ROLLUP_TIMEOUT:.0f} s (stopped)"
        )
        print(f"  rollup {label:<15} {shown}  peak {peak} MB  {measured['summary']}", flush=True)
    return results


def table(
    results: list[Figures],
    floor: dict[int, float],
    memory: dict[str, Any],
    rolled: list[dict[str, Any]],
    workers_seen: dict[int, float],
) -> list[str]:
    lines = [
        f"{'page':<26} {'c':>3} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'req/s':>8} {'SQL':>6}"
        f" {'KB':>8} {'x floor':>8}  target",
    ]
    for f in results:
        p95_target, sql_target, size_target, rps_target = TARGETS.get(f.page, (None,) * 4)
        notes = []
        if f.connections == 1:
            if p95_target is not None:
                notes.append(f"p95 ≤ {p95_target:.0f} ms {verdict(f.p95, p95_target)}")
            if sql_target is not None:
                # "whatever the case": the worst request decides
                notes.append(
                    f"SQL ≤ {sql_target} (worst {f.sql_max}) {verdict(f.sql_max, sql_target)}"
                )
            if size_target is not None:
                notes.append(
                    f"≤ {size_target // 1000} KB (largest {f.html_max / 1024:.0f} KB) "
                    + verdict(f.html_max, size_target)
                )
        if rps_target is not None and f.connections == 16:
            notes.append(f"≥ {rps_target:.0f} req/s {verdict(f.rps, rps_target, higher=True)}")
        if f.errors:
            notes.append(f"{f.errors} errors {f.statuses}")
        ratio = f.p50 / floor[f.connections] if floor.get(f.connections) else float("nan")
        sql = f"{f.sql:.0f}" if f.sql is not None else "-"
        lines.append(
            f"{f.page:<26} {f.connections:>3} {f.p50:>9.1f} {f.p95:>9.1f} {f.p99:>9.1f}"
            f" {f.rps:>8.1f} {sql:>6} {f.html_bytes / 1024:>8.1f} {ratio:>8.1f}  {'; '.join(notes)}"
        )
    for r in rolled:
        target = ROLLUP_TARGETS[r["rollup"]]
        seconds = r["seconds"] if r["seconds"] >= 0 else float("inf")
        shown = (
            f"{seconds:>8.2f} s"
            if seconds < float("inf")
            else f"> {ROLLUP_TIMEOUT:.0f} s (stopped)"
        )
        lines.append(
            f"rollup {r['rollup']:<19} {shown}, peak {r['peak_rss_mb']} MB"
            f"  ≤ {target:.0f} s {verdict(seconds, target)};"
            f" ≤ {ROLLUP_MEMORY_TARGET_MB} MB {verdict(r['peak_rss_mb'], ROLLUP_MEMORY_TARGET_MB)}"
        )
    if workers_seen:
        lines.append(
            "web workers as deployed (recycled by max_requests): highest peak RSS "
            f"{max(workers_seen.values()):.1f} MB over {len(workers_seen)} worker processes"
        )
    if memory:
        lines.append(
            f"web worker after {memory['requests']:,} requests: RSS {memory['rss_mb']} MB, "
            f"peak {memory['peak_rss_mb']} MB  ≤ {WORKER_RSS_TARGET_MB} MB "
            f"{verdict(memory['peak_rss_mb'], WORKER_RSS_TARGET_MB)}"
            + (
                ""
                if memory["requests"] >= MEMORY_REQUESTS
                else " (stopped by BENCH_MEMORY_SECONDS)"
            )
        )
    return lines


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]  (progress as it goes)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    print(f"database {database_name()}, BENCH_CASES={CASES:,}; load average {os.getloadavg()}")
    source = prepare_database()
    postgres = postgres_facts()
    print(f"PostgreSQL {postgres['settings']}")
    print(f"rows (estimated above 100 k): {postgres['rows']}, size {postgres['size']}")

    done = subprocess.run(  # noqa: S603  (fixed argument list)
        [PYTHON, __file__, "--prepare-accounts"],
        cwd=ROOT, env=development_env(), text=True, capture_output=True, check=False,
    )  # fmt: skip
    if done.returncode:
        print(done.stderr[-3000:])
        return 1
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"UPTD {facts['uptd']['code']} ({facts['uptd']['cases']:,} cases), kab/kota "
        f"{facts['kabkota']['code']}, inbox of {facts['inbox_agency']}, Sub GT "
        f"{facts['board_subgt']}, year {facts['year']}, month {facts['month']}"
    )

    redis = redis_url()
    env = production_env(redis)
    print("rollups (flask indicators rollup, production settings):")
    rolled = rollups(env, facts)

    worker = None
    if redis:
        worker = subprocess.Popen(  # noqa: S603  (fixed argument list)
            [str(BIN / "celery"), "-A", "wsgi:celery", "worker", "-Q", "simpul", "-c", "1",
             "--loglevel=WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(RESULTS / "celery.log", "ab"),  # noqa: SIM115
        )  # fmt: skip
    print(
        f"background tasks: {'a Celery worker on ' + redis if redis else 'in-process (no Redis)'}"
    )
    workers_seen: dict[int, float] = {}
    try:
        with gunicorn(env) as (port, process):
            sessions = {
                who: sign_in(port, account["email"], account["totp"])
                for who, account in facts["accounts"].items()
            }
            print(
                f"gunicorn on 127.0.0.1:{port}, {len(children(process.pid))} workers; "
                f"signed in: {', '.join(sessions)}"
            )
            facts["keyset_url"], reached = keyset_url(port, sessions["supervisor"])
            if facts["keyset_url"]:
                print(f"keyset pages: page {reached} of the list by its next links")
            stop = threading.Event()

            def sample() -> None:
                while not stop.wait(1):
                    for pid in children(process.pid):
                        with contextlib.suppress(OSError):
                            workers_seen[pid] = max(
                                workers_seen.get(pid, 0), memory_mb(pid).get("VmHWM", 0)
                            )

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            chosen = [
                p
                for p in pages(facts)
                if not ONLY_PAGES or p[0] == "healthz (floor)" or any(w in p[0] for w in ONLY_PAGES)
            ]
            results = run_pages(port, sessions, chosen)
            stop.set()
        memory: dict[str, Any] = {}
        if MEMORY_REQUESTS > 0:
            print(
                f"memory: one worker, {MEMORY_REQUESTS:,} requests (at most {MEMORY_SECONDS:.0f} s)"
            )
            memory = memory_phase(env, sessions, facts)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(60)

    floor = {f.connections: f.p50 for f in results if f.page == "healthz (floor)"}
    load_average = os.getloadavg()
    lines = table(results, floor, memory, rolled, workers_seen)
    print()
    print(f"National benchmark, {started:%Y-%m-%d %H:%M} UTC, data: {source}")
    print(
        "load average " + " ".join(f"{value:.2f}" for value in load_average),
        f"on {os.cpu_count()} cores",
    )
    print("\n".join(lines))
    path = RESULTS / f"national-{started:%Y-%m-%dT%H%M}.json"
    path.write_text(
        json.dumps(
            {
                "started": started.isoformat(),
                "cases_asked": CASES,
                "data": source,
                "database": database_name(),
                "postgres": postgres,
                "load_average": load_average,
                "cpus": os.cpu_count(),
                "seconds_per_measure": SECONDS,
                "uptd": facts["uptd"],
                "kabkota": facts["kabkota"]["code"],
                "pages": [
                    vars(f)
                    | {
                        "floor_ratio": f.p50 / floor[f.connections]
                        if floor.get(f.connections)
                        else None,
                        "targets": TARGETS.get(f.page),
                    }
                    for f in results
                ],
                "rollups": rolled,
                "web_worker_memory": memory,
                "web_workers_peak_rss_mb": {str(k): round(v, 1) for k, v in workers_seen.items()},
                "table": lines,
            },
            indent=2,
            default=str,
        )
    )
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--prepare-accounts"]:
        print(json.dumps(prepare_accounts(), default=str))
        sys.exit(0)
    if sys.argv[1:2] == ["--rollup"]:
        print(json.dumps(rollup_in_process(sys.argv[2], (sys.argv[3:] or [None])[0])))
        sys.exit(0)
    sys.exit(main())
