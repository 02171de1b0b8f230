"""The one file-storage interface (app/core/storage.py) of attachments and reports: new random
names, files private to the application, never half-written, and no name that leaves the root."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import IO

import pytest

from app.core.storage import FileStore, UnsafeName, store_at


def test_put_open_exists_delete(tmp_path: Path) -> None:
    store = store_at(tmp_path / "files")
    name = store.put_bytes(b"isi", suffix=".xlsx")
    assert name.endswith(".xlsx") and len(name) == 48 + len(".xlsx")
    assert stat.S_IMODE(store.path(name).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "files").stat().st_mode) == 0o700
    with store.open(name) as handle:
        assert handle.read() == b"isi"
    assert store.exists(name)
    assert store.put_bytes(b"isi") != name  # a new name every time
    store.delete(name)
    store.delete(name)  # gone already: nothing happens
    assert not store.exists(name)
    with pytest.raises(FileNotFoundError):
        store.open(name)


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    store = FileStore(tmp_path)

    def broken(handle: IO[bytes], name: str) -> None:
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store.put(broken)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "a/b", "/abs", "..", "a..b", "", ".hidden", "x\x00y", "a\\b"]
)
def test_names_that_leave_the_root_are_refused(tmp_path: Path, name: str) -> None:
    store = FileStore(tmp_path)
    with pytest.raises(UnsafeName):
        store.path(name)
    assert not store.exists(name)
