"""The workflow engine on the database: transitions, refusals, versions, tracks and row locks."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.audit.operations import SystemActor
from app.cases import operations as case_ops
from app.cases.intake import ConsentData
from app.cases.models import Case
from app.cases.operations import ConflictError
from app.core.enums import CaseState, Role, ServiceType, TrackState
from app.core.errors import DomainError
from app.extensions import db
from app.workflow import operations as engine
from app.workflow.models import CaseTransition
from app.workflow.operations import TransitionRefused, apply_case_event, apply_track_event
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case
from workflows import definition, ktpa_v1, registry, tppo_v1, track_v1
from workflows.definition import Workflow


@pytest.fixture
def agency():
    return AgencyFactory(services=[ServiceType.PENDAMPINGAN])


@pytest.fixture
def intake_officer(agency):
    return UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])


def transitions(case: Case, *, track_id: int | None = None) -> list[CaseTransition]:
    query = select(CaseTransition).where(
        CaseTransition.case_id == case.id,
        CaseTransition.event.not_in(("register", "plan")),  # written by the intake and the plan
    )
    query = query.where(
        CaseTransition.track_id.is_(None)
        if track_id is None
        else CaseTransition.track_id == track_id
    )
    return list(db.session.scalars(query.order_by(CaseTransition.id)))


def audit_actions(case: Case, action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == "case",
                AuditEntry.object_id == str(case.id),
                AuditEntry.action == action,
            )
            .order_by(AuditEntry.id)
        )
    )


def refused(expected: str, call: Any, /, *args: Any, **kwargs: Any) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as info:
        call(*args, **kwargs)
    assert info.value.reason == expected
    return info.value


def add_consent(case: Case, purpose: str, decision: str, days: int = 1) -> None:
    victim = case.victims[0]
    consent = ConsentData(
        purpose=purpose,
        decision=decision,
        given_by="korban",
        at=RECEIVED + dt.timedelta(days=days),
    )
    case_ops.add_consent(victim, consent, actor=SystemActor("test"))


def to_assessment(case: Case, actor: Any) -> None:
    apply_case_event(case.id, "start_identification", actor=actor, expected_version=case.version)
    apply_case_event(case.id, "start_assessment", actor=actor, expected_version=case.version)


# --- case events ----------------------------------------------------------------------------


def test_a_case_moves_from_registration_to_assessment(agency, manager):
    case = create_case(agency, actor=manager, case_manager=manager)
    db.session.flush()
    version = case.version

    first = apply_case_event(
        case.id, "start_identification", actor=manager, expected_version=version
    )
    second = apply_case_event(
        case.id, "start_assessment", actor=manager, expected_version=version + 1
    )

    assert case.state is CaseState.ASESMEN
    assert case.version == version + 2
    assert case.closed_at is None
    rows = transitions(case)
    assert rows == [first, second]
    assert [(r.from_state, r.to_state, r.event) for r in rows] == [
        ("diterima", "identifikasi", "start_identification"),
        ("identifikasi", "asesmen", "start_assessment"),
    ]
    assert all(r.actor_id == manager.id and r.actor_label == "user" for r in rows)
    assert all(r.kind == "workflow" and r.track_id is None for r in rows)
    assert [e.changes for e in audit_actions(case, "case.transition")] == [
        {"event": "start_identification", "from": "diterima", "to": "identifikasi"},
        {"event": "start_assessment", "from": "identifikasi", "to": "asesmen"},
    ]
    assert all(e.actor_id == manager.id for e in audit_actions(case, "case.transition"))


def test_a_system_actor_may_apply_any_event(agency):
    case = create_case(agency)
    row = apply_case_event(
        case.id, "start_identification", actor=SystemActor("import"), expected_version=case.version
    )
    assert (row.actor_id, row.actor_label) == (None, "import")


def test_an_event_not_possible_in_the_state_is_refused(agency, manager):
    case = create_case(agency, actor=manager)
    error = refused(
        definition.NOT_POSSIBLE.format(event="start_assessment", state="diterima"),
        apply_case_event,
        case.id,
        "start_assessment",
        actor=manager,
        expected_version=case.version,
    )
    assert "start_assessment" in str(error.message)
    refused(
        definition.NOT_POSSIBLE.format(event="fly_away", state="diterima"),
        apply_case_event,
        case.id,
        "fly_away",
        actor=manager,
        expected_version=case.version,
    )
    assert case.state is CaseState.DITERIMA
    assert transitions(case) == []
    assert audit_actions(case, "case.transition") == []


def test_an_event_needs_its_permission(agency, manager, supervisor, intake_officer):
    case = create_case(agency, actor=manager)
    with pytest.raises(TransitionRefused, match="cases:manage"):
        apply_case_event(
            case.id, "start_identification", actor=intake_officer, expected_version=case.version
        )
    to_assessment(case, manager)
    case.assessment_completed_at = RECEIVED + dt.timedelta(days=2)
    db.session.flush()  # saved, as by the assessment page
    apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)
    assert case.state is CaseState.RENCANA_INTERVENSI

    for actor in (intake_officer, manager):
        with pytest.raises(TransitionRefused, match="cases:supervise"):
            apply_case_event(
                case.id,
                "start_intervention",
                actor=actor,
                approvals=frozenset({"plan_approved"}),
                expected_version=case.version,
            )
        with pytest.raises(TransitionRefused, match="cases:supervise"):
            apply_case_event(
                case.id,
                "close",
                data={"closure": "lainnya"},
                actor=actor,
                reason="Korban tidak bisa dihubungi",
                expected_version=case.version,
            )
    assert case.state is CaseState.RENCANA_INTERVENSI
    assert len(transitions(case)) == 3


def test_a_plan_needs_the_victims_consent_to_services_and_a_complete_assessment(agency, manager):
    case = create_case(agency, actor=manager)
    to_assessment(case, manager)
    refused(
        ktpa_v1.ASSESSMENT_INCOMPLETE,
        apply_case_event,
        case.id,
        "propose_plan",
        actor=manager,
        expected_version=case.version,
    )
    case.assessment_completed_at = RECEIVED + dt.timedelta(days=2)
    db.session.flush()  # saved, as by the assessment page
    add_consent(case, "layanan", "menolak")  # the latest decision is in force
    error = refused(
        ktpa_v1.NO_SERVICE_CONSENT,
        apply_case_event,
        case.id,
        "propose_plan",
        actor=manager,
        expected_version=case.version,
    )
    assert error.message is engine.REASONS[ktpa_v1.NO_SERVICE_CONSENT]
    add_consent(case, "layanan", "setuju", days=2)
    apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)
    assert case.state is CaseState.RENCANA_INTERVENSI


def test_a_high_risk_case_goes_through_emergency_handling(agency, manager):
    case = create_case(agency, actor=manager, risk="tinggi")
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    refused(
        ktpa_v1.EMERGENCY_FIRST,
        apply_case_event,
        case.id,
        "start_assessment",
        actor=manager,
        expected_version=case.version,
    )
    apply_case_event(case.id, "start_emergency", actor=manager, expected_version=case.version)
    assert case.state is CaseState.KEDARURATAN
    # the step asks what was done and the confirmation that the emergency is handled (declared
    # on the transition, checked by the engine whoever calls it)
    refused(
        definition.NOTE_REQUIRED,
        apply_case_event,
        case.id,
        "start_assessment",
        actor=manager,
        expected_version=case.version,
    )
    refused(
        definition.APPROVAL_REQUIRED,
        apply_case_event,
        case.id,
        "start_assessment",
        actor=manager,
        reason="rumah aman",
        expected_version=case.version,
    )
    row = apply_case_event(
        case.id,
        "start_assessment",
        actor=manager,
        reason="rumah aman",
        approve=True,
        expected_version=case.version,
    )
    assert case.state is CaseState.ASESMEN
    assert row.reason == "rumah aman"
    assert row.data == {"approvals": ["emergency_handled"]}


def test_emergency_handling_is_only_for_a_high_risk_case(agency, manager):
    case = create_case(agency, actor=manager)
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    refused(
        ktpa_v1.NOT_HIGH_RISK,
        apply_case_event,
        case.id,
        "start_emergency",
        actor=manager,
        expected_version=case.version,
    )


def test_unknown_approvals_are_a_programming_error(agency, manager):
    case = create_case(agency, actor=manager)
    with pytest.raises(ValueError, match="unknown approvals"):
        apply_case_event(
            case.id,
            "start_identification",
            actor=manager,
            approvals=frozenset({"approved"}),
            expected_version=case.version,
        )


def test_close_needs_a_reason_and_reopen_clears_the_closing(agency, manager, supervisor):
    case = create_case(agency, actor=manager)
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    refused(
        definition.REASON_REQUIRED,
        apply_case_event,
        case.id,
        "close",
        actor=supervisor,
        expected_version=case.version,
    )
    refused(
        definition.REASON_REQUIRED,
        apply_case_event,
        case.id,
        "close",
        actor=supervisor,
        reason=" ",
        expected_version=case.version,
    )
    refused(
        ktpa_v1.CLOSURE_KIND_MISSING,
        apply_case_event,
        case.id,
        "close",
        actor=supervisor,
        reason="Korban mencabut",
        expected_version=case.version,
    )

    row = apply_case_event(
        case.id,
        "close",
        actor=supervisor,
        reason="  Korban mencabut  ",
        data={"closure": "korban_mundur"},
        expected_version=case.version,
    )
    assert case.state is CaseState.DITUTUP
    assert case.closed_at is not None
    assert case.closed_reason == "Korban mencabut"
    assert (row.from_state, row.to_state, row.reason) == ("identifikasi", "ditutup", row.reason)
    assert row.reason == "Korban mencabut"

    refused(
        definition.REASON_REQUIRED,
        apply_case_event,
        case.id,
        "reopen",
        actor=supervisor,
        expected_version=case.version,
    )
    apply_case_event(
        case.id, "reopen", actor=supervisor, reason="Korban kembali", expected_version=case.version
    )
    assert case.state is CaseState.ASESMEN
    assert (case.closed_at, case.closed_reason) == (None, None)


def test_a_reason_longer_than_the_column_is_refused(agency, supervisor):
    case = create_case(agency, actor=supervisor)
    with pytest.raises(DomainError) as info:
        apply_case_event(
            case.id,
            "close",
            actor=supervisor,
            reason="x" * 501,
            data={"closure": "lainnya"},
            expected_version=case.version,
        )
    assert info.value.field == "reason"
    assert case.state is CaseState.DITERIMA


def test_a_case_runs_its_course_to_termination(agency, manager, supervisor):
    case = create_case(agency, actor=manager)
    to_assessment(case, manager)
    case.assessment_completed_at = RECEIVED + dt.timedelta(days=2)
    db.session.flush()  # saved, as by the assessment page
    apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)
    refused(
        ktpa_v1.NO_PLANNED_TRACK,
        apply_case_event,
        case.id,
        "start_intervention",
        actor=supervisor,
        approvals=frozenset({"plan_approved"}),
        expected_version=case.version,
    )
    track = create_track(case, case.victims[0], "pendampingan", provider=None, actor=manager)
    refused(
        definition.APPROVAL_REQUIRED,
        apply_case_event,
        case.id,
        "start_intervention",
        actor=supervisor,
        expected_version=case.version,
    )
    apply_case_event(
        case.id,
        "start_intervention",
        actor=supervisor,
        approvals=frozenset({"plan_approved"}),
        expected_version=case.version,
    )
    apply_track_event(track.id, "start", actor=manager, expected_version=track.version)
    apply_case_event(case.id, "start_monitoring", actor=manager, expected_version=case.version)
    closure = frozenset({"closure_approved"})
    refused(
        ktpa_v1.TRACKS_OPEN,
        apply_case_event,
        case.id,
        "terminate",
        actor=supervisor,
        approvals=closure,
        expected_version=case.version,
    )
    apply_track_event(
        track.id,
        "complete",
        actor=manager,
        outcome="Pendampingan selesai",
        expected_version=track.version,
    )
    refused(
        definition.APPROVAL_REQUIRED,
        apply_case_event,
        case.id,
        "terminate",
        actor=supervisor,
        expected_version=case.version,
    )
    apply_case_event(
        case.id, "terminate", actor=supervisor, approvals=closure, expected_version=case.version
    )
    assert case.state is CaseState.TERMINASI
    assert case.closed_at is not None and case.closed_reason is None
    assert [r.to_state for r in transitions(case)][-1] == "terminasi"


def test_a_transfer_needs_the_receiving_agency_to_accept(agency, manager):
    case = create_case(agency, actor=manager)
    refused(
        ktpa_v1.TRANSFER_NOT_ACCEPTED,
        apply_case_event,
        case.id,
        "transfer",
        actor=manager,
        expected_version=case.version,
    )
    apply_case_event(
        case.id,
        "transfer",
        actor=manager,
        approvals=frozenset({"transfer_accepted"}),
        expected_version=case.version,
    )
    assert case.state is CaseState.DILIMPAHKAN
    assert case.closed_at is not None


def test_a_tppo_case_needs_the_screening_before_the_assessment(agency, manager):
    case = create_case(agency, actor=manager, case_types=["tppo"])
    assert case.workflow_key == "tppo"
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    refused(
        tppo_v1.SCREENING_INCOMPLETE,
        apply_case_event,
        case.id,
        "start_assessment",
        actor=manager,
        expected_version=case.version,
    )
    case.victims[0].tppo_cara = ["penipuan"]
    apply_case_event(case.id, "start_assessment", actor=manager, expected_version=case.version)
    assert case.state is CaseState.ASESMEN


def test_a_stale_version_is_a_conflict_and_writes_nothing(agency, manager):
    case = create_case(agency, actor=manager)
    version = case.version
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=version)
    with pytest.raises(ConflictError) as info:
        apply_case_event(case.id, "start_assessment", actor=manager, expected_version=version)
    assert info.value.changes == {}
    assert case.state is CaseState.IDENTIFIKASI
    assert case.version == version + 1
    assert len(transitions(case)) == 1
    assert len(audit_actions(case, "case.transition")) == 1


def test_a_case_follows_the_workflow_version_it_is_pinned_to(agency, manager, monkeypatch):
    # version 2: identification needs a reason
    v2 = Workflow(
        key="ktpa",
        version=2,
        initial=ktpa_v1.KTPA_V1.initial,
        states=ktpa_v1.STATES,
        final_states=ktpa_v1.FINAL,
        transitions=tuple(
            replace(t, requires_reason=True) if t.event == "start_identification" else t
            for t in ktpa_v1.TRANSITIONS
        ),
    )
    monkeypatch.setitem(registry._WORKFLOWS, ("ktpa", 2), v2)
    on_v1 = create_case(agency, actor=manager)
    on_v2 = create_case(agency, actor=manager)
    on_v2.workflow_version = 2
    db.session.flush()

    apply_case_event(
        on_v1.id, "start_identification", actor=manager, expected_version=on_v1.version
    )
    assert on_v1.state is CaseState.IDENTIFIKASI
    refused(
        definition.REASON_REQUIRED,
        apply_case_event,
        on_v2.id,
        "start_identification",
        actor=manager,
        expected_version=on_v2.version,
    )
    apply_case_event(
        on_v2.id,
        "start_identification",
        actor=manager,
        reason="Sesuai SOP baru",
        expected_version=on_v2.version,
    )
    assert on_v2.state is CaseState.IDENTIFIKASI


def test_every_refusal_reason_of_the_definitions_is_translatable():
    texts = {
        value
        for module in (definition, ktpa_v1, tppo_v1, track_v1)
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and " " in value
    }
    texts.discard(definition.NOT_POSSIBLE)  # formatted by the engine itself
    assert texts - set(engine.REASONS) == set()
    assert all(message._args == (text,) for text, message in engine.REASONS.items())


# --- service-track events -------------------------------------------------------------------


def test_a_track_with_another_provider_is_referred_accepted_started_and_completed(agency, manager):
    """Track workflow v1 (a track pinned to it keeps following it): the case side completes."""
    provider = AgencyFactory(services=[ServiceType.BANTUAN_HUKUM])
    lawyer = UserFactory(roles=[(Role.PETUGAS_LAYANAN, provider)])
    case = create_case(agency, actor=manager)
    track = create_track(case, case.victims[0], "bantuan_hukum", provider=provider, actor=manager)
    track.workflow_version = 1
    db.session.flush()
    version = track.version

    refused(
        track_v1.OTHER_AGENCY_PROVIDER,
        apply_track_event,
        track.id,
        "start",
        actor=manager,
        expected_version=track.version,
    )
    apply_track_event(track.id, "refer", actor=manager, expected_version=version)
    with pytest.raises(TransitionRefused, match="referrals:receive"):
        apply_track_event(track.id, "accept", actor=manager, expected_version=track.version)
    apply_track_event(track.id, "accept", actor=lawyer, expected_version=track.version)
    apply_track_event(track.id, "start", actor=lawyer, expected_version=track.version)
    assert track.state is TrackState.BERJALAN and track.started_at is not None
    refused(
        track_v1.NO_OUTCOME,
        apply_track_event,
        track.id,
        "complete",
        actor=manager,
        expected_version=track.version,
    )
    row = apply_track_event(
        track.id,
        "complete",
        actor=manager,
        outcome="Putusan dibacakan",
        expected_version=track.version,
    )

    assert track.state is TrackState.SELESAI
    assert track.ended_at is not None and track.ended_at >= track.started_at
    assert track.end_reason == "Putusan dibacakan"
    assert track.version == version + 4
    assert row.data == {"outcome": "Putusan dibacakan"}
    assert track.workflow_version == 1
    rows = transitions(case, track_id=track.id)
    assert [(r.from_state, r.to_state, r.event) for r in rows] == [
        ("direncanakan", "dirujuk", "refer"),
        ("dirujuk", "diterima_penyedia", "accept"),
        ("diterima_penyedia", "berjalan", "start"),
        ("berjalan", "selesai", "complete"),
    ]
    assert [r.actor_id for r in rows] == [manager.id, lawyer.id, lawyer.id, manager.id]
    audits = audit_actions(case, "track.transition")
    assert [(a.changes["track"], a.changes["to"]) for a in audits] == [
        (track.id, "dirujuk"),
        (track.id, "diterima_penyedia"),
        (track.id, "berjalan"),
        (track.id, "selesai"),
    ]
    assert transitions(case) == []  # the case itself did not move


def test_a_track_of_the_own_agency_starts_directly(agency, manager):
    case = create_case(agency, actor=manager)
    track = create_track(case, case.victims[0], "pendampingan", provider=agency, actor=manager)
    refused(
        track_v1.OWN_AGENCY_PROVIDER,
        apply_track_event,
        track.id,
        "refer",
        actor=manager,
        expected_version=track.version,
    )
    apply_track_event(track.id, "start", actor=manager, expected_version=track.version)
    assert track.state is TrackState.BERJALAN
    assert track.started_at is not None and track.ended_at is None


def test_a_track_declined_by_the_victim_needs_the_refusal_in_the_ledger(agency, manager):
    case = create_case(agency, actor=manager)
    track = create_track(case, case.victims[0], "pendampingan", provider=None, actor=manager)
    refused(
        track_v1.NO_REFUSAL_CONSENT,
        apply_track_event,
        track.id,
        "decline_by_victim",
        actor=manager,
        expected_version=track.version,
    )
    add_consent(case, "layanan:pendampingan", "menolak")
    apply_track_event(track.id, "decline_by_victim", actor=manager, expected_version=track.version)
    assert track.state is TrackState.DITOLAK_KORBAN
    assert track.ended_at is not None


def test_a_stale_track_version_is_a_conflict(agency, manager):
    case = create_case(agency, actor=manager)
    track = create_track(case, case.victims[0], "pendampingan", provider=None, actor=manager)
    version = track.version
    apply_track_event(
        track.id, "cancel", actor=manager, reason="Rencana diubah", expected_version=track.version
    )
    assert track.end_reason == "Rencana diubah"
    with pytest.raises(ConflictError):
        apply_track_event(
            track.id, "mark_unavailable", actor=manager, reason="x", expected_version=version
        )
    assert track.state is TrackState.DIBATALKAN


# --- concurrency ----------------------------------------------------------------------------


def _delete_committed_case(case_id: int, agency_id: int, region_ids: list[int]) -> None:
    """Remove what the concurrency test committed (it runs outside the rolled-back
    transaction)."""
    s = db.session
    params = {"case_id": case_id, "agency_id": agency_id, "case_key": str(case_id)}
    # the audit log is append-only (triggers): a test superuser steps past them to clean up
    s.execute(sa.text("SET LOCAL session_replication_role = replica"))
    s.execute(
        sa.text("DELETE FROM audit_entries WHERE object_type = 'case' AND object_id = :case_key"),
        params,
    )
    s.execute(sa.text("DELETE FROM deadlines WHERE case_id = :case_id"), params)
    s.execute(sa.text("DELETE FROM case_transitions WHERE case_id = :case_id"), params)
    s.execute(
        sa.text(
            "DELETE FROM consent_entries"
            " WHERE victim_id IN (SELECT id FROM victims WHERE case_id = :case_id)"
        ),
        params,
    )
    person_ids = [
        row[0]
        for row in s.execute(
            sa.text("SELECT person_id FROM victims WHERE case_id = :case_id"), params
        )
        if row[0] is not None
    ]
    s.execute(sa.text("DELETE FROM cases WHERE id = :case_id"), params)
    if person_ids:
        s.execute(sa.text("DELETE FROM persons WHERE id = ANY(:ids)"), {"ids": person_ids})
    s.execute(sa.text("DELETE FROM case_counters WHERE agency_id = :agency_id"), params)
    s.execute(sa.text("DELETE FROM agencies WHERE id = :agency_id"), params)
    for region_id in region_ids:
        s.execute(sa.text("DELETE FROM regions WHERE id = :id"), {"id": region_id})
    s.commit()


@pytest.mark.postgres
@pytest.mark.demo_database  # outside the rolled-back transaction: two real sessions
def test_two_concurrent_transitions_on_one_case_serialise(app):
    with app.app_context():
        agency = AgencyFactory()
        region_ids = [agency.region_id, agency.region.parent_id]
        case = create_case(agency)
        db.session.commit()
        case_id, agency_id, version = case.id, agency.id, case.version
        db.session.remove()

    locked = threading.Event()
    a_committed_at: list[float] = []
    b_outcome: list[Any] = []
    b_returned_at: list[float] = []

    def side_a() -> None:
        with app.app_context():
            try:
                apply_case_event(
                    case_id,
                    "start_identification",
                    actor=SystemActor("a"),
                    expected_version=version,
                )
                locked.set()
                time.sleep(1.0)  # B is now waiting for the row lock
                a_committed_at.append(time.monotonic())
                db.session.commit()
            finally:
                locked.set()
                db.session.remove()

    def side_b() -> None:
        locked.wait(10)
        with app.app_context():
            try:
                apply_case_event(
                    case_id,
                    "start_identification",
                    actor=SystemActor("b"),
                    expected_version=version,
                )
                b_outcome.append("applied")
                db.session.commit()
            except (ConflictError, TransitionRefused) as error:
                b_outcome.append(error)
                db.session.rollback()
            finally:
                b_returned_at.append(time.monotonic())
                db.session.remove()

    threads = [threading.Thread(target=side_a), threading.Thread(target=side_b)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        assert not any(thread.is_alive() for thread in threads)

        assert len(a_committed_at) == 1
        assert len(b_outcome) == 1
        assert isinstance(b_outcome[0], ConflictError | TransitionRefused)
        assert b_returned_at[0] >= a_committed_at[0]  # B waited for A's lock
        with app.app_context():
            case = db.session.get(Case, case_id)
            assert case.state is CaseState.IDENTIFIKASI
            assert case.version == version + 1
            rows = db.session.scalars(
                select(CaseTransition).where(
                    CaseTransition.case_id == case_id,
                    CaseTransition.event == "start_identification",
                )
            ).all()
            assert [(r.actor_label, r.from_state, r.to_state) for r in rows] == [
                ("a", "diterima", "identifikasi")
            ]
            db.session.remove()
    finally:
        with app.app_context():
            _delete_committed_case(case_id, agency_id, region_ids)
            db.session.remove()


def test_a_referred_track_of_version_2_is_completed_by_its_provider(agency, manager):
    """Track workflow v2: the provider completes a referred track; the case side cannot."""
    provider = AgencyFactory(services=[ServiceType.BANTUAN_HUKUM])
    lawyer = UserFactory(roles=[(Role.PETUGAS_LAYANAN, provider)])
    case = create_case(agency, actor=manager)
    track = create_track(case, case.victims[0], "bantuan_hukum", provider=provider, actor=manager)
    assert track.workflow_version == 2
    apply_track_event(track.id, "refer", actor=manager, expected_version=track.version)
    apply_track_event(track.id, "accept", actor=lawyer, expected_version=track.version)
    apply_track_event(track.id, "start", actor=lawyer, expected_version=track.version)
    refused(
        track_v1.OTHER_AGENCY_PROVIDER,
        apply_track_event,
        track.id,
        "complete",
        actor=manager,
        outcome="Selesai",
        expected_version=track.version,
    )
    with pytest.raises(TransitionRefused, match="referrals:receive"):
        apply_track_event(
            track.id,
            "complete_referred",
            actor=manager,
            outcome="Selesai",
            expected_version=track.version,
        )
    refused(
        track_v1.NO_OUTCOME,
        apply_track_event,
        track.id,
        "complete_referred",
        actor=lawyer,
        expected_version=track.version,
    )
    apply_track_event(
        track.id,
        "complete_referred",
        actor=lawyer,
        outcome="Putusan dibacakan",
        expected_version=track.version,
    )
    assert track.state is TrackState.SELESAI and track.end_reason == "Putusan dibacakan"


def test_a_declined_or_withdrawn_referral_plans_the_track_again(agency, manager):
    provider = AgencyFactory(services=[ServiceType.BANTUAN_HUKUM])
    lawyer = UserFactory(roles=[(Role.PETUGAS_LAYANAN, provider)])
    case = create_case(agency, actor=manager)
    track = create_track(case, case.victims[0], "bantuan_hukum", provider=provider, actor=manager)
    apply_track_event(track.id, "refer", actor=manager, expected_version=track.version)
    refused(
        definition.REASON_REQUIRED,
        apply_track_event,
        track.id,
        "referral_declined",
        actor=lawyer,
        expected_version=track.version,
    )
    apply_track_event(
        track.id,
        "referral_declined",
        actor=lawyer,
        reason="Tidak ada advokat",
        expected_version=track.version,
    )
    assert track.state is TrackState.DIRENCANAKAN
    apply_track_event(track.id, "refer", actor=manager, expected_version=track.version)
    apply_track_event(track.id, "accept", actor=lawyer, expected_version=track.version)
    with pytest.raises(TransitionRefused, match="cases:manage"):
        apply_track_event(
            track.id,
            "referral_withdrawn",
            actor=lawyer,
            reason="Salah kirim",
            expected_version=track.version,
        )
    apply_track_event(
        track.id,
        "referral_withdrawn",
        actor=manager,
        reason="Korban pindah kota",
        expected_version=track.version,
    )
    assert track.state is TrackState.DIRENCANAKAN
