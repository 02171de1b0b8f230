"""Facts snapshots for the workflow guards, computed from the database just before a transition.

The guards in :mod:`workflows` are pure functions of these frozen snapshots; everything they need
to know is read here. What the database cannot tell yet (a supervisor's approval, the receiving
agency's acceptance, the emergency handling being done) comes in as ``approvals``: a set of named
confirmations the caller passes (a supervisor form, later), one of :data:`APPROVALS`.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.cases.models import Case, ConsentEntry, consent_in_force
from app.cases.queries import consent_ledgers
from app.core.enums import TRACK_ENDED, CaseType, ConsentDecision
from app.core.memo import reads_shared
from app.extensions import db
from app.services.models import ServiceTrack
from app.services.queries import service_tracks_of
from workflows.facts import (
    CLOSURE_APPROVED,
    EMERGENCY_HANDLED,
    PLAN_APPROVED,
    TRANSFER_ACCEPTED,
    CaseFacts,
    TrackFacts,
)

APPROVALS = frozenset({EMERGENCY_HANDLED, PLAN_APPROVED, CLOSURE_APPROVED, TRANSFER_ACCEPTED})

SERVICE_CONSENT_PURPOSE = "layanan"


def _decided(entries: list[ConsentEntry], purpose: str, decision: ConsentDecision) -> bool:
    entry = consent_in_force(entries, purpose)
    return entry is not None and entry.decision == decision


def case_facts(
    case: Case, *, reason: str | None = None, approvals: frozenset[str] = frozenset()
) -> CaseFacts:
    """What the case-level guards need to know about ``case`` now.

    - ``has_service_consent``: the case has victims, and for every one of them the consent in
      force for ``layanan`` (the latest ledger entry by its time) is ``setuju``;
    - ``tppo_screening_complete``: in a trafficking (TPPO) case, every victim has at least one of
      process, means or purpose recorded; true for any other case;
    - ``planned_tracks`` / ``open_tracks``: the service tracks of the case / those not ended;
    - ``emergency_handled``, ``plan_approved``, ``closure_approved``, ``transfer_accepted``: named
      in ``approvals``.

    ``approvals`` outside :data:`APPROVALS` are a programming error (``ValueError``).
    """
    unknown = set(approvals) - APPROVALS
    if unknown:
        raise ValueError(f"unknown approvals: {', '.join(sorted(unknown))}")
    victims = list(case.victims)
    ledgers = consent_ledgers([v.id for v in victims])
    has_service_consent = bool(victims) and all(
        _decided(ledgers[v.id], SERVICE_CONSENT_PURPOSE, ConsentDecision.SETUJU) for v in victims
    )
    if CaseType.TPPO in case.case_types:
        screening = bool(victims) and all(
            v.tppo_proses or v.tppo_cara or v.tppo_tujuan for v in victims
        )
    else:
        screening = True
    if reads_shared():  # a page: its list of the tracks, read once
        tracks = service_tracks_of(case)
        counts = (len(tracks), sum(1 for t in tracks if t.state not in TRACK_ENDED))
    else:
        counts = tuple(
            db.session.execute(
                select(
                    func.count(ServiceTrack.id),
                    func.count(ServiceTrack.id).filter(ServiceTrack.state.not_in(TRACK_ENDED)),
                ).where(ServiceTrack.case_id == case.id)
            ).one()
        )
    return CaseFacts(
        risk=case.risk.value if case.risk else "",
        emergency_handled=EMERGENCY_HANDLED in approvals,
        has_service_consent=has_service_consent,
        assessment_complete=case.assessment_completed_at is not None,
        tppo_screening_complete=screening,
        planned_tracks=counts[0],
        plan_approved=PLAN_APPROVED in approvals,
        open_tracks=counts[1],
        closure_approved=CLOSURE_APPROVED in approvals,
        transfer_accepted=TRANSFER_ACCEPTED in approvals,
        reason=reason,
    )


def track_facts(
    track: ServiceTrack, *, reason: str | None = None, outcome: str | None = None
) -> TrackFacts:
    """What the track guards need to know about ``track`` now: whether the case's own agency
    delivers it (no provider named counts as the own agency), and whether the victim's informed
    refusal (``layanan:<service type>``, decision ``menolak``) is the consent in force."""
    purpose = f"{SERVICE_CONSENT_PURPOSE}:{track.service_type.value}"
    entries = consent_ledgers([track.victim_id])[track.victim_id]
    return TrackFacts(
        provider_is_own_agency=track.provider_id in (None, track.case.agency_id),
        refusal_consent_recorded=_decided(entries, purpose, ConsentDecision.MENOLAK),
        reason=reason,
        outcome=outcome,
    )
