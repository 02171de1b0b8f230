"""Frozen snapshots of what the guards need to know, and the guards' refusal reasons.

The application builds a snapshot from the database just before applying a transition; the guards
(pure functions of the snapshot) never query anything themselves. Refusal reasons are plain English
sentences kept as constants so the application can wrap them for translation.
"""

from __future__ import annotations

from dataclasses import dataclass

RISK_TINGGI = "tinggi"  # app.core.enums.Risk.TINGGI (workflows/ cannot import app/)
CASE_TYPE_TPKS = "tpks"  # app.core.enums.CaseType.TPKS
ADULT_AGE = 18

# The named approvals a step vouches for (``Transition.approval``; the transfer's acceptance is
# given by the receiving agency's answer, not by a tick).
EMERGENCY_HANDLED = "emergency_handled"
PLAN_APPROVED = "plan_approved"
CLOSURE_APPROVED = "closure_approved"
TRANSFER_ACCEPTED = "transfer_accepted"


@dataclass(frozen=True)
class CaseFacts:
    """A case at the moment a case-level event is attempted (no defaults: a forgotten fact must
    not silently satisfy a guard)."""

    risk: str
    emergency_handled: bool
    has_service_consent: bool
    assessment_complete: bool
    tppo_screening_complete: bool
    planned_tracks: int
    plan_approved: bool
    open_tracks: int
    closure_approved: bool
    transfer_accepted: bool
    reason: str | None = None


@dataclass(frozen=True)
class TrackFacts:
    """A service track at the moment a track event is attempted."""

    provider_is_own_agency: bool
    refusal_consent_recorded: bool
    reason: str | None = None
    outcome: str | None = None


# --- mediation (domain.md §3: never for tpks unless the perpetrator is a child) ----------------

MEDIATION_TPKS_ADULT = (
    "Mediation is not allowed in a sexual-violence (TPKS) case unless every perpetrator is "
    "known to be a child."
)


def mediation_allowed(
    case_types: frozenset[str], perpetrator_ages: tuple[int | None, ...]
) -> str | None:
    """None when ``mediasi`` may be planned, else the refusal reason.

    Under ``tpks`` every perpetrator must have a known age below 18: an unknown age counts as an
    adult, and a case with no recorded perpetrator is refused too (nobody is known to be a child).
    """
    if CASE_TYPE_TPKS not in case_types:
        return None
    if perpetrator_ages and all(age is not None and age < ADULT_AGE for age in perpetrator_ages):
        return None
    return MEDIATION_TPKS_ADULT
