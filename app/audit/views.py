"""Who has seen this case: for the supervisors of the case's agency."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.audit import bp
from app.audit.queries import views_of_case
from app.cases import queries as case_queries
from app.core.permissions import requires

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
@requires(SUPERVISE)
def case_access(case_id: int) -> Any:
    """Every view of the case's identifying data: who, when, from where, newest first."""
    user = current_user._get_current_object()
    case = case_queries.get_case_for(user, case_id)
    # Out of scope, or seen only as the history of a case transferred to one's own agency:
    # not found. Only a supervisor of the case's own agency reads who has seen it.
    if case is None or SUPERVISE not in user.permissions_at(case.agency_id):
        abort(404)
    return render_template(
        "audit/case_access.html",
        case=case,
        accesses=views_of_case(case.id),
        action_labels=ACTION_LABELS,
    )
