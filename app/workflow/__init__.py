"""Workflow engine wiring: the transition history tables and ``flask workflows``."""

from flask import Flask


def init_app(app: Flask) -> None:
    from app.workflow import models  # noqa: F401  (tables)
    from app.workflow.cli import workflows_cli

    app.cli.add_command(workflows_cli)
