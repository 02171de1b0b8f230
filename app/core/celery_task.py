"""The one task class of every Simpul task: it runs in an application context and ends with
one commit (or a rollback on error), as the Flask docs describe for Celery.

It is the Celery app's ``task_cls`` from the start (``app.core.extensions``), so a task has it
whenever Celery creates it — also when something evaluates a task before any application is
built (test collection reads module attributes, which creates the task there and then)."""

from __future__ import annotations

from celery import Task
from flask import Flask, has_app_context

_worker_app: Flask | None = None


def bind_worker_app(app: Flask) -> None:
    """The application a task runs in when none is active (a Celery worker): the last one
    ``celery_init_app`` bound."""
    global _worker_app
    _worker_app = app


class FlaskTask(Task):  # type: ignore[misc]
    """A task in the application context of whoever runs it: the in-process worker pushes its
    own application's context first (several applications may share this process, as in the
    tests); a Celery worker has none, and gets the bound application's."""

    def __call__(self, *args: object, **kwargs: object) -> object:
        # local: app.core.extensions imports this module (FlaskTask)
        from app.core.extensions import db

        if has_app_context():
            return self._run_and_commit(*args, **kwargs)
        if _worker_app is None:
            raise RuntimeError("no application is bound to the Celery tasks (celery_init_app)")
        with _worker_app.app_context():
            try:
                return self._run_and_commit(*args, **kwargs)
            finally:
                db.session.remove()

    def _run_and_commit(self, *args: object, **kwargs: object) -> object:
        """Run, then commit; a task sent through the outbox marks its row completed in that
        same commit (so "completed" means its work is in the database), and a failed one leaves
        the error on the row for the relay to send it again later."""
        # local: app.core.extensions imports this module, app.core.outbox imports the extensions
        from app.core.extensions import db
        from app.core.outbox import mark_completed, note_failure, task_outbox_id

        outbox_id = task_outbox_id(self.request)
        try:
            result = self.run(*args, **kwargs)
            if outbox_id is not None:
                mark_completed(db.session, outbox_id)
            db.session.commit()
            return result
        except Exception as error:
            db.session.rollback()
            if outbox_id is not None:
                note_failure(db.session, outbox_id, error)
            raise
