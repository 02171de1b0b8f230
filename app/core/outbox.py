"""Transactional outbox: background work survives a broker outage.

With Redis (``REDIS_URL``), ``enqueue_after_commit`` writes an ``outbox`` row in the same
transaction as the change that needs the task, so the task exists exactly when the change does.
After the commit it tries to publish the task at once, on its own short-lived broker connection
that gives up within about a second (no publish retries, 1 s connect and socket timeouts), and
marks the row sent in a tiny transaction of its own. When the broker is down the row simply stays
pending; nothing waits for Redis and nothing is lost.

Pending rows are sent later by the relay (:func:`relay`), oldest first, under
``FOR UPDATE SKIP LOCKED`` so that any number of relays and after-commit senders never send a
row twice between them. The relay runs

* as ``flask outbox relay`` (a loop for a systemd unit, or ``--once`` for cron), and
* at the start of a web request, at most once every ``RELAY_EVERY`` seconds per process: one
  indexed query when nothing is pending (a Celery beat task cannot do it: beat needs the very
  broker that is down).

A crash between publishing a task and marking its row sent sends that task again. That is
harmless: every task is idempotent by design (notification keys, stamps, job states, rollups that
write the same values), so the outbox gives at-least-once delivery and the tasks make it
effectively once.

After a failed publish the process stops trying for ``PAUSE_AFTER_FAILURE`` seconds (a small
circuit breaker), so a request never pays more than one broker time-out, and while the breaker
is open it pays none.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, utcnow
from app.extensions import celery, db

log = logging.getLogger(__name__)

Dispatcher = Callable[[str, tuple[Any, ...], dict[str, Any]], None]

SEND_TIMEOUT = 1.0  # seconds: broker connect and socket time-outs of a publish
PAUSE_AFTER_FAILURE = 10.0  # seconds without publish attempts after one failed
RELAY_EVERY = 30.0  # seconds between relay runs at the start of web requests, per process
RELAY_BATCH = 100


class OutboxMessage(db.Model):  # type: ignore[name-defined,misc]
    """A task to send to the broker; ``sent_at`` stays empty until the broker has it."""

    __tablename__ = "outbox"
    __table_args__ = (
        # the relay's query: pending rows, oldest first; only pending rows are indexed
        sa.Index(
            "ix_outbox_pending",
            "id",
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_name: Mapped[str] = mapped_column(sa.String(200))
    args: Mapped[list[Any]] = mapped_column(sa.JSON)
    kwargs: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))


_table = OutboxMessage.__table__


class Breaker:
    """After a failed publish, no further attempt in this process for ``pause`` seconds."""

    def __init__(self, pause: float = PAUSE_AFTER_FAILURE) -> None:
        self.pause = pause
        self._open_until = 0.0
        self._lock = threading.Lock()

    def is_open(self) -> bool:
        with self._lock:
            return time.monotonic() < self._open_until

    def trip(self) -> None:
        with self._lock:
            self._open_until = time.monotonic() + self.pause

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0


breaker = Breaker()


def record(session: Any, task_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """Write the outbox row of a task in the session's transaction; its id."""
    return int(
        session.execute(
            sa.insert(_table)
            .values(
                task_name=task_name,
                args=list(args),
                kwargs=dict(kwargs),
                created_at=utcnow(),
                attempts=0,
            )
            .returning(_table.c.id)
        ).scalar_one()
    )


@contextmanager
def _transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """A short transaction of its own on an engine; a savepoint on a connection that is already
    in a transaction (tests run inside one that is rolled back)."""
    if isinstance(bind, Connection):
        with bind.begin_nested():
            yield bind
    else:
        with bind.begin() as connection:
            yield connection


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


@dataclass
class RelayReport:
    sent: int = 0
    failed: int = 0
    skipped: bool = False  # the breaker was open: nothing was tried


def _send_locked(
    connection: Connection,
    rows: Sequence[tuple[int, str, Sequence[Any], dict[str, Any]]],
    dispatch: Dispatcher,
) -> RelayReport:
    """Publish rows this transaction has locked, in order; stop at the first failure."""
    report = RelayReport()
    sent: list[int] = []
    for message_id, name, args, kwargs in rows:
        try:
            dispatch(name, tuple(args), dict(kwargs or {}))
        except Exception as error:  # the broker is down or refused: the row waits for the relay
            breaker.trip()
            report.failed += 1
            log.warning("outbox %s (%s) not sent, left for the relay: %s", message_id, name, error)
            connection.execute(
                sa.update(_table)
                .where(_table.c.id == message_id)
                .values(attempts=_table.c.attempts + 1, last_error=_short(error))
            )
            break
        sent.append(message_id)
    if sent:
        connection.execute(
            sa.update(_table)
            .where(_table.c.id.in_(sent))
            .values(sent_at=utcnow(), attempts=_table.c.attempts + 1, last_error=None)
        )
    report.sent = len(sent)
    return report


def _pending(ids: Sequence[int] | None = None, limit: int = RELAY_BATCH) -> sa.Select[Any]:
    query = sa.select(_table.c.id, _table.c.task_name, _table.c.args, _table.c.kwargs).where(
        _table.c.sent_at.is_(None)
    )
    if ids is not None:
        query = query.where(_table.c.id.in_(ids))
    return query.order_by(_table.c.id).limit(limit).with_for_update(skip_locked=True)


def send_committed(
    bind: Engine | Connection,
    messages: Sequence[tuple[int, str, tuple[Any, ...], dict[str, Any]]],
    dispatch: Dispatcher,
) -> None:
    """After a commit: publish the transaction's own outbox rows and mark them sent. Never
    raises; whatever is not sent stays pending for the relay."""
    if breaker.is_open():
        log.info("broker recently unreachable: %d task(s) left for the outbox relay", len(messages))
        return
    by_id = {m[0]: m for m in messages}
    try:
        with _transaction(bind) as connection:
            locked = set(connection.scalars(_pending(list(by_id), limit=len(by_id))))
            # in the order they were enqueued; a relay that got there first has them locked
            _send_locked(connection, [by_id[i] for i in by_id if i in locked], dispatch)
    except Exception:
        log.exception("outbox: sending after commit failed; the relay will send what is left")


def relay(
    bind: Engine | Connection,
    dispatch: Dispatcher,
    *,
    limit: int = RELAY_BATCH,
    force: bool = False,
) -> RelayReport:
    """Send pending outbox rows, oldest first, and mark them sent. ``force`` ignores the breaker
    (the command-line relay asks the broker every time; web requests do not)."""
    if not force and breaker.is_open():
        return RelayReport(skipped=True)
    with _transaction(bind) as connection:
        rows = [tuple(r) for r in connection.execute(_pending(limit=limit))]
        if not rows:
            return RelayReport()
        report = _send_locked(connection, rows, dispatch)
    if report.sent:
        log.info("outbox relay sent %d task(s)", report.sent)
    return report


def pending_count(bind: Engine | Connection) -> int:
    with _transaction(bind) as connection:
        return int(
            connection.scalar(
                sa.select(sa.func.count()).select_from(_table).where(_table.c.sent_at.is_(None))
            )
            or 0
        )


class _Throttle:
    def __init__(self, every: float) -> None:
        self.every = every
        self._next = 0.0
        self._lock = threading.Lock()

    def due(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                return False
            self._next = now + self.every
            return True


_request_relay = _Throttle(RELAY_EVERY)


@click.group("outbox", help="Background tasks waiting for the broker (Redis).")
def outbox_cli() -> None:
    pass


@outbox_cli.command("relay")
@click.option("--once", is_flag=True, help="Send what is pending and stop.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between rounds.")
@with_appcontext
def relay_command(once: bool, interval: float) -> None:
    """Send pending outbox rows to the broker, oldest first (a loop unless --once)."""
    if not current_app.extensions.get("simpul_outbox"):
        raise click.ClickException("REDIS_URL is not set: tasks run in-process, no outbox")
    dispatch: Dispatcher = current_app.extensions["simpul_dispatch"]
    while True:
        total = RelayReport()
        while True:  # drain in batches while the broker takes them
            report = relay(db.engine, dispatch, force=True)
            total.sent += report.sent
            total.failed += report.failed
            if report.failed or report.sent < RELAY_BATCH:
                break
        left = pending_count(db.engine)
        if once or total.sent or total.failed:
            click.echo(f"sent {total.sent}, failed {total.failed}, pending {left}")
        if once:
            raise SystemExit(1 if total.failed else 0)
        time.sleep(interval)


@outbox_cli.command("status")
@with_appcontext
def status_command() -> None:
    """How many outbox rows are pending, and the oldest one."""
    with db.engine.connect() as connection:
        row = connection.execute(
            sa.select(sa.func.count(), sa.func.min(_table.c.created_at)).where(
                _table.c.sent_at.is_(None)
            )
        ).one()
    click.echo(f"pending {row[0]}, oldest {row[1].isoformat() if row[1] else '-'}")


@celery.task(name="outbox.relay")  # type: ignore[untyped-decorator]
def relay_task(now: str | None = None) -> dict[str, int]:
    """The periodic relay (beat, the scheduler or ``flask schedule run-due``): what is pending."""
    if not current_app.extensions.get("simpul_outbox"):
        return {"sent": 0, "failed": 0}
    report = relay(db.engine, current_app.extensions["simpul_dispatch"], force=True)
    return {"sent": report.sent, "failed": report.failed}


def init_outbox(app: Flask) -> None:
    """The command-line relay, the periodic relay, and the relay at the start of web requests
    (with Redis only)."""
    from app.core.schedule import Every, Periodic, register

    if app.extensions.get("simpul_outbox_hooks"):
        return
    app.extensions["simpul_outbox_hooks"] = True
    app.cli.add_command(outbox_cli)
    register(
        Periodic(
            name="outbox.relay",
            task="outbox.relay",
            schedule=Every(dt.timedelta(minutes=1)),
            command="flask outbox relay --once",
            description="send the background tasks the broker did not take",
            applies=lambda app: bool(app.extensions.get("simpul_outbox")),
        )
    )

    @app.before_request
    def relay_now_and_then() -> None:
        if not app.extensions.get("simpul_outbox") or not _request_relay.due():
            return
        try:
            relay(db.engine, app.extensions["simpul_dispatch"])
        except Exception:  # never fail a request over the outbox
            log.exception("outbox relay at request start failed")
