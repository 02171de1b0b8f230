"""``flask attachments check``: do the files on disk and the ``attachments`` rows agree?

Every row must have its file in ``UPLOAD_DIR`` with the size and SHA-256 recorded at upload, and
every file there must belong to a row. The restore drill (docs/operations.md §6) runs it against
a restored database and the restored upload directory; it is as useful on the live server after
a disk problem or a move of the storage.

The output names attachments by id, case by id and files by their random stored names, never by
the original file name (which may name a person).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app.cases import storage
from app.cases.models import Attachment
from app.core.sealed_files import HEADER_BYTES, is_sealed, sealed_size
from app.extensions import db


@dataclass
class AttachmentCheck:
    ok: int = 0
    missing: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    orphan: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.mismatched or self.orphan)

    def summary(self) -> str:
        return (
            f"ok {self.ok}, missing {len(self.missing)}, mismatched {len(self.mismatched)}, "
            f"orphan {len(self.orphan)}"
        )


def _expected_size_on_disk(path: Path, size: int) -> int:
    """What the file of an attachment of ``size`` bytes should measure: sealed (encrypted) files
    carry a header and a tag per chunk; legacy plaintext files are the bytes themselves."""
    with path.open("rb") as handle:
        sealed = is_sealed(handle.read(HEADER_BYTES))
    return sealed_size(size) if sealed else size


def check_attachments(directory: Path, *, quick: bool = False) -> AttachmentCheck:
    """Compare ``directory`` with every ``attachments`` row: each file must decrypt (sealed
    files) and be exactly the bytes recorded at upload, size and SHA-256; only the size on disk
    when ``quick``. Then list the files no row refers to."""
    result = AttachmentCheck()
    known: set[str] = set()
    rows = db.session.scalars(
        sa.select(Attachment).order_by(Attachment.id).execution_options(yield_per=500)
    )
    for attachment in rows:
        known.add(attachment.stored_name)
        what = (
            f"attachment {attachment.id} (case {attachment.case_id}), file {attachment.stored_name}"
        )
        path = directory / attachment.stored_name
        if not path.is_file():
            result.missing.append(f"{what}: not found")
            continue
        on_disk = path.stat().st_size
        expected = _expected_size_on_disk(path, attachment.size)
        if on_disk != expected:
            result.mismatched.append(f"{what}: {on_disk} bytes on disk, expected {expected}")
            continue
        if not quick:
            try:
                storage.verify(directory, attachment)
            except storage.StoredFileError:
                result.mismatched.append(
                    f"{what}: does not decrypt to the bytes recorded at upload (SHA-256)"
                )
                continue
        result.ok += 1
    with os.scandir(directory) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name not in known:
                kind = "directory" if entry.is_dir(follow_symlinks=False) else "file"
                result.orphan.append(f"{kind} {entry.name}: no attachment row refers to it")
    return result


@click.command("check")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    help="The upload directory to check (default: UPLOAD_DIR).",
)
@click.option("--quick", is_flag=True, help="Compare sizes only, without reading every file.")
@with_appcontext
def check_command(directory: Path | None, quick: bool) -> None:
    """Compare the files in the upload directory with the attachments rows.

    Prints each missing file, each file of the wrong size or SHA-256 and each file without a
    row, then ``ok N, missing M, mismatched K, orphan O``. Exit status 1 on any problem."""
    directory = directory or Path(current_app.config["UPLOAD_DIR"])
    if not directory.is_dir():
        raise click.ClickException(f"{directory} is not a directory")
    result = check_attachments(directory, quick=quick)
    for label, lines in (
        ("missing", result.missing),
        ("mismatched", result.mismatched),
        ("orphan", result.orphan),
    ):
        for line in lines:
            click.echo(f"{label}: {line}")
    click.echo(result.summary())
    if not result.clean:
        raise SystemExit(1)
