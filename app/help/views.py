from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template
from markupsafe import Markup

from app.core.enums import CaseState, ReferralState, TrackState
from app.core.permissions import AUTHENTICATED, requires
from app.help import bp
from app.workflow.diagram import Step, explain, render_svg, state_label
from app.workflow.labels import CASE_STAGES, REFERRAL_STAGES, TRACK_STAGES
from workflows.registry import CURRENT, get_workflow


@dataclass(frozen=True)
class WorkflowHelp:
    """What the page shows of one workflow."""

    anchor: str
    svg: Markup
    stages: list[tuple[str, str]]  # (stage name, what it means)
    steps: list[Step]


def _workflow_help(anchor: str, key: str, *, track: bool) -> WorkflowHelp:
    workflow = get_workflow(key, CURRENT[key])
    stages_of: dict[str, dict[Any, Any]] = {"track": TRACK_STAGES, "referral": REFERRAL_STAGES}
    descriptions = stages_of.get(key, CASE_STAGES)
    vocabulary: Any = {"track": TrackState, "referral": ReferralState}.get(key, CaseState)
    stages = [
        (state_label(state, track=track), str(descriptions[vocabulary(state)]))
        for state in workflow.states
        if vocabulary(state) in descriptions
    ]
    return WorkflowHelp(
        anchor=anchor,
        svg=render_svg(workflow, track=track),
        stages=stages,
        steps=explain(workflow, track=track),
    )


@bp.route("/bantuan/alur-kasus")
@requires(AUTHENTICATED)
def workflow() -> Any:
    return render_template(
        "help/workflow.html",
        ktpa=_workflow_help("ktpa", "ktpa", track=False),
        tppo=_workflow_help("tppo", "tppo", track=False),
        track=_workflow_help("layanan", "track", track=True),
        referral=_workflow_help("rujukan", "referral", track=True),
    )
