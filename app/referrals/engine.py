"""The referral's part of the workflow engine (``app.workflow.engine``): how a step of a
referral is applied — the row lock (the case first), the referral definition and its facts, the
stamps and the ``referral_events`` row each step writes, and what follows it (the service
track's matching event through the engine, the ``referral_response`` deadline, the audit entry,
the other side told after commit). Registered with ``engine.register_adapter`` from
``app.referrals.init_app``, so the engine names no model above the workflow.

Like the engine, this module writes history and ``state``; ``tests/workflow/
test_engine_sole_writer.py`` lists it beside the engine, and nothing else may. The rows of a
referral's history that are no step (a draft saved, a progress note, the receiver opening it)
are written here too (``referral_note``). Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.audit.operations import SystemActor, record
from app.auth.models import User
from app.cases.models import Case
from app.core.db import utcnow
from app.core.enums import ReferralState
from app.core.i18n import lazy_gettext as _l
from app.core.tasks import enqueue_after_commit
from app.deadlines.operations import cancel_open, meet_open, open_deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.referrals.models import Referral, ReferralEvent
from app.workflow.engine import Adapter, Inputs, Step, apply, register_adapter
from app.workflow.permissions import may_take_case_step
from workflows import referral_v1
from workflows.definition import Transition, Workflow
from workflows.referral_v1 import TRACK_EVENT, ReferralFacts
from workflows.registry import CURRENT, get_workflow

REFERRAL_CHANGED = _l(
    "Someone else changed this referral in the meantime. Nothing was saved: reload the page and "
    "try again."
)


def lock_referral(referral_id: int) -> Referral:
    case_id = db.session.execute(
        select(Referral.case_id).where(Referral.id == referral_id)
    ).scalar_one()
    db.session.execute(select(Case.id).where(Case.id == case_id).with_for_update())
    return db.session.execute(
        select(Referral)
        .where(Referral.id == referral_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


# What each referral step stamps, which column keeps its text, who writes it and what the other
# side is told.
REFERRAL_STEPS: dict[str, tuple[str, str | None, str]] = {
    "send": ("sent_at", None, "sent"),
    "accept": ("accepted_at", None, "accepted"),
    "decline": ("ended_at", "decline_reason", "declined"),
    "start": ("started_at", None, "started"),
    "complete": ("ended_at", "outcome", "completed"),
    "withdraw": ("ended_at", "withdraw_reason", "withdrawn"),
}


class ReferralAdapter(Adapter[Referral]):
    changed = REFERRAL_CHANGED

    def lock(self, record: Referral) -> Referral:
        return lock_referral(record.id)

    def workflow(self, record: Referral) -> Workflow[Any, Any]:
        return get_workflow("referral", CURRENT["referral"])

    def may(self, actor: User, record: Referral, t: Transition[Any, Any]) -> bool:
        if t.permission == referral_v1.RECEIVE:
            return t.permission in actor.permissions_at(record.to_agency_id)
        return may_take_case_step(actor, record.case, t.permission)

    def facts(self, step: Step[Referral], approvals: frozenset[str]) -> Any:
        referral = step.record
        return ReferralFacts(
            # the consent in force when it was sent, or a supervisor's override with a reason
            consent_or_override=bool(referral.consent_entry_id or referral.override_reason),
            outcome=step.outcome,
            reason=step.reason,
        )

    def write(self, step: Step[Referral]) -> None:
        referral = step.record
        stamp, column, _told = REFERRAL_STEPS[step.event]
        setattr(referral, stamp, step.at)
        words = step.reason or step.outcome
        if column:
            setattr(referral, column, words)
        referral.state = ReferralState(step.target)
        sender = step.event in ("send", "withdraw")
        step.row = _referral_row(
            referral,
            step.event,
            step.actor,
            agency_id=referral.from_agency_id if sender else referral.to_agency_id,
            states=(ReferralState(step.source), ReferralState(step.target)),
            text=referral.override_reason if step.event == "send" else words,
            data=dict(step.data),
            at=step.at,
        )

    def after(self, step: Step[Referral]) -> None:
        referral, event = step.record, step.event
        apply(
            referral.track,
            TRACK_EVENT[event],
            actor=step.actor,
            inputs=Inputs(reason=step.reason, outcome=step.outcome),
            linked=True,
        )
        if event == "send":
            open_deadline(
                DeadlineCode.REFERRAL_RESPONSE,
                case=referral.case,
                start=step.at,
                agency=referral.to_agency,
                track=referral.track,
            )
        elif event in ("accept", "decline"):
            # the answer the referral_response deadline waits for
            meet_open(
                referral.case, [DeadlineCode.REFERRAL_RESPONSE], at=utcnow(), track=referral.track
            )
        elif event == "withdraw":
            cancel_open(
                referral.case,
                at=step.at,
                track=referral.track,
                codes=[DeadlineCode.REFERRAL_RESPONSE],
            )
        record(
            step.actor,
            f"referral.{event}",
            "case",
            referral.case_id,
            {"referral": referral.id, **step.inputs.audit},
        )
        enqueue_after_commit(db.session, "referrals.notify", referral.id, REFERRAL_STEPS[event][2])


def _referral_row(
    referral: Referral,
    kind: str,
    actor: User | SystemActor,
    *,
    agency_id: int | None,
    states: tuple[ReferralState, ReferralState] | None = None,
    text: str | None = None,
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> ReferralEvent:
    row = ReferralEvent(
        referral_id=referral.id,
        actor_id=actor.id,
        agency_id=agency_id,
        kind=kind,
        from_state=states[0].value if states else None,
        to_state=states[1].value if states else None,
        text=text,
        data=data or {},
        **({"at": at} if at is not None else {}),
    )
    db.session.add(row)
    return row


def referral_note(
    referral: Referral, kind: str, actor: User, *, agency_id: int | None, text: str | None = None
) -> ReferralEvent:
    """A row of the referral's history that is no step: a draft saved, a progress note, the
    receiver opening it."""
    return _referral_row(referral, kind, actor, agency_id=agency_id, text=text)


def register() -> None:
    """Steps of a referral go through the engine with this adapter (from ``init_app``)."""
    register_adapter(Referral, ReferralAdapter())
