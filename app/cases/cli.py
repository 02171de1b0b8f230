"""``flask cases import``; ``flask attachments encrypt-existing``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext

from app.audit.operations import SystemActor, record
from app.auth.models import User
from app.cases.importing import find_user, import_lines
from app.cases.operations import upload_dir
from app.cases.storage import seal_existing
from app.extensions import db

cases_cli = click.Group("cases", help="Cases.")


@cases_cli.command("import")
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


attachments_cli = click.Group("attachments", help="Attachment files.")


@attachments_cli.command("encrypt-existing")
@with_appcontext
def encrypt_existing() -> None:
    """Encrypt the attachment files stored before encryption (idempotent).

    Each plaintext file is sealed with a new data key (wrapped under the current
    DATA_ENCRYPTION_KEYS key) after its content is checked against the recorded SHA-256; new
    uploads are encrypted already. Prints ``N encrypted, M already encrypted, K missing, D
    damaged`` and the ids of missing or damaged files; exits 1 when there are any. Safe to run
    while the application serves downloads, and to interrupt and run again.
    """
    try:
        report = seal_existing(upload_dir(), echo=click.echo)
    except Exception:
        db.session.rollback()
        raise
    record(
        SystemActor("attachments"),
        "attachments.encrypt_existing",
        "attachments",
        "files",
        {
            "sealed": report.sealed,
            "already": report.already,
            "missing": report.missing,
            "damaged": report.damaged,
        },
    )
    db.session.commit()
    for attachment_id in report.missing:
        click.echo(f"attachment {attachment_id}: file missing")
    for attachment_id in report.damaged:
        click.echo(f"attachment {attachment_id}: file is not the recorded bytes (left as it is)")
    click.echo(report.summary())
    if report.missing or report.damaged:
        raise SystemExit(1)
