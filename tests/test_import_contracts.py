"""The import contracts of ``pyproject.toml`` ([tool.importlinter], run by ``make lint``) cover
every domain: a new folder under app/ is forbidden to core like the others."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INFRASTRUCTURE = {"core"}


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["name"]: contract for contract in config["contracts"]}


def test_core_is_forbidden_every_domain():
    domains = {
        f"app.{path.name}"
        for path in (ROOT / "app").iterdir()
        if (path / "__init__.py").exists() and path.name not in INFRASTRUCTURE
    }
    contract = _contracts()["app.core is infrastructure: it imports no domain"]
    assert contract["source_modules"] == ["app.core"]
    assert set(contract["forbidden_modules"]) == domains


def test_the_domains_are_checked_for_cycles():
    contract = _contracts()["No cycles between the packages of app/"]
    assert contract["type"] == "acyclic_siblings"
    assert contract["ancestors"] == ["app"]
