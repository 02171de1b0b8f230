"""Saving the biopsikososial assessment: drafts, completion rules, the case's completion time,
who may assess, versions and the audit trail."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from app.assessments.models import Assessment
from app.assessments.operations import TEXT_LIMIT, FindingData, save_assessment
from app.audit.models import AuditEntry
from app.cases.intake import ConsentData, VictimData
from app.cases.models import Case
from app.cases.operations import ConflictError
from app.core.enums import AssessmentArea, CaseState, NeedLevel, Role
from app.core.errors import DomainError
from app.extensions import db
from app.workflow.operations import apply_case_event
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case

AREAS = list(AssessmentArea)


def victim(name: str, sex: str = "P") -> VictimData:
    return VictimData(
        sex=sex,
        name=name,
        birth_date=dt.date(1990, 1, 1),
        violence_types=["fisik"],
        consents=[
            ConsentData(purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED)
        ],
    )


def case_in_assessment(agency: Any, manager: Any, **intake: Any) -> Case:
    case = create_case(agency, actor=manager, case_manager=manager, **intake)
    db.session.flush()
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    apply_case_event(case.id, "start_assessment", actor=manager, expected_version=case.version)
    assert case.state is CaseState.ASESMEN
    return case


def full_findings(level: str = "rendah", needs: str | None = None) -> list[FindingData]:
    return [FindingData(area=a, level=level, needs=needs, risks=None) for a in AREAS]


def complete(case: Case, v: Any, actor: Any, **kwargs: Any) -> Assessment:
    return save_assessment(
        case, v, full_findings(), "Ringkasan asesmen", complete=True, actor=actor, **kwargs
    )


def domain_error(call: Any, /, *args: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    return info.value


# --- drafts and completion ------------------------------------------------------------------


def test_a_draft_assessment_is_saved_without_completing(agency, manager):
    case = case_in_assessment(agency, manager)
    v = case.victims[0]
    findings = [
        FindingData(area=AssessmentArea.FISIK, level="tinggi", needs=None, risks="Luka memar"),
        FindingData(area=AssessmentArea.PSIKOLOGIS, level=None, needs="  Konseling  "),
    ]
    assessment = save_assessment(case, v, findings, None, complete=False, actor=manager)

    assert assessment.id is not None
    assert (assessment.case_id, assessment.victim_id) == (case.id, v.id)
    assert assessment.completed_at is None and assessment.completed_by_id is None
    assert assessment.updated_by_id == manager.id
    assert assessment.summary is None
    assert len(assessment.findings) == len(AREAS)  # one finding per area, even empty ones
    fisik = assessment.finding(AssessmentArea.FISIK)
    assert (fisik.level, fisik.needs, fisik.risks) == (NeedLevel.TINGGI, None, "Luka memar")
    psikologis = assessment.finding(AssessmentArea.PSIKOLOGIS)
    assert (psikologis.level, psikologis.needs) == (None, "Konseling")
    assert assessment.finding(AssessmentArea.SPIRITUAL).level is None
    assert case.assessment_completed_at is None


def test_completing_needs_a_level_for_every_area(agency, manager):
    case = case_in_assessment(agency, manager)
    for missing in (AssessmentArea.FISIK, AssessmentArea.SPIRITUAL):
        findings = [f for f in full_findings() if f.area is not missing]
        error = domain_error(
            save_assessment,
            case,
            case.victims[0],
            findings,
            "Ringkasan",
            complete=True,
            actor=manager,
        )
        assert error.field == f"{missing}-level"
    assert db.session.scalar(select(Assessment).where(Assessment.case_id == case.id)) is None
    assert case.assessment_completed_at is None


def test_an_unknown_level_is_refused(agency, manager):
    case = case_in_assessment(agency, manager)
    findings = [FindingData(area=AssessmentArea.SOSIAL, level="parah")]
    error = domain_error(
        save_assessment, case, case.victims[0], findings, None, complete=False, actor=manager
    )
    assert error.field == "sosial-level"


@pytest.mark.parametrize("level", ["sedang", "tinggi"])
def test_completing_needs_the_needs_described_for_a_medium_or_high_area(agency, manager, level):
    case = case_in_assessment(agency, manager)
    findings = full_findings()
    findings[2] = FindingData(area=AREAS[2], level=level, needs="   ")
    error = domain_error(
        save_assessment,
        case,
        case.victims[0],
        findings,
        "Ringkasan",
        complete=True,
        actor=manager,
    )
    assert error.field == f"{AREAS[2]}-needs"

    findings[2] = FindingData(area=AREAS[2], level=level, needs="Butuh pendampingan")
    assessment = save_assessment(
        case, case.victims[0], findings, "Ringkasan", complete=True, actor=manager
    )
    assert assessment.completed_at is not None


def test_low_or_no_need_areas_complete_without_needs_text(agency, manager):
    case = case_in_assessment(agency, manager)
    findings = [
        FindingData(area=a, level="tidak_ada" if i % 2 else "rendah") for i, a in enumerate(AREAS)
    ]
    assessment = save_assessment(
        case, case.victims[0], findings, "Ringkasan", complete=True, actor=manager
    )
    assert assessment.completed_at is not None
    assert assessment.completed_by_id == manager.id


def test_completing_needs_a_summary(agency, manager):
    case = case_in_assessment(agency, manager)
    for summary in (None, "  "):
        error = domain_error(
            save_assessment,
            case,
            case.victims[0],
            full_findings(),
            summary,
            complete=True,
            actor=manager,
        )
        assert error.field == "summary"
    assert case.assessment_completed_at is None


def test_a_text_over_the_limit_is_refused(agency, manager):
    case = case_in_assessment(agency, manager)
    v = case.victims[0]
    findings = full_findings()
    findings[0] = FindingData(area=AREAS[0], level="tinggi", needs="x" * (TEXT_LIMIT + 1))
    error = domain_error(
        save_assessment, case, v, findings, "Ringkasan", complete=False, actor=manager
    )
    assert error.field == f"{AREAS[0]}-needs"

    findings[0] = FindingData(area=AREAS[0], level="tinggi", risks="x" * (TEXT_LIMIT + 1))
    error = domain_error(save_assessment, case, v, findings, None, complete=False, actor=manager)
    assert error.field == f"{AREAS[0]}-risks"

    error = domain_error(
        save_assessment,
        case,
        v,
        full_findings(),
        "x" * (TEXT_LIMIT + 1),
        complete=False,
        actor=manager,
    )
    assert error.field == "summary"
    assert db.session.scalar(select(Assessment).where(Assessment.victim_id == v.id)) is None

    findings[0] = FindingData(area=AREAS[0], level="tinggi", needs="x" * TEXT_LIMIT)
    saved = save_assessment(case, v, findings, None, complete=False, actor=manager)
    assert len(saved.finding(AREAS[0]).needs) == TEXT_LIMIT


# --- the case's completion time -------------------------------------------------------------


def test_the_case_is_assessed_only_when_every_victim_is(agency, manager):
    case = case_in_assessment(
        agency,
        manager,
        victims=[victim("Siti Aminah"), victim("Budi Santoso", sex="L")],
        perpetrators=[],
    )
    first, second = case.victims
    complete(case, first, manager)
    assert case.assessment_completed_at is None  # the second victim is not assessed yet

    save_assessment(case, second, full_findings(), None, complete=False, actor=manager)
    assert case.assessment_completed_at is None  # assessed, but not complete

    last = complete(case, second, manager)
    assert case.assessment_completed_at is not None
    assert case.assessment_completed_at == last.completed_at

    # one victim's assessment made incomplete again: the case is no longer assessed
    reopened = save_assessment(
        case, first, full_findings(), "Ringkasan", complete=False, actor=manager
    )
    assert reopened.completed_at is None and reopened.completed_by_id is None
    assert case.assessment_completed_at is None
    db.session.expire(case)
    assert case.assessment_completed_at is None  # written to the database too


def test_completing_again_keeps_the_first_completion_time(agency, manager):
    case = case_in_assessment(agency, manager)
    v = case.victims[0]
    first = complete(case, v, manager).completed_at
    again = complete(case, v, manager)
    assert again.completed_at == first
    assert case.assessment_completed_at == first


def test_a_completed_assessment_lets_the_plan_be_proposed(agency, manager):
    case = case_in_assessment(agency, manager)
    complete(case, case.victims[0], manager)
    apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)
    assert case.state is CaseState.RENCANA_INTERVENSI


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("state_events", [[], ["start_identification"]])
def test_the_assessment_is_refused_before_the_assessment_stage(agency, manager, state_events):
    case = create_case(agency, actor=manager, case_manager=manager)
    db.session.flush()
    for event in state_events:
        apply_case_event(case.id, event, actor=manager, expected_version=case.version)
    domain_error(complete, case, case.victims[0], manager)
    assert db.session.scalar(select(Assessment).where(Assessment.case_id == case.id)) is None


def test_the_assessment_is_refused_after_the_assessment_stage(agency, manager):
    case = case_in_assessment(agency, manager)
    complete(case, case.victims[0], manager)
    apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)
    completed_at = case.assessment_completed_at
    domain_error(
        save_assessment,
        case,
        case.victims[0],
        full_findings(),
        None,
        complete=False,
        actor=manager,
    )
    assert case.assessment_completed_at == completed_at


def test_a_supervisor_of_the_agency_may_assess(agency, manager, supervisor):
    case = case_in_assessment(agency, manager)
    assessment = complete(case, case.victims[0], supervisor)
    assert assessment.completed_by_id == supervisor.id


def test_an_intake_officer_may_not_assess(agency, manager):
    officer = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])
    case = case_in_assessment(agency, manager)
    domain_error(complete, case, case.victims[0], officer)
    assert db.session.scalar(select(Assessment).where(Assessment.case_id == case.id)) is None


def test_another_case_manager_may_not_assess_a_case_managed_by_someone_else(agency, manager):
    colleague = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    case = case_in_assessment(agency, manager)
    domain_error(complete, case, case.victims[0], colleague)
    assert db.session.scalar(select(Assessment).where(Assessment.case_id == case.id)) is None


def test_a_user_of_another_agency_may_not_assess(agency, manager):
    other = AgencyFactory()
    for role in (Role.SUPERVISOR, Role.MANAJER_KASUS):
        outsider = UserFactory(roles=[(role, other)])
        case = case_in_assessment(agency, manager)
        domain_error(complete, case, case.victims[0], outsider)
        assert case.assessment_completed_at is None


def test_a_victim_of_another_case_is_refused(agency, manager):
    case = case_in_assessment(agency, manager)
    other = case_in_assessment(agency, manager)
    domain_error(complete, case, other.victims[0], manager)
    assert db.session.scalar(select(Assessment).where(Assessment.case_id == case.id)) is None


def test_a_stale_version_is_a_conflict_and_changes_nothing(agency, manager):
    case = case_in_assessment(agency, manager)
    v = case.victims[0]
    first = save_assessment(case, v, full_findings(), "Versi satu", complete=False, actor=manager)
    seen = first.version
    save_assessment(
        case,
        v,
        full_findings("sedang", "Butuh konseling"),
        "Versi dua",
        complete=False,
        actor=manager,
        expected_version=seen,
    )
    assert first.version == seen + 1

    with pytest.raises(ConflictError):
        save_assessment(
            case,
            v,
            full_findings("tinggi", "Butuh rumah aman"),
            "Versi tiga",
            complete=True,
            actor=manager,
            expected_version=seen,
        )
    db.session.expire_all()
    assessment = db.session.scalar(select(Assessment).where(Assessment.victim_id == v.id))
    assert assessment.version == seen + 1
    assert assessment.summary == "Versi dua"
    assert assessment.completed_at is None
    assert {f.level for f in assessment.findings} == {NeedLevel.SEDANG}
    assert db.session.get(Case, case.id).assessment_completed_at is None


# --- the audit trail ------------------------------------------------------------------------


def test_the_audit_entry_keeps_levels_but_not_the_text(agency, manager):
    case = case_in_assessment(agency, manager)
    v = case.victims[0]
    findings = full_findings("rendah")
    findings[0] = FindingData(
        area=AREAS[0], level="tinggi", needs="Rahasia kebutuhan", risks="Rahasia risiko"
    )
    save_assessment(case, v, findings, "Rahasia ringkasan", complete=True, actor=manager)

    (entry,) = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "assessment.save",
            AuditEntry.object_type == "case",
            AuditEntry.object_id == str(case.id),
        )
    ).all()
    assert entry.actor_id == manager.id
    assert entry.changes["victim"] == v.label
    assert entry.changes["complete"] is True
    assert entry.changes["levels"] == {
        a.value: ("tinggi" if a is AREAS[0] else "rendah") for a in AREAS
    }
    text = json.dumps(entry.changes)
    assert "Rahasia" not in text
