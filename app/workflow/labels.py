"""What people read about the workflow: the name of each event (the button that takes the step)
and what each stage of a case or a service track means. Message ids are English; the Indonesian
catalogue is the default."""

from __future__ import annotations

from typing import Any

from app.core.enums import CaseState, ReferralState, TrackState, TransferState
from app.core.i18n import lazy_gettext as _l
from app.core.labels import LABELS

CASE_EVENTS: dict[str, Any] = {
    "register": _l("Register the complaint"),
    "start_identification": _l("Start triage"),
    "start_emergency": _l("Start emergency handling"),
    "start_assessment": _l("Start the assessment"),
    "propose_plan": _l("Propose the intervention plan"),
    "start_intervention": _l("Approve the plan and start the services"),
    "start_monitoring": _l("Start monitoring"),
    "terminate": _l("Approve termination"),
    "close": _l("Close without completion"),
    "transfer": _l("Transfer to another agency"),
    "reopen": _l("Reopen the case"),
}

TRACK_EVENTS: dict[str, Any] = {
    "plan": _l("Plan the service"),
    "refer": _l("Refer to the provider"),
    "accept": _l("Accept the referral"),
    "start": _l("Start the service"),
    "complete": _l("Record the service as completed"),
    "decline_by_victim": _l("Record the victim's informed refusal"),
    "mark_unavailable": _l("No provider available"),
    "cancel": _l("Cancel the service"),
    "import": _l("Imported"),
    # track workflow v2 and the referral workflow
    "complete_referred": _l("Record the referred service as completed"),
    "referral_declined": _l("Decline the referral"),
    "referral_withdrawn": _l("Withdraw the referral"),
    "send": _l("Send the referral"),
    "decline": _l("Decline the referral"),
    "withdraw": _l("Withdraw the referral"),
}

CASE_STAGES: dict[CaseState, Any] = {
    CaseState.DRAFT: _l("An intake that is not registered yet: it has no reference."),
    CaseState.DITERIMA: _l(
        "Registered: the complaint has a reference and the first-response clock runs."
    ),
    CaseState.IDENTIFIKASI: _l(
        "Triage: the risk and the agency's competence are confirmed; a high-risk case goes to "
        "emergency handling first."
    ),
    CaseState.KEDARURATAN: _l(
        "Emergency handling: rescue and immediate safety, before anything else, when the risk "
        "is high."
    ),
    CaseState.ASESMEN: _l(
        "Biopsychosocial assessment of each victim, with the victim's consent to services."
    ),
    CaseState.RENCANA_INTERVENSI: _l(
        "Intervention plan: the services each victim needs, agreed with the victim and approved "
        "by a supervisor."
    ),
    CaseState.INTERVENSI: _l("Intervention: the service tracks run in parallel."),
    CaseState.PEMANTAUAN: _l("Monitoring and evaluation until every service has ended."),
    CaseState.TERMINASI: _l(
        "Terminated: every service has ended and a supervisor approved the closure."
    ),
    CaseState.DITUTUP: _l(
        "Closed without completion (the victim withdrew, could not be reached, or a duplicate)."
    ),
    CaseState.DILIMPAHKAN: _l(
        "Transferred: another agency accepted the case and carries it on; this agency keeps "
        "read access to what it wrote."
    ),
}

REFERRAL_STAGES: dict[ReferralState, Any] = {
    ReferralState.DRAF: _l("Written, not sent yet."),
    ReferralState.DIKIRIM: _l(
        "Sent with what the victim agreed to share; the provider answers within 2 working days."
    ),
    ReferralState.DITERIMA: _l("Accepted by the provider."),
    ReferralState.DITOLAK: _l(
        "Declined by the provider, with the reason; the service can be referred elsewhere."
    ),
    ReferralState.BERJALAN: _l("The provider is delivering the service."),
    ReferralState.SELESAI: _l("Completed by the provider, with the outcome."),
    ReferralState.DITARIK: _l("Withdrawn by the sending agency, with the reason."),
}

TRACK_STAGES: dict[TrackState, Any] = {
    TrackState.DIRENCANAKAN: _l("Planned in the intervention plan."),
    TrackState.DIRUJUK: _l("Referred: waiting for the provider to accept."),
    TrackState.DITERIMA_PENYEDIA: _l("Accepted by the provider."),
    TrackState.BERJALAN: _l("In progress."),
    TrackState.SELESAI: _l("Completed, with its outcome."),
    TrackState.DITOLAK_KORBAN: _l("The victim declined the service, informed."),
    TrackState.TIDAK_TERSEDIA: _l("No provider was available."),
    TrackState.DIBATALKAN: _l("Cancelled, with a reason."),
}


def event_label(event: str, *, track: bool = False) -> Any:
    table = TRACK_EVENTS if track else CASE_EVENTS
    return table.get(event, event)


LABELS[TransferState] = {
    TransferState.MENUNGGU.value: _l("waiting for an answer"),
    TransferState.DITERIMA.value: _l("accepted"),
    TransferState.DITOLAK.value: _l("declined"),
    TransferState.DIBATALKAN.value: _l("withdrawn"),
}
