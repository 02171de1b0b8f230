"""The KtP/A case workflow, version 1 (domain.md §4). A released version is never edited.

``draft`` (an intake not yet registered) is the initial state; ``register`` makes it a case.
High-risk cases go through ``kedaruratan`` (emergency handling) before ``asesmen``. Every open
stage can be closed without completion (``ditutup``, reason required) or transferred to another
agency (``dilimpahkan``, the only final state); ``terminasi`` and ``ditutup`` can be reopened back
to ``asesmen`` (reason required).
"""

from __future__ import annotations

from workflows.definition import Choice, Transition, Workflow
from workflows.facts import (
    CLOSURE_APPROVED,
    EMERGENCY_HANDLED,
    PLAN_APPROVED,
    RISK_TINGGI,
    CaseFacts,
)
from workflows.states import CaseState

S = CaseState
CaseTransition = Transition[CaseState, CaseFacts]

MANAGE = "cases:manage"
SUPERVISE = "cases:supervise"
CREATE = "cases:create"

# --- guards and their refusal reasons ----------------------------------------------------------

NOT_HIGH_RISK = "Emergency handling is only for a case whose risk is high (tinggi)."
EMERGENCY_FIRST = "A high-risk case needs emergency handling before the assessment."
EMERGENCY_NOT_HANDLED = "The emergency handling has not been recorded as done."
NO_SERVICE_CONSENT = "The victim's consent to services has not been recorded."
ASSESSMENT_INCOMPLETE = "The assessment is not complete."
NO_PLANNED_TRACK = "The intervention plan has no service track."
PLAN_NOT_APPROVED = "The intervention plan has not been approved by a supervisor."
TRACKS_OPEN = "Some service tracks have not ended."
CLOSURE_NOT_APPROVED = "The termination has not been approved by a supervisor."
TRANSFER_NOT_ACCEPTED = "The receiving agency has not accepted the transfer."
CLOSURE_KIND_MISSING = "Choose why the case is closed."
DUPLICATE_MISSING = "Give the reference of the case it duplicates (a case you can see)."

# Why a case is closed without completion; a duplicate names the case it duplicates (by its
# reference: the engine finds it among the cases the person may see, and keeps its id).
CLOSURE = Choice(
    "closure",
    ("korban_mundur", "tidak_dapat_dihubungi", "duplikat", "lainnya"),
    CLOSURE_KIND_MISSING,
    references=(("duplikat", "duplicate_of"),),
    reference_missing=DUPLICATE_MISSING,
)


def risk_is_high(f: CaseFacts) -> str | None:
    return None if f.risk == RISK_TINGGI else NOT_HIGH_RISK


def emergency_handled_if_high_risk(f: CaseFacts) -> str | None:
    return None if f.risk != RISK_TINGGI or f.emergency_handled else EMERGENCY_FIRST


def emergency_handled(f: CaseFacts) -> str | None:
    return None if f.emergency_handled else EMERGENCY_NOT_HANDLED


def has_service_consent(f: CaseFacts) -> str | None:
    return None if f.has_service_consent else NO_SERVICE_CONSENT


def assessment_complete(f: CaseFacts) -> str | None:
    return None if f.assessment_complete else ASSESSMENT_INCOMPLETE


def has_planned_tracks(f: CaseFacts) -> str | None:
    return None if f.planned_tracks >= 1 else NO_PLANNED_TRACK


def plan_approved(f: CaseFacts) -> str | None:
    return None if f.plan_approved else PLAN_NOT_APPROVED


def all_tracks_ended(f: CaseFacts) -> str | None:
    return None if f.open_tracks == 0 else TRACKS_OPEN


def closure_approved(f: CaseFacts) -> str | None:
    return None if f.closure_approved else CLOSURE_NOT_APPROVED


def transfer_accepted(f: CaseFacts) -> str | None:
    return None if f.transfer_accepted else TRANSFER_NOT_ACCEPTED


# --- the table ---------------------------------------------------------------------------------

STATES = tuple(CaseState)
OPEN = frozenset(
    {
        S.DITERIMA,
        S.IDENTIFIKASI,
        S.KEDARURATAN,
        S.ASESMEN,
        S.RENCANA_INTERVENSI,
        S.INTERVENSI,
        S.PEMANTAUAN,
    }
)
FINAL = frozenset({S.DILIMPAHKAN})

TRANSITIONS: tuple[CaseTransition, ...] = (
    Transition("register", S.DRAFT, S.DITERIMA, CREATE),
    Transition("start_identification", S.DITERIMA, S.IDENTIFIKASI, MANAGE),
    Transition("start_emergency", S.IDENTIFIKASI, S.KEDARURATAN, MANAGE, (risk_is_high,)),
    Transition(
        "start_assessment",
        S.IDENTIFIKASI,
        S.ASESMEN,
        MANAGE,
        (emergency_handled_if_high_risk,),
    ),
    Transition(
        "start_assessment",
        S.KEDARURATAN,
        S.ASESMEN,
        MANAGE,
        (emergency_handled,),
        requires_note=True,
        approval=EMERGENCY_HANDLED,
    ),
    Transition(
        "propose_plan",
        S.ASESMEN,
        S.RENCANA_INTERVENSI,
        MANAGE,
        (has_service_consent, assessment_complete),
    ),
    Transition(
        "start_intervention",
        S.RENCANA_INTERVENSI,
        S.INTERVENSI,
        SUPERVISE,
        (has_planned_tracks, plan_approved),
        approval=PLAN_APPROVED,
    ),
    Transition("start_monitoring", S.INTERVENSI, S.PEMANTAUAN, MANAGE),
    Transition(
        "terminate",
        S.PEMANTAUAN,
        S.TERMINASI,
        SUPERVISE,
        (all_tracks_ended, closure_approved),
        approval=CLOSURE_APPROVED,
    ),
    Transition("close", OPEN, S.DITUTUP, SUPERVISE, requires_reason=True, data=(CLOSURE,)),
    Transition("transfer", OPEN, S.DILIMPAHKAN, MANAGE, (transfer_accepted,)),
    Transition(
        "reopen",
        frozenset({S.TERMINASI, S.DITUTUP}),
        S.ASESMEN,
        SUPERVISE,
        requires_reason=True,
    ),
)

KTPA_V1: Workflow[CaseState, CaseFacts] = Workflow(
    key="ktpa",
    version=1,
    initial=S.DRAFT,
    states=STATES,
    final_states=FINAL,
    transitions=TRANSITIONS,
)
