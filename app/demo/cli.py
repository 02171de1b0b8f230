"""``flask demo load``, ``flask demo logins`` and ``flask demo generate``."""

from __future__ import annotations

import sys
import time

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app.core.db_roles import database_owner
from app.core.errors import DomainError
from app.demo import data
from app.demo.generate import GenerateRefused, generate_history
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


@demo_cli.command("generate")
@click.option("--cases", "cases", type=click.IntRange(min=1), required=True, help="How many cases.")
@click.option("--seed", type=int, required=True, help="The same seed gives the same history.")
@click.option("--years", type=click.IntRange(1, 30), default=5, show_default=True)
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@with_appcontext
def generate(cases: int, seed: int, years: int, quiet: bool) -> None:
    """Fill an EMPTY migrated PostgreSQL database with a national history for benchmarks:
    38 provinces, 514 kab/kota, ~7,000 kecamatan, ~8,000 agencies, accounts, and CASES cases
    over YEARS years with their people, service tracks, referrals, deadlines, transfers, notes,
    consent and a sealed audit trail — written in bulk (COPY), in one transaction.
    Refused in production (every account has the demo password) and on a database that holds
    cases, regions, agencies or users."""
    env = current_app.config["APP_ENV"]
    if env not in ("development", "testing"):
        raise click.ClickException(
            f"menolak membuat data demo dengan APP_ENV={env}: kata sandi akun demo bersifat "
            f"publik (refusing to generate demo data with APP_ENV={env}: the demo accounts' "
            "password is public)"
        )
    with database_owner():
        try:
            report = generate_history(
                cases, seed, years=years, progress=None if quiet else sys.stderr
            )
        except GenerateRefused as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from exc
        db.session.commit()
        # the planner's statistics of the new rows, before anyone measures on them
        analyzed = time.monotonic()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    for table, count in sorted(report.counts.items()):
        click.echo(f"{table}: {count}")
    click.echo(
        f"{report.counts.get('cases', 0)} cases in {report.seconds:.1f} s "
        f"(CPU of this process {report.cpu_seconds:.1f} s"
        + (
            f", of the database backend {report.database_cpu_seconds:.1f} s)"
            if report.database_cpu_seconds is not None
            else ")"
        )
    )
    click.echo(f"then ANALYZE in {time.monotonic() - analyzed:.1f} s")
    click.echo(
        f"biggest agency: {report.biggest_agency} ({report.biggest_cases} cases); its supervisor: "
        f"{report.supervisor} (password: {data.DEMO_PASSWORD})"
    )


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
