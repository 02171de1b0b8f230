"""``flask demo load`` and ``flask demo logins``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.core.db_roles import database_owner
from app.core.errors import DomainError
from app.demo import data
from app.demo.operations import load_demo
from app.extensions import db

demo_cli = click.Group("demo", help="Demo data for trying Simpul out.")


@demo_cli.command("load")
@with_appcontext
def load() -> None:
    """Load the demo kabupaten/kota, agencies, task force, users and population (idempotent).
    Refused in production: the demo accounts' password is in the repository."""
    env = current_app.config["APP_ENV"]
    if env not in ("development", "testing"):
        raise click.ClickException(
            f"refusing to load demo data with APP_ENV={env}: the demo accounts' password is "
            "public (demo data is for development and testing only)"
        )
    # The demo's clock re-dates the history rows a story wrote (app/demo/clock.py), which only
    # the owner of those append-only tables may do: as the owner when DATABASE_OWNER_URL is set.
    with database_owner():
        try:
            report = load_demo()
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from exc
        db.session.commit()
    click.echo("demo data: " + ", ".join(f"{k}: {v}" for k, v in sorted(report.counts.items())))
    echo_logins()


@demo_cli.command("logins")
def logins() -> None:
    """Print the demo accounts and their password (``make logins``)."""
    echo_logins()


def echo_logins() -> None:
    click.echo("")
    click.echo(f"Demo logins (password for all: {data.DEMO_PASSWORD}):")
    for email, _name, role, scope in data.USERS:
        click.echo(f"  {email:<26} {role.value:<18} {scope}")
    click.echo("")
