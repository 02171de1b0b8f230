"""``flask privacy retention``: erase the identities the retention period has reached."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.audit.operations import SystemActor
from app.extensions import db
from app.privacy.operations import run_retention

privacy_cli = click.Group("privacy", help="Data-subject rights and retention.")


@privacy_cli.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what would be erased, change nothing.")
@with_appcontext
def retention(dry_run: bool) -> None:
    """Erase the identities of victims of cases closed longer ago than
    RETENTION_YEARS_AFTER_CLOSE with no legal proceedings open. Prints counts only."""
    years = int(current_app.config["RETENTION_YEARS_AFTER_CLOSE"])
    if years < 1:
        raise click.ClickException("RETENTION_YEARS_AFTER_CLOSE must be at least 1")
    result = run_retention(years=years, dry_run=dry_run, actor=SystemActor("retention"))
    if dry_run:
        db.session.rollback()
        click.echo(
            f"dry run: {result.eligible} victims in {result.cases} cases closed more than "
            f"{years} years ago would have their identity erased"
        )
    else:
        db.session.commit()
        click.echo(
            f"erased the identity of {result.erased} victims in {result.cases} cases closed "
            f"more than {years} years ago"
        )
