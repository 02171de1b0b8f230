"""Referrals (rujukan): the only writers. Nothing here commits.

Every step goes through the workflow engine (:func:`app.workflow.engine.apply`): it locks the
case (then the referral), checks the version the person saw (required: a step without it, or with
a version no record can have, is refused as an out-of-date form —
``app.core.errors.require_version``), applies the ``referral`` workflow (permission held at the
right agency, guards, reason) and the matching event of the service track — so the track's
history and guards are the same as for any other step — appends a ``referral_events`` row, keeps
the deadline of the receiving agency's answer, writes the audit entry and, after commit, tells
the other side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

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
from app.core.i18n import lazy_gettext as _l
from app.core.tasks import enqueue_after_commit
from app.extensions import db
from app.privacy.queries import is_restricted
from app.referrals import engine as referral_engine
from app.referrals.models import Referral, ReferralEvent
from app.referrals.permissions import may_write_note, receives
from app.services.models import ServiceTrack
from app.workflow import engine
from app.workflow.engine import TransitionRefused
from app.workflow.permissions import may_supervise_agency, may_take_case_step
from workflows import referral_v1

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


def _referral(referral_id: int) -> Referral:
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        raise LookupError(f"no referral {referral_id}")
    return referral


def _flush() -> None:
    engine.flush(_CHANGED)


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
    track = engine.lock_track(track_id)
    case = track.case
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
        referral_engine.referral_note(referral, "draft", actor, agency_id=case.agency_id)
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
    referral.consent_entry_id = consent.id if consent is not None else None
    referral.override_reason = override
    referral.override_by_id = actor.id if override else None
    if track.provider_id != to_agency.id:
        track.provider_id = to_agency.id
    _flush()
    # the draft's version was checked above, under the case lock
    engine.apply(
        referral,
        "send",
        actor=actor,
        inputs=engine.Inputs(
            extra={
                "shared": shared_sections(referral),
                "attachments": [a.id for a in attachments],
                "consent": consent.id if consent is not None else None,
            },
            audit={
                "to_agency": to_agency.code,
                "service_type": track.service_type.value,
                "shared": shared_sections(referral),
                "override": bool(override),
            },
        ),
        linked=True,
    )
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
    reason = _text(reason, "reason")
    step = engine.apply(
        _referral(referral_id),
        "withdraw",
        actor=actor,
        inputs=engine.Inputs(reason=reason),
        expected_version=expected_version,
    )
    return step.record


# --- the receiving side ------------------------------------------------------------------------


def _answer(
    referral_id: int,
    event: str,
    *,
    actor: User,
    expected_version: int | None,
    text: str | None = None,
) -> Referral:
    """One step of the receiving agency through the engine: the referral's own step, the
    matching track step, the event row, the audit entry and, after commit, the sender is told.
    Accepting or declining is the answer the ``referral_response`` deadline waits for."""
    words = _text(text, "reason" if event == "decline" else "outcome")
    step = engine.apply(
        _referral(referral_id),
        event,
        actor=actor,
        inputs=engine.Inputs(
            reason=words if event == "decline" else None,
            outcome=words if event == "complete" else None,
        ),
        expected_version=expected_version,
    )
    return step.record


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
    referral = referral_engine.lock_referral(referral_id)
    body = _text(text, "note", MESSAGE_LIMIT)
    if not body:
        raise DomainError(_l("Write the note."), field="note")
    if not may_write_note(actor, referral):
        raise TransitionRefused(_l("You may not write on this referral."), event="note")
    if not referral.is_open:
        raise DomainError(_l("This referral has ended; no more notes."), field="note")
    row = referral_engine.referral_note(
        referral,
        "note",
        actor,
        agency_id=referral.to_agency_id if receives(actor, referral) else referral.from_agency_id,
        text=body,
    )
    _flush()
    record(actor, "referral.note", "case", referral.case_id, {"referral": referral.id})
    enqueue_after_commit(db.session, "referrals.notify", referral.id, f"note:{row.id}")
    return row


def record_opened(referral: Referral, *, actor: User) -> None:
    """The receiving agency opened the referral: the first time is kept (the sender sees it)."""
    if referral.first_opened_at is not None:
        return
    referral.first_opened_at = utcnow()
    referral_engine.referral_note(referral, "opened", actor, agency_id=referral.to_agency_id)
    record(actor, "referral.open", "case", referral.case_id, {"referral": referral.id})
    _flush()
