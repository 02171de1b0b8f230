""" "Tugas saya": the four sources in their buckets (overdue, today, this week), the same counts
on the home page, who sees what, and a fixed number of SQL statements whatever the data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.core.db import utcnow
from app.core.enums import Role, ServiceType
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.referrals import operations as referral_ops
from app.tasks import operations as ops
from app.tasks.calendar import jakarta_today
from app.tasks.queries import my_tasks, task_counts
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, KabkotaFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as, staff
from tests.sql_count import count_statements

DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def no_tasks(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions, "simpul_dispatch", lambda name, args, kwargs: None)


@pytest.fixture
def world() -> dict[str, Any]:
    kab = KabkotaFactory()
    uptd = AgencyFactory(region=kab, services=[ServiceType.PENGADUAN])
    rsud = AgencyFactory(region=kab, services=[ServiceType.REHABILITASI_KESEHATAN])
    return {
        "uptd": uptd,
        "rsud": rsud,
        "manager": staff(uptd, Role.MANAJER_KASUS),
        "nurse": UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)]),
    }


def referral_to(w: dict[str, Any], *, answer_in: dt.timedelta) -> Any:
    """A referral from a case of the UPTD to the hospital, its answer due ``answer_in`` from now."""
    sender = staff(w["uptd"], Role.SUPERVISOR)
    case = create_case(w["uptd"], actor=sender, case_manager=sender)
    track = create_track(
        case,
        case.victims[0],
        ServiceType.REHABILITASI_KESEHATAN,
        provider=w["rsud"],
        actor=sender,
    )
    referral = referral_ops.save_referral(
        track.id,
        to_agency=w["rsud"],
        sharing=referral_ops.Sharing(),
        message=None,
        actor=sender,
        send=True,
        override_reason="Korban butuh visum segera",
        expected_version=track.version,
    )
    for d in db.session.query(Deadline).filter_by(
        track_id=track.id, code=DeadlineCode.REFERRAL_RESPONSE
    ):
        d.due_at = utcnow() + answer_in
    db.session.flush()
    return referral


def fill(w: dict[str, Any], n: int = 1) -> dict[str, Any]:
    """For the manager, ``n`` of each: a case whose first-response deadline is overdue, a plan
    target today, a follow-up in three days; and for the nurse ``n`` referrals to answer, one
    overdue."""
    manager, today = w["manager"], jakarta_today()
    made: dict[str, Any] = {"cases": [], "referrals": []}
    for _ in range(n):
        case = create_case(w["uptd"], actor=manager, case_manager=manager)
        for d in db.session.query(Deadline).filter_by(case_id=case.id):
            d.due_at = utcnow() - DAY  # overdue
            d.responsible_user_id = manager.id
        create_track(
            case,
            case.victims[0],
            ServiceType.BANTUAN_HUKUM,
            provider=None,
            target_date=today,
            actor=manager,
        )
        ops.schedule_follow_up(case, actor=manager, due_on=today + 3 * DAY, note="cek visum")
        made["cases"].append(case)
        made["referrals"].append(referral_to(w, answer_in=-DAY))
    db.session.flush()
    return made


def test_each_source_lands_in_its_bucket(world):
    w = world
    made = fill(w)
    case = made["cases"][0]
    tasks = my_tasks(w["manager"])
    kinds = {b: sorted(i.kind for i in items) for b, items in tasks.items.items()}
    assert kinds == {"overdue": ["deadline"], "today": ["target"], "week": ["follow_up"]}
    assert tasks.counts == {"overdue": 1, "today": 1, "week": 1}
    assert {i.reference for items in tasks.items.values() for i in items} == {case.reference}

    nurse = my_tasks(w["nurse"])
    (item,) = nurse.items["overdue"]
    assert (item.kind, item.referral_id) == ("referral", made["referrals"][0].id)
    assert item.case_id is None  # the receiver opens the referral, not the case
    assert nurse.counts == {"overdue": 1, "today": 0, "week": 0}


def test_far_and_finished_things_are_left_out(world):
    w = world
    manager, today = w["manager"], jakarta_today()
    case = create_case(w["uptd"], actor=manager, case_manager=manager)
    for d in db.session.query(Deadline).filter_by(case_id=case.id):
        d.due_at = utcnow() + 30 * DAY  # not this week
    later = ops.schedule_follow_up(case, actor=manager, due_on=today + 7 * DAY)
    done = ops.schedule_follow_up(case, actor=manager, due_on=today)
    ops.complete_follow_up(done, actor=manager)
    referral_to(w, answer_in=10 * DAY)
    db.session.flush()
    assert later.is_open
    assert task_counts(manager) == {"overdue": 0, "today": 0, "week": 0}
    assert task_counts(w["nurse"]) == {"overdue": 0, "today": 0, "week": 0}


def test_the_page_and_the_home_counters_show_the_same_counts(client: FlaskClient, world):
    w = world
    fill(w)
    login_as(client, w["manager"])
    page = client.get("/tugas").get_data(as_text=True)
    home = client.get("/beranda").get_data(as_text=True)
    for html in (page, home):
        assert 'data-count="overdue">1<' in html
        assert 'data-count="today">1<' in html
        assert 'data-count="week">1<' in html
    assert page.count('class="card h-100 task-card"') == 3
    assert "Tugas saya" in page


@pytest.mark.parametrize("role", [Role.ANALIS_DATA, Role.PIMPINAN, Role.ADMIN])
def test_a_user_without_case_work_sees_an_empty_list_and_no_counters(
    client: FlaskClient, world, role
):
    fill(world)
    login_as(client, UserFactory(roles=[(role, world["uptd"])]))
    page = client.get("/tugas")
    assert page.status_code == 200
    assert 'class="card h-100 task-card"' not in page.get_data(as_text=True)
    assert 'id="home-task-counts"' not in client.get("/beranda").get_data(as_text=True)


def test_another_manager_and_another_agency_see_none_of_it(client: FlaskClient, world):
    w = world
    made = fill(w)
    reference = made["cases"][0].reference
    for user in (
        staff(w["uptd"], Role.MANAJER_KASUS),
        staff(AgencyFactory(), Role.SUPERVISOR),
        UserFactory(roles=[(Role.PETUGAS_LAYANAN, AgencyFactory())]),
    ):
        login_as(client, user)
        assert reference not in client.get("/tugas").get_data(as_text=True)
        assert task_counts(user) == {"overdue": 0, "today": 0, "week": 0}


def statements(client: FlaskClient, url: str) -> int:
    client.get(url)
    with count_statements() as counted:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(counted.own)


@pytest.mark.parametrize("who", ["manager", "nurse"])
def test_the_page_and_the_home_page_do_not_grow_with_the_tasks(client: FlaskClient, world, who):
    w = world
    fill(w)
    login_as(client, w[who])
    few_page, few_home = statements(client, "/tugas"), statements(client, "/beranda")
    fill(w, 6)
    many_page, many_home = statements(client, "/tugas"), statements(client, "/beranda")
    assert many_page == few_page and many_page <= 8, (few_page, many_page)
    assert many_home == few_home and many_home <= 7, (few_home, many_home)
    assert my_tasks(w[who]).counts["overdue"] == 7
