"""What each kind of notification says (it names the case by reference only)."""

from __future__ import annotations

from typing import Any

from app.core.forms import parse_id
from app.core.i18n import lazy_gettext as _l

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
    "case_assigned": _l("A case was assigned to you"),
    "referral_received": _l("A referral was sent to your agency"),
    "referral_withdrawn": _l("A referral to your agency was withdrawn"),
    "referral_accepted": _l("Your referral was accepted"),
    "referral_declined": _l("Your referral was declined"),
    "referral_started": _l("The referred service has started"),
    "referral_completed": _l("The referred service was completed"),
    "referral_note": _l("A new note on a referral"),
    "subgt_escalation": _l("The Sub GT coordinator escalated a service to you"),
    "break_glass_used": _l("Emergency access to a case of your agency"),
    "break_glass_review": _l("Review last week's emergency access to your agency's cases"),
    "case_role_granted": _l("An account was given a role with access to your agency's cases"),
}

# kinds about an account, not a case: their reference is the account's e-mail address
ABOUT_ACCOUNT = frozenset({"case_role_granted"})

TO_TRANSFER_INBOX = frozenset({"transfer_requested", "transfer_withdrawn"})


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


def link_endpoint(kind: str, case_id: int | None, key: str | None) -> tuple[str, dict[str, Any]]:
    """Where a notification leads: the case when the user may open it, else the page of the
    referral or transfer it is about, else the notification list."""
    if case_id is not None:
        return "cases.detail", {"case_id": case_id}
    if kind in TO_TRANSFER_INBOX:
        return "workflow.transfers", {}
    if key and key.startswith("breakglass:review:"):
        return "breakglass.review", {"minggu": key.rsplit(":", 1)[1]}
    if key and key.startswith("subgt:"):
        return "subgt.board", {}
    if key and key.startswith("referral:"):
        referral_id = key.split(":")[1]
        if parse_id(referral_id) is not None:
            return "referrals.detail", {"referral_id": int(referral_id)}
    return "notifications.index", {}
