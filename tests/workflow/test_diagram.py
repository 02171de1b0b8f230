"""The server-rendered workflow diagram and the steps explained in words."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from app.core.enums import Role
from app.core.labels import label
from app.workflow.diagram import GROUP_MIN, explain, render_svg, state_label
from app.workflow.operations import REASONS
from workflows import ktpa_v1
from workflows.registry import all_workflows, get_workflow

SVG = "{http://www.w3.org/2000/svg}"
WORKFLOWS = [pytest.param(w, id=f"{w.key}-v{w.version}") for w in all_workflows()]


def is_track(workflow: Any) -> bool:
    return workflow.key == "track"


@pytest.fixture(autouse=True)
def english(app: Flask) -> Iterator[None]:
    with app.test_request_context(), force_locale("en"):
        yield


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314  (our own output)


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split()]


def node_texts(node: ET.Element) -> str:
    return " ".join(t.text or "" for t in node.iter(f"{SVG}text"))


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_every_state_is_a_node_with_its_label(workflow: Any) -> None:
    track = is_track(workflow)
    root = parse(render_svg(workflow, track=track))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root.find(f"{SVG}title") is not None
    nodes = {g.get("data-state"): g for g in groups(root, "wf-node")}
    assert set(nodes) == {str(s) for s in workflow.states}
    for state in workflow.states:
        node = nodes[str(state)]
        assert node.find(f"{SVG}title").text == state_label(state, track=track)
        assert " ".join(state_label(state, track=track).split()) in node_texts(node)
    initial = [g.get("data-state") for g in groups(root, "wf-initial")]
    assert initial == [str(workflow.initial)]
    finals = {g.get("data-state") for g in groups(root, "wf-final")}
    assert {str(s) for s in workflow.final_states} <= finals


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_the_current_state_is_marked_once(workflow: Any) -> None:
    track = is_track(workflow)
    assert not groups(parse(render_svg(workflow, track=track)), "wf-current")
    for state in workflow.states:
        root = parse(render_svg(workflow, current=state, track=track))
        current = groups(root, "wf-current")
        assert len(current) == 1
        assert current[0].get("data-state") == str(state)
        assert current[0].get("aria-current") == "step"
        assert len([g for g in root.iter(f"{SVG}g") if g.get("aria-current")]) == 1


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_svg_is_self_contained_deterministic_and_csp_safe(workflow: Any) -> None:
    track = is_track(workflow)
    first = str(render_svg(workflow, current=workflow.initial, track=track))
    assert first == str(render_svg(workflow, current=workflow.initial, track=track))
    assert not re.search(r"\sstyle=|<style|<script|javascript:|href=", first, re.I)
    for element in parse(first).iter():
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_every_transition_has_an_edge(workflow: Any) -> None:
    root = parse(render_svg(workflow, track=is_track(workflow)))
    edges = groups(root, "wf-edge")
    drawn = {(g.get("data-event"), g.get("data-source"), g.get("data-target")) for g in edges}
    expected: set[tuple[str, str | None, str]] = set()
    for t in workflow.transitions:
        if len(t.sources) >= GROUP_MIN:
            expected.add((t.event, None, str(t.target)))
        else:
            expected |= {(t.event, str(s), str(t.target)) for s in t.sources}
    assert drawn == expected
    assert len(edges) == len(expected)
    for g in edges:
        path = g.find(f"{SVG}path")
        assert path is not None and path.get("d", "").startswith("M")
        assert path.get("marker-end", "").startswith("url(#")


def test_many_source_transitions_are_drawn_once_from_a_note() -> None:
    root = parse(render_svg(get_workflow("ktpa", 1)))
    grouped = groups(root, "wf-edge-group")
    assert sorted(g.get("data-event") for g in grouped) == ["close", "transfer"]
    assert len(groups(root, "wf-note")) == 1
    back = {(g.get("data-source"), g.get("data-target")) for g in groups(root, "wf-edge-back")}
    assert back == {("terminasi", "asesmen"), ("ditutup", "asesmen")}


def test_text_is_escaped() -> None:
    workflow = get_workflow("ktpa", 1)
    markup = str(render_svg(workflow, current="<b>&"))
    parse(markup)
    assert "<b>" not in markup


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_explain_lists_every_transition(workflow: Any) -> None:
    steps = explain(workflow, track=is_track(workflow))
    assert [s.event for s in steps] == [t.event for t in workflow.transitions]
    for step, t in zip(steps, workflow.transitions, strict=True):
        assert len(step.sources) == len(t.sources)
        assert len(step.conditions) == len(t.guards)
        assert step.requires_reason is t.requires_reason
        assert step.who, f"nobody may take {t.event}"


def test_start_intervention_is_for_supervisors_once_the_plan_is_approved() -> None:
    (step,) = [s for s in explain(get_workflow("ktpa", 1)) if s.event == "start_intervention"]
    assert step.who == (label(Role.SUPERVISOR),)
    assert "The intervention plan has not been approved by a supervisor." in step.conditions
    assert str(REASONS[ktpa_v1.PLAN_NOT_APPROVED]) in step.conditions
    assert "The intervention plan has no service track." in step.conditions
    assert step.requires_reason is False


def test_guards_needing_a_high_risk_snapshot_are_explained() -> None:
    steps = explain(get_workflow("ktpa", 1))
    conditions = {
        c for s in steps if s.event in {"start_emergency", "start_assessment"} for c in s.conditions
    }
    assert ktpa_v1.NOT_HIGH_RISK in conditions
    assert ktpa_v1.EMERGENCY_FIRST in conditions
    assert ktpa_v1.EMERGENCY_NOT_HANDLED in conditions


def test_close_requires_a_reason_and_tppo_adds_the_screening() -> None:
    (close,) = [s for s in explain(get_workflow("ktpa", 1)) if s.event == "close"]
    assert close.requires_reason is True
    assert close.from_any is True
    assert state_label("ditutup") == close.target
    tppo = explain(get_workflow("tppo", 1))
    screening = "The trafficking (TPPO) screening is not complete."
    assert {s.event for s in tppo if screening in s.conditions} == {"start_assessment", "reopen"}


def test_track_steps_name_the_provider_side() -> None:
    steps = explain(get_workflow("track", 1), track=True)
    (accept,) = [s for s in steps if s.event == "accept"]
    assert accept.who == (label(Role.PETUGAS_LAYANAN),)
    (refer,) = [s for s in steps if s.event == "refer"]
    assert refer.conditions == (
        "The service is delivered by the case's own agency; it is not referred.",
    )


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_a_drawing_is_made_once_per_state_and_locale_and_is_the_same_as_a_fresh_one(
    workflow: Any,
) -> None:
    from app.workflow.diagram import _draw_svg

    track = is_track(workflow)
    state = workflow.states[-1]
    cached = render_svg(workflow, current=state, track=track)
    assert render_svg(workflow, current=state, track=track) is cached
    assert str(cached) == str(_draw_svg(workflow, current=state, track=track))
    assert render_svg(workflow, current=workflow.initial, track=track) != cached
    with force_locale("id"):
        indonesian = render_svg(workflow, current=state, track=track)
        assert str(indonesian) == str(_draw_svg(workflow, current=state, track=track))
    assert str(indonesian) != str(cached)
