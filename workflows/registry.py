"""Every released workflow definition, by (key, version). Cases pin the pair they started with."""

from __future__ import annotations

from typing import Any

from workflows.definition import UnknownWorkflow, Workflow
from workflows.ktpa_v1 import KTPA_V1
from workflows.referral_v1 import REFERRAL_V1
from workflows.tppo_v1 import TPPO_V1
from workflows.track_v1 import TRACK_V1
from workflows.track_v2 import TRACK_V2

_WORKFLOWS: dict[tuple[str, int], Workflow[Any, Any]] = {
    (w.key, w.version): w for w in (KTPA_V1, TPPO_V1, TRACK_V1, TRACK_V2, REFERRAL_V1)
}

CURRENT = {"ktpa": 1, "tppo": 1, "track": 2, "referral": 1}
"""The version new cases, tracks and referrals start on."""


def get_workflow(key: str, version: int) -> Workflow[Any, Any]:
    try:
        return _WORKFLOWS[(key, version)]
    except KeyError:
        raise UnknownWorkflow(f"no workflow {key} v{version}") from None


def all_workflows() -> tuple[Workflow[Any, Any], ...]:
    return tuple(_WORKFLOWS.values())
