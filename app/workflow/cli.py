"""``flask workflows check`` and ``flask workflows diagram``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.core.permissions import PERMISSIONS
from workflows.definition import WorkflowError

workflows_cli = click.Group("workflows", help="Workflow definitions (workflows/).")


def _load() -> tuple[Any, ...]:
    """Every definition; importing the registry constructs (and so validates) each of them."""
    # local: importing the registry builds and validates every definition, only when asked
    from workflows.registry import all_workflows

    return all_workflows()


@workflows_cli.command("check")
def check() -> None:
    """Load and validate every workflow definition and its permissions; exit 1 on an error."""
    try:
        definitions = _load()
    except WorkflowError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
    failed = False
    for w in definitions:
        unknown = sorted(w.permissions - PERMISSIONS.keys())
        if unknown:
            failed = True
            click.echo(f"{w.key} v{w.version}: unknown permissions {', '.join(unknown)}", err=True)
            continue
        click.echo(
            f"{w.key} v{w.version}: {len(w.states)} states, {len(w.transitions)} transitions, ok"
        )
    if failed:
        raise SystemExit(1)


@workflows_cli.command("diagram")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs/workflows"),
    show_default=True,
    help="Directory to write <key>_v<version>.mmd files into.",
)
def diagram(out: Path) -> None:
    """Write a Mermaid state diagram of every workflow definition."""
    out.mkdir(parents=True, exist_ok=True)
    for w in _load():
        path = out / f"{w.key}_v{w.version}.mmd"
        path.write_text(w.to_mermaid(), encoding="utf-8")
        click.echo(f"wrote {path}")
