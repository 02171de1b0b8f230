"""``flask indicators rollup``, ``flask indicators show`` and ``flask indicators targets import``
(interfaces.md §2, §4)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.audit.operations import SystemActor
from app.core.cli import import_command
from app.core.errors import DomainError
from app.core.schedule import REGISTRY, run_job
from app.extensions import db
from app.indicators.operations import TARGET_COLUMNS, TargetLines, rollup
from app.indicators.periods import PeriodError, parse
from app.indicators.queries import as_json, figures, region_by_code
from app.indicators.tasks import Checkpoints

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
    # committed in steps (each value is idempotent): on the embedded SQLite database the server
    # keeps answering while an operator rolls up
    checkpoint = Checkpoints()
    try:
        parse(period)
        report = rollup(
            period,
            region_code=region,
            actor=SystemActor("cli"),
            revise_reason=revise,
            progress=lambda done, total: checkpoint(int(done * 100 / max(total, 1))),
        )
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
    done = run_job(REGISTRY["indicators.monthly_rollup"])
    click.echo("rolled up " + ", ".join(done))


@indicators_cli.command("show")
@click.option("--period", "period", required=True)
@click.option("--region", "region", required=True, help="Region code, or 'nasional'")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@with_appcontext
def show_command(period: str, region: str, fmt: str) -> None:
    """Print the stored values of the period and region as JSON (interfaces.md §4)."""
    try:
        parse(period)
    except PeriodError as error:
        raise click.ClickException(str(error)) from None
    found = region_by_code(region)
    if found is None and region.lower() != "nasional":
        raise click.ClickException(f"unknown region {region}")
    items = figures(found.id if found is not None else None, period)
    click.echo(json.dumps(as_json(items), ensure_ascii=False, indent=2))


targets_cli = click.Group("targets", help="Yearly targets per region (domain.md §6.5).")
indicators_cli.add_command(targets_cli)


@targets_cli.command("import")
@click.argument("file", metavar="FILE.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check every line and print the counts; write nothing."
)
@with_appcontext
def import_targets_command(file: Path, dry_run: bool) -> None:
    """Create or change yearly targets from FILE.csv with the columns region_code,year,code,target.

    One line per region, year and indicator code; target is a number with a dot and at most 2
    decimals (3.20), in the indicator's unit. A line whose region, year and code already have a
    target replaces it; the same target again counts as unchanged. Any bad line is reported as
    "line L: reason" and nothing is written (exit status 1).
    """
    lines = TargetLines(actor=SystemActor("import"), write=not dry_run)
    import_command(file, TARGET_COLUMNS, lines, dry_run=dry_run)
