"""The receiving agency's inbox at scale: the same few SQL statements whatever the number of
referrals and senders, what each row shows read with the referrals, and a tab shown a page at a
time."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.core.enums import Role, ServiceType
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.referrals import operations as ops
from app.referrals import queries, views
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, KabkotaFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as
from tests.sql_count import count_statements

TABS = ("baru", "segera", "terlambat", "berjalan", "selesai")


@pytest.fixture(autouse=True)
def no_tasks(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions, "simpul_dispatch", lambda name, args, kwargs: None)


@pytest.fixture
def world() -> dict[str, Any]:
    kab = KabkotaFactory()
    rsud = AgencyFactory(region=kab, services=[ServiceType.REHABILITASI_KESEHATAN])
    return {
        "kab": kab,
        "rsud": rsud,
        "nurse": UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)]),
        "senders": [],
        "referrals": [],
    }


def send_referrals(w: dict[str, Any], n: int) -> None:
    """``n`` referrals to the hospital, from a new sending agency each time this is called, one
    in three accepted (in progress) and one in three with its answer overdue."""
    uptd = AgencyFactory(region=w["kab"], services=[ServiceType.PENGADUAN])
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, uptd)])
    w["senders"].append(uptd)
    for i in range(n):
        case = create_case(uptd, actor=supervisor, case_manager=supervisor)
        track = create_track(
            case,
            case.victims[0],
            ServiceType.REHABILITASI_KESEHATAN,
            provider=w["rsud"],
            actor=supervisor,
        )
        referral = ops.save_referral(
            track.id,
            to_agency=w["rsud"],
            sharing=ops.Sharing(),
            message=None,
            actor=supervisor,
            send=True,
            override_reason="Korban butuh visum segera",
            expected_version=track.version,
        )
        if i % 3 == 1:
            ops.accept_referral(referral.id, actor=w["nurse"], expected_version=referral.version)
        elif i % 3 == 2:
            deadline = db.session.query(Deadline).filter_by(
                track_id=track.id, code=DeadlineCode.REFERRAL_RESPONSE
            )
            for d in deadline:
                d.due_at = d.due_at - dt.timedelta(days=30)
        w["referrals"].append(referral)
    db.session.flush()
    db.session.expire_all()


def test_every_row_shows_its_service_case_and_sender(client: FlaskClient, world: dict[str, Any]):
    w = world
    send_referrals(w, 3)
    send_referrals(w, 3)
    login_as(client, w["nurse"])
    shown: dict[int, str] = {}
    for tab in TABS:
        page = client.get(f"/rujukan?tab={tab}").get_data(as_text=True)
        for item in page.split('data-referral="')[1:]:
            shown.setdefault(int(item.split('"', 1)[0]), item.split("</a>", 1)[0])
    assert sorted(shown) == sorted(r.id for r in w["referrals"])
    for referral in w["referrals"]:
        row = shown[referral.id]
        assert referral.case.reference in row
        assert referral.from_agency.name in row
        assert "Rehabilitasi kesehatan" in row or "rehabilitasi" in row.lower()
    now = dt.datetime.now(dt.UTC)
    tabs = {tab: queries.inbox(w["nurse"], now, tab) for tab in TABS}
    assert tabs["baru"].counts == {
        "baru": 4,
        "segera": 0,
        "terlambat": 2,
        "berjalan": 2,
        "selesai": 0,
    }
    assert all(t.counts == tabs["baru"].counts for t in tabs.values())
    assert {tab: len(t.page.items) for tab, t in tabs.items()} == tabs["baru"].counts
    assert all(r.overdue and r.due_at is not None for r in tabs["terlambat"].page.items)
    assert all(r.due_at is None for r in tabs["berjalan"].page.items)
    # the waiting ones, the overdue first
    assert [r.overdue for r in tabs["baru"].page.items] == [True, True, False, False]


def test_a_tab_is_shown_a_page_at_a_time(
    client: FlaskClient, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    w = world
    send_referrals(w, 7)  # 5 waiting for an answer
    monkeypatch.setattr(views, "PER_PAGE", 2)
    login_as(client, w["nurse"])

    def ids(url: str) -> list[int]:
        page = client.get(url).get_data(as_text=True)
        return [int(x) for x in re.findall(r'data-referral="(\d+)"', page)]

    pages = [ids(f"/rujukan?tab=baru&page={n}") for n in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    now = dt.datetime.now(dt.UTC)
    waiting = [r.referral.id for r in queries.inbox(w["nurse"], now, "baru").page.items]
    assert [i for p in pages for i in p] == waiting
    first = client.get("/rujukan?tab=baru").get_data(as_text=True)
    assert "page=2" in first and "tab=baru" in first
    # the counts of the tabs are of every referral, not of the page
    assert re.search(r"badge[^>]*>5</span>", first)

    # the referrals in progress are cut into pages by the database, newest sent first
    in_progress = [ids(f"/rujukan?tab=berjalan&page={n}") for n in (1, 2)]
    assert [len(p) for p in in_progress] == [2, 0]
    newest_first = sorted(
        (r for r in w["referrals"] if r.state.value == "diterima"),
        key=lambda r: (r.sent_at, r.id),
        reverse=True,
    )
    assert in_progress[0] == [r.id for r in newest_first]
    page = queries.inbox(w["nurse"], now, "berjalan", page=1, per_page=1)
    assert page.page.total == 2 and page.page.pages == 2
    assert [r.referral.id for r in page.page.items] == [newest_first[0].id]


def test_the_inbox_runs_the_same_statements_whatever_its_size(
    client: FlaskClient, world: dict[str, Any]
):
    w = world
    send_referrals(w, 3)
    login_as(client, w["nurse"])

    def statements() -> list[int]:
        counts = []
        for tab in TABS:
            url = f"/rujukan?tab={tab}"
            client.get(url)  # once before: what the test left pending is not the page's
            with count_statements() as counted:
                assert client.get(url).status_code == 200
            counts.append(len(counted.own))
        return counts

    few = statements()
    for _ in range(4):
        send_referrals(w, 6)  # more referrals, from more sending agencies
    many = statements()
    assert many == few, (few, many)
    assert max(many) <= 15, many


def test_the_latest_finished_referrals_are_listed(
    client: FlaskClient, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    w = world
    send_referrals(w, 4)
    declined = [r for r in w["referrals"] if r.state.value == "dikirim"]
    for referral in declined:
        ops.decline_referral(
            referral.id, "Tidak ada dokter", actor=w["nurse"], expected_version=referral.version
        )
    db.session.flush()
    assert len(declined) == 3
    monkeypatch.setattr(queries, "FINISHED_LISTED", 2)
    monkeypatch.setattr(views, "PER_PAGE", 1)
    login_as(client, w["nurse"])
    pages = [
        re.findall(r'data-referral="(\d+)"', client.get(f"/rujukan?tab=selesai&page={n}").text)
        for n in (1, 2, 3)
    ]
    newest = sorted(declined, key=lambda r: (r.sent_at, r.id), reverse=True)
    assert pages == [[str(newest[0].id)], [str(newest[1].id)], []]
    assert re.search(r"badge[^>]*>2\+</span>", client.get("/rujukan?tab=selesai").text)
    whole = queries.inbox(w["nurse"], dt.datetime.now(dt.UTC), "selesai", per_page=50)
    assert whole.more_finished and whole.counts["selesai"] == 2 and len(whole.page.items) == 2
    monkeypatch.setattr(queries, "FINISHED_LISTED", 3)
    whole = queries.inbox(w["nurse"], dt.datetime.now(dt.UTC), "selesai", per_page=50)
    assert not whole.more_finished and whole.counts["selesai"] == 3
