"""The Sub GT review board: scope, order, filters, pseudonymisation, notes and escalation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.agencies.models import SubTaskForce, SubTaskForceMember
from app.audit.models import AuditEntry
from app.cases.intake import ConsentData, VictimData
from app.cases.operations import add_consent
from app.core.db import utcnow
from app.core.enums import ReferralState, Role, ServiceType, SubTaskForceKey, TrackState
from app.extensions import db
from app.notifications.models import Notification
from app.referrals import operations as referral_ops
from app.referrals.models import CoordinationNote
from app.services.models import ServiceTrack
from app.subgt import queries
from app.subgt.queries import BoardFilters, age_band
from app.subgt.tasks import notify_escalation
from app.workflow.models import CaseTransition
from app.workflow.operations import apply_track_event
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, KabkotaFactory, TaskForceFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case
from tests.fixtures import login_as

NAME = "Kartika Sulistyowati Pamungkas"
NIK = "3273019876543210"
PHONE = "081299988877"
ADDRESS = "Jalan Melati Tersembunyi 17"
KRONOLOGI_WORD = "Zebrakronologi"
MESSAGE_WORD = "Flamingopesan"
REASON_WORD = "Kasuarialasan"
GUARDIAN = "Bapak Wali Rahasia"
SECRETS = (NAME, NIK, PHONE, ADDRESS, KRONOLOGI_WORD, MESSAGE_WORD, REASON_WORD)


@pytest.fixture(autouse=True)
def captured_tasks(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Tasks handed over after a commit are recorded here instead of being run."""
    sent: list[tuple[str, Any]] = []
    monkeypatch.setitem(
        app.extensions, "simpul_dispatch", lambda name, args, kwargs: sent.append((name, args))
    )
    return sent


def _stf(task_force: Any, key: SubTaskForceKey) -> SubTaskForce:
    return next(s for s in task_force.sub_task_forces if s.key == key)


def _member(stf: SubTaskForce, *agencies: Any) -> None:
    for agency in agencies:
        db.session.add(SubTaskForceMember(sub_task_force=stf, agency=agency))
    db.session.flush()


def _consent(victim: Any, agency: Any, actor: Any) -> None:
    add_consent(
        victim,
        ConsentData(
            purpose=f"rujukan:{agency.code}", decision="setuju", given_by="korban", at=utcnow()
        ),
        actor=actor,
    )


def _victim(**values: Any) -> VictimData:
    return VictimData(
        sex="P",
        birth_date=dt.date(1994, 5, 1),
        violence_types=["fisik"],
        consents=[
            ConsentData(purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED)
        ],
        **values,
    )


@pytest.fixture
def world() -> dict[str, Any]:
    kab = KabkotaFactory()
    task_force = TaskForceFactory(region=kab)
    health = _stf(task_force, SubTaskForceKey.REHABILITASI_KESEHATAN)
    rehsos = _stf(task_force, SubTaskForceKey.REHSOS_PEMULANGAN_REINTEGRASI)
    legal = _stf(task_force, SubTaskForceKey.PENEGAKAN_HUKUM)

    uptd = AgencyFactory(region=kab, services=[ServiceType.PENGADUAN])
    rsud = AgencyFactory(region=kab, services=[ServiceType.REHABILITASI_KESEHATAN])
    lbh = AgencyFactory(region=kab, services=[ServiceType.BANTUAN_HUKUM])
    outsider_uptd = AgencyFactory(region=kab, services=[ServiceType.PENGADUAN])
    outsider_clinic = AgencyFactory(region=kab, services=[ServiceType.REHABILITASI_KESEHATAN])
    _member(health, uptd, rsud)
    _member(rehsos, uptd)
    _member(legal, uptd, lbh)

    supervisor = UserFactory(roles=[(Role.SUPERVISOR, uptd)])
    rsud_supervisor = UserFactory(roles=[(Role.SUPERVISOR, rsud)])
    nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)])
    outsider = UserFactory(roles=[(Role.SUPERVISOR, outsider_uptd)])
    coordinator = UserFactory(
        roles=[(Role.KOORDINATOR_SUBGT, health), (Role.KOORDINATOR_SUBGT, rehsos)]
    )
    legal_coordinator = UserFactory(roles=[(Role.KOORDINATOR_SUBGT, legal)])

    # the case under review: identity, kronologi, message and reason all carry secrets
    case = create_case(
        uptd,
        actor=supervisor,
        case_manager=supervisor,
        kronologi=f"Korban dipukul; {KRONOLOGI_WORD} di rumah.",
        victims=[_victim(name=NAME, nik=NIK, phone=PHONE, address=ADDRESS)],
    )
    victim = case.victims[0]
    referred = create_track(
        case, victim, ServiceType.REHABILITASI_KESEHATAN, provider=None, actor=supervisor
    )
    rehsos_track = create_track(
        case, victim, ServiceType.REHABILITASI_SOSIAL, provider=None, actor=supervisor
    )
    legal_track = create_track(
        case, victim, ServiceType.BANTUAN_HUKUM, provider=None, actor=supervisor
    )
    db.session.flush()
    _consent(victim, rsud, supervisor)
    first = referral_ops.save_referral(
        referred.id,
        to_agency=rsud,
        sharing=referral_ops.Sharing(incident=True, identity=True),
        message=f"Mohon visum, {MESSAGE_WORD}.",
        actor=supervisor,
        send=True,
        expected_version=referred.version,
    )
    referral_ops.decline_referral(
        first.id, f"Dokter cuti; {REASON_WORD}.", actor=nurse, expected_version=first.version
    )
    referral_ops.save_referral(
        referred.id,
        to_agency=rsud,
        sharing=referral_ops.Sharing(incident=True),
        message=f"Kedua kali, {MESSAGE_WORD}.",
        actor=supervisor,
        send=True,
        expected_version=referred.version,
    )

    # an overdue track (its target date has passed) of another case of a member agency
    late_case = create_case(uptd, actor=supervisor, case_manager=supervisor)
    late = create_track(
        late_case,
        late_case.victims[0],
        ServiceType.REHABILITASI_KESEHATAN,
        provider=None,
        target_date=dt.date(2025, 1, 1),
        actor=supervisor,
    )
    # a cancelled track: not on the board unless asked for
    ended_case = create_case(uptd, actor=supervisor, case_manager=supervisor)
    ended = create_track(
        ended_case,
        ended_case.victims[0],
        ServiceType.REHABILITASI_KESEHATAN,
        provider=None,
        actor=supervisor,
    )
    apply_track_event(
        ended.id,
        "cancel",
        actor=supervisor,
        reason="Korban pindah kota",
        expected_version=ended.version,
    )
    # a track between agencies that are not members
    foreign_case = create_case(outsider_uptd, actor=outsider, case_manager=outsider)
    foreign = create_track(
        foreign_case,
        foreign_case.victims[0],
        ServiceType.REHABILITASI_KESEHATAN,
        provider=None,
        actor=outsider,
    )
    db.session.flush()
    return {
        "health": health,
        "rehsos": rehsos,
        "uptd": uptd,
        "rsud": rsud,
        "outsider_clinic": outsider_clinic,
        "supervisor": supervisor,
        "rsud_supervisor": rsud_supervisor,
        "nurse": nurse,
        "coordinator": coordinator,
        "legal_coordinator": legal_coordinator,
        "case": case,
        "referred": referred,
        "rehsos_track": rehsos_track,
        "legal_track": legal_track,
        "late": late,
        "ended": ended,
        "foreign": foreign,
    }


def _ids(rows: list[queries.BoardRow]) -> list[int]:
    return [r.track_id for r in rows]


def test_age_bands_follow_simfoni() -> None:
    assert [age_band(a) for a in (0, 5, 6, 12, 13, 17, 18, 24, 25, 44, 45, 59, 60, 99)] == [
        "0-5", "0-5", "6-12", "6-12", "13-17", "13-17", "18-24",
        "18-24", "25-44", "25-44", "45-59", "45-59", "60+", "60+",
    ]  # fmt: skip
    assert age_band(None) == "?"


def test_the_board_holds_only_the_sub_gts_services_of_member_agencies(world: dict[str, Any]):
    w = world
    rows = queries.board(w["coordinator"], BoardFilters(), utcnow())
    assert set(_ids(rows)) == {w["referred"].id, w["rehsos_track"].id, w["late"].id}
    # another Sub GT's service, a track between non-members and an ended track are absent
    assert w["legal_track"].id not in _ids(rows)
    assert w["foreign"].id not in _ids(rows)
    assert w["ended"].id not in _ids(rows)

    referred = next(r for r in rows if r.track_id == w["referred"].id)
    assert referred.reference == w["case"].reference
    assert referred.age_band == "25-44"
    assert referred.track_state is TrackState.DIRUJUK
    assert referred.referral_state is ReferralState.DIKIRIM
    assert referred.provider_name == w["rsud"].name
    assert referred.agency_name == w["uptd"].name
    assert referred.sub_task_force_id == w["health"].id
    # the coordinator of another Sub GT sees only its own services
    legal_rows = queries.board(w["legal_coordinator"], BoardFilters(), utcnow())
    assert _ids(legal_rows) == [w["legal_track"].id]


def test_rows_carry_no_identity(world: dict[str, Any]):
    rows = queries.board(world["coordinator"], BoardFilters(), utcnow())
    dumped = repr(rows)
    for secret in SECRETS:
        assert secret not in dumped


def test_overdue_first_then_the_longest_waiting(world: dict[str, Any]):
    w = world
    now = utcnow() + dt.timedelta(days=1)
    rows = queries.board(w["coordinator"], BoardFilters(), now)
    assert rows[0].track_id == w["late"].id and rows[0].overdue
    assert not any(r.overdue for r in rows[1:])
    # the other two in order of waiting: the rehsos track was planned before the second referral
    assert _ids(rows[1:]) == [w["rehsos_track"].id, w["referred"].id]
    assert all(r.days_waiting >= 1 for r in rows)

    # three working days on, the referral's answer is overdue too (its deadline passed)
    later = utcnow() + dt.timedelta(days=10)
    rows = queries.board(w["coordinator"], BoardFilters(), later)
    assert {r.track_id for r in rows if r.overdue} == {w["late"].id, w["referred"].id}
    assert not rows[-1].overdue


def test_filters(world: dict[str, Any]):
    w, now = world, utcnow()

    def ids(**filters: Any) -> set[int]:
        return set(_ids(queries.board(w["coordinator"], BoardFilters(**filters), now)))

    assert ids(service_type=ServiceType.REHABILITASI_SOSIAL) == {w["rehsos_track"].id}
    assert ids(state=TrackState.DIRUJUK) == {w["referred"].id}
    assert ids(state=TrackState.DIBATALKAN) == {w["ended"].id}
    assert w["ended"].id in ids(include_ended=True)
    assert ids(provider_id=w["rsud"].id) == {w["referred"].id}
    assert ids(overdue_only=True) == {w["late"].id}


def test_the_board_page_with_filters(client: FlaskClient, world: dict[str, Any]):
    w = world
    login_as(client, w["coordinator"])
    page = client.get("/subgt").get_data(as_text=True)
    assert w["case"].reference in page
    assert 'data-count="total">3<' in page
    assert 'data-count="waiting">1<' in page
    assert 'data-count="overdue">1<' in page
    assert f'href="/subgt/layanan/{w["referred"].id}"' in page
    assert f'data-track="{w["late"].id}" data-overdue' in page
    assert page.index(f'data-track="{w["late"].id}"') < page.index(
        f'data-track="{w["referred"].id}"'
    )
    assert w["rsud"].name in page  # the metrics table names the receiving agency

    filtered = client.get(
        "/subgt", query_string={"state": "dirujuk", "provider": str(w["rsud"].id)}
    ).get_data(as_text=True)
    assert f'data-track="{w["referred"].id}"' in filtered
    assert f'data-track="{w["late"].id}"' not in filtered
    overdue = client.get("/subgt", query_string={"overdue": "y"}).get_data(as_text=True)
    assert f'data-track="{w["late"].id}"' in overdue
    assert f'data-track="{w["referred"].id}"' not in overdue
    service = client.get("/subgt", query_string={"service_type": "rehabilitasi_sosial"}).get_data(
        as_text=True
    )
    assert f'data-track="{w["rehsos_track"].id}"' in service
    assert f'data-track="{w["referred"].id}"' not in service


def test_the_coordinator_never_receives_identity(client: FlaskClient, world: dict[str, Any]):
    w = world
    login_as(client, w["coordinator"])
    pages = [
        client.get("/subgt").get_data(as_text=True),
        client.get("/subgt", query_string={"state": "semua"}).get_data(as_text=True),
        client.get(f"/subgt/layanan/{w['referred'].id}").get_data(as_text=True),
    ]
    response = client.post(
        f"/subgt/layanan/{w['referred'].id}/catatan",
        data={"body": "RSUD belum menjawab rujukan kedua; mohon dikoordinasikan."},
        follow_redirects=True,
    )
    assert response.status_code == 200
    pages.append(response.get_data(as_text=True))
    for page in pages:
        for secret in SECRETS:
            assert secret not in page, secret

    history = pages[2]
    assert w["case"].reference in history
    assert w["rsud"].name in history and w["uptd"].name in history
    # both referrals, the decline and the steps are listed, without their texts
    assert history.count('data-referral-event="send"') == 2
    assert history.count('data-referral-event="decline"') == 1
    assert 'data-step="referral_declined"' in history
    assert history.count('data-step="refer"') == 2
    assert "25-44" in history
    assert "RSUD belum menjawab" in pages[3]


def test_history_is_404_off_the_board_and_403_without_the_role(
    client: FlaskClient, world: dict[str, Any]
):
    w = world
    login_as(client, w["coordinator"])
    assert client.get(f"/subgt/layanan/{w['legal_track'].id}").status_code == 404
    assert client.get(f"/subgt/layanan/{w['foreign'].id}").status_code == 404
    assert client.get("/subgt/layanan/999999").status_code == 404
    assert (
        client.post(
            f"/subgt/layanan/{w['foreign'].id}/catatan", data={"body": "Catatan"}
        ).status_code
        == 404
    )
    client.post("/keluar")

    login_as(client, w["supervisor"])
    assert client.get("/subgt").status_code == 403
    assert client.get(f"/subgt/layanan/{w['referred'].id}").status_code == 403
    assert (
        client.post(
            f"/subgt/layanan/{w['referred'].id}/catatan", data={"body": "Catatan"}
        ).status_code
        == 403
    )
    assert db.session.scalar(select(func.count()).select_from(CoordinationNote)) == 0


def test_a_note_without_body_is_refused(client: FlaskClient, world: dict[str, Any]):
    w = world
    login_as(client, w["coordinator"])
    audits = db.session.scalar(select(func.count()).select_from(AuditEntry))
    notifications = db.session.scalar(select(func.count()).select_from(Notification))
    for body in ("", "   ", "x" * 2001):
        response = client.post(
            f"/subgt/layanan/{w['referred'].id}/catatan", data={"body": body, "escalate": "y"}
        )
        assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(CoordinationNote)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audits
    assert db.session.scalar(select(func.count()).select_from(Notification)) == notifications


def test_an_escalated_note_tells_the_supervisors_of_both_agencies_once(
    client: FlaskClient, world: dict[str, Any], captured_tasks: list[tuple[str, Any]]
):
    w = world
    login_as(client, w["coordinator"])
    body = "Rujukan kedua belum dijawab tiga hari; mohon RSUD memberi kepastian."
    response = client.post(
        f"/subgt/layanan/{w['referred'].id}/catatan", data={"body": body, "escalate": "y"}
    )
    assert response.status_code == 302
    note = db.session.scalars(select(CoordinationNote)).one()
    assert note.escalated and note.body == body
    assert note.sub_task_force_id == w["health"].id
    assert note.author_id == w["coordinator"].id
    assert ("subgt.notify_escalation", (note.id,)) in captured_tasks
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "subgt.note")).one()
    assert body not in repr(audit.changes)

    assert notify_escalation.run(note.id) == 2
    assert notify_escalation.run(note.id) == 0  # a retried task tells nobody again
    sent = db.session.scalars(
        select(Notification).where(Notification.key == f"coordination:{note.id}")
    ).all()
    by_user = {n.user_id: n for n in sent}
    assert set(by_user) == {w["supervisor"].id, w["rsud_supervisor"].id}
    assert all(n.kind == "subgt_escalation" for n in sent)
    assert by_user[w["supervisor"].id].case_id == w["case"].id
    assert by_user[w["rsud_supervisor"].id].case_id is None
    assert by_user[w["rsud_supervisor"].id].reference == w["case"].reference


def test_a_note_without_escalation_tells_nobody(
    client: FlaskClient, world: dict[str, Any], captured_tasks: list[tuple[str, Any]]
):
    w = world
    login_as(client, w["coordinator"])
    response = client.post(
        f"/subgt/layanan/{w['late'].id}/catatan", data={"body": "Sudah ditanyakan ke UPTD."}
    )
    assert response.status_code == 302
    note = db.session.scalars(select(CoordinationNote)).one()
    assert not note.escalated
    assert not [t for t in captured_tasks if t[0] == "subgt.notify_escalation"]
    assert notify_escalation.run(note.id) == 0


def test_a_service_with_no_change_for_its_days_counts_as_late(app: Flask, world: dict[str, Any]):
    """Issue #17: "0 Terlambat" while rows said "no change for 264 days". A service with no
    change for its service type's ``SUBGT_STALE_DAYS`` is late on its row, in the counters (in
    SQL) and under the overdue filter; a service that has ended never is."""
    w = world
    limit = app.config["SUBGT_STALE_DAYS"]["rehabilitasi_sosial"]
    before = utcnow() + dt.timedelta(days=limit - 1)
    rows = queries.board(w["coordinator"], BoardFilters(), before)
    rehsos = next(r for r in rows if r.track_id == w["rehsos_track"].id)
    assert not rehsos.overdue and rehsos.stale_after is None

    after = utcnow() + dt.timedelta(days=limit + 1)
    rows = queries.board(w["coordinator"], BoardFilters(), after)
    rehsos = next(r for r in rows if r.track_id == w["rehsos_track"].id)
    assert rehsos.overdue and rehsos.stale_after == limit
    # late for a missed target date: not said to be late for staleness
    late = next(r for r in rows if r.track_id == w["late"].id)
    assert late.overdue and late.stale_after is None
    assert all(r.overdue for r in rows)
    for filters in (
        BoardFilters(),
        BoardFilters(overdue_only=True),
        BoardFilters(include_ended=True),
    ):
        rows = queries.board(w["coordinator"], filters, after)
        counted = queries.board_summary(w["coordinator"], after, filters=filters)
        assert counted == queries.summary(rows), filters
    counted = queries.board_summary(w["coordinator"], after)
    assert (counted.total, counted.overdue) == (3, 3)
    assert w["rehsos_track"].id in _ids(
        queries.board(w["coordinator"], BoardFilters(overdue_only=True), after)
    )
    ended = next(
        r
        for r in queries.board(w["coordinator"], BoardFilters(include_ended=True), after)
        if r.track_id == w["ended"].id
    )
    assert not ended.overdue and ended.stale_after is None

    # configured per service type
    app.config["SUBGT_STALE_DAYS"] = {**app.config["SUBGT_STALE_DAYS"], "rehabilitasi_sosial": 90}
    try:
        rows = queries.board(w["coordinator"], BoardFilters(), after)
        rehsos = next(r for r in rows if r.track_id == w["rehsos_track"].id)
        assert not rehsos.overdue
        assert queries.board_summary(w["coordinator"], after).overdue == 2
    finally:
        app.config["SUBGT_STALE_DAYS"] = {
            **app.config["SUBGT_STALE_DAYS"],
            "rehabilitasi_sosial": limit,
        }


def test_the_board_page_flags_a_stale_service(client: FlaskClient, world: dict[str, Any]):
    w = world
    track = w["rehsos_track"]
    # nothing has happened to the social rehabilitation service for 40 days
    long_ago = utcnow() - dt.timedelta(days=40)
    db.session.execute(
        update(CaseTransition).where(CaseTransition.track_id == track.id).values(at=long_ago)
    )
    db.session.execute(
        update(ServiceTrack).where(ServiceTrack.id == track.id).values(created_at=long_ago)
    )
    db.session.flush()
    login_as(client, w["coordinator"])
    page = client.get("/subgt").get_data(as_text=True)
    assert 'data-count="overdue">2<' in page
    assert f'data-track="{track.id}" data-overdue' in page
    assert 'data-stale="30"' in page
    assert "terlambat: lebih dari 30 hari tanpa perubahan untuk layanan ini" in page
    overdue = client.get("/subgt", query_string={"overdue": "y"}).get_data(as_text=True)
    assert f'data-track="{track.id}"' in overdue
    history = client.get(f"/subgt/layanan/{track.id}").get_data(as_text=True)
    assert 'data-stale="30"' in history
