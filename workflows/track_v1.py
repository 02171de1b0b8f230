"""The service-track workflow, version 1 (domain.md §3.1). A released version is never edited.

A track delivered by another agency is referred (``dirujuk``), accepted by the provider
(``diterima_penyedia``) and started; a track of the case's own agency starts directly. Any running
track can end as declined by the victim (informed, with a consent-ledger entry), no provider
available, or cancelled (both with a reason).
"""

from __future__ import annotations

from workflows.definition import Transition, Workflow
from workflows.facts import TrackFacts
from workflows.states import TrackState

S = TrackState
TrackTransition = Transition[TrackState, TrackFacts]

MANAGE = "cases:manage"  # the case side (case manager of the owning agency)
RECEIVE = "referrals:receive"  # the provider side (the agency the track was referred to)

OWN_AGENCY_PROVIDER = "The service is delivered by the case's own agency; it is not referred."
OTHER_AGENCY_PROVIDER = "The service is delivered by another agency; it must be referred first."
NO_REFUSAL_CONSENT = "The victim's informed refusal has not been recorded in the consent ledger."
NO_OUTCOME = "The outcome of the service has not been given."


def provider_is_other_agency(f: TrackFacts) -> str | None:
    return None if not f.provider_is_own_agency else OWN_AGENCY_PROVIDER


def provider_is_own_agency(f: TrackFacts) -> str | None:
    return None if f.provider_is_own_agency else OTHER_AGENCY_PROVIDER


def refusal_consent_recorded(f: TrackFacts) -> str | None:
    return None if f.refusal_consent_recorded else NO_REFUSAL_CONSENT


def outcome_given(f: TrackFacts) -> str | None:
    return None if f.outcome and f.outcome.strip() else NO_OUTCOME


ACTIVE = frozenset({S.DIRENCANAKAN, S.DIRUJUK, S.DITERIMA_PENYEDIA, S.BERJALAN})
FINAL = frozenset({S.SELESAI, S.DITOLAK_KORBAN, S.TIDAK_TERSEDIA, S.DIBATALKAN})

TRANSITIONS: tuple[TrackTransition, ...] = (
    Transition("refer", S.DIRENCANAKAN, S.DIRUJUK, MANAGE, (provider_is_other_agency,)),
    Transition("accept", S.DIRUJUK, S.DITERIMA_PENYEDIA, RECEIVE),
    Transition("start", S.DIRENCANAKAN, S.BERJALAN, MANAGE, (provider_is_own_agency,)),
    Transition("start", S.DITERIMA_PENYEDIA, S.BERJALAN, RECEIVE),
    Transition("complete", S.BERJALAN, S.SELESAI, MANAGE, (outcome_given,)),
    Transition("decline_by_victim", ACTIVE, S.DITOLAK_KORBAN, MANAGE, (refusal_consent_recorded,)),
    Transition("mark_unavailable", ACTIVE, S.TIDAK_TERSEDIA, MANAGE, requires_reason=True),
    Transition("cancel", ACTIVE, S.DIBATALKAN, MANAGE, requires_reason=True),
)

TRACK_V1: Workflow[TrackState, TrackFacts] = Workflow(
    key="track",
    version=1,
    initial=S.DIRENCANAKAN,
    states=tuple(TrackState),
    final_states=FINAL,
    transitions=TRANSITIONS,
)
