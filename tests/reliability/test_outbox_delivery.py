"""Sent is not done: an outbox row is completed by its task, not by Redis accepting it.

A Redis restarted without persistence lost every queued task while ``flask outbox status`` said
``pending 0``: the row counted as delivered the moment Redis took it. Now the task marks its own
row completed in its final commit, and the relay sends again what was sent and never completed,
until it gives up (a dead letter shown by the status)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core import outbox
from app.core.db import utcnow
from app.core.outbox import OUTBOX_HEADER, OutboxMessage, relay
from app.core.tasks import enqueue_after_commit, inprocess_dispatcher, run_inprocess
from app.extensions import celery, db
from tests.reliability.conftest import PrivateRedis

ROOT = Path(__file__).parents[2]
LATER = dt.timedelta(minutes=31)  # past OUTBOX_RESEND_MINUTES (30)


def row(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    found = db.session.get(OutboxMessage, message_id)
    assert found is not None
    return found


def only_row(task: str) -> OutboxMessage:
    db.session.expire_all()
    (found,) = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.task_name == task))
    return found


def status(app: Any) -> list[str]:
    result = app.test_cli_runner().invoke(args=["outbox", "status"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def queued_headers(server: PrivateRedis) -> list[tuple[str, Any]]:
    """(task name, outbox header) of each message waiting in the Celery queue, oldest first."""
    out = []
    for item in reversed(server.client().lrange("simpul", 0, -1)):
        headers = json.loads(item)["headers"]
        out.append((headers["task"], headers.get(OUTBOX_HEADER)))
    return out


class Recorder:
    """A dispatcher that only records: (task name, args, the outbox row it was told)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...], int | None]] = []

    def __call__(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.sent.append((name, args, outbox.sending_id()))


@pytest.fixture
def recorder(app: Any, monkeypatch: Any) -> Recorder:
    recording = Recorder()
    monkeypatch.setitem(app.extensions, "simpul_outbox", True)
    monkeypatch.setitem(app.extensions, "simpul_dispatch", recording)
    return recording


def test_a_task_redis_took_is_published_not_completed_and_carries_its_row(app, redis_up):
    enqueue_after_commit(db.session, "demo.taken", 3)
    db.session.commit()

    message = only_row("demo.taken")
    assert message.sent_at is not None and message.deliveries == 1
    assert message.completed_at is None  # Redis has it; no worker has run it
    assert queued_headers(redis_up) == [("demo.taken", message.id)]
    lines = status(app)
    assert lines[0] == "pending 0, oldest -"  # the line scripts read, unchanged
    assert lines[1] == f"published-not-completed 1, oldest {message.sent_at.isoformat()}"
    assert lines[2:4] == ["completed 0", "failed 0"]


def test_the_relay_sends_again_what_no_task_completed_then_gives_up(app, recorder):
    enqueue_after_commit(db.session, "demo.lost", 5)
    db.session.commit()
    message_id = only_row("demo.lost").id
    assert recorder.sent == [("demo.lost", (5,), message_id)]
    bind = db.session.get_bind()

    soon = relay(bind, recorder, now=utcnow() + dt.timedelta(minutes=20))
    assert (soon.sent, soon.resent) == (0, 0)  # not overdue yet: a worker may still be on it

    for deliveries in (2, 3, 4, 5):
        report = relay(bind, recorder, now=utcnow() + LATER)
        assert (report.sent, report.resent, report.given_up) == (1, 1, 0)
        assert row(message_id).deliveries == deliveries
    assert recorder.sent[-1] == ("demo.lost", (5,), message_id)  # the same row, again

    given_up = relay(bind, recorder, now=utcnow() + LATER)
    assert (given_up.sent, given_up.given_up) == (0, 1)
    dead = row(message_id)
    assert dead.failed_at is not None and dead.completed_at is None
    assert relay(bind, recorder, now=utcnow() + LATER).sent == 0  # a dead letter stays put
    assert len(recorder.sent) == 5
    assert status(app)[3] == "failed 1"

    retried = app.test_cli_runner().invoke(args=["outbox", "retry"])
    assert retried.output == "pending again 1\n"
    assert relay(bind, recorder).sent == 1
    again = row(message_id)
    assert (again.failed_at, again.deliveries) == (None, 1)


def test_a_task_run_in_process_marks_its_row_in_its_own_commit(app, recorder):
    enqueue_after_commit(db.session, "workflow.notify_assignment", -1, -1)
    db.session.commit()
    message_id = only_row("workflow.notify_assignment").id

    run_inprocess(app, "workflow.notify_assignment", (-1, -1), {}, outbox_id=message_id)

    done = row(message_id)
    assert done.completed_at is not None and done.failed_at is None
    # completed: never sent again, however late
    assert relay(db.session.get_bind(), recorder, now=utcnow() + dt.timedelta(days=1)).sent == 0
    assert status(app)[1:3] == ["published-not-completed 0, oldest -", "completed 1"]


def test_a_failed_task_keeps_its_error_and_stays_unfinished(app, recorder, monkeypatch):
    enqueue_after_commit(db.session, "workflow.notify_assignment", -2, -2)
    db.session.commit()
    message_id = only_row("workflow.notify_assignment").id

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(celery.tasks["workflow.notify_assignment"], "run", explode)
    run_inprocess(app, "workflow.notify_assignment", (-2, -2), {}, outbox_id=message_id)

    failed = row(message_id)
    assert failed.completed_at is None
    assert failed.last_error == "RuntimeError: database went away"
    report = relay(db.session.get_bind(), recorder, now=utcnow() + LATER)
    assert report.resent == 1  # tried again later
    assert row(message_id).last_error == "RuntimeError: database went away"  # kept for the status


def test_the_in_process_dispatcher_hands_the_task_its_row(app, monkeypatch):
    ran = threading.Event()
    seen: list[Any] = []

    def fake_run(app: Any, name: str, args: Any, kwargs: Any, outbox_id: Any) -> None:
        seen.append((name, args, outbox_id))
        ran.set()

    monkeypatch.setattr("app.core.tasks.run_inprocess", fake_run)
    dispatch = inprocess_dispatcher(app)
    with outbox.sending(42):
        dispatch("demo.row", (1,), {})
    assert ran.wait(10)
    ran.clear()
    dispatch("demo.none", (2,), {})  # the embedded default: no outbox row
    assert ran.wait(10)
    assert seen == [("demo.row", (1,), 42), ("demo.none", (2,), None)]


def test_the_status_says_whether_redis_keeps_its_queue(app, redis_up):
    assert status(app)[4] == "redis appendonly no"  # the test's Redis: no persistence
    client = redis_up.client()
    client.config_set("appendonly", "yes")
    try:
        assert status(app)[4] == "redis appendonly yes"
    finally:
        client.config_set("appendonly", "no")


# --- a real worker: Redis forgets its queue, the relay sends again, a worker completes -----------

TASKS = [
    ("workflow.notify_transition", [-1]),
    ("workflow.notify_transfer", [-1]),
    ("workflow.notify_assignment", [-1, -1]),
    ("referrals.notify", [-1, "sent"]),
    ("notifications.send_email", [-1]),
]


def start_worker(app: Any, broker: str, log: Path) -> subprocess.Popen[bytes]:
    """``celery worker`` of the application, in a process of its own, on the test database and
    the private Redis."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "APP_ENV": "testing",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "REDIS_URL": broker,
        "SIMPUL_INSTANCE_PATH": app.instance_path,  # the same generated keys as the tests
        "MAIL_BACKEND": "none",
        "SCHEDULER": "off",
        "LOG_LEVEL": "INFO",
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "wsgi:celery", "worker"),
        *("-Q", "simpul", "--pool", "solo", "-n", f"outbox-test-{os.getpid()}@localhost"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"),
    ]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)  # warm shutdown
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)


@pytest.mark.postgres
def test_tasks_lost_by_a_redis_restart_are_sent_again_and_completed_by_a_real_worker(
    app, redis_up, tmp_path
):
    table = OutboxMessage.__table__
    ids: list[int] = []
    worker = None
    try:
        # committed on the real engine (the worker is another process): five tasks, each
        # published to Redis right after its commit
        with Session(db.engine) as session:
            for name, args in TASKS:
                enqueue_after_commit(session, name, *args)
            session.commit()
        with db.engine.connect() as conn:
            ids = list(conn.scalars(sa.select(table.c.id).where(table.c.completed_at.is_(None))))
        assert len(ids) == 5 and len(queued_headers(redis_up)) == 5

        redis_up.client().flushall()  # Redis restarts without persistence: the queue is gone

        before = status(app)
        assert before[0].startswith("pending 0,")  # all the old status could say
        assert before[1].startswith("published-not-completed 5,")

        report = relay(db.engine, app.extensions["simpul_dispatch"], now=utcnow() + LATER)
        assert (report.sent, report.resent, report.failed) == (5, 5, 0)
        assert sorted(h for _, h in queued_headers(redis_up)) == sorted(ids)

        log = tmp_path / "worker.log"
        worker = start_worker(app, redis_up.url, log)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and worker.poll() is None:
            with db.engine.connect() as conn:
                done = conn.scalar(
                    sa.select(sa.func.count()).where(
                        table.c.id.in_(ids), table.c.completed_at.is_not(None)
                    )
                )
            if done == 5:
                break
            time.sleep(0.2)  # polling a real worker in another process, not timing anything
        stop_worker(worker)
        output = log.read_text(errors="replace")
        assert done == 5, output[-3000:]

        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.select(table.c.deliveries, table.c.failed_at).where(table.c.id.in_(ids))
            ).all()
        assert rows == [(2, None)] * 5
        assert output.count("succeeded in") == 5
        assert redis_up.client().llen("simpul") == 0
        # nothing left to send, however late
        assert relay(db.engine, app.extensions["simpul_dispatch"], now=utcnow() + LATER).sent == 0
    finally:
        if worker is not None:
            stop_worker(worker)
        if ids:
            with db.engine.begin() as conn:
                conn.execute(sa.delete(table).where(table.c.id.in_(ids)))
