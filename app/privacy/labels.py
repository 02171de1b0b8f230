"""People-facing names of the privacy vocabularies, registered with the shared labels."""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.labels import LABELS
from app.privacy.models import ErasureBasis, RequestKind, RequestOutcome

LABELS[RequestKind] = {
    RequestKind.AKSES.value: _l("Access (copy of the data)"),
    RequestKind.PEMBATASAN.value: _l("Restriction of processing"),
    RequestKind.PENGHAPUSAN.value: _l("Erasure"),
}
LABELS[RequestOutcome] = {
    RequestOutcome.DIPENUHI.value: _l("Fulfilled"),
    RequestOutcome.DITOLAK.value: _l("Refused"),
}
LABELS[ErasureBasis] = {
    ErasureBasis.PERMINTAAN.value: _l("Data-subject request"),
    ErasureBasis.RETENSI.value: _l("Retention period ended"),
}
