"""The assessment page of one victim: read by whoever sees the case, edited by the case manager
or a supervisor while the case is at the assessment stage."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.assessments import bp
from app.assessments.forms import AssessmentForm
from app.assessments.labels import HINTS
from app.assessments.operations import FindingData, assessment_of, save_assessment
from app.cases import queries
from app.cases.operations import ConflictError
from app.core.enums import AssessmentArea, CaseState
from app.core.errors import DomainError
from app.core.forms import parse_id
from app.core.permissions import requires
from app.extensions import db
from app.workflow.permissions import may_manage


def _me() -> Any:
    return current_user._get_current_object()


def _load(case_id: int, victim_id: int) -> tuple[Any, Any]:
    case = queries.get_case_for(_me(), case_id)
    if case is None:
        abort(404)
    victim = queries.victim_of(case, victim_id)
    if victim is None:
        abort(404)
    return case, victim


def _render(case: Any, victim: Any, form: AssessmentForm, status: int = 200) -> Any:
    assessment = assessment_of(victim)
    editable = case.state is CaseState.ASESMEN and may_manage(_me(), case)
    return (
        render_template(
            "assessments/edit.html",
            case=case,
            victim=victim,
            assessment=assessment,
            form=form,
            areas=list(AssessmentArea),
            hints=HINTS,
            editable=editable,
        ),
        status,
    )


@bp.route("/kasus/<int:case_id>/korban/<int:victim_id>/asesmen", methods=["GET", "POST"])
@requires("cases:view_own")
def edit(case_id: int, victim_id: int) -> Any:
    case, victim = _load(case_id, victim_id)
    assessment = assessment_of(victim)
    form = AssessmentForm()
    if form.is_submitted():
        if not (case.state is CaseState.ASESMEN and may_manage(_me(), case)):
            abort(404)
        if form.validate():
            version = (form.version.data or "").strip()
            try:
                save_assessment(
                    case,
                    victim,
                    [
                        FindingData(
                            area=area,
                            level=getattr(form, area.value).level.data,
                            needs=getattr(form, area.value).needs.data,
                            risks=getattr(form, area.value).risks.data,
                        )
                        for area in AssessmentArea
                    ],
                    form.summary.data,
                    complete=bool(form.complete.data),
                    actor=_me(),
                    expected_version=parse_id(version),
                )
            except (DomainError, ConflictError) as error:
                db.session.rollback()
                case, victim = _load(case_id, victim_id)
                name = (error.field or "").split("-")
                target: Any = form
                for part in name:
                    target = getattr(target, part, None) if target is not None else None
                if target is not None and hasattr(target, "errors") and error.field:
                    target.errors = [*target.errors, str(error.message)]
                else:
                    form.form_errors.append(str(error.message))
                return _render(case, victim, form, 422)
            flash(
                _("The assessment is complete.")
                if form.complete.data
                else _("The assessment has been saved."),
                "success",
            )
            return redirect(url_for("cases.detail", case_id=case.id, _anchor="asesmen"))
        return _render(case, victim, form, 422)
    # first display: the saved assessment
    form = AssessmentForm(formdata=None)
    if assessment is not None:
        form.version.data = str(assessment.version)
        form.summary.data = assessment.summary
        form.complete.data = assessment.completed_at is not None
        for finding in assessment.findings:
            sub = getattr(form, finding.area.value)
            sub.level.data = finding.level.value if finding.level else None
            sub.needs.data = finding.needs
            sub.risks.data = finding.risks
    return _render(case, victim, form)
