"""Test setup: real PostgreSQL and Redis when they answer, built once by running the migrations;
every test runs inside a transaction that is rolled back."""

from __future__ import annotations

import os
import socket
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

# The test databases are thrown away at the end: a commit need not wait for its write-ahead log
# to reach the disk (4 ms → 1 ms a commit here; the demo builds and the served journeys commit
# thousands of times). Every connection of this process and its subprocesses (libpq reads
# PGOPTIONS) gets it; what a commit makes visible to other connections is unchanged.
os.environ["PGOPTIONS"] = " ".join(
    filter(None, (os.environ.get("PGOPTIONS"), "-c synchronous_commit=off"))
)
_BASE_DB_NAME = os.environ.get("SIMPUL_TEST_DB", "simpul_test")
# Under pytest-xdist each worker (gw0, gw1, …) has a database of its own, and every database a
# test creates is named after it; a run without workers keeps the plain name.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
TEST_DB_NAME = f"{_BASE_DB_NAME}_{WORKER}" if WORKER else _BASE_DB_NAME
# No application built in this process runs the periodic work in a thread of its own against
# the test database (tests run the jobs themselves); a server the tests start as another
# process, as `make run` does, is given the setting it should have.
os.environ["SCHEDULER"] = "off"


def redis_db_number(base_name: str, worker: str) -> int:
    """Redis database of the test run: 15 for ``simpul_test``; a run on another test database
    (SIMPUL_TEST_DB) gets its own, so two runs on one machine never reset each other's
    rate-limit counters. The workers of one run take the databases after it, each its own
    (databases 1 to 15; 0 is left to the application)."""
    first = 14 if base_name == "simpul_test" else zlib.crc32(base_name.encode()) % 14
    index = int(worker.removeprefix("gw")) if worker else 0
    return 1 + (first + index) % 15


TEST_REDIS_DB = redis_db_number(_BASE_DB_NAME, WORKER)


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _postgres_server_url() -> str | None:
    url = os.environ.get("DATABASE_URL")
    if url and url.startswith("postgresql"):
        return url
    if url:
        return None
    if _answers("127.0.0.1", 5432):
        return "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    return None


def _prepare_postgres(server_url: str) -> str:
    """A fresh, empty test database on the server ``server_url`` points at."""
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{TEST_DB_NAME}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{TEST_DB_NAME}"'))
    admin.dispose()
    return url.set(database=TEST_DB_NAME).render_as_string(hide_password=False)


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL")
    if url:
        base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
        return f"{base}/{TEST_REDIS_DB}"
    if _answers("127.0.0.1", 6379):
        return f"redis://127.0.0.1:6379/{TEST_REDIS_DB}"
    return None


_PG_SERVER = _postgres_server_url()
_DB_URL: str | None = None
_REDIS_URL = _redis_url()
_SQLITE_DIR = tempfile.mkdtemp(prefix="simpul-test-")
_FILES_DIR = Path(_SQLITE_DIR) / "files"


def database_url() -> str:
    global _DB_URL
    if _DB_URL is None:
        if _PG_SERVER:
            _DB_URL = _prepare_postgres(_PG_SERVER)
        else:
            _DB_URL = f"sqlite:///{_SQLITE_DIR}/test.sqlite3"
    return _DB_URL


def uses_postgres() -> bool:
    return _PG_SERVER is not None


def pytest_report_header(config: pytest.Config) -> list[str]:
    workers = bool(getattr(config.option, "numprocesses", None))  # pytest-xdist's controller
    if _PG_SERVER:
        u = make_url(_PG_SERVER)
        name = (
            f"{TEST_DB_NAME}_gw0, {TEST_DB_NAME}_gw1, … (one per worker)"
            if workers
            else TEST_DB_NAME
        )
        db_line = f"database: PostgreSQL at {u.host}:{u.port or 5432}, database {name}"
    else:
        db_line = "database: SQLite (PostgreSQL did not answer; PostgreSQL-only tests are skipped)"
    if _REDIS_URL:
        redis_line = f"redis: {_REDIS_URL}" + (
            " for gw0, the next databases for the others" if workers else ""
        )
    else:
        redis_line = "redis: not available (in-memory rate limits; Redis tests are skipped)"
    return [db_line, redis_line]


# Session fixtures built once by the worker that needs them: every test using them is sent to
# one worker (``--dist loadgroup``), so the demo database (and the browser tests' server on it)
# is built once per run, not once per worker. The browser tests against the embedded default
# (`make run`'s own server process on SQLite) need no demo database: they form a group of their
# own, which another worker can take meanwhile.
DEMO_FIXTURES = frozenset({"demo_app", "server"})


def _xdist_group(item: pytest.Item) -> str | None:
    names = frozenset(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    if "server" in names and callspec is not None and callspec.params.get("server") == "embedded":
        return "embedded_server"
    if DEMO_FIXTURES & names:
        return "demo_database"
    return None


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        for item in items:
            group = _xdist_group(item)
            if group is not None:
                item.add_marker(pytest.mark.xdist_group(group))
    if not uses_postgres():
        skip = pytest.mark.skip(reason="needs PostgreSQL, which did not answer on 127.0.0.1:5432")
        for item in items:
            # the committed demo database is built on PostgreSQL too
            if "postgres" in item.keywords or "demo_database" in item.keywords:
                item.add_marker(skip)
    if not _REDIS_URL:
        skip = pytest.mark.skip(reason="needs Redis, which did not answer on 127.0.0.1:6379")
        for item in items:
            if "redis" in item.keywords:
                item.add_marker(skip)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A grouped test fails if, under ``--dist loadgroup``, its group did not reach the scheduler.

    pytest-xdist tells the controller a test's group by appending ``@group`` to its node id. When a
    pytest release keeps node ids where pytest-xdist cannot change them, the tests are spread as if
    ungrouped: nothing else fails, but every worker builds the demo database and starts the
    browser tests' server, minutes per run. Better a clear failure than a silently slower suite.
    """
    config = item.config
    if not (hasattr(config, "workerinput") and config.getvalue("loadgroup")):
        return
    if _xdist_group(item) is not None and "@" not in item.nodeid.rpartition("]")[2]:
        pytest.fail(
            "pytest-xdist did not put this test in its group (the worker's node id has no "
            "@group): this pytest and pytest-xdist do not agree on node ids; see the pin of "
            "pytest in pyproject.toml",
            pytrace=False,
        )


def make_app(**overrides: Any) -> Flask:
    from app import create_app

    config: dict[str, Any] = {
        "APP_ENV": "testing",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "DATABASE_URL": database_url(),
        "REDIS_URL": _REDIS_URL,
        "WTF_CSRF_ENABLED": False,
        # attachments and reports of this test process (a worker's own under xdist)
        "UPLOAD_DIR": str(_FILES_DIR / "uploads"),
        "REPORT_DIR": str(_FILES_DIR / "reports"),
    }
    config.update(overrides)
    return create_app(config)


class FreshGlobalsClient(FlaskClient):
    """Requests in a test share the test's application context (Flask reuses it), so ``g``
    would carry over from one request to the next — including Flask-Login's cached user. Real
    requests each get a fresh context; clear ``g`` before each request to behave the same."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        from flask import g, has_app_context

        from app.extensions import db

        if has_app_context():
            # What the test set up is committed before the request, as it would be in life
            # (inside the test's outer transaction, so it is still rolled back at the end).
            db.session.commit()
            for name in list(vars(g)):
                delattr(g, name)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    from flask_migrate import upgrade

    app = make_app()
    app.test_client_class = FreshGlobalsClient
    with app.app_context():
        upgrade()
    yield app


class _BoundSession(Session):
    """A plain SQLAlchemy session (Flask-SQLAlchemy's own would ignore ``bind`` and pick the
    engine), accepting the ``db`` argument Flask-SQLAlchemy passes."""

    def __init__(self, db: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)


@contextmanager
def rolled_back_session(app: Flask) -> Iterator[Any]:
    """An application context whose ``db.session`` works inside a transaction on a connection of
    its own, rolled back at the end; commits in the code under test become savepoints."""
    from app.extensions import db

    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _BoundSession,
            }
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def db_session(app: Flask, request: pytest.FixtureRequest) -> Iterator[Session | None]:
    """Each test in a transaction that is rolled back; commits in the code under test become
    savepoints. Browser tests (marked e2e) talk to a served app with its own database instead."""
    from app.extensions import limiter

    if request.node.get_closest_marker("e2e") or request.node.get_closest_marker("demo_database"):
        yield None
        return
    with rolled_back_session(app) as session:
        limiter.reset()
        yield session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


pytest_plugins = ["tests.fixtures", "tests.leak_scan"]


@pytest.fixture(scope="session")
def demo_app(app: Flask) -> Iterator[Flask]:
    """An application on its own database holding the committed demo data (``flask demo
    load``), built once per session. Tests using it are marked ``demo_database`` and do not run
    inside the rolled-back transaction; what they write stays in that database until the end."""
    from flask_migrate import upgrade

    from app import celery_init_app
    from app.demo.operations import load_demo
    from app.extensions import db

    name = f"{TEST_DB_NAME}_demo"
    server = make_url(database_url())
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    demo = make_app(
        DATABASE_URL=server.set(database=name).render_as_string(hide_password=False),
        WTF_CSRF_ENABLED=True,  # as in production: every form posts its token
        UPLOAD_DIR=tempfile.mkdtemp(prefix="simpul-demo-uploads-"),  # the demo's attachments
    )
    demo.test_client_class = FreshGlobalsClient
    celery_init_app(app)  # building another app rebinds the shared Celery app: give it back
    with demo.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        db.session.remove()
    try:
        yield demo
    finally:
        with demo.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
