"""What the workflow shows on the case page (``app.cases.page``): the panel with its diagram
and steps, then the assessment, the intervention plan and the service tracks with their
referrals."""

from __future__ import annotations

from flask_babel import gettext as _

from app.cases.models import Case
from app.cases.page import PageView, Section, register_section, render_case_page
from app.cases.permissions import may_manage, may_supervise
from app.core.errors import DomainError
from app.core.forms import Form, field_error
from app.workflow.diagram import render_svg
from app.workflow.forms import APPROVAL_TEXT, CaseStepForm
from app.workflow.panel import build_panel
from app.workflow.queries import transfer_targets
from workflows.registry import get_workflow

WORKFLOW_NAMES = {"ktpa": "KtP/A", "tppo": "TPPO"}

PageResponse = tuple[str, int]


def panel_section(view: PageView) -> Section:
    """The panel (stage, what is still needed, the steps this user may take); it also gives
    the names the services section and its referrals use."""
    user, case = view.user, view.case
    panel = build_panel(user, case)
    workflow = get_workflow(case.workflow_key, case.workflow_version)
    return Section(
        template="workflow/_panel.html",
        nav=(("alur", _("Workflow")),),
        context={
            "panel": panel,
            "workflow_error": view.get("workflow_error", dict),
            "workflow_name": _(
                "%(name)s pathway, version %(version)d",
                name=WORKFLOW_NAMES.get(case.workflow_key, case.workflow_key),
                version=case.workflow_version,
            ),
            "diagram": render_svg(workflow, current=case.state.value),
            "step_form_obj": CaseStepForm(formdata=None),
            "approval_text": APPROVAL_TEXT,
            "transfer_targets": transfer_targets(case) if panel.can_transfer else [],
            "can_manage_referrals": may_manage(user, case),
            "can_override_consent": may_supervise(user, case),
        },
    )


def services_section(view: PageView) -> Section:
    """The assessment per victim, the plan and the track cards (names from the panel)."""
    return Section(
        template="workflow/_services.html",
        nav=(("asesmen", _("Assessment")), ("layanan", _("Services"))),
    )


def register_sections() -> None:
    register_section("workflow.panel", 10, panel_section)
    register_section("workflow.services", 60, services_section)


def form_errors(form: Form) -> str:
    """The form's own errors as one sentence (field label: errors), or that it expired."""
    return " ".join(
        f"{getattr(form, name).label.text}: {' '.join(str(e) for e in errors)}"
        for name, errors in form.errors.items()
        if name != "csrf_token"
    ) or _("The form has expired. Reload the page and try again.")


def refused_on_case_page(
    case: Case, where: str, form: Form, error: DomainError | None = None
) -> PageResponse:
    """Show the case page again (422) with the refusal at ``where`` (an event, ``plan``,
    ``track-<id>-<event>``, ``transfer`` or ``assign``): the operation's ``error`` goes on the
    form field it names (``field_error``) and its message beside the step; without one, the
    form's own errors are the reason. The request's writes are not kept (the operations ran
    ``all_or_nothing``; the commit point rolls back a 422)."""
    if error is not None:
        field_error(form, error)
        message = str(error.message)
    else:
        message = form_errors(form)
    return render_case_page(
        case, status=422, workflow_error={"where": where, "message": message, "form": form}
    )
