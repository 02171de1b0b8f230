"""Referrals (rujukan): the only writers. Nothing here commits.

Every step locks the case (then the referral), checks the version the person saw (required: a
step without it, or with a version no record can have, is refused as an out-of-date form —
``app.core.errors.require_version``), applies the
``referral`` workflow (permission held at the right agency, guards, reason) and the matching
event of the service track through the workflow engine — so the track's history and guards are
the same as for any other step — appends a ``referral_events`` row, keeps the deadline of the
receiving agency's answer, writes the audit entry and, after commit, tells the other side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.agencies.models import Agency
from app.audit.operations import record
from app.auth.models import User
from app.cases.intake import ConsentData
from app.cases.models import Attachment, Case, ConsentEntry, consent_in_force
from app.cases.operations import ConflictError, add_consent
from app.core.db import utcnow
from app.core.enums import ConsentDecision, ReferralState, TrackState
from app.core.errors import DomainError, require_version
from app.core.forms import in_id_range
from app.core.tasks import enqueue_after_commit
from app.deadlines.operations import cancel_open, meet_open, open_deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.privacy.queries import is_restricted
from app.referrals.models import Referral, ReferralEvent
from app.services.models import ServiceTrack
from app.workflow.operations import (
    REASONS,
    TransitionRefused,
    apply_linked_track_event,
)
from app.workflow.permissions import may_supervise_agency, may_take_case_step
from workflows import referral_v1
from workflows.referral_v1 import TRACK_EVENT, ReferralFacts
from workflows.registry import CURRENT, get_workflow

TEXT_LIMIT = 1000
MESSAGE_LIMIT = 2000
SUMMARY_LIMIT = 2000
OVERRIDE_MIN = 10

_CHANGED = _l(
    "Someone else changed this referral in the meantime. Nothing was saved: reload the page and "
    "try again."
)


@dataclass
class ConsentNow:
    """The victim (``korban``) or a guardian (``wali``, named) agrees to the referral now."""

    given_by: str
    given_by_name: str | None = None


@dataclass
class Sharing:
    """What the receiving agency may see of the case (nothing else). With ``incident``, the
    receiver reads ``incident_summary`` — what the sender wrote for this referral — and never the
    case's chronology."""

    identity: bool = False
    incident: bool = False
    assessment: bool = False
    attachment_ids: tuple[int, ...] = ()
    incident_summary: str | None = None


def consent_for(track: ServiceTrack, agency: Agency) -> ConsentEntry | None:
    """The consent in force for ``rujukan:<agency code>`` of the track's victim, if it is
    ``setuju``."""
    entries = list(
        db.session.scalars(
            select(ConsentEntry)
            .where(ConsentEntry.victim_id == track.victim_id)
            .order_by(ConsentEntry.id)
        )
    )
    entry = consent_in_force(entries, f"rujukan:{agency.code}")
    return entry if entry is not None and entry.decision == ConsentDecision.SETUJU else None


def _text(value: str | None, field: str, limit: int = TEXT_LIMIT) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise DomainError(_l("At most %(n)d characters.", n=limit), field=field)
    return text or None


def _lock(referral_id: int, expected_version: int | None) -> Referral:
    """The referral, locked (after its case), at the version the person saw (required)."""
    expected_version = require_version(expected_version)
    referral = _lock_row(referral_id)
    if referral.version != expected_version:
        raise ConflictError(_CHANGED, changes={})
    return referral


def _lock_row(referral_id: int) -> Referral:
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


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise ConflictError(_CHANGED, changes={}) from None


def _allowed(actor: User, referral: Referral, permission: str) -> bool:
    if permission == referral_v1.RECEIVE:
        return permission in actor.permissions_at(referral.to_agency_id)
    return may_take_case_step(actor, referral.case, permission)


def _step(
    referral: Referral,
    event: str,
    *,
    actor: User,
    reason: str | None = None,
    outcome: str | None = None,
    consent_or_override: bool = True,
) -> tuple[ReferralState, ReferralState]:
    """Apply ``event`` of the referral workflow; returns (from, to). Raises TransitionRefused."""
    workflow = get_workflow("referral", CURRENT["referral"])
    source = ReferralState(referral.state)
    t = workflow.transition(source, event)
    if t is None:
        raise TransitionRefused(
            _l("This referral cannot take that step now (it is %(state)s).", state=source.value),
            event=event,
        )
    if not _allowed(actor, referral, t.permission):
        raise TransitionRefused(_l("You may not take this step on this referral."), event=event)
    decision = workflow.decide(
        source,
        event,
        ReferralFacts(consent_or_override=consent_or_override, outcome=outcome, reason=reason),
    )
    if not decision.allowed:
        why = decision.reason or ""
        raise TransitionRefused(REASONS.get(why, why), event=event, reason=why)
    target = ReferralState(decision.target)
    referral.state = target
    return source, target


def _event(
    referral: Referral,
    kind: str,
    actor: User,
    *,
    agency_id: int | None,
    states: tuple[ReferralState, ReferralState] | None = None,
    text: str | None = None,
    data: dict[str, Any] | None = None,
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
    )
    db.session.add(row)
    return row


def _notify(referral: Referral, what: str) -> None:
    enqueue_after_commit(db.session, "referrals.notify", referral.id, what)


# --- the sending side --------------------------------------------------------------------------


def _attachments(case: Case, ids: Iterable[int]) -> list[Attachment]:
    wanted = set(ids)
    if not wanted:
        return []
    if not all(in_id_range(i) for i in wanted):  # no such row; never a database error
        raise DomainError(_l("Choose attachments of this case."), field="attachments")
    found = list(
        db.session.scalars(
            select(Attachment).where(Attachment.case_id == case.id, Attachment.id.in_(wanted))
        )
    )
    if len(found) != len(wanted):
        raise DomainError(_l("Choose attachments of this case."), field="attachments")
    return found


def save_referral(
    track_id: int,
    *,
    to_agency: Agency,
    sharing: Sharing,
    message: str | None,
    actor: User,
    send: bool,
    override_reason: str | None = None,
    expected_version: int | None,
    expected_draft_version: int | None = None,
    consent_now: ConsentNow | None = None,
) -> Referral:
    """Write the referral of a planned track to ``to_agency`` (its draft, if one exists), and
    with ``send`` send it.

    ``expected_version`` is the version of the track the person saw (required);
    ``expected_draft_version`` the version of the track's draft referral the form showed (None:
    the form showed no draft). A track or a draft changed since — or a draft someone else
    started meanwhile — is a ``ConflictError``: nothing is overwritten.

    Sending needs the victim's consent ``rujukan:<agency code>`` in force — or given now
    (``consent_now``: recorded in the ledger with the sending) — or a supervisor of the case's
    agency overriding it with a reason. The provider must be another active agency that
    provides the track's service; the track becomes that agency's (``provider_id``) and moves to
    ``dirujuk``; the receiving agency's answer is due by the ``referral_response`` rule.
    """
    expected_version = require_version(expected_version)
    case_id = db.session.execute(
        select(ServiceTrack.case_id).where(ServiceTrack.id == track_id)
    ).scalar_one()
    case = db.session.execute(select(Case).where(Case.id == case_id).with_for_update()).scalar_one()
    track = db.session.execute(
        select(ServiceTrack)
        .where(ServiceTrack.id == track_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if track.version != expected_version:
        raise ConflictError(_CHANGED, changes={})
    if not may_take_case_step(actor, case, referral_v1.MANAGE):
        raise TransitionRefused(_l("You may not refer this service."), event="send")
    if track.state is not TrackState.DIRENCANAKAN:
        raise DomainError(_l("Only a planned service can be referred."), field="to_agency")
    if to_agency.id == case.agency_id:
        raise DomainError(
            _l("The service is delivered by the case's own agency; it is not referred."),
            field="to_agency",
        )
    if not to_agency.active or not to_agency.provides(track.service_type):
        raise DomainError(
            _l(
                "%(agency)s does not provide the service %(service)s.",
                agency=to_agency.code,
                service=track.service_type.value,
            ),
            field="to_agency",
        )
    message = _text(message, "message", MESSAGE_LIMIT)
    summary = _text(sharing.incident_summary, "incident_summary", SUMMARY_LIMIT)
    attachments = _attachments(case, sharing.attachment_ids)
    if sharing.identity and is_restricted(track.victim):
        raise DomainError(
            _l(
                "The victim's identity is restricted at their request (UU 27/2022): it is shown "
                "only to the case manager and the supervisors, and cannot be shared with another "
                "agency."
            ),
            field="share_identity",
        )
    if attachments and is_restricted(track.victim):
        # documents about the person (a visum, a police report) identify them as surely as the
        # identity section does
        raise DomainError(
            _l(
                "The victim's processing is restricted at their request (UU 27/2022): the case's "
                "attachments cannot be shared with another agency."
            ),
            field="attachments",
        )

    referral = db.session.scalar(
        select(Referral)
        .where(Referral.track_id == track.id, Referral.state == ReferralState.DRAF)
        .with_for_update()
    )
    seen = None if referral is None else referral.version
    if seen != expected_draft_version:
        raise ConflictError(_CHANGED, changes={})
    if referral is None:
        referral = Referral(
            case_id=case.id,
            track_id=track.id,
            from_agency_id=case.agency_id,
            to_agency_id=to_agency.id,
            created_by_id=actor.id,
            state=ReferralState.DRAF,
        )
        db.session.add(referral)
    referral.case = case
    referral.track = track
    referral.to_agency_id = to_agency.id
    referral.to_agency = to_agency
    referral.message = message
    referral.share_identity = sharing.identity
    referral.share_incident = sharing.incident
    # the summary goes with the incident section: not kept when that section is not shared
    referral.incident_summary = summary if sharing.incident else None
    referral.share_assessment = sharing.assessment
    referral.attachments = attachments
    _flush()
    if not send:
        _event(referral, "draft", actor, agency_id=case.agency_id)
        record(actor, "referral.draft", "case", case.id, {"referral": referral.id})
        return referral

    consent = consent_for(track, to_agency)
    if consent is None and consent_now is not None:
        # the victim (or guardian) agrees now, on the referral form: into the ledger first
        add_consent(
            track.victim,
            ConsentData(
                purpose=f"rujukan:{to_agency.code}",
                decision=ConsentDecision.SETUJU.value,
                given_by=consent_now.given_by,
                given_by_name=consent_now.given_by_name,
                at=utcnow(),
            ),
            actor=actor,
        )
        consent = consent_for(track, to_agency)
    override = None
    if consent is None and (override_reason or "").strip():
        override = _text(override_reason, "override_reason")
        if not may_supervise_agency(actor, case.agency_id):
            raise DomainError(
                _l("Only a supervisor may send a referral without the victim's consent."),
                field="override_reason",
            )
        if override is None or len(override) < OVERRIDE_MIN:
            raise DomainError(
                _l("Give the reason in at least %(n)d characters.", n=OVERRIDE_MIN),
                field="override_reason",
            )
    states = _step(referral, "send", actor=actor, consent_or_override=bool(consent or override))
    now = utcnow()
    referral.consent_entry_id = consent.id if consent is not None else None
    referral.override_reason = override
    referral.override_by_id = actor.id if override else None
    referral.sent_at = now
    if track.provider_id != to_agency.id:
        track.provider_id = to_agency.id
    _flush()
    apply_linked_track_event(track.id, TRACK_EVENT["send"], actor=actor)
    open_deadline(
        DeadlineCode.REFERRAL_RESPONSE,
        case=case,
        start=now,
        agency=to_agency,
        track=track,
    )
    _event(
        referral,
        "send",
        actor,
        agency_id=case.agency_id,
        states=states,
        text=override,
        data={
            "shared": shared_sections(referral),
            "attachments": [a.id for a in attachments],
            "consent": consent.id if consent is not None else None,
        },
    )
    record(
        actor,
        "referral.send",
        "case",
        case.id,
        {
            "referral": referral.id,
            "to_agency": to_agency.code,
            "service_type": track.service_type.value,
            "shared": shared_sections(referral),
            "override": bool(override),
        },
    )
    _notify(referral, "sent")
    return referral


def shared_sections(referral: Referral) -> list[str]:
    sections = []
    if referral.share_identity:
        sections.append("identitas")
    if referral.share_incident:
        sections.append("kejadian")
    if referral.share_assessment:
        sections.append("asesmen")
    if referral.attachments:
        sections.append("lampiran")
    return sections


def withdraw_referral(
    referral_id: int, reason: str | None, *, actor: User, expected_version: int | None
) -> Referral:
    """The sending side takes the referral back (reason required); the track is planned again,
    to be referred elsewhere or cancelled. Its answer is no longer awaited."""
    referral = _lock(referral_id, expected_version)
    reason = _text(reason, "reason")
    states = _step(referral, "withdraw", actor=actor, reason=reason)
    referral.withdraw_reason = reason
    referral.ended_at = utcnow()
    _flush()
    apply_linked_track_event(referral.track_id, TRACK_EVENT["withdraw"], actor=actor, reason=reason)
    cancel_open(
        referral.case,
        at=referral.ended_at,
        track=referral.track,
        codes=[DeadlineCode.REFERRAL_RESPONSE],
    )
    _event(
        referral, "withdraw", actor, agency_id=referral.from_agency_id, states=states, text=reason
    )
    record(actor, "referral.withdraw", "case", referral.case_id, {"referral": referral.id})
    _notify(referral, "withdrawn")
    return referral


# --- the receiving side ------------------------------------------------------------------------


def _answered(referral: Referral) -> None:
    meet_open(
        referral.case,
        [DeadlineCode.REFERRAL_RESPONSE],
        at=utcnow(),
        track=referral.track,
    )


# what each of the receiving agency's steps stamps, what it asks to be written, and what the
# sending side is told
ANSWERS: dict[str, tuple[str, str | None, str]] = {
    "accept": ("accepted_at", None, "accepted"),
    "decline": ("ended_at", "decline_reason", "declined"),
    "start": ("started_at", None, "started"),
    "complete": ("ended_at", "outcome", "completed"),
}


def _answer(
    referral_id: int,
    event: str,
    *,
    actor: User,
    expected_version: int | None,
    text: str | None = None,
) -> Referral:
    """One step of the receiving agency: the referral's own step, the matching track step
    through the engine, the event row, the audit entry and, after commit, the sender is told.
    Accepting or declining is the answer the ``referral_response`` deadline waits for."""
    stamp, field, told = ANSWERS[event]
    referral = _lock(referral_id, expected_version)
    words = _text(text, "reason" if field == "decline_reason" else "outcome") if field else None
    reason = words if field == "decline_reason" else None
    outcome = words if field == "outcome" else None
    states = _step(referral, event, actor=actor, reason=reason, outcome=outcome)
    setattr(referral, stamp, utcnow())
    if field:
        setattr(referral, field, words)
    _flush()
    apply_linked_track_event(
        referral.track_id, TRACK_EVENT[event], actor=actor, reason=reason, outcome=outcome
    )
    if event in ("accept", "decline"):
        _answered(referral)
    _event(referral, event, actor, agency_id=referral.to_agency_id, states=states, text=words)
    record(actor, f"referral.{event}", "case", referral.case_id, {"referral": referral.id})
    _notify(referral, told)
    return referral


def accept_referral(referral_id: int, *, actor: User, expected_version: int | None) -> Referral:
    return _answer(referral_id, "accept", actor=actor, expected_version=expected_version)


def decline_referral(
    referral_id: int, reason: str | None, *, actor: User, expected_version: int | None
) -> Referral:
    """Declined, with the reason; the track is planned again (to be referred elsewhere)."""
    return _answer(
        referral_id, "decline", actor=actor, expected_version=expected_version, text=reason
    )


def start_referral(referral_id: int, *, actor: User, expected_version: int | None) -> Referral:
    return _answer(referral_id, "start", actor=actor, expected_version=expected_version)


def complete_referral(
    referral_id: int, outcome: str | None, *, actor: User, expected_version: int | None
) -> Referral:
    """Completed with its outcome: the track ends ``selesai``."""
    return _answer(
        referral_id, "complete", actor=actor, expected_version=expected_version, text=outcome
    )


def add_progress_note(referral_id: int, text: str | None, *, actor: User) -> ReferralEvent:
    """A progress note by either side while the referral is open (appended to its history: the
    referral itself does not change, so no version is asked)."""
    referral = _lock_row(referral_id)
    body = _text(text, "note", MESSAGE_LIMIT)
    if not body:
        raise DomainError(_l("Write the note."), field="note")
    receiving = referral_v1.RECEIVE in actor.permissions_at(referral.to_agency_id)
    sending = may_take_case_step(actor, referral.case, referral_v1.MANAGE)
    if not (receiving or sending):
        raise TransitionRefused(_l("You may not write on this referral."), event="note")
    if not referral.is_open:
        raise DomainError(_l("This referral has ended; no more notes."), field="note")
    row = _event(
        referral,
        "note",
        actor,
        agency_id=referral.to_agency_id if receiving else referral.from_agency_id,
        text=body,
    )
    _flush()
    record(actor, "referral.note", "case", referral.case_id, {"referral": referral.id})
    _notify(referral, f"note:{row.id}")
    return row


def record_opened(referral: Referral, *, actor: User) -> None:
    """The receiving agency opened the referral: the first time is kept (the sender sees it)."""
    if referral.first_opened_at is not None:
        return
    referral.first_opened_at = utcnow()
    _event(referral, "opened", actor, agency_id=referral.to_agency_id)
    record(actor, "referral.open", "case", referral.case_id, {"referral": referral.id})
    _flush()
