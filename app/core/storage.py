"""Private files under one root directory: the one file-storage interface of the application.

Attachments live under ``UPLOAD_DIR`` (written sealed by ``app.cases.storage``), the monthly
reports under ``REPORT_DIR`` (``app.indicators.report.storage``); both directories are outside
the web root, settled and checked at start (``app.config``). A :class:`FileStore` gives every
file a new random name, creates it exclusively with mode 0600, removes a file whose writing
failed (never a half-written file), and takes back only names that stay inside its root: a
name with a path separator, ``..`` or anything but letters, digits, ``.``, ``_`` and ``-`` is
refused before the file system is touched. Files are served through
``app.core.web.send_private_file`` / ``send_private_stream`` after a permission check."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import current_app

NAME_BYTES = 24  # random bytes of a new name (48 hex digits)
REPORT_NAME_BYTES = 16  # a report's name: 32 hex digits and its format (``.xlsx``)
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class UnsafeName(ValueError):
    """A stored name that could leave the store's root (or is no name the store gives)."""


@dataclass(frozen=True)
class FileStore:
    """The files under ``root``, by the names the store gave them."""

    root: Path
    name_bytes: int = NAME_BYTES

    def path(self, name: str) -> Path:
        """The path of the stored file ``name``; ``UnsafeName`` unless it stays in the root."""
        if not _SAFE_NAME.fullmatch(name) or ".." in name:
            raise UnsafeName("not a stored file's name")
        return self.root / name

    def put(self, write: Callable[[IO[bytes], str], object], *, suffix: str = "") -> str:
        """A new file under a new random name (``<hex><suffix>``), created exclusively with
        mode 0600 and filled by ``write(handle, name)``, then synced to disk; the name. If
        ``write`` fails, the file is removed and the error raised."""
        while True:
            name = secrets.token_hex(self.name_bytes) + suffix
            path = self.path(name)
            try:
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            break
        try:
            with os.fdopen(descriptor, "wb") as handle:
                write(handle, name)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            path.unlink(missing_ok=True)  # never a half-written file
            raise
        return name

    def put_bytes(self, content: bytes, *, suffix: str = "") -> str:
        """``content`` as a new file (see :meth:`put`); its name."""
        return self.put(lambda handle, _name: handle.write(content), suffix=suffix)

    def open(self, name: str) -> IO[bytes]:
        """The stored file for reading; ``FileNotFoundError`` when it is missing."""
        return self.path(name).open("rb")

    def exists(self, name: str) -> bool:
        try:
            return self.path(name).is_file()
        except UnsafeName:
            return False

    def delete(self, name: str) -> None:
        """Remove the stored file (nothing when it is already gone)."""
        self.path(name).unlink(missing_ok=True)


def store_at(root: Path, *, name_bytes: int = NAME_BYTES) -> FileStore:
    """The store of ``root``, created private to the application (0700) when missing."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return FileStore(root, name_bytes)


def upload_root() -> Path:
    """``UPLOAD_DIR``, else ``uploads`` in the instance folder."""
    configured = current_app.config.get("UPLOAD_DIR")
    return Path(configured or Path(current_app.instance_path) / "uploads")


def uploads() -> FileStore:
    """The attachments' files (``UPLOAD_DIR``)."""
    return store_at(upload_root())


def reports() -> FileStore:
    """The generated reports (``REPORT_DIR``; in production explicit and shared by the web,
    which serves the files, and the worker, which writes them), else ``reports`` next to the
    upload directory: outside the web root, private to the application."""
    configured = current_app.config.get("REPORT_DIR")
    root = Path(configured) if configured else upload_root().parent / "reports"
    return store_at(root, name_bytes=REPORT_NAME_BYTES)
