"""Writing the biopsikososial assessment. Nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.assessments.models import Assessment, AssessmentFinding
from app.audit.operations import record
from app.auth.models import User
from app.cases.models import Case, Victim
from app.cases.operations import ConflictError
from app.cases.permissions import may_manage
from app.core.db import utcnow
from app.core.enums import AssessmentArea, CaseState, NeedLevel
from app.core.errors import DomainError
from app.core.i18n import lazy_gettext as _l
from app.extensions import db

TEXT_LIMIT = 4000
NEEDS_DESCRIBED = frozenset({NeedLevel.SEDANG, NeedLevel.TINGGI})


@dataclass
class FindingData:
    area: AssessmentArea
    level: str | None = None
    needs: str | None = None
    risks: str | None = None


def _clean(text: str | None, field: str) -> str | None:
    text = (text or "").strip()
    if len(text) > TEXT_LIMIT:
        raise DomainError(_l("At most %(n)d characters.", n=TEXT_LIMIT), field=field)
    return text or None


def assessment_of(victim: Victim) -> Assessment | None:
    return db.session.scalar(select(Assessment).where(Assessment.victim_id == victim.id))


def _write(
    assessment: Assessment | None,
    case: Case,
    victim: Victim,
    cleaned: dict[AssessmentArea, tuple[NeedLevel | None, str | None, str | None]],
    summary: str | None,
    complete: bool,
    actor: User,
) -> Assessment:
    if assessment is None:
        assessment = Assessment(case_id=case.id, victim_id=victim.id)
        db.session.add(assessment)
    now = utcnow()
    for area, (level, needs, risks) in cleaned.items():
        finding = assessment.finding(area)
        if finding is None:
            finding = AssessmentFinding(area=area)
            assessment.findings.append(finding)
        finding.level, finding.needs, finding.risks = level, needs, risks
    assessment.summary = summary
    assessment.updated_by_id = actor.id
    assessment.updated_at = now
    if complete and assessment.completed_at is None:
        assessment.completed_at, assessment.completed_by_id = now, actor.id
    elif not complete:
        assessment.completed_at, assessment.completed_by_id = None, None
    db.session.flush()
    return assessment


def save_assessment(
    case: Case,
    victim: Victim,
    findings: list[FindingData],
    summary: str | None,
    *,
    complete: bool,
    actor: User,
    expected_version: int | None = None,
) -> Assessment:
    """Save the assessment of ``victim``: every area's level, needs and risks, and a summary.

    ``complete``: the assessment is done — every area has a level, an area of medium or high need
    says what the needs are, and the summary is written. Unticking it makes the assessment
    incomplete again. Only while the case is at the assessment stage, by the case manager or a
    supervisor. The case's ``assessment_completed_at`` follows (set when every victim's
    assessment is complete). The audit entry keeps levels, never the text.
    """
    if case.state is not CaseState.ASESMEN:
        raise DomainError(
            _l("The assessment can be changed only while the case is at the assessment stage.")
        )
    if not may_manage(actor, case):
        raise DomainError(_l("You may not assess this case."))
    if victim.case_id != case.id:
        raise DomainError(_l("The victim belongs to another case."))
    assessment = assessment_of(victim)
    if (
        assessment is not None
        and expected_version is not None
        and assessment.version != expected_version
    ):
        raise ConflictError(
            _l(
                "Someone else saved this assessment in the meantime. Nothing was saved: reload "
                "the page and try again."
            ),
            changes={},
        )
    by_area: dict[AssessmentArea, FindingData] = {f.area: f for f in findings}
    cleaned: dict[AssessmentArea, tuple[NeedLevel | None, str | None, str | None]] = {}
    for area in AssessmentArea:
        f = by_area.get(area, FindingData(area))
        try:
            level = NeedLevel(f.level) if f.level else None
        except ValueError:
            raise DomainError(_l("Choose a value from the list."), field=f"{area}-level") from None
        needs = _clean(f.needs, f"{area}-needs")
        risks = _clean(f.risks, f"{area}-risks")
        if complete and level is None:
            raise DomainError(
                _l("Choose a level for every area to complete the assessment."),
                field=f"{area}-level",
            )
        if complete and level in NEEDS_DESCRIBED and not needs:
            raise DomainError(_l("Describe the needs found in this area."), field=f"{area}-needs")
        cleaned[area] = (level, needs, risks)
    summary = _clean(summary, "summary")
    if complete and not summary:
        raise DomainError(_l("Write the summary to complete the assessment."), field="summary")

    try:
        # in a savepoint: a concurrent save found at the flush (refused) leaves the assessment
        # as stored, and the session usable for the page that shows the refusal
        with db.session.begin_nested():
            assessment = _write(assessment, case, victim, cleaned, summary, complete, actor)
    except StaleDataError:
        raise ConflictError(
            _l("Someone else saved this assessment in the meantime. Nothing was saved."),
            changes={},
        ) from None
    _follow_case(case)
    record(
        actor,
        "assessment.save",
        "case",
        case.id,
        {
            "victim": victim.label,
            "complete": complete,
            "levels": {a.value: (lv.value if lv else None) for a, (lv, _, _) in cleaned.items()},
        },
    )
    return assessment


def _follow_case(case: Case) -> None:
    """``cases.assessment_completed_at``: when the last victim's assessment was completed, or
    NULL while any victim's is missing or incomplete."""
    completed = {
        victim_id: at
        for victim_id, at in db.session.execute(
            select(Assessment.victim_id, Assessment.completed_at).where(
                Assessment.case_id == case.id
            )
        )
    }
    times = [completed.get(v.id) for v in case.victims]
    value = max(times) if times and all(t is not None for t in times) else None  # type: ignore[type-var]
    if case.assessment_completed_at != value:
        case.assessment_completed_at = value
        db.session.flush()
