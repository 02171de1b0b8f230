"""The periodic reminder of follow-ups: ``tasks.remind_follow_ups`` (every 15 minutes by beat,
the in-process scheduler or ``flask schedule run-due``). Idempotent: each follow-up is stamped
``reminded_at`` in the task's transaction with its notification (``FlaskTask`` commits at the
end), so a second run finds nothing to do."""

from __future__ import annotations

import datetime as dt

from app.core.db import utcnow
from app.core.tasks import task
from app.tasks.operations import send_reminders


@task(name="tasks.remind_follow_ups")
def remind_follow_ups(now: str | dt.datetime | None = None) -> dict[str, int]:
    """Remind the follow-ups due by today. ``now`` (aware datetime or ISO string) is for tests
    and replays; beat sends nothing and the current time is used."""
    if isinstance(now, str):
        now = dt.datetime.fromisoformat(now)
    if now is None:
        now = utcnow()
    elif now.tzinfo is None:
        raise ValueError("naive datetime given as now")
    return {"reminded": send_reminders(now)}
