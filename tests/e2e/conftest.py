"""Browser tests: a real Chromium (Debian's package) driven by Playwright against the app served
on loopback from its own database with the demo data committed.

Every journey runs against both configurations (the ``server`` fixture, ids ``postgres`` and
``embedded``):

* ``postgres``: the demo application on a PostgreSQL database (and Redis when it answers),
  served in a thread of the test process;
* ``embedded``: what ``make run`` does, in a subprocess — ``flask db upgrade``, ``flask demo
  load`` and ``flask run`` in a fresh ``SIMPUL_INSTANCE_PATH``, without ``DATABASE_URL``,
  ``REDIS_URL`` or ``APP_ENV`` (an SQLite file, tasks and periodic work on in-process threads).
  Its output goes to ``test-artifacts/e2e/embedded-server.log``; a test after which that log
  shows a traceback, a locked database or an internal server error fails, and so does the
  session's end for what comes after the last test.

The tests reach the served database only through the browser and through ``server.flask(...)``
(the CLI on the same database: a subprocess for the embedded server).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import uses_postgres

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
BACKENDS = ("postgres", "embedded")
FLASK = (sys.executable, "-m", "flask", "--app", "wsgi")
START_TIMEOUT = 60  # seconds for the embedded server to answer GET /masuk
# A page the server takes longer than this to answer fails the test: a request waiting on a
# lock (SQLite's busy timeout is 30 s) is a failure even when it gets through in the end.
SLOW_PAGE_SECONDS = 5  # the slowest page of a normal run takes under 1 s
# What must never be in the embedded server's output; the last one is a request answered 5xx
# as Werkzeug logs it (its colours taken out first).
LOG_PROBLEMS = re.compile(
    r"Traceback|database is locked|Internal Server Error|\"[A-Z]+ [^\"]*HTTP/[\d.]+\" 5\d\d "
)
ANSI_COLOUR = re.compile(r"\x1b\[[\d;]*m")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" not in str(item.fspath):
            continue
        reason = None
        if not Path(CHROMIUM).exists():
            reason = f"needs Chromium at {CHROMIUM} (Debian package 'chromium')"
        elif not uses_postgres() and _backend_of(item) == "postgres":
            reason = "needs PostgreSQL for the served database"
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def _backend_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("server") if callspec else None


@dataclass
class LiveServer:
    """The served demo application, as the tests may reach it."""

    backend: str
    url: str
    app: Any = None  # the served Flask app, when it runs in this process (postgres)
    env: dict[str, str] | None = None  # the environment of the embedded server's commands
    log: Path | None = None  # the embedded server's output
    _log_checked: int = 0  # bytes of the log already checked

    @property
    def sends_to_broker(self) -> bool:
        """Background tasks go to Celery (no worker in the e2e setup), not to an in-process
        thread: the test runs a queued job itself (``run_queued_job``)."""
        return bool(self.app is not None and self.app.extensions.get("simpul_outbox"))

    def flask(self, *args: str) -> str:
        """Run ``flask ARGS`` on the served database; returns what it printed."""
        if self.app is not None:
            result = self.app.test_cli_runner().invoke(args=list(args))
            assert result.exit_code == 0, result.output
            return str(result.output)
        done = subprocess.run(
            [*FLASK, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"flask {' '.join(args)}: {done.stderr[-3000:]}"
        return done.stdout

    def run_queued_job(self, job_id: int) -> None:
        """Run a queued indicator job as the Celery worker would, when the served app sends its
        tasks to a broker; with in-process dispatch it runs by itself (nothing to do here)."""
        if not self.sends_to_broker:
            return
        from app.extensions import db
        from app.indicators.tasks import run_job

        with self.app.app_context():
            try:
                result = run_job.run(job_id)
                db.session.commit()  # as FlaskTask does at the end of a task
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()
        assert result in ("done", "skipped"), result

    def reset_limits(self) -> None:
        """Every browser test signs in from the same loopback address: the sign-in counters
        start again (the embedded server is started with a limit the e2e run cannot reach)."""
        if self.app is not None:
            from app.extensions import limiter

            with self.app.app_context():
                limiter.reset()

    def log_problems(self, *, final: bool = False) -> list[str]:
        """What the server's output shows of failures since the last call: each failing line
        with the lines around it (a traceback down to its exception)."""
        if self.log is None:
            return []
        with self.log.open("rb") as f:
            f.seek(self._log_checked)
            new = f.read()
        # a line being written is read next time, unless the server has stopped
        complete = len(new) if final else new.rfind(b"\n") + 1
        self._log_checked += complete
        lines = ANSI_COLOUR.sub("", new[:complete].decode(errors="replace")).splitlines()
        _scan_for_identities(lines)
        excerpts: list[str] = []
        shown_up_to = 0
        for i, line in enumerate(lines):
            if i >= shown_up_to and LOG_PROBLEMS.search(line):
                shown_up_to = i + 30
                excerpts.append("\n".join(lines[max(i - 3, 0) : shown_up_to]))
        return excerpts


def _scan_for_identities(lines: list[str]) -> None:
    """The whole-run identity scan (tests/leak_scan.py) reads the embedded server's log too."""
    from tests.leak_scan import LOG, session_scanner

    scanner = session_scanner()
    if scanner is not None:
        for line in lines:
            scanner.see(LOG, "embedded server output", line)


@pytest.fixture(scope="session", params=BACKENDS, ids=BACKENDS)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The backend of the test. A session fixture holds one parameter at a time: when a worker
    goes from one backend's tests to the other's and back, this is set up again — so the
    expensive parts (the demo database, the embedded server) are session fixtures of their own,
    built once per worker whatever the order."""
    if request.param == "postgres":
        yield from _threaded_server(request.getfixturevalue("demo_app"))
    else:
        yield request.getfixturevalue("embedded_server")


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[LiveServer]:
    yield from _embedded_server()


@pytest.fixture(scope="session")
def live_server(server: LiveServer) -> str:
    return server.url


def _threaded_server(demo_app: Any) -> Iterator[LiveServer]:
    """The demo application (committed demo data, CSRF on) served on a loopback port."""
    httpd = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer("postgres", f"http://127.0.0.1:{httpd.server_port}", app=demo_app)
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


def embedded_environment(instance: Path) -> dict[str, str]:
    """The environment of ``make run`` on a developer's machine: no setting of the application
    (CI exports DATABASE_URL and REDIS_URL), no Flask debug switches, a fresh instance folder."""
    from app.config import SETTINGS

    drop = {s.name for s in SETTINGS}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("FLASK_")}
    env["SIMPUL_INSTANCE_PATH"] = str(instance)
    env["PYTHONUNBUFFERED"] = "1"
    # The one difference from `make run`: every browser signs in from 127.0.0.1, and the
    # in-memory counters of another process cannot be reset between tests as they are for the
    # postgres server (6 a minute would refuse the referral journey's seventh sign-in).
    env["LOGIN_RATE_LIMIT"] = "1000 per minute"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _embedded_server() -> Iterator[LiveServer]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "embedded-server.log"
    with (
        tempfile.TemporaryDirectory(prefix="simpul-e2e-instance-") as instance,
        log_path.open("wb") as log,
    ):
        env = embedded_environment(Path(instance))

        def flask(*args: str, **options: Any) -> subprocess.Popen[bytes]:
            """Start ``flask ARGS`` as `make run` does, its output appended to the log."""
            log.write(f"$ flask {' '.join(args)}\n".encode())
            log.flush()
            return subprocess.Popen(
                [*FLASK, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, **options
            )

        for step in (("db", "upgrade"), ("demo", "load")):
            if flask(*step).wait(timeout=300) != 0:
                tail = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"`flask {' '.join(step)}` failed ({log_path}):\n{tail}")
        port = _free_port()
        process = flask(
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            start_new_session=True,  # its own process group: stopped whole at the end
            preexec_fn=_die_with_parent(),  # and with the test process if that is killed
        )
        served = LiveServer("embedded", f"http://127.0.0.1:{port}", env=env, log=log_path)
        try:
            _wait_until_answering(served.url, process, log_path)
            yield served
        finally:
            _stop(process)
        problems = served.log_problems(final=True)
        if problems:
            pytest.fail(
                f"the embedded server's output ({log_path}) shows failures after the last "
                "test:\n" + "\n---\n".join(problems[:5])
            )


def _die_with_parent() -> Any:
    """A function for the child between fork and exec: the kernel sends it SIGTERM when the
    test process dies without its teardown (killed by a time-out), so no server is left."""
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in the child
    pr_set_pdeathsig = 1

    def set_death_signal() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM))

    return set_death_signal


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/masuk", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    _stop(process)
    tail = log.read_text(errors="replace")[-3000:]
    pytest.fail(f"the embedded server did not answer GET /masuk ({url}):\n{tail}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A phone-sized page. At the end, the test fails on a console error, on a page or request
    answered 5xx, on a page answered after SLOW_PAGE_SECONDS, and on a failure in the embedded
    server's output."""
    server.reset_limits()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    page = context.new_page()
    page.simpul_backend = server.backend  # screenshot() names the embedded server's apart
    errors: list[str] = []
    server_errors: list[str] = []
    slow: list[str] = []

    def finished(req: Any) -> None:
        if req.resource_type == "document":
            timing = req.timing
            waited = (timing["responseStart"] - timing["requestStart"]) / 1000
            if timing["requestStart"] >= 0 and waited > SLOW_PAGE_SECONDS:
                slow.append(f"{req.method} {req.url} answered after {waited:.1f} s")

    page.on("requestfinished", finished)
    page.on(
        "console",
        lambda m: (
            errors.append(f"{m.text} [{m.location.get('url')}:{m.location.get('lineNumber')}]")
            if m.type == "error"
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            server_errors.append(f"{r.status} {r.request.method} {r.url}")
            if r.status >= 500
            else None
        ),
    )
    yield page
    context.close()
    if request.node.get_closest_marker("http_error_expected"):
        errors = [e for e in errors if "the server responded with a status of 4" not in e]
    # the server's output since the end of the previous test: a task failing late counts too
    problems = server.log_problems()
    failures = [
        *(f"answered with a server error: {e}" for e in server_errors),
        *slow,
        *(f"browser console error: {e}" for e in errors),
        *(f"in the server's output ({server.log}):\n{p}" for p in problems[:5]),
    ]
    assert not failures, "\n".join(failures)


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    backend = getattr(page, "simpul_backend", "postgres")
    path = ARTIFACTS / (f"{name}.png" if backend == "postgres" else f"{name}-{backend}.png")
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_no_error_page(page: Any) -> None:
    """The page shown is no error page: neither the application's 500 page nor Werkzeug's."""
    text = page.locator("body").inner_text()
    assert "Internal Server Error" not in text, f"{page.url}: {text[:500]}"
    assert page.locator("main p.display-6:text-is('500')").count() == 0, (
        f"{page.url}: the application's error page: {text[:500]}"
    )
