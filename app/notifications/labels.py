"""What each kind of notification says (it names the case by reference only)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

KINDS: dict[str, Any] = {
    "high_risk_case": _l("High-risk case registered"),
    "deadline_missed": _l("A deadline was missed"),
    "deadline_escalated": _l("A missed deadline was escalated to you"),
    "plan_awaiting_approval": _l("An intervention plan is waiting for your approval"),
    "plan_approved": _l("The intervention plan was approved: the services can start"),
    "ready_for_termination": _l("Every service has ended: the case is ready for termination"),
    "case_terminated": _l("The case was terminated"),
    "case_closed": _l("The case was closed without completion"),
    "case_reopened": _l("The case was reopened"),
    "case_transferred": _l("The case was transferred to another agency"),
    "transfer_requested": _l("Another agency asks yours to take over a case"),
    "transfer_accepted": _l("Your transfer request was accepted"),
    "transfer_declined": _l("Your transfer request was declined"),
    "transfer_withdrawn": _l("A transfer request to your agency was withdrawn"),
}


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))
