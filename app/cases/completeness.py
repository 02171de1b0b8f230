"""What a registered case still lacks of its intake record: the checklist on the case page.

The quick intake (``/kasus/cepat``) registers a case with only what the first minutes need; the
rest of domain.md §2 is completed later on the intake form. ``still_missing`` lists, in the order
of that form, what is not recorded yet, each item with the form field it is filled in (an anchor
of ``/kasus/<id>/ubah``). Victims are named by their position (``Korban 1``), never by name: the
list is drawn above the victims' cards, whatever identity the user may see.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.cases.models import Case
from app.core.enums import CASE_CLOSED, CaseState, CaseType
from app.core.i18n import lazy_gettext as _l

SERVICES = "layanan"


@dataclass(frozen=True)
class Missing:
    text: str
    anchor: str  # the id of the field on the intake form


def _line(text: object, parts: list[tuple[object, str]]) -> Missing:
    """One line of the list: ``text`` naming what is missing; the link goes to the first."""
    return Missing(str(text), parts[0][1])


def _joined(parts: list[tuple[object, str]]) -> str:
    return ", ".join(str(what) for what, _ in parts)


def still_missing(case: Case) -> list[Missing]:
    """What the case's intake record lacks, one line per part of the intake form (the incident,
    the chronology, each victim, each perpetrator), in the form's order. A draft and a case no
    longer open (closed or transferred) list nothing."""
    if case.state is CaseState.DRAFT or case.state in CASE_CLOSED:
        return []
    items: list[Missing] = []
    incident: list[tuple[object, str]] = []
    if case.incident_date is None:
        incident.append((_l("date"), "incident_date"))
    if case.incident_place is None:
        incident.append((_l("place"), "incident_place"))
    if case.incident_region_id is None:
        incident.append((_l("region"), "incident_region_code"))
    if incident:
        items.append(_line(_l("Incident: %(what)s", what=_joined(incident)), incident))
    if not case.kronologi:
        items.append(Missing(str(_l("Chronology (kronologi)")), "kronologi"))
    trafficking = CaseType.TPPO in case.case_types
    for i, victim in enumerate(case.victims):
        row = f"victims-{i}"
        parts: list[tuple[object, str]] = []
        if not victim.violence_types:
            parts.append((_l("types of violence"), f"{row}-violence_types"))
        if victim.consent_for(SERVICES) is None:
            parts.append((_l("consent to services"), f"{row}-consents"))
        if trafficking and not (victim.tppo_proses or victim.tppo_cara or victim.tppo_tujuan):
            parts.append((_l("trafficking screening"), f"{row}-tppo_proses"))
        if not victim.nik and victim.has_nik is None:
            parts.append((_l("NIK"), f"{row}-nik"))
        if not victim.address and victim.domicile_region_id is None:
            parts.append((_l("address"), f"{row}-address"))
        if parts:
            items.append(_line(_l("Victim %(n)d: %(what)s", n=i + 1, what=_joined(parts)), parts))
    positions = {v.id: i for i, v in enumerate(case.victims)}
    for k, perpetrator in enumerate(case.perpetrators):
        related = {r.victim_id for r in perpetrator.relations}
        unrelated = [i for victim_id, i in positions.items() if victim_id not in related]
        if unrelated:
            items.append(
                Missing(
                    str(
                        _l(
                            "Perpetrator %(k)d: relationship to victim %(n)s",
                            k=k + 1,
                            n=", ".join(str(i + 1) for i in unrelated),
                        )
                    ),
                    f"perpetrators-{k}-relationships-{unrelated[0]}",
                )
            )
    return items
