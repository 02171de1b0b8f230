import datetime as dt

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.core.enums import Role
from app.core.errors import DomainError
from app.deadlines.operations import (
    deadlines_for_registration,
    effective_rule,
    meet_deadline,
    open_deadline,
    set_agency_override,
)
from app.deadlines.queries import deadlines_for
from app.deadlines.rules import DeadlineCode
from app.deadlines.tasks import ESCALATION_GRACE, check_overdue
from app.extensions import db
from app.notifications.models import Notification
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case as register


def create_case(agency, **kwargs):
    """A registered case without the clocks its registration started, so that each test here
    starts its own."""
    from app.deadlines.models import Deadline

    case = register(agency, **kwargs)
    for deadline in db.session.scalars(sa.select(Deadline).where(Deadline.case_id == case.id)):
        db.session.delete(deadline)
    db.session.flush()
    return case


START = dt.datetime(2025, 3, 14, 2, 30, tzinfo=dt.UTC)  # Friday 09:30 WIB
HOUR = dt.timedelta(hours=1)


def notes(user, kind=None):
    """The user's deadline notifications (registration sends others of its own)."""
    query = sa.select(Notification).where(
        Notification.user_id == user.id, Notification.kind.like("deadline_%")
    )
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query))


# --- agency overrides ---------------------------------------------------------------------------


def test_stricter_override_is_accepted_and_applies(agency, supervisor):
    rule = set_agency_override(agency, "first_response_sedang", 4, actor=supervisor)
    assert rule.reason is None
    effective = effective_rule("first_response_sedang", agency)
    assert (effective.limit, effective.agency_id) == (4, agency.id)
    assert effective_rule("first_response_sedang", AgencyFactory()).limit == 6
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "deadline_rule.set"))
    assert entry.changes["limit"] == [None, 4]
    set_agency_override(agency, "first_response_sedang", 6, actor=supervisor)  # equal: fine
    assert effective_rule("first_response_sedang", agency).limit == 6


def test_looser_override_is_refused_for_a_non_admin(agency, supervisor):
    with pytest.raises(DomainError):
        set_agency_override(agency, "first_response_sedang", 8, actor=supervisor, reason="jauh")
    assert effective_rule("first_response_sedang", agency).limit == 6


def test_looser_override_needs_an_admin_and_a_reason(agency):
    admin = UserFactory(roles=[(Role.ADMIN, agency)])
    with pytest.raises(DomainError) as refused:
        set_agency_override(agency, "referral_response", 3, actor=admin)
    assert refused.value.field == "reason"
    with pytest.raises(DomainError):
        set_agency_override(agency, "referral_response", 3, actor=admin, reason="   ")
    set_agency_override(
        agency, "referral_response", 3, actor=admin, reason="Wilayah kepulauan, akses terbatas"
    )
    rule = effective_rule("referral_response", agency)
    assert (rule.limit, rule.reason) == (3, "Wilayah kepulauan, akses terbatas")


def test_unknown_code_and_non_positive_limit_are_refused(agency, supervisor):
    with pytest.raises(DomainError):
        set_agency_override(agency, "nope", 1, actor=supervisor)
    with pytest.raises(DomainError):
        set_agency_override(agency, "breach_notice", 0, actor=supervisor)


# --- registration deadlines ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("risk", "code", "hours"),
    [
        ("tinggi", DeadlineCode.FIRST_RESPONSE_TINGGI, 1),
        ("sedang", DeadlineCode.FIRST_RESPONSE_SEDANG, 6),
        ("rendah", DeadlineCode.FIRST_RESPONSE_RENDAH, 24),
    ],
)
def test_registration_opens_the_first_response_by_risk(agency, manager, risk, code, hours):
    case = create_case(agency, risk=risk, case_manager=manager)
    db.session.flush()
    made = deadlines_for_registration(case, at=START)
    assert [(d.code, d.due_at) for d in made] == [(code, START + hours * HOUR)]
    assert made[0].responsible_user_id == manager.id
    assert made[0].responsible_agency_id == agency.id
    assert deadlines_for_registration(case, at=START) == []  # idempotent


def test_tpks_case_also_gets_the_police_report_deadline(agency):
    case = create_case(agency, risk="tinggi", case_types=["tpks"])
    made = deadlines_for_registration(case, at=START)
    assert {d.code: d.due_at for d in made} == {
        DeadlineCode.FIRST_RESPONSE_TINGGI: START + HOUR,
        DeadlineCode.POLICE_REPORT_TPKS: START + 72 * HOUR,
    }
    assert all(d.responsible_user_id is None for d in made)


def test_registration_uses_the_agency_standard(agency, supervisor):
    set_agency_override(agency, "first_response_rendah", 12, actor=supervisor)
    case = create_case(agency, risk="rendah")
    (deadline,) = deadlines_for_registration(case, at=START)
    assert deadline.due_at == START + 12 * HOUR


# --- meeting and the CHECK ----------------------------------------------------------------------


def test_meet_in_time_and_late(agency):
    case = create_case(agency)
    on_time = open_deadline("breach_notice", case=case, start=START, agency=agency)
    meet_deadline(on_time, START + HOUR)
    assert (on_time.met_at, on_time.missed_at) == (START + HOUR, None)
    meet_deadline(on_time, START + 2 * HOUR)  # again: nothing changes
    assert on_time.completed_at == START + HOUR

    late = open_deadline("first_response_tinggi", case=case, start=START, agency=agency)
    meet_deadline(late, START + 3 * HOUR)
    assert (late.met_at, late.missed_at, late.completed_at) == (
        None,
        START + HOUR,
        START + 3 * HOUR,
    )


def test_database_refuses_met_and_missed_together(agency):
    case = create_case(agency)
    deadline = open_deadline("breach_notice", case=case, start=START, agency=agency)
    deadline.completed_at = deadline.met_at = deadline.missed_at = START
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.flush()


# --- the periodic check -------------------------------------------------------------------------


def test_check_marks_missed_and_notifies_the_responsible_user_once(agency, manager, supervisor):
    case = create_case(agency, risk="tinggi", case_manager=manager)
    (deadline,) = deadlines_for_registration(case, at=START)
    assert check_overdue.run(now=START + 30 * dt.timedelta(minutes=1)) == {
        "missed": 0,
        "escalated": 0,
    }
    assert deadline.missed_at is None

    later = START + 2 * HOUR
    assert check_overdue.run(now=later)["missed"] == 1
    assert check_overdue.run(now=later + HOUR)["missed"] == 0
    assert (deadline.missed_at, deadline.notified_at) == (deadline.due_at, later)
    (note,) = notes(manager)
    assert (note.kind, note.case_id, note.reference) == ("deadline_missed", case.id, case.reference)
    assert notes(supervisor) == []


def test_without_a_responsible_user_the_supervisors_are_notified(agency, supervisor):
    case = create_case(agency, risk="sedang")
    deadlines_for_registration(case, at=START)
    check_overdue(now=START + 7 * HOUR)
    assert [n.kind for n in notes(supervisor)] == ["deadline_missed"]


def test_escalates_once_after_the_grace_period(agency, manager, supervisor):
    case = create_case(agency, risk="tinggi", case_manager=manager)
    (deadline,) = deadlines_for_registration(case, at=START)
    check_overdue.run(now=START + 2 * HOUR)
    just_before = deadline.due_at + ESCALATION_GRACE - dt.timedelta(seconds=1)
    assert check_overdue.run(now=just_before)["escalated"] == 0
    assert deadline.escalated_at is None

    after = deadline.due_at + ESCALATION_GRACE
    assert check_overdue.run(now=after)["escalated"] == 1
    assert check_overdue.run(now=after + 5 * HOUR) == {"missed": 0, "escalated": 0}
    assert deadline.escalated_at == after
    assert [n.kind for n in notes(supervisor)] == ["deadline_escalated"]
    assert [n.kind for n in notes(manager)] == ["deadline_missed"]


def test_a_met_deadline_is_never_notified(agency, manager, supervisor):
    case = create_case(agency, risk="tinggi", case_manager=manager)
    (deadline,) = deadlines_for_registration(case, at=START)
    meet_deadline(deadline, START + dt.timedelta(minutes=20))
    check_overdue.run(now=START + 48 * HOUR)
    assert (deadline.missed_at, deadline.notified_at, deadline.escalated_at) == (None, None, None)
    assert notes(manager) == [] and notes(supervisor) == []


def test_a_late_completion_is_not_chased(agency, manager, supervisor):
    case = create_case(agency, risk="tinggi", case_manager=manager)
    (deadline,) = deadlines_for_registration(case, at=START)
    meet_deadline(deadline, START + 2 * HOUR)  # before the check ran
    check_overdue.run(now=START + 48 * HOUR)
    assert deadline.missed_at == deadline.due_at
    assert (deadline.notified_at, deadline.escalated_at) == (None, None)
    assert notes(manager) == [] and notes(supervisor) == []


def test_task_is_registered_by_name_and_scheduled(app):
    from app.extensions import celery

    assert "deadlines.check_overdue" in celery.tasks
    entry = celery.conf.beat_schedule["deadlines.check_overdue"]
    assert entry["task"] == "deadlines.check_overdue"
    assert entry["schedule"] == dt.timedelta(minutes=5)


def test_check_accepts_an_iso_time_as_sent_by_celery(agency, manager):
    case = create_case(agency, risk="tinggi", case_manager=manager)
    deadlines_for_registration(case, at=START)
    assert check_overdue.run(now=(START + 2 * HOUR).isoformat())["missed"] == 1


# --- "Tenggat saya" -----------------------------------------------------------------------------


def test_my_deadlines_overdue_first_then_by_due_time(agency, manager, supervisor):
    now = dt.datetime.now(dt.UTC)
    case = create_case(agency, case_manager=manager)
    other = AgencyFactory()
    soon = open_deadline(
        "breach_notice", case=case, start=now, agency=agency, responsible_user=manager
    )
    overdue = open_deadline(
        "first_response_tinggi",
        case=case,
        start=now - 3 * HOUR,
        agency=agency,
        responsible_user=manager,
    )
    later = open_deadline("shelter_decision", case=case, start=now, agency=agency)
    done = open_deadline(
        "first_response_sedang", case=case, start=now, agency=agency, responsible_user=manager
    )
    meet_deadline(done, now)
    elsewhere = open_deadline("breach_notice", case=case, start=now, agency=other)

    assert deadlines_for(manager) == [overdue, soon]
    assert overdue.is_overdue(now) and not soon.is_overdue(now)
    assert deadlines_for(supervisor) == [overdue, soon, later]
    assert elsewhere not in deadlines_for(supervisor)
    assert deadlines_for(UserFactory()) == []


def test_registration_starts_the_clocks_and_the_first_step_meets_the_first_response():
    from app.deadlines.models import Deadline
    from app.workflow.operations import apply_case_event

    agency = AgencyFactory()
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    case = register(agency, risk="tinggi", case_types=["ktp", "tpks"], case_manager=manager)
    codes = {
        d.code for d in db.session.scalars(sa.select(Deadline).where(Deadline.case_id == case.id))
    }
    assert codes == {DeadlineCode.FIRST_RESPONSE_TINGGI, DeadlineCode.POLICE_REPORT_TPKS}
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    first = db.session.scalar(
        sa.select(Deadline).where(
            Deadline.case_id == case.id, Deadline.code == DeadlineCode.FIRST_RESPONSE_TINGGI
        )
    )
    police = db.session.scalar(
        sa.select(Deadline).where(
            Deadline.case_id == case.id, Deadline.code == DeadlineCode.POLICE_REPORT_TPKS
        )
    )
    assert first.met_at is not None and police.completed_at is None


def test_imported_history_starts_no_clocks():
    from app.audit.operations import SystemActor
    from app.deadlines.models import Deadline
    from app.workflow import registration
    from tests.factories.cases import make_intake

    case = registration.register_case(
        make_intake(), agency=AgencyFactory(), actor=SystemActor("import"), transition_kind="import"
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Deadline).where(Deadline.case_id == case.id)
        )
        == 0
    )


def test_my_deadlines_on_the_home_page(client):
    from tests.fixtures import login_as

    agency = AgencyFactory()
    boss = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    case = register(agency, risk="sedang")
    login_as(client, boss)
    page = client.get("/beranda").get_data(as_text=True)
    assert case.reference in page
    assert "Respons pertama (risiko sedang)" in page
