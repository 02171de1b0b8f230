"""The receiving agency's answer to a referral is due in 2 working days: missed, its staff are
told; still missed after the grace period, the supervisors of both agencies and the Sub GT's
coordinators hear of it — those outside the case's agency never get a link to the case."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.agencies.models import SubTaskForceMember
from app.cases.intake import ConsentData
from app.cases.operations import add_consent
from app.core.db import utcnow
from app.core.enums import Role, ServiceType, SubTaskForceKey
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.deadlines.tasks import ESCALATION_GRACE, check_overdue
from app.extensions import db
from app.notifications.models import Notification
from app.referrals.operations import Sharing, accept_referral, save_referral
from app.workflow.operations import apply_case_event
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, TaskForceFactory, UserFactory
from tests.factories.cases import create_case


@pytest.fixture
def sent():
    uptd = AgencyFactory(services=[ServiceType.PENGADUAN])
    rsud = AgencyFactory(services=[ServiceType.REHABILITASI_KESEHATAN])
    task_force = TaskForceFactory()
    health = next(
        s for s in task_force.sub_task_forces if s.key is SubTaskForceKey.REHABILITASI_KESEHATAN
    )
    legal = next(s for s in task_force.sub_task_forces if s.key is SubTaskForceKey.PENEGAKAN_HUKUM)
    for sub, agency in ((health, rsud), (legal, rsud)):
        db.session.add(SubTaskForceMember(sub_task_force=sub, agency=agency))
    people = {
        "manager": UserFactory(roles=[(Role.MANAJER_KASUS, uptd)]),
        "uptd_supervisor": UserFactory(roles=[(Role.SUPERVISOR, uptd)]),
        "nurse": UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)]),
        "rsud_supervisor": UserFactory(roles=[(Role.SUPERVISOR, rsud)]),
        "health_coordinator": UserFactory(roles=[(Role.KOORDINATOR_SUBGT, health)]),
        "legal_coordinator": UserFactory(roles=[(Role.KOORDINATOR_SUBGT, legal)]),
    }
    case = create_case(uptd, actor=people["manager"], case_manager=people["manager"])
    apply_case_event(
        case.id, "start_identification", actor=people["manager"], expected_version=case.version
    )  # answered
    assert db.session.scalars(select(Deadline).where(Deadline.completed_at.is_(None))).all() == []
    victim = case.victims[0]
    add_consent(
        victim,
        ConsentData(
            purpose=f"rujukan:{rsud.code}", decision="setuju", given_by="korban", at=utcnow()
        ),
        actor=people["manager"],
    )
    track = create_track(
        case, victim, "rehabilitasi_kesehatan", provider=rsud, actor=people["manager"]
    )
    referral = save_referral(
        track.id,
        to_agency=rsud,
        sharing=Sharing(),
        message=None,
        actor=people["manager"],
        send=True,
        expected_version=track.version,
    )
    deadline = db.session.scalars(
        select(Deadline).where(Deadline.code == DeadlineCode.REFERRAL_RESPONSE)
    ).one()
    return {**people, "case": case, "referral": referral, "deadline": deadline}


def notes_of(user):
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def test_a_missed_answer_tells_the_receiving_staff_then_escalates_once(sent):
    s = sent
    deadline, referral, case = s["deadline"], s["referral"], s["case"]
    for user in s.values():
        if hasattr(user, "grants"):
            db.session.execute(
                Notification.__table__.delete().where(Notification.user_id == user.id)
            )

    result = check_overdue(deadline.due_at + dt.timedelta(minutes=1))
    assert result == {"missed": 1, "escalated": 0}
    (told,) = notes_of(s["nurse"])
    assert told.kind == "deadline_missed"
    assert told.case_id is None  # the hospital cannot open the case
    assert told.key == f"referral:{referral.id}:deadline:{deadline.id}:deadline_missed"
    assert told.reference == case.reference

    later = deadline.due_at + ESCALATION_GRACE + dt.timedelta(minutes=1)
    assert check_overdue(later) == {"missed": 0, "escalated": 1}
    assert check_overdue(later) == {"missed": 0, "escalated": 0}  # once
    (sender_side,) = [n for n in notes_of(s["uptd_supervisor"]) if n.kind == "deadline_escalated"]
    assert sender_side.case_id == case.id
    (receiver_side,) = notes_of(s["rsud_supervisor"])
    assert receiver_side.case_id is None and receiver_side.key.startswith("referral:")
    (coordinator,) = notes_of(s["health_coordinator"])
    assert coordinator.case_id is None and coordinator.key.startswith("subgt:")
    assert notes_of(s["legal_coordinator"]) == []  # not their Sub GT's service


def test_an_answer_in_time_stops_the_clock(sent):
    s = sent
    accept_referral(s["referral"].id, actor=s["nurse"], expected_version=s["referral"].version)
    assert s["deadline"].met_at is not None
    assert check_overdue(s["deadline"].due_at + dt.timedelta(days=3)) == {
        "missed": 0,
        "escalated": 0,
    }
