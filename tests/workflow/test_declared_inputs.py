"""What a step asks for is declared on its Transition and checked by the engine, whoever calls it
(a CLI, a task, a new view); the panel is built from the same declarations and says truthfully
who may take each step."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.operations import SystemActor
from app.auth.models import User
from app.cases.models import Case
from app.casework.panel import build_panel
from app.core.enums import CaseState, Role, ServiceType
from app.core.errors import DomainError
from app.extensions import db
from app.workflow import engine
from app.workflow.models import CaseTransition
from app.workflow.operations import TransitionRefused
from app.workflow.registration import register_case
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case, make_intake
from tests.fixtures import staff
from workflows import definition, ktpa_v1


@pytest.fixture
def agency():
    return AgencyFactory(services=[ServiceType.PENDAMPINGAN])


@pytest.fixture
def manager(agency):
    return UserFactory(roles=[(Role.MANAJER_KASUS, agency)], name="Sari")


@pytest.fixture
def supervisor(agency):
    return UserFactory(roles=[(Role.SUPERVISOR, agency)])


def _refused(expected: str, case, event: str, **inputs) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as info:
        engine.apply(
            case,
            event,
            actor=SystemActor("cli"),
            inputs=engine.Inputs(**inputs),
            expected_version=case.version,
        )
    assert info.value.reason == expected
    return info.value


def test_a_direct_engine_call_without_note_approval_or_closure_data_is_refused(agency, manager):
    case = create_case(agency, actor=manager, risk="tinggi")
    cli = SystemActor("cli")
    for event in ("start_identification", "start_emergency"):
        engine.apply(case, event, actor=cli, expected_version=case.version)
    # the note of what was done, then the confirmation (even the system must give them)
    error = _refused(definition.NOTE_REQUIRED, case, "start_assessment")
    assert error.field == "reason"
    error = _refused(definition.APPROVAL_REQUIRED, case, "start_assessment", reason="aman")
    assert error.field == "approve"
    # closing: a reason, then the closure kind, then the case a duplicate duplicates
    _refused(definition.REASON_REQUIRED, case, "close")
    _refused(ktpa_v1.CLOSURE_KIND_MISSING, case, "close", reason="ganda", data={"closure": "x"})
    _refused(ktpa_v1.DUPLICATE_MISSING, case, "close", reason="ganda", data={"closure": "duplikat"})
    error = _refused(
        ktpa_v1.DUPLICATE_MISSING,
        case,
        "close",
        reason="ganda",
        data={"closure": "duplikat", "duplicate_of": "NO-SUCH-REFERENCE"},
    )
    assert error.field == "duplicate_of"
    assert case.state is CaseState.KEDARURATAN
    assert db.session.query(CaseTransition).filter_by(case_id=case.id, event="close").count() == 0


def test_a_duplicate_must_be_a_case_the_actor_can_see(agency, manager, supervisor):
    other_agency = AgencyFactory(services=[ServiceType.PENDAMPINGAN])
    elsewhere = create_case(other_agency)
    original = create_case(agency, actor=manager)
    case = create_case(agency, actor=manager)
    with pytest.raises(TransitionRefused) as info:
        engine.apply(
            case,
            "close",
            actor=supervisor,
            inputs=engine.Inputs(
                reason="ganda", data={"closure": "duplikat", "duplicate_of": elsewhere.reference}
            ),
            expected_version=case.version,
        )
    assert info.value.reason == ktpa_v1.DUPLICATE_MISSING
    step = engine.apply(
        case,
        "close",
        actor=supervisor,
        inputs=engine.Inputs(
            reason="ganda", data={"closure": "duplikat", "duplicate_of": original.reference}
        ),
        expected_version=case.version,
    )
    assert step.row.data == {"closure": "duplikat", "duplicate_of": original.id}
    assert case.duplicate_of_id == original.id


def _action(user, case, event: str):
    return next(a for a in build_panel(user, case).actions if a.event == event)


def test_the_panel_tells_who_takes_each_step(agency, manager, supervisor):
    case = create_case(agency, actor=manager, case_manager=manager)
    # (the default locale is Indonesian)
    # the case manager herself: her step is hers ("you"), the supervisor's is a supervisor's
    mine = _action(manager, case, "start_identification")
    assert mine.allowed and str(mine.taken_by) == "Anda"
    close = _action(manager, case, "close")
    assert not close.allowed and str(close.taken_by) == "supervisor"
    # someone else (another case manager of the agency): the case manager is named
    colleague = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    theirs = _action(colleague, case, "start_identification")
    assert not theirs.allowed
    assert str(theirs.taken_by) == "manajer kasus (Sari) atau supervisor"


def test_the_panel_asks_what_the_definition_declares(agency, manager):
    case = create_case(agency, actor=manager, risk="tinggi", case_manager=manager)
    for event in ("start_identification", "start_emergency"):
        engine.apply(case, event, actor=manager, expected_version=case.version)
    step = _action(manager, case, "start_assessment")
    assert step.asks_note and step.approval == "emergency_handled"
    assert step.blocked == []  # the note and the tick are asked on the form, not "missing"


@pytest.mark.parametrize("draft", [False, True])
def test_registering_for_an_agency_where_one_takes_no_complaints_is_refused(agency, draft):
    """The operation itself checks who may register where, not only the intake form's list of
    agencies: a service worker of the agency, or a case manager of another one, is refused on the
    agency field and nothing is written."""
    other = AgencyFactory()
    for outsider in (staff(agency, Role.PETUGAS_LAYANAN), staff(other, Role.MANAJER_KASUS)):
        assert isinstance(outsider, User)
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Case))
        with pytest.raises(DomainError) as refused:
            register_case(make_intake(), agency=agency, actor=outsider, draft=draft)
        assert refused.value.field == "agency"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == before
    intake_officer = staff(agency, Role.PETUGAS_PENGADUAN)
    case = register_case(make_intake(), agency=agency, actor=intake_officer, draft=draft)
    assert case.agency_id == agency.id
