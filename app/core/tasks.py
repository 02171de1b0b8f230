"""Background work is sent only after the transaction that made its data has committed.

``enqueue_after_commit(name, *args)`` records the task on the session; when the session commits
the tasks are handed to the dispatcher, and when it rolls back they are dropped. With Redis the
dispatcher sends them to Celery; without Redis (the embedded default) they run in-process on a
small worker thread with their own application context, so callers behave the same either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Dispatcher = Callable[[str, tuple[Any, ...], dict[str, Any]], None]
_PENDING_KEY = "simpul_after_commit"


def enqueue_after_commit(session: Session, task_name: str, *args: Any, **kwargs: Any) -> None:
    """Send ``task_name(*args, **kwargs)`` once ``session`` commits; forget it on rollback.

    Arguments must be ids and plain values, never model objects.
    """
    session.connection()  # make sure a transaction is open, so its end decides the task's fate
    session.info.setdefault(_PENDING_KEY, []).append((task_name, args, kwargs))


def pending_tasks(session: Session) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    return list(session.info.get(_PENDING_KEY, []))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    if not pending:
        return
    dispatch: Dispatcher = current_app.extensions["simpul_dispatch"]
    for name, args, kwargs in pending:
        dispatch(name, args, kwargs)


_FILES_KEY = "simpul_files_written"


def delete_on_rollback(session: Session, path: Path) -> None:
    """A file written for a change that is not committed in the end is removed again."""
    session.connection()
    session.info.setdefault(_FILES_KEY, []).append(path)


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_PENDING_KEY, None)
    for path in session.info.pop(_FILES_KEY, []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_commit")
def _keep_files(session: Session) -> None:
    session.info.pop(_FILES_KEY, None)


def celery_dispatcher(app: Flask) -> Dispatcher:
    def dispatch(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        from app.extensions import celery

        celery.send_task(name, args=args, kwargs=kwargs)

    return dispatch


def inprocess_dispatcher(app: Flask) -> Dispatcher:
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simpul-task")

    def run(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        from app.extensions import celery

        with app.app_context():
            try:
                celery.tasks[name](*args, **kwargs)
            except Exception:
                log.exception("in-process task %s failed", name)

    def dispatch(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        executor.submit(run, name, args, kwargs)

    return dispatch
