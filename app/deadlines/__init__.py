"""Deadlines (domain.md §5): service standards as data, deadline rows and the periodic check."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from app.core.schedule import Every, Periodic, register

CHECK_EVERY = dt.timedelta(minutes=5)


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.deadlines import labels, models, tasks  # noqa: F401  (names, tables, task)
    from app.deadlines.cli import deadlines_cli

    app.cli.add_command(deadlines_cli)
    register(
        Periodic(
            name="deadlines.check_overdue",
            task="deadlines.check_overdue",
            schedule=Every(CHECK_EVERY),
            command="flask deadlines check",
            description="mark missed deadlines, notify once, escalate once",
        )
    )
