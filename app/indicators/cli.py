"""``flask indicators rollup`` and ``flask indicators show`` (interfaces.md §2, §4)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from app.audit.operations import SystemActor
from app.core.errors import DomainError
from app.extensions import db
from app.indicators.periods import PeriodError, parse

indicators_cli = click.Group("indicators", help="Indicator rollups and values (domain.md §6).")


@indicators_cli.command("rollup")
@click.option("--period", "period", required=True, help="2025, 2025-S1, 2025-Q3 or 2025-07")
@click.option("--region", "region", default=None, help="Region code (default: all regions)")
@click.option(
    "--revise",
    "revise",
    default=None,
    help="For a closed period: store the differences as revisions, with this reason.",
)
@with_appcontext
def rollup_command(period: str, region: str | None, revise: str | None) -> None:
    """Compute and store indicator values for the period, the region and every region under it."""
    from app.indicators.operations import rollup

    try:
        parse(period)
        report = rollup(period, region_code=region, actor=SystemActor("cli"), revise_reason=revise)
    except (PeriodError, DomainError) as error:
        db.session.rollback()
        message = error.message if isinstance(error, DomainError) else str(error)
        raise click.ClickException(str(message)) from None
    db.session.commit()
    click.echo(
        f"period {report.period}: {report.regions} regions, {report.written} values written, "
        f"{report.unchanged} unchanged, {report.revised} revised"
    )
    if report.closed_skipped:
        click.echo(
            f"{report.closed_skipped} values of closed periods differ and were left as they are "
            "(use --revise REASON to record revisions)"
        )


@indicators_cli.command("rollup-due")
@with_appcontext
def rollup_due_command() -> None:
    """The monthly rollup the scheduler runs on days 1-5 of a month: the month that ended, its
    quarter, semester and year, for every region (closed periods are left as they are)."""
    from app.indicators.tasks import monthly_rollup

    try:
        done = monthly_rollup.run()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo("rolled up " + ", ".join(done))


@indicators_cli.command("show")
@click.option("--period", "period", required=True)
@click.option("--region", "region", required=True, help="Region code, or 'nasional'")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@with_appcontext
def show_command(period: str, region: str, fmt: str) -> None:
    """Print the stored values of the period and region as JSON (interfaces.md §4)."""
    from app.indicators.queries import as_json, figures, region_by_code

    try:
        parse(period)
    except PeriodError as error:
        raise click.ClickException(str(error)) from None
    found = region_by_code(region)
    if found is None and region.lower() != "nasional":
        raise click.ClickException(f"unknown region {region}")
    items = figures(found.id if found is not None else None, period)
    click.echo(json.dumps(as_json(items), ensure_ascii=False, indent=2))
