"""``flask cases import``: historical cases from JSON Lines (``importing``). The command stays in
the ``flask cases`` group (interfaces.md); the intake adds it there from its ``init_app``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext

from app.audit.operations import SystemActor
from app.auth.models import User
from app.extensions import db
from app.intake.importing import find_user, import_lines


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every line, print the counts, write nothing.")
@click.option(
    "--as",
    "as_email",
    metavar="EMAIL",
    help="Record the imported history as done by this user (default: the system actor 'import').",
)
@with_appcontext
def import_cases(file: Path, dry_run: bool, as_email: str | None) -> None:
    """Import historical cases from a JSON Lines file (one case per line).

    Prints ``line L: reason`` for each rejected line, then ``imported N, skipped M (already
    present), rejected K``. A rejected line imports nothing of itself; the other lines import.
    A case already imported (same agency and external_id) is skipped. Exits 1 when any line was
    rejected.
    """
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        if not file.is_file():
            raise click.ClickException(gettext("%(path)s: no such file", path=file))
        actor: User | SystemActor = SystemActor("import")
        if as_email:
            user = find_user(as_email)
            if user is None or not user.active:
                raise click.ClickException(
                    gettext("No active user has the email %(email)s.", email=as_email)
                )
            actor = user
        try:
            with file.open("rb") as lines:
                result = import_lines(lines, actor=actor)
        except Exception:
            db.session.rollback()
            raise
        for line, reason in result.rejected:
            click.echo(f"line {line}: {' '.join(reason.split())}")
    if dry_run:
        db.session.rollback()
        click.echo(gettext("dry run: nothing was written"))
    else:
        db.session.commit()
    click.echo(result.summary())
    if result.rejected:
        click.get_current_context().exit(1)
