"""Helpers shared by the CLI commands of every domain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from app.core.extensions import db
from app.core.i18n import gettext
from app.core.imports import BadFile, ImportReport, run_import


def import_command(
    path: str | Path,
    columns: tuple[str, ...],
    apply_row: Callable[[int, dict[str, str]], str],
    *,
    dry_run: bool = False,
    batched: bool = False,
    write: Callable[[], None] | None = None,
) -> None:
    """Run a CSV import as a CLI command: print each bad row as ``line L: reason`` and exit 1
    having written nothing, or commit and print the counts. ``batched``: see ``run_import``;
    the rows are written together here (by ``write``, default a flush), and a refusal of the
    database ends the command with its reason, having written nothing."""
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        try:
            report: ImportReport = run_import(path, columns, apply_row, batched=batched)
            if batched and report.ok:
                (write or db.session.flush)()
        except BadFile as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        except sa.exc.IntegrityError as exc:
            db.session.rollback()
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise click.ClickException(
                gettext("the database refused the file (%(error)s)", error=detail)
            ) from exc
        if not report.ok:
            db.session.rollback()
            for error in report.errors:
                click.echo(f"line {error.line}: {error.reason}")
            raise click.ClickException(
                gettext("%(n)d bad row(s); nothing was imported", n=len(report.errors))
            )
    if dry_run:
        db.session.rollback()
        click.echo(f"dry run, nothing written: {report.summary()}")
        return
    db.session.commit()
    click.echo(report.summary())
