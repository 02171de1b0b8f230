"""The service-track workflow, version 2: version 1 plus the referral's answers.

A referred track now also goes back to ``direncanakan`` when the provider declines the referral
or the case side withdraws it (both with a reason), so it can be referred elsewhere or cancelled;
and a referred track is completed by its provider (``complete_referred``), while ``complete``
stays with the case side for a track of its own agency. Tracks keep the version they were
planned with: tracks of version 1 carry on under version 1.
"""

from __future__ import annotations

from workflows.definition import Transition, Workflow
from workflows.facts import TrackFacts
from workflows.states import TrackState
from workflows.track_v1 import (
    FINAL,
    MANAGE,
    RECEIVE,
    outcome_given,
    provider_is_other_agency,
    provider_is_own_agency,
)
from workflows.track_v1 import TRANSITIONS as V1_TRANSITIONS

S = TrackState

TRANSITIONS: tuple[Transition[TrackState, TrackFacts], ...] = (
    *(t.with_guard(provider_is_own_agency) if t.event == "complete" else t for t in V1_TRANSITIONS),
    Transition(
        "complete_referred",
        S.BERJALAN,
        S.SELESAI,
        RECEIVE,
        (provider_is_other_agency, outcome_given),
    ),
    Transition("referral_declined", S.DIRUJUK, S.DIRENCANAKAN, RECEIVE, requires_reason=True),
    Transition(
        "referral_withdrawn",
        frozenset({S.DIRUJUK, S.DITERIMA_PENYEDIA, S.BERJALAN}),
        S.DIRENCANAKAN,
        MANAGE,
        requires_reason=True,
    ),
)

TRACK_V2: Workflow[TrackState, TrackFacts] = Workflow(
    key="track",
    version=2,
    initial=S.DIRENCANAKAN,
    states=tuple(TrackState),
    final_states=FINAL,
    transitions=TRANSITIONS,
)
