"""docs/architecture.md's domain table matches the code: one row per domain folder, and each
row's "modules" column lists exactly the Python modules (and packages) the folder holds, so the
page cannot claim files a domain does not have or omit a domain."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
ROW = re.compile(
    r"^\| `(?P<folder>app/[a-z_]+|workflows/)` \| (?P<modules>[^|]*) \| (?P<holds>.*) \|$"
)


def _table() -> dict[str, set[str]]:
    rows: dict[str, set[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            folder = match["folder"].rstrip("/")
            assert folder not in rows, f"docs/architecture.md has two rows for {folder}"
            rows[folder] = set(re.findall(r"`([^`]+)`", match["modules"]))
    return rows


def _folders() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    packages = [p for p in sorted((ROOT / "app").iterdir()) if (p / "__init__.py").is_file()]
    for folder in [*packages, ROOT / "workflows"]:
        modules = {p.name for p in folder.glob("*.py") if p.name != "__init__.py"}
        modules |= {f"{p.name}/" for p in folder.iterdir() if (p / "__init__.py").is_file()}
        found[str(folder.relative_to(ROOT))] = modules
    return found


def test_every_domain_folder_has_a_row_and_every_row_a_folder() -> None:
    table, folders = _table(), _folders()
    assert set(table) == set(folders), (
        f"rows without a folder: {sorted(set(table) - set(folders))}; "
        f"folders without a row: {sorted(set(folders) - set(table))}"
    )


def test_each_row_lists_exactly_the_modules_of_its_folder() -> None:
    table, folders = _table(), _folders()
    wrong = {
        folder: {
            "missing": sorted(modules - table[folder]),
            "extra": sorted(table[folder] - modules),
        }
        for folder, modules in folders.items()
        if folder in table and table[folder] != modules
    }
    assert not wrong, f"docs/architecture.md's modules column differs from the code: {wrong}"
