"""Who has seen this case: for the supervisors of the case's agency."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l

from app.audit import bp
from app.audit.queries import views_of_case
from app.cases.models import Case
from app.cases.permissions import may_supervise
from app.cases.routing import case_route

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
        "audit/case_access.html",
        case=case,
        accesses=views_of_case(case.id),
        action_labels=ACTION_LABELS,
    )
