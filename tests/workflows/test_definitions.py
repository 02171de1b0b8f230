"""The workflow definitions, table-driven over every state x event; no database needed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from workflows import ktpa_v1 as ktpa
from workflows import tppo_v1 as tppo
from workflows import track_v1 as track
from workflows.definition import NOT_POSSIBLE, REASON_REQUIRED, Transition, Workflow
from workflows.facts import CaseFacts, TrackFacts
from workflows.registry import all_workflows, get_workflow
from workflows.states import CaseState as C
from workflows.states import TrackState as T

ROOT = Path(__file__).resolve().parents[2]

OPEN = [
    C.DITERIMA,
    C.IDENTIFIKASI,
    C.KEDARURATAN,
    C.ASESMEN,
    C.RENCANA_INTERVENSI,
    C.INTERVENSI,
    C.PEMANTAUAN,
]

# The expected tables, written out by hand from domain.md §4 and §3.1 (not derived from the code).
CASE_TABLE: dict[tuple[C, str], C] = {
    (C.DRAFT, "register"): C.DITERIMA,
    (C.DITERIMA, "start_identification"): C.IDENTIFIKASI,
    (C.IDENTIFIKASI, "start_emergency"): C.KEDARURATAN,
    (C.IDENTIFIKASI, "start_assessment"): C.ASESMEN,
    (C.KEDARURATAN, "start_assessment"): C.ASESMEN,
    (C.ASESMEN, "propose_plan"): C.RENCANA_INTERVENSI,
    (C.RENCANA_INTERVENSI, "start_intervention"): C.INTERVENSI,
    (C.INTERVENSI, "start_monitoring"): C.PEMANTAUAN,
    (C.PEMANTAUAN, "terminate"): C.TERMINASI,
    **{(s, "close"): C.DITUTUP for s in OPEN},
    **{(s, "transfer"): C.DILIMPAHKAN for s in OPEN},
    (C.TERMINASI, "reopen"): C.ASESMEN,
    (C.DITUTUP, "reopen"): C.ASESMEN,
}
CASE_EVENTS = sorted({event for _, event in CASE_TABLE})

ACTIVE = [T.DIRENCANAKAN, T.DIRUJUK, T.DITERIMA_PENYEDIA, T.BERJALAN]
TRACK_TABLE: dict[tuple[T, str], T] = {
    (T.DIRENCANAKAN, "refer"): T.DIRUJUK,
    (T.DIRUJUK, "accept"): T.DITERIMA_PENYEDIA,
    (T.DITERIMA_PENYEDIA, "start"): T.BERJALAN,
    (T.BERJALAN, "complete"): T.SELESAI,
    **{(s, "decline_by_victim"): T.DITOLAK_KORBAN for s in ACTIVE},
    **{(s, "mark_unavailable"): T.TIDAK_TERSEDIA for s in ACTIVE},
    **{(s, "cancel"): T.DIBATALKAN for s in ACTIVE},
}
TRACK_EVENTS = sorted({event for _, event in TRACK_TABLE})

# Facts that satisfy every guard (a high-risk case whose emergency has been handled).
GOOD_CASE = CaseFacts(
    risk="tinggi",
    emergency_handled=True,
    has_service_consent=True,
    assessment_complete=True,
    tppo_screening_complete=True,
    planned_tracks=2,
    plan_approved=True,
    open_tracks=0,
    closure_approved=True,
    transfer_accepted=True,
    reason="Korban meminta",
)
GOOD_REFERRED_TRACK = TrackFacts(
    provider_is_own_agency=False, refusal_consent_recorded=True, reason="x", outcome="done"
)
GOOD_OWN_TRACK = replace(GOOD_REFERRED_TRACK, provider_is_own_agency=True)


def _pairs(workflow: Workflow[Any, Any], events: list[str]) -> list[Any]:
    return [
        pytest.param(state, event, id=f"{state}-{event}")
        for state in workflow.states
        for event in events
    ]


# --- every state x event --------------------------------------------------------------------


@pytest.mark.parametrize("workflow", [ktpa.KTPA_V1, tppo.TPPO_V1], ids=["ktpa", "tppo"])
@pytest.mark.parametrize(("state", "event"), _pairs(ktpa.KTPA_V1, CASE_EVENTS))
def test_case_state_event(workflow: Workflow[C, CaseFacts], state: C, event: str) -> None:
    decision = workflow.decide(state, event, GOOD_CASE)
    expected = CASE_TABLE.get((state, event))
    if expected is None:
        assert not decision.allowed
        assert decision.reason == NOT_POSSIBLE.format(event=event, state=state)
    else:
        assert decision.allowed, decision.reason
        assert decision.target is expected
        assert decision.reason is None


@pytest.mark.parametrize(("state", "event"), _pairs(track.TRACK_V1, TRACK_EVENTS))
def test_track_state_event(state: T, event: str) -> None:
    expected = TRACK_TABLE.get((state, event))
    own = track.TRACK_V1.decide(state, event, GOOD_OWN_TRACK)
    referred = track.TRACK_V1.decide(state, event, GOOD_REFERRED_TRACK)
    if (state, event) == (T.DIRENCANAKAN, "start"):  # own agency only
        assert own.target is T.BERJALAN
        assert referred.reason == track.OTHER_AGENCY_PROVIDER
    elif (state, event) == (T.DIRENCANAKAN, "refer"):  # another agency only
        assert referred.target is T.DIRUJUK
        assert own.reason == track.OWN_AGENCY_PROVIDER
    elif expected is None:
        for decision in (own, referred):
            assert not decision.allowed
            assert decision.reason == NOT_POSSIBLE.format(event=event, state=state)
    else:
        assert own.target is expected
        assert referred.target is expected


def test_tables_cover_the_definitions() -> None:
    """No transition exists that the hand-written tables do not expect."""
    for workflow, table in ((ktpa.KTPA_V1, CASE_TABLE), (track.TRACK_V1, TRACK_TABLE)):
        defined = {(s, t.event) for t in workflow.transitions for s in t.sources}
        assert defined == set(table) | (
            {(T.DIRENCANAKAN, "start")} if workflow is track.TRACK_V1 else set()
        )


# --- one failing case per guard -----------------------------------------------------------------

CASE_GUARDS = [
    (C.IDENTIFIKASI, "start_emergency", {"risk": "sedang"}, ktpa.NOT_HIGH_RISK),
    (C.IDENTIFIKASI, "start_assessment", {"emergency_handled": False}, ktpa.EMERGENCY_FIRST),
    (C.KEDARURATAN, "start_assessment", {"emergency_handled": False}, ktpa.EMERGENCY_NOT_HANDLED),
    (C.ASESMEN, "propose_plan", {"has_service_consent": False}, ktpa.NO_SERVICE_CONSENT),
    (C.ASESMEN, "propose_plan", {"assessment_complete": False}, ktpa.ASSESSMENT_INCOMPLETE),
    (C.RENCANA_INTERVENSI, "start_intervention", {"planned_tracks": 0}, ktpa.NO_PLANNED_TRACK),
    (C.RENCANA_INTERVENSI, "start_intervention", {"plan_approved": False}, ktpa.PLAN_NOT_APPROVED),
    (C.PEMANTAUAN, "terminate", {"open_tracks": 1}, ktpa.TRACKS_OPEN),
    (C.PEMANTAUAN, "terminate", {"closure_approved": False}, ktpa.CLOSURE_NOT_APPROVED),
    (C.ASESMEN, "transfer", {"transfer_accepted": False}, ktpa.TRANSFER_NOT_ACCEPTED),
    (C.INTERVENSI, "close", {"reason": None}, REASON_REQUIRED),
    (C.DITERIMA, "close", {"reason": "   "}, REASON_REQUIRED),
    (C.DITUTUP, "reopen", {"reason": ""}, REASON_REQUIRED),
]


@pytest.mark.parametrize("workflow", [ktpa.KTPA_V1, tppo.TPPO_V1], ids=["ktpa", "tppo"])
@pytest.mark.parametrize(("state", "event", "change", "reason"), CASE_GUARDS)
def test_case_guard_refuses(
    workflow: Workflow[C, CaseFacts], state: C, event: str, change: dict[str, Any], reason: str
) -> None:
    decision = workflow.decide(state, event, replace(GOOD_CASE, **change))
    assert not decision.allowed
    assert decision.target is None
    assert decision.reason == reason


def test_low_risk_case_skips_emergency() -> None:
    facts = replace(GOOD_CASE, risk="rendah", emergency_handled=False)
    assert ktpa.KTPA_V1.decide(C.IDENTIFIKASI, "start_assessment", facts).target is C.ASESMEN


@pytest.mark.parametrize(
    ("facts", "state", "event", "reason"),
    [
        (replace(GOOD_REFERRED_TRACK, outcome=None), T.BERJALAN, "complete", track.NO_OUTCOME),
        (replace(GOOD_REFERRED_TRACK, outcome=" "), T.BERJALAN, "complete", track.NO_OUTCOME),
        (
            replace(GOOD_REFERRED_TRACK, refusal_consent_recorded=False),
            T.DIRUJUK,
            "decline_by_victim",
            track.NO_REFUSAL_CONSENT,
        ),
        (GOOD_OWN_TRACK, T.DIRENCANAKAN, "refer", track.OWN_AGENCY_PROVIDER),
        (GOOD_REFERRED_TRACK, T.DIRENCANAKAN, "start", track.OTHER_AGENCY_PROVIDER),
        (replace(GOOD_REFERRED_TRACK, reason=None), T.BERJALAN, "cancel", REASON_REQUIRED),
        (replace(GOOD_REFERRED_TRACK, reason=""), T.DIRUJUK, "mark_unavailable", REASON_REQUIRED),
    ],
)
def test_track_guard_refuses(facts: TrackFacts, state: T, event: str, reason: str) -> None:
    assert track.TRACK_V1.decide(state, event, facts).reason == reason


# --- TPPO = KtP/A + the trafficking screening ---------------------------------------------------


def test_tppo_differs_from_ktpa_only_by_the_screening_guard() -> None:
    k, t = ktpa.KTPA_V1, tppo.TPPO_V1
    assert (k.initial, k.states, k.final_states) == (t.initial, t.states, t.final_states)
    assert len(k.transitions) == len(t.transitions)
    screened = 0
    for a, b in zip(k.transitions, t.transitions, strict=True):
        assert (a.event, a.sources, a.target, a.permission, a.requires_reason) == (
            b.event,
            b.sources,
            b.target,
            b.permission,
            b.requires_reason,
        )
        if a.target is C.ASESMEN:
            assert b.guards == (*a.guards, tppo.tppo_screening_complete)
            screened += 1
        else:
            assert b.guards == a.guards
    assert screened == 3  # from identifikasi, from kedaruratan, reopen


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (C.IDENTIFIKASI, "start_assessment"),
        (C.KEDARURATAN, "start_assessment"),
        (C.TERMINASI, "reopen"),
        (C.DITUTUP, "reopen"),
    ],
)
def test_tppo_screening_guard(state: C, event: str) -> None:
    facts = replace(GOOD_CASE, tppo_screening_complete=False)
    assert tppo.TPPO_V1.decide(state, event, facts).reason == tppo.SCREENING_INCOMPLETE
    assert ktpa.KTPA_V1.decide(state, event, facts).target is C.ASESMEN


# --- structure, registry, permissions, diagrams ----------------------------------------------


def test_registry() -> None:
    assert [(w.key, w.version) for w in all_workflows()] == [
        ("ktpa", 1),
        ("tppo", 1),
        ("track", 1),
        ("track", 2),
        ("referral", 1),
    ]
    assert get_workflow("tppo", 1) is tppo.TPPO_V1
    with pytest.raises(LookupError):
        get_workflow("ktpa", 99)


def test_final_states() -> None:
    assert ktpa.KTPA_V1.final_states == {C.DILIMPAHKAN}
    assert track.TRACK_V1.final_states == {
        T.SELESAI,
        T.DITOLAK_KORBAN,
        T.TIDAK_TERSEDIA,
        T.DIBATALKAN,
    }


def test_events_from() -> None:
    assert [t.event for t in ktpa.KTPA_V1.events_from(C.IDENTIFIKASI)] == [
        "start_emergency",
        "start_assessment",
        "close",
        "transfer",
    ]
    assert ktpa.KTPA_V1.events_from(C.DILIMPAHKAN) == []


def test_every_permission_exists() -> None:
    from app.core.permissions import PERMISSIONS

    for workflow in all_workflows():
        assert workflow.permissions <= PERMISSIONS.keys(), workflow.key


def test_supervisor_steps() -> None:
    supervised = {t.event for t in ktpa.KTPA_V1.transitions if t.permission == "cases:supervise"}
    assert supervised == {"start_intervention", "terminate", "close", "reopen"}


@pytest.mark.parametrize("workflow", all_workflows(), ids=lambda w: f"{w.key}_v{w.version}")
def test_committed_diagram_is_up_to_date(workflow: Workflow[Any, Any]) -> None:
    path = ROOT / "docs" / "workflows" / f"{workflow.key}_v{workflow.version}.mmd"
    assert path.read_text(encoding="utf-8") == workflow.to_mermaid(), (
        "run `flask workflows diagram`"
    )


def test_diagram_highlight() -> None:
    text = ktpa.KTPA_V1.to_mermaid(highlight=C.ASESMEN)
    assert text.startswith("stateDiagram-v2\n")
    assert "    class asesmen current\n" in text
    assert "classDef current" in text
    assert "    identifikasi --> kedaruratan: start_emergency\n" in text
    assert "    dilimpahkan --> [*]\n" in text
    assert "class " not in ktpa.KTPA_V1.to_mermaid()


def test_transition_source_may_be_one_state_or_a_set() -> None:
    one: Transition[C, CaseFacts] = Transition("register", C.DRAFT, C.DITERIMA, "cases:create")
    assert one.sources == {C.DRAFT}


def test_workflows_package_is_pure() -> None:
    """workflows/ imports nothing from app/, Flask or SQLAlchemy."""
    banned = ("from app", "import app", "flask", "sqlalchemy")
    for path in (ROOT / "workflows").glob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        imports = [line for line in lines if line.startswith(("import ", "from "))]
        assert not [i for i in imports if any(b in i.lower() for b in banned)], path.name
