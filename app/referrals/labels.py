"""People-facing names of the referral states, registered with the shared labels."""

from __future__ import annotations

from app.core.enums import ReferralState
from app.core.i18n import lazy_gettext as _l
from app.core.labels import LABELS

R = ReferralState
LABELS[ReferralState] = {
    R.DRAF.value: _l("draft"),
    R.DIKIRIM.value: _l("sent, waiting for an answer"),
    R.DITERIMA.value: _l("accepted"),
    R.DITOLAK.value: _l("declined"),
    R.BERJALAN.value: _l("in progress"),
    R.SELESAI.value: _l("completed"),
    R.DITARIK.value: _l("withdrawn"),
}
