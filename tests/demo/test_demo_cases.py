"""The demo cases: every state and kind of case, consistent with the workflow, loaded through the
import and skipped when loaded again."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import func, select

from app.agencies.models import Agency
from app.audit.models import AuditEntry
from app.auth.models import User
from app.cases.models import Case, ConsentEntry, Victim
from app.core.enums import CASE_CLOSED, TRACK_ENDED, CaseState, CaseType, Channel, TrackState
from app.demo.cases import ANCHOR, HOST_CASES, demo_records, load_demo_cases
from app.demo.operations import DemoReport
from app.extensions import db
from app.services.models import ServiceTrack
from app.workflow.models import CaseTransition

PAST_ASSESSMENT = {
    CaseState.RENCANA_INTERVENSI,
    CaseState.INTERVENSI,
    CaseState.PEMANTAUAN,
    CaseState.TERMINASI,
}


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_records_are_the_same_every_time():
    assert demo_records() == demo_records()
    assert len(demo_records()) >= 200


def test_demo_cases_cover_every_state_and_kind_and_load_once(app):
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert f"case imported: {len(demo_records()) + HOST_CASES}" in result.output
    print(f"demo load: {elapsed:.1f} s")

    cases = db.session.scalars(select(Case)).all()
    assert {c.state for c in cases} == set(CaseState)
    states = Counter(c.state for c in cases)
    assert states[CaseState.DRAFT] >= 1 and states[CaseState.TERMINASI] >= 20
    assert {t for c in cases for t in c.case_types} == set(CaseType)
    owners = {c.agency.code for c in cases}
    assert owners == {"UPTDPPA-3273", "UPTDPPA-32"}
    # the imported cases lie before ANCHOR; after it only the working day's (app/demo/day.py):
    # complaints registered in the last days and the case a transfer opened
    later = [c for c in cases if c.received_at > ANCHOR]
    assert later and all(
        c.external_id.startswith("demo-hari-")
        if c.external_id
        else c.channel is Channel.PELIMPAHAN_MASUK and c.transferred_from_id is not None
        for c in later
    )
    years = {c.received_at.year for c in cases if c.received_at <= ANCHOR}
    assert years == {2025, 2026}

    victims = db.session.scalars(select(Victim)).all()
    assert any(v.is_child and v.sex == "P" and v.age_at_incident == 17 for v in victims)
    assert any(v.is_child and v.sex == "L" for v in victims)
    assert any(not v.is_child and v.sex == "P" for v in victims)
    assert any(v.tppo_cross_border and v.tppo_destination_country == "Malaysia" for v in victims)
    manager = db.session.scalar(select(User).where(User.email == "manajer@simpul.demo"))
    assert sum(c.case_manager_id == manager.id for c in cases) >= 50

    tracks = db.session.scalars(select(ServiceTrack)).all()
    by_case: dict[int, list[ServiceTrack]] = {}
    for track in tracks:
        by_case.setdefault(track.case_id, []).append(track)
    agencies = {a.id: a for a in db.session.scalars(select(Agency))}
    for case in cases:
        own = by_case.get(case.id, [])
        assert (case.state in CASE_CLOSED) == (case.closed_at is not None)
        if case.state is CaseState.TERMINASI:
            assert own and all(t.state in TRACK_ENDED for t in own), case.reference
            assert all(t.ended_at <= case.closed_at for t in own)
        if case.state is CaseState.INTERVENSI:
            assert any(t.state not in TRACK_ENDED for t in own), case.reference
        if case.state in PAST_ASSESSMENT:
            assert case.assessment_completed_at is not None
            for victim in case.victims:
                assert victim.consent_for("layanan").decision == "setuju", case.reference
        for track in own:
            if track.provider_id is not None:
                assert agencies[track.provider_id].provides(track.service_type)
            if track.state is TrackState.DITOLAK_KORBAN:
                victim = db.session.get(Victim, track.victim_id)
                refusal = victim.consent_for(f"layanan:{track.service_type.value}")
                assert refusal.decision == "menolak"
    assert {t.state for t in tracks} == set(TrackState)

    # imported history: by the demo actor, of kind import; the working day's steps: by the demo
    # users, through the workflow
    kinds = set(db.session.execute(select(CaseTransition.kind, CaseTransition.actor_label)))
    assert kinds == {("import", "demo"), ("workflow", "user")}
    # a guardian who is the alleged perpetrator never decides for the child
    for entry in db.session.scalars(select(ConsentEntry).where(ConsentEntry.given_by == "wali")):
        victim = db.session.get(Victim, entry.victim_id)
        perpetrators = {p.name for p in victim.case.perpetrators}
        assert entry.given_by_name not in perpetrators

    # loading again changes nothing
    before = {m.__name__: count(m) for m in (Case, Victim, ServiceTrack, CaseTransition,
                                             ConsentEntry, AuditEntry)}  # fmt: skip
    report = DemoReport()
    started = time.perf_counter()
    load_demo_cases(report)
    print(f"demo cases again: {time.perf_counter() - started:.1f} s")
    assert report.counts == {"case skipped": 240, "draft unchanged": 4}
    assert {m: count(globals()[m]) for m in before} == before
