"""Transactional outbox: background work survives a broker outage, and a broker that forgets.

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

**Sent is not done.** Redis accepting a task does not mean a worker will run it: a Redis
restarted without persistence forgets its queue, and a task can fail. So a row records three
moments: ``sent_at`` (published to the broker, the latest time), ``completed_at`` (set by the task
itself, in the same transaction as its work: the worker gets the row's id in the message header
``simpul_outbox_id``; see :func:`mark_completed`) and ``failed_at`` (given up). The relay sends
again, oldest first, every row sent longer than ``OUTBOX_RESEND_MINUTES`` ago and still not
completed, counting ``deliveries``; after ``OUTBOX_MAX_DELIVERIES`` deliveries without completion
the row is given up (``failed_at``, a dead letter shown by ``flask outbox status``; ``flask outbox
retry`` sends it again once the cause is fixed). The re-send time-out is larger than the broker's
visibility time-out (a task whose worker died comes back on its own first) and than the longest
task.

A crash between publishing a task and marking its row sent, a re-send of a task that was only
slow, or a task that runs again after a failure: each runs a task twice. That is harmless: every
task is idempotent by design (notification keys, stamps, job states, rollups that write the same
values), so the outbox gives at-least-once delivery and the tasks make it effectively once.

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
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import AnySession, UTCDateTime, utcnow
from app.core.extensions import Model, db
from app.core.schedule import Every, Periodic, register
from app.core.tasks import task

log = logging.getLogger(__name__)

Dispatcher = Callable[[str, tuple[Any, ...], dict[str, Any]], None]

SEND_TIMEOUT = 1.0  # seconds: broker connect and socket time-outs of a publish
PAUSE_AFTER_FAILURE = 10.0  # seconds without publish attempts after one failed
RELAY_EVERY = 30.0  # seconds between relay runs at the start of web requests, per process
RELAY_BATCH = 100
# The message header that tells the worker which outbox row its task is (app.core.tasks).
OUTBOX_HEADER = "simpul_outbox_id"


_UNFINISHED = "sent_at IS NOT NULL AND completed_at IS NULL AND failed_at IS NULL"


class OutboxMessage(Model):
    """A task to send to the broker: ``sent_at`` stays empty until the broker has it, and
    ``completed_at`` until the task itself has run to its end; ``failed_at`` when given up."""

    __tablename__ = "outbox"
    __table_args__ = (
        # the relay's query: pending rows, oldest first; only pending rows are indexed
        sa.Index(
            "ix_outbox_pending",
            "id",
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        ),
        # the re-send query: sent, neither completed nor given up, by the time it was sent
        sa.Index(
            "ix_outbox_unfinished",
            "sent_at",
            postgresql_where=sa.text(_UNFINISHED),
            sqlite_where=sa.text(_UNFINISHED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_name: Mapped[str] = mapped_column(sa.String(200))
    args: Mapped[list[Any]] = mapped_column(sa.JSON)
    kwargs: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # published, latest time
    attempts: Mapped[int] = mapped_column(default=0)  # publish attempts, failed ones included
    deliveries: Mapped[int] = mapped_column(default=0)  # times the broker took it
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # by the task itself
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # given up (dead letter)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))  # publish or task error


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


def record(
    session: AnySession, task_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> int:
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
                deliveries=0,
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


# --- which outbox row a task is --------------------------------------------------------------
# The dispatcher learns the row it publishes from ``_sending`` (set around each call, so the
# Dispatcher signature stays name, args, kwargs) and puts it in the message header; the
# in-process runner hands it to the task through ``_running``.
_sending: ContextVar[int | None] = ContextVar("simpul_outbox_sending", default=None)
_running: ContextVar[int | None] = ContextVar("simpul_outbox_running", default=None)


@contextmanager
def sending(message_id: int | None) -> Iterator[None]:
    """While the dispatcher publishes the task of outbox row ``message_id``."""
    token = _sending.set(message_id)
    try:
        yield
    finally:
        _sending.reset(token)


def sending_id() -> int | None:
    """The outbox row of the task being published (for the dispatchers)."""
    return _sending.get()


@contextmanager
def running(message_id: int | None) -> Iterator[None]:
    """While a task of outbox row ``message_id`` runs in this process (the in-process runner)."""
    token = _running.set(message_id)
    try:
        yield
    finally:
        _running.reset(token)


def task_outbox_id(request: Any) -> int | None:
    """The outbox row of the task now running: from the message header on a Celery worker,
    from the in-process runner otherwise; None for a task not sent through the outbox (beat's
    periodic tasks, the embedded default)."""
    # the in-process runner says which row it runs: that comes first, whatever request
    # context Celery has lying about in this thread (its default request is kept per task
    # object, for the life of the process); a worker never sets it and reads the header
    running_id = _running.get()
    if running_id is not None:
        return running_id
    value = getattr(request, OUTBOX_HEADER, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(OUTBOX_HEADER)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        log.warning("ignoring a malformed %s header: %r", OUTBOX_HEADER, value)
        return None


def mark_completed(session: AnySession, message_id: int) -> None:
    """The task of row ``message_id`` ran to its end: called by the task itself just before its
    final commit, so the row says completed exactly when the task's work is committed."""
    session.execute(
        sa.update(_table)
        .where(_table.c.id == message_id, _table.c.completed_at.is_(None))
        .values(completed_at=utcnow(), failed_at=None)
    )


def note_failure(session: AnySession, message_id: int, error: BaseException) -> None:
    """The task of row ``message_id`` failed (its work is rolled back): keep the error on the row
    in a transaction of its own. The row stays unfinished, so the relay sends it again after
    ``OUTBOX_RESEND_MINUTES`` until ``OUTBOX_MAX_DELIVERIES``. Never raises."""
    try:
        session.execute(
            sa.update(_table)
            .where(_table.c.id == message_id, _table.c.completed_at.is_(None))
            .values(last_error=_short(error))
        )
        session.commit()
    except Exception:
        session.rollback()
        log.exception("outbox %s: the task's failure could not be recorded", message_id)


# --- sending ---------------------------------------------------------------------------------


@dataclass
class RelayReport:
    sent: int = 0  # published this round: first sends and re-sends
    failed: int = 0  # publishes the broker refused
    skipped: bool = False  # the breaker was open: nothing was tried
    resent: int = 0  # of ``sent``: rows sent before that no worker completed
    given_up: int = 0  # rows that reached OUTBOX_MAX_DELIVERIES without completion


def _send_locked(
    connection: Connection,
    rows: Sequence[tuple[int, str, Sequence[Any], dict[str, Any]]],
    dispatch: Dispatcher,
    *,
    resend: bool = False,
) -> RelayReport:
    """Publish rows this transaction has locked, in order; stop at the first failure."""
    report = RelayReport()
    sent: list[int] = []
    for message_id, name, args, kwargs in rows:
        try:
            with sending(message_id):
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
        values: dict[str, Any] = {
            "sent_at": utcnow(),
            "attempts": _table.c.attempts + 1,
            "deliveries": _table.c.deliveries + 1,
        }
        if not resend:  # a re-sent row keeps the task's last error until it completes
            values["last_error"] = None
        connection.execute(sa.update(_table).where(_table.c.id.in_(sent)).values(**values))
    report.sent = len(sent)
    if resend:
        report.resent = len(sent)
    return report


def _pending(ids: Sequence[int] | None = None, limit: int = RELAY_BATCH) -> sa.Select[Any]:
    query = sa.select(_table.c.id, _table.c.task_name, _table.c.args, _table.c.kwargs).where(
        _table.c.sent_at.is_(None)
    )
    if ids is not None:
        query = query.where(_table.c.id.in_(ids))
    return query.order_by(_table.c.id).limit(limit).with_for_update(skip_locked=True)


def _unfinished(before: dt.datetime, limit: int = RELAY_BATCH) -> sa.Select[Any]:
    """Rows sent before ``before`` that no task has completed and nobody has given up."""
    return (
        sa.select(
            _table.c.id, _table.c.task_name, _table.c.args, _table.c.kwargs, _table.c.deliveries
        )
        .where(
            _table.c.sent_at.is_not(None),
            _table.c.sent_at < before,
            _table.c.completed_at.is_(None),
            _table.c.failed_at.is_(None),
        )
        .order_by(_table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def resend_after() -> dt.timedelta:
    return dt.timedelta(minutes=int(current_app.config.get("OUTBOX_RESEND_MINUTES") or 30))


def max_deliveries() -> int:
    return int(current_app.config.get("OUTBOX_MAX_DELIVERIES") or 5)


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
    now: dt.datetime | None = None,
) -> RelayReport:
    """Send pending outbox rows, oldest first, and mark them sent; then send again the rows sent
    more than ``OUTBOX_RESEND_MINUTES`` before ``now`` that no task has completed, giving up
    those already delivered ``OUTBOX_MAX_DELIVERIES`` times. ``force`` ignores the breaker (the
    command-line relay asks the broker every time; web requests do not)."""
    if not force and breaker.is_open():
        return RelayReport(skipped=True)
    now = now or utcnow()
    with _transaction(bind) as connection:
        rows = [tuple(r) for r in connection.execute(_pending(limit=limit))]
        report = _send_locked(connection, rows, dispatch) if rows else RelayReport()
        if not report.failed and report.sent < limit:
            _resend_unfinished(connection, dispatch, now, limit - report.sent, report)
    if report.sent:
        log.info("outbox relay sent %d task(s), %d of them again", report.sent, report.resent)
    return report


def _resend_unfinished(
    connection: Connection,
    dispatch: Dispatcher,
    now: dt.datetime,
    limit: int,
    report: RelayReport,
) -> None:
    rows = list(connection.execute(_unfinished(now - resend_after(), limit=limit)))
    if not rows:
        return
    most = max_deliveries()
    exhausted = [row[0] for row in rows if row[4] >= most]
    if exhausted:
        connection.execute(
            sa.update(_table).where(_table.c.id.in_(exhausted)).values(failed_at=utcnow())
        )
        report.given_up = len(exhausted)
        log.error(
            "outbox: gave up %d task(s) delivered %d times and never completed: %s "
            "(flask outbox status; flask outbox retry once the cause is fixed)",
            len(exhausted),
            most,
            ", ".join(str(i) for i in exhausted),
        )
    again = [tuple(row[:4]) for row in rows if row[4] < most]
    if again:
        more = _send_locked(connection, again, dispatch, resend=True)
        report.sent += more.sent
        report.resent += more.resent
        report.failed += more.failed


def pending_count(bind: Engine | Connection) -> int:
    with _transaction(bind) as connection:
        return int(
            connection.scalar(
                sa.select(sa.func.count()).select_from(_table).where(_table.c.sent_at.is_(None))
            )
            or 0
        )


@dataclass
class OutboxCounts:
    pending: int
    oldest_pending: dt.datetime | None
    unfinished: int  # published, not completed, not given up
    oldest_unfinished: dt.datetime | None  # the earliest send among them
    completed: int
    failed: int


def counts(bind: Engine | Connection) -> OutboxCounts:
    """How many rows are in each state (one pass over the table)."""
    pending = _table.c.sent_at.is_(None)
    unfinished = sa.and_(
        _table.c.sent_at.is_not(None),
        _table.c.completed_at.is_(None),
        _table.c.failed_at.is_(None),
    )

    def count(condition: Any) -> Any:
        return sa.func.count(sa.case((condition, 1)))

    def oldest(condition: Any, column: Any) -> Any:
        return sa.func.min(sa.case((condition, column)))

    with _transaction(bind) as connection:
        row = connection.execute(
            sa.select(
                count(pending),
                oldest(pending, _table.c.created_at),
                count(unfinished),
                oldest(unfinished, _table.c.sent_at),
                count(_table.c.completed_at.is_not(None)),
                count(sa.and_(_table.c.failed_at.is_not(None), _table.c.completed_at.is_(None))),
            )
        ).one()
    return OutboxCounts(
        pending=int(row[0] or 0),
        oldest_pending=row[1],
        unfinished=int(row[2] or 0),
        oldest_unfinished=row[3],
        completed=int(row[4] or 0),
        failed=int(row[5] or 0),
    )


def broker_persistence(url: str) -> str:
    """``yes`` when the Redis at ``url`` keeps its queue across a restart (append-only file),
    ``no`` when it does not, ``unknown`` when it does not say (down, or INFO not allowed)."""
    # local: the Redis client is needed only for this check of a configured broker
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            info = client.info("persistence")
        finally:
            client.close()
    except Exception:
        return "unknown"
    enabled = info.get("aof_enabled")
    if enabled is None:
        return "unknown"
    return "yes" if int(enabled) else "no"


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
            total.resent += report.resent
            total.given_up += report.given_up
            if report.failed or report.sent + report.given_up < RELAY_BATCH:
                break
        left = pending_count(db.engine)
        if once or total.sent or total.failed or total.given_up:
            click.echo(
                f"sent {total.sent}, failed {total.failed}, pending {left}, "
                f"resent {total.resent}, gave up {total.given_up}"
            )
        if once:
            raise SystemExit(1 if total.failed else 0)
        time.sleep(interval)


def _when(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment else "-"


@outbox_cli.command("status")
@with_appcontext
def status_command() -> None:
    """How many outbox rows wait for the broker (pending, and the oldest), how many the broker
    took that no task has completed yet (and the oldest send), how many completed, how many were
    given up; and whether Redis keeps its queue across a restart."""
    found = counts(db.session.connection())
    click.echo(f"pending {found.pending}, oldest {_when(found.oldest_pending)}")
    click.echo(
        f"published-not-completed {found.unfinished}, oldest {_when(found.oldest_unfinished)}"
    )
    click.echo(f"completed {found.completed}")
    click.echo(f"failed {found.failed}")
    url = current_app.config.get("REDIS_URL")
    click.echo(f"redis appendonly {broker_persistence(url) if url else '- (no REDIS_URL)'}")


@outbox_cli.command("retry")
@click.option("--id", "ids", type=int, multiple=True, help="Only this row (may repeat).")
@with_appcontext
def retry_command(ids: tuple[int, ...]) -> None:
    """Send the failed (given-up) tasks again: all of them, or those named with --id. They
    become pending with a fresh count of deliveries; the relay sends them."""
    query = sa.update(_table).where(
        _table.c.failed_at.is_not(None), _table.c.completed_at.is_(None)
    )
    if ids:
        query = query.where(_table.c.id.in_(ids))
    result = db.session.execute(query.values(sent_at=None, failed_at=None, deliveries=0))
    db.session.commit()
    click.echo(f"pending again {result.rowcount}")  # type: ignore[attr-defined]


@task(name="outbox.relay")
def relay_task(now: str | None = None) -> dict[str, int]:
    """The periodic relay (beat, the scheduler or ``flask schedule run-due``): what is pending,
    and what was sent and never completed."""
    if not current_app.extensions.get("simpul_outbox"):
        return {"sent": 0, "failed": 0}
    report = relay(db.engine, current_app.extensions["simpul_dispatch"], force=True)
    return {
        "sent": report.sent,
        "failed": report.failed,
        "resent": report.resent,
        "given_up": report.given_up,
    }


def init_outbox(app: Flask) -> None:
    """The command-line relay, the periodic relay, and the relay at the start of web requests
    (with Redis only)."""
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
