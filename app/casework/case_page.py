"""What casework shows on the case page (``app.cases.page``): the workflow panel with its
diagram and steps, then the assessment, the intervention plan and the service tracks with their
referrals. A refused step shows the page again with the refusal beside the step
(``app.workflow.refusal.refused_on_case_page``), which this panel reads (``workflow_error``)."""

from __future__ import annotations

import re

from flask import url_for

from app.cases.page import Link, PageView, Section, register_section
from app.cases.permissions import may_manage, may_supervise
from app.casework.panel import build_panel
from app.core.i18n import gettext as _
from app.workflow.diagram import render_svg
from app.workflow.forms import APPROVAL_TEXT, CaseStepForm
from workflows.registry import get_workflow

# the places of a track's forms, as a refusal names them
_TRACK_FORM = re.compile(r"^(?:track|referral)-(\d+)(?:-|$)")

WORKFLOW_NAMES = {"ktpa": "KtP/A", "tppo": "TPPO"}


def _focus(view: PageView) -> int | None:
    """The track whose forms the page draws whatever its place: the one whose step or referral
    was refused (``track-<id>-<event>``, ``referral-<id>``), else the one asked for."""
    refused = view.get("workflow_error", dict) or {}
    found = _TRACK_FORM.match(str(refused.get("where", "")))
    return int(found.group(1)) if found else view.get("track", int)


def panel_section(view: PageView) -> Section:
    """The panel (stage, what is still needed, the steps this user may take); it also gives
    the names the services section and its referrals use."""
    user, case = view.user, view.case
    panel = build_panel(user, case, focus=_focus(view))
    workflow = get_workflow(case.workflow_key, case.workflow_version)
    return Section(
        template="casework/_panel.html",
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
            "transfer_targets": panel.transfer_targets,
            "can_manage_referrals": may_manage(user, case),
            "can_override_consent": may_supervise(user, case),
        },
    )


def services_section(view: PageView) -> Section:
    """The assessment per victim, the plan and the track cards (names from the panel)."""
    return Section(
        template="casework/_services.html",
        nav=(("asesmen", _("Assessment")), ("layanan", _("Services"))),
    )


def summary_link(view: PageView) -> Section | None:
    """The header's button to the printable summary (a registered case only: a draft has no
    reference to print)."""
    if view.case.reference is None:
        return None
    url = url_for("casework.summary_form", case_id=view.case.id)
    return Section(links=(Link(url, _("Print summary (PDF)")),))


def register_sections() -> None:
    register_section("casework.summary", 5, summary_link)
    register_section("casework.panel", 10, panel_section)
    register_section("casework.services", 60, services_section)
