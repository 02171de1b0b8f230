"""People-facing names of the deadline rules, registered with the shared labels."""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.labels import LABELS
from app.deadlines.rules import DeadlineCode

LABELS[DeadlineCode] = {
    DeadlineCode.FIRST_RESPONSE_TINGGI.value: _l("First response (high risk)"),
    DeadlineCode.FIRST_RESPONSE_SEDANG.value: _l("First response (medium risk)"),
    DeadlineCode.FIRST_RESPONSE_RENDAH.value: _l("First response (low risk)"),
    DeadlineCode.POLICE_REPORT_TPKS.value: _l("Report to the police (TPKS)"),
    DeadlineCode.SHELTER_DECISION.value: _l("Decision on the temporary shelter"),
    DeadlineCode.REFERRAL_RESPONSE.value: _l("Referral accepted or declined"),
    DeadlineCode.TPPO_SERVICE_START.value: _l("TPPO service started"),
    DeadlineCode.RESTITUTION_PAID.value: _l("Restitution paid"),
    DeadlineCode.DATA_SUBJECT_RESTRICTION.value: _l("Data-subject restriction request"),
    DeadlineCode.BREACH_NOTICE.value: _l("Personal-data breach notice"),
}
