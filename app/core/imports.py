"""The shared shape of the CSV imports (``flask regions|agencies|population import``).

The whole file is read and every row validated and applied inside one transaction. A row that
fails raises ``ImportRowError``; every failing row is reported as ``line L: reason`` and, when any
row failed, the transaction is rolled back so a file with a bad row writes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.errors import DomainError, ImportRowError
from app.core.extensions import db
from app.core.i18n import gettext

MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[ImportRowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def summary(self) -> str:
        return f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}"


class SeenKeys:
    """Remembers on which line each key of a file appeared, to refuse a key given twice."""

    def __init__(self) -> None:
        self._lines: dict[object, int] = {}

    def first_line(self, key: object, line: int) -> int | None:
        """The earlier line that already had ``key``, or None (and ``key`` is now taken)."""
        earlier = self._lines.get(key)
        if earlier is None:
            self._lines[key] = line
        return earlier


class BadFile(Exception):
    """The file as a whole cannot be read (missing, not UTF-8, wrong header)."""


class _GuardedReader:
    """A ``csv.reader`` whose malformed input (a field over the csv module's limit, …) ends the
    import as a bad file with a message instead of a traceback."""

    def __init__(self, reader: Any, path: Path) -> None:
        self._reader, self._path = reader, path

    @property
    def line_num(self) -> int:
        return int(self._reader.line_num)

    def __iter__(self) -> _GuardedReader:
        return self

    def __next__(self) -> list[str]:
        try:
            return list(next(self._reader))
        except csv.Error as exc:
            raise BadFile(
                gettext(
                    "%(path)s: line %(n)d cannot be read (%(error)s)",
                    path=self._path,
                    n=self._reader.line_num,
                    error=str(exc),
                )
            ) from None


def _guarded(reader: Any, path: Path) -> _GuardedReader:
    return _GuardedReader(reader, path)


def read_rows(path: str | Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, row)``; the header must hold exactly ``columns`` (any order)."""
    path = Path(path)
    if not path.is_file():
        raise BadFile(gettext("%(path)s: no such file", path=path))
    if path.stat().st_size > MAX_FILE_BYTES:
        raise BadFile(
            gettext("%(path)s: larger than %(n)d MB", path=path, n=MAX_FILE_BYTES // (1024 * 1024))
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFile(
            gettext("%(path)s: not UTF-8 text (byte %(n)d)", path=path, n=exc.start)
        ) from exc
    if "\x00" in text:
        raise BadFile(gettext("%(path)s: contains a NUL byte (not a text file)", path=path))
    reader = _guarded(csv.reader(io.StringIO(text, newline="")), path)
    try:
        header = next(reader)
    except StopIteration:
        raise BadFile(gettext("%(path)s: the file is empty", path=path)) from None
    header = [h.strip() for h in header]
    if sorted(header) != sorted(columns):
        missing = [c for c in columns if c not in header]
        extra = [h for h in header if h not in columns]
        parts = []
        if missing:
            parts.append(gettext("missing: %(cols)s", cols=", ".join(missing)))
        if extra:
            parts.append(gettext("unknown: %(cols)s", cols=", ".join(extra)))
        if len(set(header)) != len(header):
            parts.append(gettext("repeated columns"))
        raise BadFile(
            "line 1: "
            + gettext(
                "the header must be %(cols)s (%(problems)s)",
                cols=",".join(columns),
                problems="; ".join(parts),
            )
        )
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield (
                line,
                {
                    "__error__": gettext(
                        "expected %(n)d values, found %(m)d", n=len(header), m=len(values)
                    )
                },
            )
            continue
        yield line, {h: v.strip() for h, v in zip(header, values, strict=True)}


def run_import(
    path: str | Path,
    columns: tuple[str, ...],
    apply_row: Callable[[int, dict[str, str]], str],
    *,
    batched: bool = False,
) -> ImportReport:
    """Apply every row with ``apply_row(line, row) -> 'created'|'updated'|'unchanged'``.

    ``apply_row`` raises ``ImportRowError`` or ``DomainError`` for a bad row. The caller commits
    when the report is ok and rolls back otherwise. Each row is applied in a savepoint (which
    flushes what the rows before it left pending), unless ``batched``: ``apply_row`` then
    refuses a bad row before it changes anything and writes nothing itself, and the rows are
    written together when the caller flushes or commits.
    """
    report = ImportReport()
    for line, row in read_rows(path, columns):
        if "__error__" in row:
            report.errors.append(ImportRowError(line, row["__error__"]))
            continue
        try:
            if batched:
                report.count(apply_row(line, row))
                continue
            with db.session.begin_nested():
                report.count(apply_row(line, row))
        except ImportRowError as exc:
            report.errors.append(exc)
        except DomainError as exc:
            report.errors.append(ImportRowError(line, str(exc.message)))
    return report
