"""Every released workflow definition, by (key, version). Cases pin the pair they started with."""

from __future__ import annotations

from typing import Any

from workflows.definition import UnknownWorkflow, Workflow
from workflows.ktpa_v1 import KTPA_V1
from workflows.tppo_v1 import TPPO_V1
from workflows.track_v1 import TRACK_V1

_WORKFLOWS: dict[tuple[str, int], Workflow[Any, Any]] = {
    (w.key, w.version): w for w in (KTPA_V1, TPPO_V1, TRACK_V1)
}


def get_workflow(key: str, version: int) -> Workflow[Any, Any]:
    try:
        return _WORKFLOWS[(key, version)]
    except KeyError:
        raise UnknownWorkflow(f"no workflow {key} v{version}") from None


def all_workflows() -> tuple[Workflow[Any, Any], ...]:
    return tuple(_WORKFLOWS.values())
