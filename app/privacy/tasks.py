"""The nightly retention run (``flask privacy retention`` by hand): the same operation."""

from __future__ import annotations

import datetime as dt

from flask import current_app

from app.audit.operations import SystemActor
from app.core.tasks import task
from app.privacy.operations import run_retention


@task(name="privacy.retention")
def retention(now: str | None = None) -> dict[str, int]:
    """Erase the identities the retention period has reached (none while proceedings are open)."""
    moment = dt.datetime.fromisoformat(now) if now else None
    years = int(current_app.config["RETENTION_YEARS_AFTER_CLOSE"])
    if years < 1:
        raise ValueError("RETENTION_YEARS_AFTER_CLOSE must be at least 1")
    result = run_retention(years=years, dry_run=False, actor=SystemActor("retention"), now=moment)
    return {"erased": result.erased, "cases": result.cases}
