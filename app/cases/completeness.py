"""What a registered case still lacks of its intake record: the checklist on the case page.

The quick intake (``/kasus/cepat``) registers a case with only what the first minutes need; the
rest of domain.md §2 is completed later on the intake form. ``still_missing`` lists, in the order
of that form, what is not recorded yet, each item with the form field it is filled in (an anchor
of ``/kasus/<id>/ubah``). Victims are named by their position (``Korban 1``), never by name: the
list is drawn above the victims' cards, whatever identity the user may see.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.cases.models import Case
from app.core.enums import CASE_CLOSED, CaseState, CaseType

SERVICES = "layanan"


@dataclass(frozen=True)
class Missing:
    text: str
    anchor: str  # the id of the field on the intake form


def _item(text: object, anchor: str) -> Missing:
    return Missing(str(text), anchor)


def still_missing(case: Case) -> list[Missing]:
    """What the case's intake record lacks, in the order of the intake form. A draft and a case
    no longer open (closed or transferred) list nothing."""
    if case.state is CaseState.DRAFT or case.state in CASE_CLOSED:
        return []
    items: list[Missing] = []
    if case.incident_date is None:
        items.append(_item(_l("Date of the incident"), "incident_date"))
    if case.incident_place is None:
        items.append(_item(_l("Place of the incident"), "incident_place"))
    if case.incident_region_id is None:
        items.append(_item(_l("Region of the incident"), "incident_region_code"))
    if not case.kronologi:
        items.append(_item(_l("Chronology (kronologi)"), "kronologi"))
    trafficking = CaseType.TPPO in case.case_types
    for i, victim in enumerate(case.victims):
        n, row = i + 1, f"victims-{i}"
        if not victim.violence_types:
            items.append(_item(_l("Victim %(n)d: types of violence", n=n), f"{row}-violence_types"))
        if victim.consent_for(SERVICES) is None:
            items.append(_item(_l("Victim %(n)d: consent to services", n=n), f"{row}-consents"))
        if not victim.nik and victim.has_nik is None:
            items.append(_item(_l("Victim %(n)d: NIK, or that there is none", n=n), f"{row}-nik"))
        if not victim.address and victim.domicile_region_id is None:
            items.append(_item(_l("Victim %(n)d: address or region", n=n), f"{row}-address"))
        if trafficking and not (victim.tppo_proses or victim.tppo_cara or victim.tppo_tujuan):
            items.append(
                _item(_l("Victim %(n)d: trafficking screening", n=n), f"{row}-tppo_proses")
            )
    positions = {v.id: i for i, v in enumerate(case.victims)}
    for k, perpetrator in enumerate(case.perpetrators):
        related = {r.victim_id for r in perpetrator.relations}
        for victim_id, i in positions.items():
            if victim_id not in related:
                items.append(
                    _item(
                        _l("Perpetrator %(k)d: relationship to victim %(n)d", k=k + 1, n=i + 1),
                        f"perpetrators-{k}-relationships-{i}",
                    )
                )
    return items
