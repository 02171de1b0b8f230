"""Fault injection for the outbox: a broker that is not there, one that hangs, and a private
Redis server of the test's own (never the machine's shared one)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.core import outbox
from app.core.tasks import celery_dispatcher
from tests.workflow.test_views import agency, case, intake_officer  # noqa: F401 (fixtures)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def use_broker(app: Flask, monkeypatch: Any, url: str) -> None:
    """Point the app's task sending (and only that) at ``url``, with the outbox on."""
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    monkeypatch.setitem(app.extensions, "simpul_outbox", True)
    monkeypatch.setitem(app.extensions, "simpul_dispatch", celery_dispatcher(app))
    outbox.breaker.reset()


@pytest.fixture(autouse=True)
def closed_breaker() -> Iterator[None]:
    outbox.breaker.reset()
    yield
    outbox.breaker.reset()


@pytest.fixture
def redis_down(app: Flask, monkeypatch: Any) -> str:
    """A broker URL nobody listens on (connection refused at once)."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    use_broker(app, monkeypatch, url)
    return url


@pytest.fixture
def redis_hung(app: Flask, monkeypatch: Any) -> Iterator[str]:
    """A broker that accepts the connection and never answers (a wedged Redis, a half-open
    link): only time-outs end the wait."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                accepted.append(conn)  # kept open, never read
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    use_broker(app, monkeypatch, url)
    try:
        yield url
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="simpul-rel-redis-"))
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--pidfile",
                str(self.dir / "redis.pid"),
            ],
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def client(self) -> Any:
        import redis

        return redis.Redis(port=self.port, socket_timeout=1)

    def stop(self) -> None:
        with contextlib.suppress(Exception):  # already gone
            self.client().shutdown(nosave=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def private_redis() -> Iterator[PrivateRedis]:
    # the machine's Redis comes from the same package (.ci/run checks it is there)
    assert shutil.which("redis-server"), "redis-server is not on PATH"
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_up(app: Flask, monkeypatch: Any, private_redis: PrivateRedis) -> PrivateRedis:
    private_redis.client().flushall()
    use_broker(app, monkeypatch, private_redis.url)
    return private_redis
