"""The Sub GT board at scale: pages cut in SQL in the board's order, counters computed in SQL
equal to those of the rows, and a number of SQL statements that does not grow with the board."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.agencies.models import SubTaskForceMember
from app.core.db import utcnow
from app.core.enums import Role, ServiceType, SubTaskForceKey, TrackState
from app.extensions import db
from app.subgt import queries, views
from app.subgt.queries import BoardFilters
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, KabkotaFactory, TaskForceFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as
from tests.sql_count import Counted, count_statements


def queries_run(counted: Counted) -> int:
    """The statements of the request itself: the test's savepoints around it left out."""
    return sum(1 for s in counted.statements if not s.startswith(("SAVEPOINT", "RELEASE")))


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
            counts.append(queries_run(counted))
        return counts

    few = statements()
    add_tracks(w, 20, start=2)
    many = statements()
    assert many == few, (few, many)
    assert max(many) <= 20, many
