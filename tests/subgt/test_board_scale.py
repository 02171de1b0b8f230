"""The Sub GT board at scale: pages cut in SQL in the board's order, counters computed in SQL
equal to those of the rows, and a number of SQL statements that does not grow with the board."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.agencies.models import SubTaskForceMember
from app.cases.models import Case
from app.core.db import utcnow
from app.core.enums import TRACK_ENDED, Role, ServiceType, SubTaskForceKey, TrackState
from app.extensions import db
from app.services.models import ServiceTrack
from app.subgt import queries, views
from app.subgt.queries import BoardFilters
from app.workflow.operations import apply_track_event
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, KabkotaFactory, TaskForceFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as
from tests.sql_count import count_statements


@pytest.fixture(autouse=True)
def no_tasks(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions, "simpul_dispatch", lambda name, args, kwargs: None)


@pytest.fixture
def board_world() -> dict[str, Any]:
    kab = KabkotaFactory()
    task_force = TaskForceFactory(region=kab)
    health = next(
        s for s in task_force.sub_task_forces if s.key == SubTaskForceKey.REHABILITASI_KESEHATAN
    )
    rehsos = next(
        s
        for s in task_force.sub_task_forces
        if s.key == SubTaskForceKey.REHSOS_PEMULANGAN_REINTEGRASI
    )
    uptd = AgencyFactory(region=kab, services=[ServiceType.PENGADUAN])
    for stf in (health, rehsos):
        db.session.add(SubTaskForceMember(sub_task_force=stf, agency=uptd))
    db.session.flush()
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, uptd)])
    coordinator = UserFactory(
        roles=[(Role.KOORDINATOR_SUBGT, health), (Role.KOORDINATOR_SUBGT, rehsos)]
    )
    return {"uptd": uptd, "supervisor": supervisor, "coordinator": coordinator}


def add_tracks(w: dict[str, Any], n: int, start: int = 0) -> None:
    """``n`` cases, each with a health track (one in three overdue by its target date) and, one in
    two, a social rehabilitation track."""
    for i in range(start, start + n):
        case = create_case(w["uptd"], actor=w["supervisor"], case_manager=w["supervisor"])
        victim = case.victims[0]
        create_track(
            case,
            victim,
            ServiceType.REHABILITASI_KESEHATAN,
            provider=None,
            target_date=dt.date(2025, 1, 1) if i % 3 == 0 else None,
            actor=w["supervisor"],
        )
        if i % 2 == 0:
            create_track(
                case, victim, ServiceType.REHABILITASI_SOSIAL, provider=None, actor=w["supervisor"]
            )
    db.session.flush()


def test_pages_follow_the_board_order_and_counters_match_the_rows(board_world: dict[str, Any]):
    w = board_world
    add_tracks(w, 7)
    now = utcnow()
    everything = queries.board(w["coordinator"], BoardFilters(), now)
    assert len(everything) == 11
    assert [r.overdue for r in everything] == sorted((r.overdue for r in everything), reverse=True)
    pages = [
        queries.board_page(w["coordinator"], BoardFilters(), now, page=p, per_page=4)
        for p in (1, 2, 3, 4)
    ]
    assert [len(p.items) for p in pages] == [4, 4, 3, 0]
    assert [r.track_id for p in pages for r in p.items] == [r.track_id for r in everything]
    assert {p.total for p in pages} == {11}
    assert pages[0].pages == 3 and pages[0].has_next and not pages[2].has_next
    # the page's own counters are those of every row, not of the page
    assert pages[1].summary == queries.summary(everything) == pages[0].summary

    for filters in (
        BoardFilters(),
        BoardFilters(overdue_only=True),
        BoardFilters(service_type=ServiceType.REHABILITASI_SOSIAL),
        BoardFilters(state=TrackState.DIRENCANAKAN),
        BoardFilters(include_ended=True),
    ):
        rows = queries.board(w["coordinator"], filters, now)
        assert queries.board_summary(w["coordinator"], now, filters=filters) == queries.summary(
            rows
        ), filters
    counted = queries.board_summary(w["coordinator"], now)
    assert (counted.total, counted.overdue) == (11, 3)


def test_the_board_page_is_paginated(
    client: FlaskClient, board_world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    w = board_world
    add_tracks(w, 4)  # 6 rows
    monkeypatch.setattr(views, "PER_PAGE", 4)
    login_as(client, w["coordinator"])
    first = client.get("/subgt").get_data(as_text=True)
    second = client.get("/subgt?page=2").get_data(as_text=True)
    assert first.count("data-track=") == 4 and second.count("data-track=") == 2
    assert "6 layanan" in first and 'data-count="total">6<' in second
    assert "page=2" in first
    assert client.get("/subgt?page=99").status_code == 200


def test_the_board_runs_the_same_statements_whatever_its_size(
    client: FlaskClient, board_world: dict[str, Any]
):
    w = board_world
    add_tracks(w, 2)
    login_as(client, w["coordinator"])

    def statements() -> list[int]:
        counts = []
        for url in ("/subgt", "/subgt?overdue=y", "/subgt?state=semua&page=1"):
            client.get(url)  # once before: what the test left pending is not the page's
            with count_statements() as counted:
                assert client.get(url).status_code == 200
            counts.append(len(counted.own))
        return counts

    few = statements()
    add_tracks(w, 20, start=2)
    many = statements()
    assert many == few, (few, many)
    assert max(many) <= 20, many


def test_the_membership_parts_hold_every_member_track_once(board_world: dict[str, Any]):
    """The board's membership is asked as two parts (tracks of member agencies' cases, tracks
    with a member provider on other agencies' cases): together they are exactly "the case's
    agency or the provider is a member", and a track matching both is on the board once."""
    w = board_world
    health = next(
        g.sub_task_force
        for g in w["coordinator"].grants
        if g.sub_task_force.key == "rehabilitasi_kesehatan"
    )
    kab = w["uptd"].region
    clinic = AgencyFactory(region=kab, services=[ServiceType.REHABILITASI_KESEHATAN])
    other_clinic = AgencyFactory(region=kab, services=[ServiceType.REHABILITASI_KESEHATAN])
    outsider = AgencyFactory(region=kab, services=[ServiceType.PENGADUAN])
    db.session.add(SubTaskForceMember(sub_task_force=health, agency=clinic))
    db.session.flush()
    outsider_supervisor = UserFactory(roles=[(Role.SUPERVISOR, outsider)])

    def track(agency: Any, supervisor: Any, provider: Any, state: Any = None) -> int:
        case = create_case(agency, actor=supervisor, case_manager=supervisor)
        created = create_track(
            case,
            case.victims[0],
            ServiceType.REHABILITASI_KESEHATAN,
            provider=provider,
            actor=supervisor,
        )
        if state is not None:
            apply_track_event(
                created.id,
                "cancel",
                actor=supervisor,
                reason="Pindah kota",
                expected_version=created.version,
            )
        return created.id

    own = track(w["uptd"], w["supervisor"], None)
    both = track(w["uptd"], w["supervisor"], clinic)
    own_elsewhere = track(w["uptd"], w["supervisor"], other_clinic)
    provided = track(outsider, outsider_supervisor, clinic)
    provided_ended = track(outsider, outsider_supervisor, clinic, state="cancel")
    track(outsider, outsider_supervisor, other_clinic)  # neither: not on the board
    track(outsider, outsider_supervisor, None)  # neither
    db.session.flush()

    members = [w["uptd"].id, clinic.id]
    on_board = (
        sa.select(ServiceTrack.id)
        .join(Case, Case.id == ServiceTrack.case_id)
        .where(
            ServiceTrack.service_type == ServiceType.REHABILITASI_KESEHATAN,
            sa.or_(Case.agency_id.in_(members), ServiceTrack.provider_id.in_(members)),
        )
    )
    now = utcnow()
    for filters, expected in (
        (BoardFilters(), {own, both, own_elsewhere, provided}),
        (BoardFilters(include_ended=True), {own, both, own_elsewhere, provided, provided_ended}),
        (BoardFilters(provider_id=clinic.id), {both, provided}),
    ):
        rows = [
            r.track_id
            for r in queries.board(w["coordinator"], filters, now)
            if r.sub_task_force_id == health.id
        ]
        assert len(rows) == len(set(rows)), rows
        assert set(rows) == expected, filters
        or_rows = set(db.session.scalars(on_board.where(*_or_filters(filters))))
        assert set(rows) == or_rows, filters
        assert queries.board_summary(w["coordinator"], now, filters=filters).total == len(
            queries.board(w["coordinator"], filters, now)
        )
    for track_id in (own, both, provided, provided_ended):
        assert queries.reviewable_track(w["coordinator"], track_id) is not None
    assert queries.track_history(w["coordinator"], both, now) is not None


def _or_filters(filters: BoardFilters) -> list[Any]:
    conditions = []
    if not filters.include_ended:
        conditions.append(ServiceTrack.state.not_in(TRACK_ENDED))
    if filters.provider_id is not None:
        conditions.append(ServiceTrack.provider_id == filters.provider_id)
    return conditions


def test_the_boards_of_a_coordinator_are_read_in_statements_not_growing_with_them(
    board_world: dict[str, Any],
):
    """The Sub GTs of a coordinator, with their task force's name and members, are read in the
    same statements for one board as for three of three task forces (no lookup of the task
    force per board)."""
    w = board_world
    health = next(
        g.sub_task_force
        for g in w["coordinator"].grants
        if g.sub_task_force.key == SubTaskForceKey.REHABILITASI_KESEHATAN
    )
    others = [TaskForceFactory(region=KabkotaFactory()) for _ in range(2)]
    single = UserFactory(roles=[(Role.KOORDINATOR_SUBGT, health)])
    several = UserFactory(
        roles=[(Role.KOORDINATOR_SUBGT, health)]
        + [(Role.KOORDINATOR_SUBGT, tf.sub_task_forces[0]) for tf in others]
    )
    db.session.flush()

    def read(user: Any) -> tuple[int, list[queries.Board]]:
        db.session.expire_all()
        with count_statements() as counted:
            boards = queries.boards_of(user)
        return len(counted.own), boards

    one, one_board = read(single)
    three, three_boards = read(several)
    assert len(one_board) == 1 and len(three_boards) == 3
    assert {b.task_force_name for b in three_boards} == {
        health.task_force.name,
        *(tf.name for tf in others),
    }
    assert one == three, (one, three)
