"""The files of attachments on disk: written sealed (``app.core.sealed_files``: a data key per
file, AES-256-GCM in chunks, the data key wrapped in ``attachments.data_key`` under
``DATA_ENCRYPTION_KEYS``), read back as a stream after the whole file has been checked.

Every attachment file goes through ``write_file`` and ``open_file``; the directory is the one of
``operations.upload_dir()`` (``UPLOAD_DIR``), passed in by the caller, and the files in it are a
``app.core.storage.FileStore`` (random names, created exclusively with mode 0600, names checked to
stay in the directory).

Files written before encryption (plaintext, ``data_key`` NULL) are still served until
``flask attachments encrypt-existing`` has sealed them: a file is read as sealed when it starts
with the sealed-file header, and as plaintext otherwise — a plaintext file only when its SHA-256
is the one recorded for the attachment, so nothing but the original bytes is ever served.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import sqlalchemy as sa

from app.cases.models import Attachment
from app.core.sealed_files import (
    HEADER_BYTES,
    SealedFileError,
    decode_key,
    encode_key,
    is_sealed,
    new_data_key,
    seal,
    unseal,
)
from app.core.storage import FileStore, UnsafeName
from app.extensions import db

READ_CHUNK = 64 * 1024
SEALING_SUFFIX = ".sealing"  # a file being sealed by encrypt-existing, next to the original


class StoredFileError(RuntimeError):
    """An attachment's file cannot be served as recorded: damaged, or not what was stored."""


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    data_key: str  # base64; the column encrypts (wraps) it


def _create(directory: Path, name: str) -> IO[bytes]:
    descriptor = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(descriptor, "wb")


def _path(directory: Path, attachment: Attachment) -> Path:
    try:
        return FileStore(directory).path(attachment.stored_name)
    except UnsafeName:
        raise StoredFileError(f"attachment {attachment.id}: not a stored file's name") from None


def write_file(directory: Path, content: bytes) -> StoredFile:
    """Write ``content`` sealed under a new random name (mode 0600), synced to disk; the file
    store removes a file whose writing failed."""
    key = new_data_key()
    stored_name = FileStore(directory).put(
        lambda handle, name: seal(_pieces(content), handle, key, name)
    )
    return StoredFile(stored_name, encode_key(key))


def _pieces(content: bytes) -> Iterator[bytes]:
    view = memoryview(content)
    for start in range(0, len(content), READ_CHUNK):
        yield bytes(view[start : start + READ_CHUNK])


def _plain_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.read(READ_CHUNK):
        yield chunk


def _chunks(path: Path, attachment: Attachment) -> Generator[bytes]:
    """The stored file's plaintext, chunk by chunk; sealed or (legacy) plaintext by its header."""
    with path.open("rb") as handle:
        if is_sealed(handle.read(HEADER_BYTES)):
            if not attachment.data_key:
                raise StoredFileError(f"attachment {attachment.id}: sealed file without data key")
            handle.seek(0)
            yield from unseal(handle, decode_key(attachment.data_key), attachment.stored_name)
        else:
            handle.seek(0)
            yield from _plain_chunks(handle)


def verify(directory: Path, attachment: Attachment) -> None:
    """Read the whole file as it would be served; raises ``FileNotFoundError`` when it is
    missing and ``StoredFileError`` unless it decrypts and is exactly the bytes recorded (size
    and SHA-256)."""
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in _chunks(_path(directory, attachment), attachment):
            digest.update(chunk)
            size += len(chunk)
    except SealedFileError as error:
        raise StoredFileError(f"attachment {attachment.id}: {error}") from None
    if size != attachment.size or digest.hexdigest() != attachment.sha256:
        raise StoredFileError(f"attachment {attachment.id}: not the bytes that were stored")


def open_file(directory: Path, attachment: Attachment) -> Iterator[bytes]:
    """The attachment's bytes as a stream for a download, after the whole file has been
    verified (so a damaged file is an error page, not a cut-off download)."""
    verify(directory, attachment)
    chunks = _chunks(_path(directory, attachment), attachment)
    try:
        first = next(chunks, b"")  # opens the file now, not when the response starts
    except SealedFileError as error:
        raise StoredFileError(f"attachment {attachment.id}: {error}") from None

    def stream() -> Iterator[bytes]:
        try:
            yield first
            yield from chunks
        finally:
            chunks.close()

    return stream()


def read_file(directory: Path, attachment: Attachment) -> bytes:
    """The whole plaintext of an attachment (for tests and small internal uses)."""
    return b"".join(open_file(directory, attachment))


# --- sealing the files written before encryption --------------------------------------------


@dataclass
class SealingReport:
    sealed: int = 0
    already: int = 0
    missing: list[int] = field(default_factory=list)
    damaged: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.sealed} encrypted, {self.already} already encrypted, "
            f"{len(self.missing)} missing, {len(self.damaged)} damaged"
        )


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system syncs a directory
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _seal_beside(path: Path, key: bytes, stored_name: str) -> tuple[Path, int, str]:
    """Seal the plaintext file ``path`` into ``<path>.sealing``; its size and SHA-256."""
    temp = path.with_name(path.name + SEALING_SUFFIX)
    temp.unlink(missing_ok=True)  # a leftover of an interrupted run
    digest = hashlib.sha256()

    def plaintext(handle: IO[bytes]) -> Iterator[bytes]:
        for chunk in _plain_chunks(handle):
            digest.update(chunk)
            yield chunk

    with path.open("rb") as source, _create(path.parent, temp.name) as sink:
        size = seal(plaintext(source), sink, key, stored_name)
        sink.flush()
        os.fsync(sink.fileno())
    return temp, size, digest.hexdigest()


def _finish(directory: Path, attachment: Attachment) -> bool:
    """A row that already has its data key while its file is still plaintext (an interrupted
    run): put the sealed copy in place if it is complete and right."""
    path = _path(directory, attachment)
    temp = path.with_name(path.name + SEALING_SUFFIX)
    if not temp.exists():
        return False
    digest = hashlib.sha256()
    size = 0
    try:
        with temp.open("rb") as handle:
            key = decode_key(attachment.data_key or "")
            for chunk in unseal(handle, key, attachment.stored_name):
                digest.update(chunk)
                size += len(chunk)
    except SealedFileError:
        return False
    if size != attachment.size or digest.hexdigest() != attachment.sha256:
        return False
    os.replace(temp, path)
    _fsync_directory(directory)
    return True


def seal_existing(directory: Path, echo: object = None) -> SealingReport:
    """Seal every attachment file still stored in plaintext; idempotent, and safe to interrupt
    and run again while the application serves downloads.

    For each file: the sealed copy is written beside it (``<name>.sealing``) and synced, its
    content checked against the recorded SHA-256; then the row gets its wrapped data key
    (committed); then the sealed copy replaces the plaintext file. Interrupted between the
    commit and the replacement, the plaintext file still serves (its SHA-256 matches) and the
    next run finishes the replacement. A file whose bytes are not the recorded ones is left
    alone and reported as damaged."""
    report = SealingReport()
    table = Attachment.__table__
    ids = db.session.scalars(sa.select(Attachment.id).order_by(Attachment.id)).all()
    for attachment_id in ids:
        attachment = db.session.get(Attachment, attachment_id)
        if attachment is None:
            continue
        outcome = _seal_one(directory, table, attachment)
        if outcome == "sealed":
            report.sealed += 1
            if callable(echo) and report.sealed % 100 == 0:
                echo(f"{report.sealed} encrypted so far")
        elif outcome == "already":
            report.already += 1
        elif outcome == "missing":
            report.missing.append(attachment_id)
        else:
            report.damaged.append(attachment_id)
    return report


def _seal_one(directory: Path, table: sa.Table, attachment: Attachment) -> str:
    try:
        path = _path(directory, attachment)
    except StoredFileError:
        return "damaged"
    try:
        with path.open("rb") as handle:
            sealed = is_sealed(handle.read(HEADER_BYTES))
    except FileNotFoundError:
        return "missing"
    if sealed:
        # sealed, but without a recorded key it can never be read: reported, never guessed
        return "already" if attachment.data_key else "damaged"
    if attachment.data_key:  # interrupted after the commit: finish the replacement
        return "sealed" if _finish(directory, attachment) else "damaged"
    key = new_data_key()
    temp, size, digest = _seal_beside(path, key, attachment.stored_name)
    if size != attachment.size or digest != attachment.sha256:
        temp.unlink(missing_ok=True)
        return "damaged"
    result = db.session.execute(
        sa.update(table)
        .where(table.c.id == attachment.id, table.c.data_key.is_(None))
        .values(data_key=encode_key(key))
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        temp.unlink(missing_ok=True)  # sealed by a run alongside this one
        return "already"
    db.session.commit()
    os.replace(temp, path)
    _fsync_directory(directory)
    return "sealed"
