"""``flask deadlines check``: the periodic deadline check, by hand or from cron."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.core.schedule import REGISTRY, run_job

deadlines_cli = click.Group("deadlines", help="Deadlines (domain.md §5).")


@deadlines_cli.command("check")
@with_appcontext
def check_command() -> None:
    """Mark missed deadlines, notify once and escalate once (what the scheduler runs every 5
    minutes); running it again does nothing new."""
    result = run_job(REGISTRY["deadlines.check_overdue"])
    click.echo(f"missed {result['missed']}, escalated {result['escalated']}")
