"""The TPPO (trafficking) case workflow, version 1: KtP/A v1 plus the trafficking screening.

Derived from :mod:`workflows.ktpa_v1` rather than copied: the same states and table, with the
guard ``tppo_screening_complete`` appended to every transition entering ``asesmen`` (including
``reopen``). The pemulangan legs and the Sub GT review live on the service tracks, not here.
"""

from __future__ import annotations

from workflows.definition import Workflow, add_guard
from workflows.facts import CaseFacts
from workflows.ktpa_v1 import FINAL, STATES, TRANSITIONS
from workflows.states import CaseState

SCREENING_INCOMPLETE = "The trafficking (TPPO) screening is not complete."


def tppo_screening_complete(f: CaseFacts) -> str | None:
    return None if f.tppo_screening_complete else SCREENING_INCOMPLETE


TPPO_V1: Workflow[CaseState, CaseFacts] = Workflow(
    key="tppo",
    version=1,
    initial=CaseState.DRAFT,
    states=STATES,
    final_states=FINAL,
    transitions=add_guard(
        TRANSITIONS, tppo_screening_complete, where=lambda t: t.target is CaseState.ASESMEN
    ),
)
