"""The ``flask cases`` group (its ``import`` command is the intake's: ``app.intake.cli``);
``flask attachments encrypt-existing``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.audit.operations import SystemActor, record
from app.cases.operations import upload_dir
from app.cases.storage import seal_existing
from app.extensions import db

cases_cli = click.Group("cases", help="Cases.")


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
