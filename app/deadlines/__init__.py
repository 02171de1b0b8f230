"""Deadlines (domain.md §5): service standards as data, deadline rows and the periodic check."""

from __future__ import annotations

import datetime as dt

from flask import Flask

CHECK_EVERY = dt.timedelta(minutes=5)


def init_app(app: Flask) -> None:
    from app.deadlines import labels, models, tasks  # noqa: F401  (names, tables, task)
    from app.extensions import celery

    celery.conf.beat_schedule.update(
        {
            "deadlines.check_overdue": {
                "task": "deadlines.check_overdue",
                "schedule": CHECK_EVERY,
            }
        }
    )
