"""The referral (rujukan) workflow, version 1.

``draf`` → ``dikirim`` (sent) → ``diterima`` (accepted) | ``ditolak`` (declined, reason) →
``berjalan`` (in progress) → ``selesai`` (completed, outcome) | ``ditarik`` (withdrawn by the
sender, reason). Each step also moves the referral's service track through the track workflow
(refer, accept, referral_declined, start, complete_referred, referral_withdrawn).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.definition import Transition, Workflow
from workflows.states import ReferralState

R = ReferralState

MANAGE = "cases:manage"  # the sending side
RECEIVE = "referrals:receive"  # the receiving agency

NO_CONSENT = (
    "The victim's consent to this referral to the agency has not been recorded, and no "
    "supervisor has overridden it with a reason."
)
NO_OUTCOME = "The outcome of the service has not been given."


@dataclass(frozen=True)
class ReferralFacts:
    consent_or_override: bool
    outcome: str | None = None
    reason: str | None = None


def consent_or_override(f: ReferralFacts) -> str | None:
    return None if f.consent_or_override else NO_CONSENT


def outcome_given(f: ReferralFacts) -> str | None:
    return None if f.outcome and f.outcome.strip() else NO_OUTCOME


OPEN = frozenset({R.DIKIRIM, R.DITERIMA, R.BERJALAN})

TRANSITIONS: tuple[Transition[ReferralState, ReferralFacts], ...] = (
    Transition("send", R.DRAF, R.DIKIRIM, MANAGE, (consent_or_override,)),
    Transition("accept", R.DIKIRIM, R.DITERIMA, RECEIVE),
    Transition("decline", R.DIKIRIM, R.DITOLAK, RECEIVE, requires_reason=True),
    Transition("start", R.DITERIMA, R.BERJALAN, RECEIVE),
    Transition("complete", R.BERJALAN, R.SELESAI, RECEIVE, (outcome_given,)),
    Transition("withdraw", OPEN, R.DITARIK, MANAGE, requires_reason=True),
)

REFERRAL_V1: Workflow[ReferralState, ReferralFacts] = Workflow(
    key="referral",
    version=1,
    initial=R.DRAF,
    states=tuple(ReferralState),
    final_states=frozenset({R.DITOLAK, R.SELESAI, R.DITARIK}),
    transitions=TRANSITIONS,
)

# each referral step and the track event it takes
TRACK_EVENT = {
    "send": "refer",
    "accept": "accept",
    "decline": "referral_declined",
    "start": "start",
    "complete": "complete_referred",
    "withdraw": "referral_withdrawn",
}
