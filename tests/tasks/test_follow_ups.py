"""Follow-ups: set on a case or a track by whoever works on it, done or cancelled by its owner,
audited; reminded once on the day, in-app and by e-mail without the note; need-to-know per role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.audit.models import AuditEntry
from app.core.enums import Role, ServiceType
from app.core.errors import DomainError
from app.extensions import db
from app.notifications.mail import clear_outbox, outbox
from app.notifications.models import Notification
from app.notifications.tasks import send_email
from app.tasks import operations as ops
from app.tasks.calendar import JAKARTA, jakarta_today
from app.tasks.models import FollowUp
from app.tasks.tasks import remind_follow_ups
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as, staff

NOTE = "Telepon ibu Sari Wulandari di 0812-5555-0101"


@pytest.fixture(autouse=True)
def no_tasks(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions, "simpul_dispatch", lambda name, args, kwargs: None)


@pytest.fixture
def mailbox(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "memory")
    clear_outbox()
    yield outbox
    clear_outbox()


def at_jakarta(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=JAKARTA).astimezone(dt.UTC)


def entries(action: str, follow_up: FollowUp) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(
                AuditEntry.action == action, AuditEntry.object_id == str(follow_up.id)
            )
        )
    )


# --- operations --------------------------------------------------------------------------------


def test_a_follow_up_on_a_track_is_set_done_and_audited(agency, manager):
    case = create_case(agency, case_manager=manager)
    track = create_track(
        case, case.victims[0], ServiceType.BANTUAN_HUKUM, provider=None, actor=manager
    )
    today = jakarta_today()
    follow_up = ops.schedule_follow_up(
        case, actor=manager, due_on=today, note=f"  {NOTE} ", track_id=track.id
    )
    assert (follow_up.user_id, follow_up.track_id, follow_up.note) == (manager.id, track.id, NOTE)
    (entry,) = entries("follow_up.schedule", follow_up)
    assert NOTE not in str(entry.changes)  # the note stays in its encrypted column
    ops.complete_follow_up(follow_up, actor=manager, version=follow_up.version)
    assert follow_up.done_at is not None and not follow_up.is_open
    assert len(entries("follow_up.done", follow_up)) == 1
    with pytest.raises(DomainError):
        ops.cancel_follow_up(follow_up, actor=manager)  # done is final
    assert db.session.get(FollowUp, follow_up.id) is not None  # never deleted


@pytest.mark.parametrize(
    ("due", "fields", "field"),
    [
        (None, {}, "due_on"),  # no day
        (-1, {}, "due_on"),  # in the past
        (400, {}, "due_on"),  # more than a year ahead
        (0, {"note": "x" * 201}, "note"),  # a note over 200 characters
    ],
)
def test_bad_input_is_refused_with_nothing_written(agency, manager, due, fields, field):
    case = create_case(agency, case_manager=manager)
    day = None if due is None else jakarta_today() + dt.timedelta(days=due)
    with pytest.raises(DomainError) as refused:
        ops.schedule_follow_up(case, actor=manager, due_on=day, **fields)
    assert refused.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(FollowUp.id))) == 0


def test_a_track_of_another_case_is_refused(agency, manager):
    case = create_case(agency, case_manager=manager)
    other = create_case(agency, case_manager=manager)
    track = create_track(
        other, other.victims[0], ServiceType.BANTUAN_HUKUM, provider=None, actor=manager
    )
    with pytest.raises(DomainError) as refused:
        ops.schedule_follow_up(case, actor=manager, due_on=jakarta_today(), track_id=track.id)
    assert refused.value.field == "track_id"


def test_only_the_owner_finishes_or_cancels_and_a_stale_form_is_refused(agency, manager):
    supervisor = staff(agency, Role.SUPERVISOR)
    case = create_case(agency, case_manager=manager)
    follow_up = ops.schedule_follow_up(case, actor=manager, due_on=jakarta_today())
    with pytest.raises(DomainError):
        ops.complete_follow_up(follow_up, actor=supervisor)
    with pytest.raises(DomainError):
        ops.cancel_follow_up(follow_up, actor=manager, version=follow_up.version + 1)
    ops.cancel_follow_up(follow_up, actor=manager, version=follow_up.version)
    assert follow_up.cancelled_at is not None
    assert len(entries("follow_up.cancel", follow_up)) == 1


# --- reminders ---------------------------------------------------------------------------------


def test_a_follow_up_is_reminded_once_on_its_day_and_the_email_carries_no_note(
    agency, manager, mailbox
):
    case = create_case(agency, case_manager=manager)
    today = jakarta_today()
    tomorrow = today + dt.timedelta(days=1)
    due_today = ops.schedule_follow_up(case, actor=manager, due_on=today, note=NOTE)
    later = ops.schedule_follow_up(case, actor=manager, due_on=tomorrow, note=NOTE)

    assert remind_follow_ups.run(now=at_jakarta(today, 6).isoformat()) == {"reminded": 0}
    assert remind_follow_ups.run(now=at_jakarta(today, 7).isoformat()) == {"reminded": 1}
    assert remind_follow_ups.run(now=at_jakarta(today, 8).isoformat()) == {"reminded": 0}
    assert due_today.reminded_at is not None and later.reminded_at is None

    (note,) = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == manager.id)
    ).all()
    assert (note.kind, note.case_id, note.key) == (
        "follow_up_due",
        case.id,
        f"follow_up:{due_today.id}",
    )
    assert send_email.run(note.id) is True
    (message,) = mailbox()
    text = message.get_content() + str(message["Subject"])
    assert case.reference in text and f"/kasus/{case.id}" in text
    for secret in (NOTE, "Sari", "0812", case.victims[0].name):
        assert secret not in text

    assert remind_follow_ups.run(now=at_jakarta(tomorrow, 9).isoformat()) == {"reminded": 1}
    assert later.reminded_at is not None


def test_a_done_follow_up_or_one_on_a_case_the_user_lost_is_not_reminded(agency, manager):
    other_manager = staff(agency, Role.MANAJER_KASUS)
    case = create_case(agency, case_manager=manager)
    today = jakarta_today()
    done = ops.schedule_follow_up(case, actor=manager, due_on=today)
    ops.complete_follow_up(done, actor=manager)
    lost = ops.schedule_follow_up(case, actor=manager, due_on=today)
    case.case_manager_id = other_manager.id  # reassigned: the manager no longer sees the case
    db.session.flush()
    assert remind_follow_ups.run(now=at_jakarta(today, 10).isoformat()) == {"reminded": 0}
    assert lost.reminded_at is not None  # stamped all the same: not tried again and again
    assert done.reminded_at is None
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0


def test_the_reminder_runs_by_hand_and_on_the_schedule_list(app: Flask):
    from app.core.schedule import REGISTRY

    assert REGISTRY["tasks.remind_follow_ups"].task == "tasks.remind_follow_ups"
    result = app.test_cli_runner().invoke(args=["tasks", "remind"])
    assert result.exit_code == 0, result.output
    assert "reminded 0" in result.output


# --- views and need-to-know --------------------------------------------------------------------


def _post_follow_up(client: FlaskClient, case_id: int, **data: str) -> Any:
    return client.post(f"/kasus/{case_id}/tindak-lanjut", data=data)


def test_the_case_page_sets_a_follow_up_and_refuses_bad_input_in_indonesian(
    client: FlaskClient, agency, manager
):
    case = create_case(agency, case_manager=manager)
    login_as(client, manager)
    page = client.get(f"/kasus/{case.id}").get_data(as_text=True)
    assert 'id="tindak-lanjut"' in page
    yesterday = (jakarta_today() - dt.timedelta(days=1)).isoformat()
    refused = _post_follow_up(client, case.id, due_on=yesterday, note="x")
    assert refused.status_code == 422
    assert "tidak boleh di masa lalu" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(FollowUp.id))) == 0
    today = jakarta_today().isoformat()
    done = _post_follow_up(client, case.id, due_on=today, note="cek visum")
    assert done.status_code == 302 and done.headers["Location"].endswith("#tindak-lanjut")
    (follow_up,) = db.session.scalars(sa.select(FollowUp)).all()
    assert (follow_up.case_id, follow_up.user_id) == (case.id, manager.id)
    assert follow_up.note == "cek visum"


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        (Role.MANAJER_KASUS, True),  # the case's own manager
        (Role.SUPERVISOR, True),  # a supervisor of the case's agency
        ("other_manager", False),  # another manager of the same agency
        ("other_agency", False),  # a supervisor of another agency
        (Role.PETUGAS_LAYANAN, False),
        (Role.ANALIS_DATA, False),
    ],
)
def test_who_may_set_a_follow_up_per_role(client: FlaskClient, agency, manager, role, sees):
    case = create_case(agency, case_manager=manager)
    if role == Role.MANAJER_KASUS:
        user = manager
    elif role == "other_manager":
        user = staff(agency, Role.MANAJER_KASUS)
    elif role == "other_agency":
        user = staff(AgencyFactory(), Role.SUPERVISOR)
    else:
        user = staff(agency, role)
    login_as(client, user)
    response = _post_follow_up(client, case.id, due_on=jakarta_today().isoformat())
    if sees:
        assert response.status_code == 302
    else:
        assert response.status_code in (403, 404)
        if role in ("other_manager", "other_agency"):
            assert response.status_code == 404  # the case's existence is not revealed
        assert db.session.scalar(sa.select(sa.func.count(FollowUp.id))) == 0


def test_only_the_owner_sees_and_finishes_a_follow_up_and_a_lost_case_drops_it(
    client: FlaskClient, agency, manager
):
    case = create_case(agency, case_manager=manager)
    follow_up = ops.schedule_follow_up(case, actor=manager, due_on=jakarta_today(), note=NOTE)
    supervisor = staff(agency, Role.SUPERVISOR)
    login_as(client, supervisor)
    assert NOTE not in client.get("/tugas").get_data(as_text=True)
    post = {"version": str(follow_up.version)}
    assert client.post(f"/tindak-lanjut/{follow_up.id}/selesai", data=post).status_code == 404

    login_as(client, manager)
    page = client.get("/tugas").get_data(as_text=True)
    assert NOTE in page and case.reference in page

    case.case_manager_id = staff(agency, Role.MANAJER_KASUS).id  # reassigned
    db.session.flush()
    page = client.get("/tugas").get_data(as_text=True)
    assert NOTE not in page and case.reference not in page
    assert client.post(f"/tindak-lanjut/{follow_up.id}/batal", data=post).status_code == 404
    assert follow_up.is_open


def test_done_from_my_tasks(client: FlaskClient, agency, manager):
    case = create_case(agency, case_manager=manager)
    follow_up = ops.schedule_follow_up(case, actor=manager, due_on=jakarta_today())
    login_as(client, manager)
    response = client.post(
        f"/tindak-lanjut/{follow_up.id}/selesai", data={"version": str(follow_up.version)}
    )
    assert response.status_code == 302
    assert follow_up.done_at is not None
