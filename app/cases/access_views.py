"""Who has seen this case: for the supervisors of the case's agency, from the audit trail."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for

from app.cases import bp
from app.cases.models import Case
from app.cases.page import Link, PageView, Section, register_section
from app.cases.permissions import may_supervise
from app.cases.queries import views_of_case
from app.cases.routing import case_route
from app.core.enums import CaseState
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l

SUPERVISE = "cases:supervise"

ACTION_LABELS = {
    "case.view": _l("Opened the case page"),
    "intake_form.view": _l("Opened the intake form"),
    "assessment.view": _l("Opened a victim's assessment"),
    "case.reveal_identity": _l("Revealed a child victim's identity"),
    "case.attachment_download": _l("Downloaded a file"),
    "referral.open": _l("Opened a referral of the case"),
    "break_glass.view": _l("Opened under emergency access"),
    "break_glass.grant": _l("Granted emergency access"),
}


@bp.route("/kasus/<int:case_id>/akses")
# Out of scope, or seen only as the history of a case transferred to one's own agency: not
# found. Only a supervisor of the case's own agency reads who has seen it.
@case_route(SUPERVISE, can=may_supervise)
def case_access(case: Case) -> Any:
    """Every view of the case's identifying data: who, when, from where, newest first."""
    return render_template(
        "cases/case_access.html",
        case=case,
        accesses=views_of_case(case.id),
        action_labels=ACTION_LABELS,
    )


def access_section(view: PageView) -> Section | None:
    """The case page's way to this page, for the supervisors of the case's agency."""
    case = view.case
    if case.state == CaseState.DRAFT or SUPERVISE not in view.user.permissions_at(case.agency_id):
        return None
    return Section(
        links=(Link(url_for("cases.case_access", case_id=case.id), _("Who has seen this case")),)
    )


def register_sections() -> None:
    register_section("cases.access", 15, access_section)
