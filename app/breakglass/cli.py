"""``flask breakglass review-reminder``: the Monday reminder of the weekly access review."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.core.schedule import REGISTRY, run_job

breakglass_cli = click.Group("breakglass", help="Emergency access (break-the-glass).")


@breakglass_cli.command("review-reminder")
@with_appcontext
def review_reminder_command() -> None:
    """Tell the supervisors of every agency with emergency access last week to review it (once
    per supervisor and week)."""
    result = run_job(REGISTRY["breakglass.weekly_review"])
    click.echo(f"agencies {result['agencies']}, supervisors told {result['notified']}")
