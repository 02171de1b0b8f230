"""``flask cases import``: historical cases from JSON Lines (``importing``). The command stays in
the ``flask cases`` group (interfaces.md); the intake adds it there from its ``init_app``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from app.audit.operations import SystemActor
from app.auth.models import User
from app.core.i18n import gettext
from app.extensions import db
from app.intake import importing
from app.intake.importing import Progress, find_user, import_lines


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

    The file is imported in chunks of 500 lines, each committed once written: after an
    interruption, running the same file again imports only what is missing. A file of more than
    one chunk prints its progress to stderr after each chunk.
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
        with file.open("rb") as lines:
            total = sum(1 for _ in lines)
        # What the lines look up (agencies, regions, the actor) stays loaded from one chunk's
        # commit to the next instead of being read again for every chunk; the import changes
        # none of it.
        session = db.session()
        expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
        try:
            with file.open("rb") as lines:
                result = import_lines(
                    lines,
                    actor=actor,
                    commit=None if dry_run else db.session.commit,
                    # a file of one chunk is done before a progress line would tell anything
                    progress=_print_progress if total > importing.CHUNK_SIZE else None,
                    total=total,
                )
        except Exception:
            db.session.rollback()
            raise
        finally:
            session.expire_on_commit = expire_on_commit
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


def _print_progress(progress: Progress) -> None:
    left = progress.seconds_left
    click.echo(
        gettext(
            "%(lines)d/%(total)d lines: imported %(imported)d, skipped %(skipped)d, "
            "rejected %(rejected)d; %(rate)d cases/s, about %(left)s s left",
            lines=progress.lines,
            total=progress.total or progress.lines,
            imported=progress.result.imported,
            skipped=progress.result.skipped,
            rejected=len(progress.result.rejected),
            rate=round(progress.per_second),
            left="?" if left is None else str(round(left)),
        ),
        err=True,
    )
