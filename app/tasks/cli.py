"""``flask tasks remind``: the follow-up reminders, by hand or from cron."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.core.schedule import REGISTRY, run_job

tasks_cli = click.Group("tasks", help='"Tugas saya": follow-ups and their reminders.')


@tasks_cli.command("remind")
@with_appcontext
def remind_command() -> None:
    """Remind the follow-ups due today (what the scheduler runs every 15 minutes); running it
    again reminds nobody twice."""
    result = run_job(REGISTRY["tasks.remind_follow_ups"])
    click.echo(f"reminded {result['reminded']}")
