"""Background work is sent only after the transaction that made its data has committed.

``enqueue_after_commit(name, *args)`` records the task on the session; when the session commits
the tasks are handed to the dispatcher, and when it rolls back they are dropped. With Redis the
dispatcher sends them to Celery; without Redis (the embedded default) they run in-process on a
small worker thread with their own application context, so callers behave the same either way.

With Redis every task is also written to the ``outbox`` table in the same transaction, and sent
after the commit with a short broker time-out; what the broker does not take is sent later by
the outbox relay (``app.core.outbox``). A web request never waits for an absent Redis. The
message carries the row's id (header ``simpul_outbox_id``) and the task marks its row completed
in its own final commit (``FlaskTask`` in ``app/core/celery_task.py``); the relay sends again
what was sent and never completed. The in-process runner hands a task its row the same way.

Tasks are declared with ``@task(name="domain.what")``: Celery's decorator, with the function's
signature kept for the type checker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar, cast

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.db import AnySession
from app.core.errors import new_error_id
from app.core.extensions import celery

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class TypedTask(Protocol[P, R_co]):
    """A Celery task as the type checker sees it: called, or ``run``, with its function's
    arguments, giving the function's result."""

    name: str

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def run(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...


def task(*, name: str, **options: Any) -> Callable[[Callable[P, R]], TypedTask[P, R]]:
    """``@celery.task(name=..., **options)`` keeping the function's signature: Celery ships no
    types, so its decorator would make every task ``Any``."""

    def register(function: Callable[P, R]) -> TypedTask[P, R]:
        return cast("TypedTask[P, R]", celery.task(name=name, **options)(function))

    return register


Dispatcher = Callable[[str, tuple[Any, ...], dict[str, Any]], None]
_PENDING_KEY = "simpul_after_commit"
_OUTBOX_KEY = "simpul_outbox_ids"  # the outbox row of each pending task, in the same order


def enqueue_after_commit(session: AnySession, task_name: str, *args: Any, **kwargs: Any) -> None:
    """Send ``task_name(*args, **kwargs)`` once ``session`` commits; forget it on rollback.

    Arguments must be ids and plain values, never model objects.
    """
    session.connection()  # make sure a transaction is open, so its end decides the task's fate
    outbox_id = None
    if current_app.extensions.get("simpul_outbox"):
        # local: app.core.outbox imports this module (task)
        from app.core.outbox import record

        outbox_id = record(session, task_name, args, kwargs)
    session.info.setdefault(_PENDING_KEY, []).append((task_name, args, kwargs))
    session.info.setdefault(_OUTBOX_KEY, []).append(outbox_id)


def pending_tasks(session: AnySession) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    return list(session.info.get(_PENDING_KEY, []))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    outbox_ids = session.info.pop(_OUTBOX_KEY, [])
    if not pending:
        return
    dispatch: Dispatcher = current_app.extensions["simpul_dispatch"]
    recorded = [(i, *task) for i, task in zip(outbox_ids, pending, strict=True) if i is not None]
    if recorded:
        # local: app.core.outbox imports this module
        from app.core.outbox import send_committed

        send_committed(session.get_bind(), recorded, dispatch)
    for outbox_id, (name, args, kwargs) in zip(outbox_ids, pending, strict=True):
        if outbox_id is None:
            dispatch(name, args, kwargs)


_FILES_KEY = "simpul_files_written"


def delete_on_rollback(session: AnySession, path: Path) -> None:
    """A file written for a change that is not committed in the end is removed again."""
    session.connection()
    session.info.setdefault(_FILES_KEY, []).append(path)


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(_OUTBOX_KEY, None)
    for path in session.info.pop(_FILES_KEY, []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_commit")
def _keep_files(session: Session) -> None:
    session.info.pop(_FILES_KEY, None)


# A publish from a web request gives up quickly instead of waiting for an absent broker: one
# connection attempt, 1 s to connect, 1 s per socket operation, no publish retries. Only these
# sends use it; the workers' own long-lived connection keeps Celery's defaults.
SEND_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
    "max_retries": 0,
}


def celery_dispatcher(app: Flask) -> Dispatcher:
    """Publish to Celery on a short-lived connection with short time-outs; raises when the
    broker cannot be reached (the outbox row then waits for the relay)."""
    url = app.config["REDIS_URL"]

    def dispatch(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # local: app.core.outbox imports this module
        from app.core.outbox import OUTBOX_HEADER, sending_id

        outbox_id = sending_id()
        headers = {OUTBOX_HEADER: outbox_id} if outbox_id is not None else None
        with (
            celery.connection_for_write(
                url, connect_timeout=1, transport_options=SEND_TRANSPORT_OPTIONS
            ) as connection,
            connection.Producer() as producer,
        ):
            celery.send_task(
                name, args=args, kwargs=kwargs, producer=producer, retry=False, headers=headers
            )

    return dispatch


def run_inprocess(
    app: Flask,
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    outbox_id: int | None = None,
) -> None:
    """Run a task here, in its own application context, as a worker would: the task commits its
    work (and marks its outbox row completed, when it has one) or rolls back and is logged."""
    # local: app.core.outbox imports this module
    from app.core.outbox import running

    with app.app_context(), running(outbox_id):
        try:
            celery.tasks[name](*args, **kwargs)
        except Exception:
            log.exception("in-process task %s failed [error id %s]", name, new_error_id())


def inprocess_dispatcher(app: Flask) -> Dispatcher:
    """Tasks on one worker thread of this process (the embedded default, no Redis). No outbox
    row is written there (docs/reliability.md §1); a task handed a row still marks it."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simpul-task")

    def dispatch(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # local: app.core.outbox imports this module
        from app.core.outbox import sending_id

        executor.submit(run_inprocess, app, name, args, kwargs, sending_id())

    return dispatch
