"""Playing a demo story through the ordinary operations at the moments it happened.

The operations stamp what they write with the current time (``utcnow``): right in use, and wrong
for a demo that must show a referral sent a week ago and still unanswered. ``replay`` runs the
steps of one story one after another, noting the clock before each; then every time stamp the
steps wrote (on the rows of ``STAMPED``) is moved to the moment the story gives its step. A
deadline then gets the due time its rule gives from its moved start and is met or missed again by
``meet_deadline``, as it would have been at that moment. The notifications a step queues for after
the commit are written by the step itself, as the worker would write them (the tasks are
idempotent, so their delivery after the commit adds nothing), and so carry the step's moment too;
their e-mail copies count as sent then (the demo addresses lead nowhere, and a console full of
old e-mails would bury the demo logins).

The audit trail is left as it is: it records when the demo was loaded, which is the truth.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from app.cases.models import Attachment, Case, CaseNote, ConsentEntry
from app.core.db import UTCDateTime, utcnow
from app.core.tasks import pending_tasks
from app.deadlines.models import Deadline
from app.deadlines.operations import effective_rule, meet_deadline
from app.extensions import celery, db
from app.notifications.models import Notification
from app.referrals.models import Referral, ReferralEvent
from app.services.models import ServiceTrack
from app.workflow.models import CaseTransfer, CaseTransition

Step = tuple[dt.datetime, Callable[[], object]]

# The rows a story writes whose time stamps are moved; the due time and the outcome of a deadline
# are derived again from its moved stamps instead.
STAMPED: tuple[type[Any], ...] = (
    Case,
    CaseTransition,
    ServiceTrack,
    ConsentEntry,
    CaseNote,
    Attachment,
    Referral,
    ReferralEvent,
    CaseTransfer,
    Deadline,
    Notification,
)
DERIVED = frozenset({"due_at", "met_at", "missed_at"})
# The after-commit tasks that tell people about a step: run with the step.
NOTIFYING = frozenset(
    {
        "referrals.notify",
        "workflow.notify_transition",
        "workflow.notify_transfer",
        "workflow.notify_assignment",
    }
)


def replay(steps: Sequence[Step]) -> None:
    """Run ``steps`` (moment, step) in order and move what they wrote to their moments, which
    must be increasing and in the past."""
    moments = [moment for moment, _ in steps]
    if moments != sorted(moments) or moments[-1] > utcnow():
        raise ValueError("a demo story's moments must be increasing and in the past")
    marks = []
    for _moment, step in steps:
        marks.append(utcnow())
        queued = len(pending_tasks(db.session))
        step()
        for name, args, kwargs in pending_tasks(db.session)[queued:]:
            if name in NOTIFYING:
                celery.tasks[name].run(*args, **kwargs)
        db.session.flush()  # defaults such as ``created_at`` are taken now, within the step
    _move(marks, moments)


def _stamps(model: type[Any]) -> list[str]:
    return [
        prop.key
        for prop in sa.inspect(model).column_attrs
        if isinstance(prop.columns[0].type, UTCDateTime) and prop.key not in DERIVED
    ]


def _move(marks: list[dt.datetime], moments: list[dt.datetime]) -> None:
    start = marks[0]

    def moved(value: dt.datetime) -> dt.datetime:
        return moments[bisect.bisect_right(marks, value) - 1]

    for model in STAMPED:
        keys = _stamps(model)
        rows = db.session.scalars(
            sa.select(model).where(sa.or_(*(getattr(model, key) >= start for key in keys)))
        ).all()
        for row in rows:
            for key in keys:
                value = getattr(row, key)
                if value is not None and value >= start:
                    setattr(row, key, moved(value))
            if isinstance(row, Deadline):
                _due_again(row)
            elif isinstance(row, Notification) and row.emailed_at is None:
                row.emailed_at = row.created_at
    db.session.flush()


def _due_again(deadline: Deadline) -> None:
    """The due time from the moved start; done in time or not, decided again."""
    rule = effective_rule(deadline.code, deadline.responsible_agency)
    deadline.due_at = rule.due_from(deadline.started_at)
    done = deadline.completed_at
    if done is not None:
        deadline.completed_at = deadline.met_at = deadline.missed_at = None
        meet_deadline(deadline, done)
