"""The read side of data-subject rights: whose rows a request covers, whether a victim is
restricted or erased, whether legal proceedings are open, what an export contains, and which
victims the retention period has reached."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, inspect, not_, select
from sqlalchemy.orm import selectinload

from app.agencies.models import Agency
from app.assessments.models import Assessment
from app.auth.models import User
from app.cases.models import Case, CaseNote, ConsentEntry, Victim
from app.cases.permissions import may_supervise
from app.core.enums import ServiceType
from app.core.i18n import lazy_gettext as _l
from app.core.memo import read_each
from app.extensions import db
from app.privacy.models import DataSubjectRequest, VictimErasure, VictimRestriction
from app.services.models import ServiceTrack


def restricted_condition() -> Any:
    """SQL: ``Victim`` has a restriction in force. The indicators leave such victims out."""
    return exists(
        select(VictimRestriction.id).where(
            VictimRestriction.victim_id == Victim.id, VictimRestriction.lifted_at.is_(None)
        )
    )


def erased_condition() -> Any:
    return exists(select(VictimErasure.id).where(VictimErasure.victim_id == Victim.id))


def active_restriction(victim: Victim) -> VictimRestriction | None:
    return db.session.scalar(
        select(VictimRestriction).where(
            VictimRestriction.victim_id == victim.id, VictimRestriction.lifted_at.is_(None)
        )
    )


def is_restricted(victim: Victim) -> bool:
    return active_restriction(victim) is not None


def _read_restricted(victim_ids: list[int]) -> dict[int, bool]:
    found = set(
        db.session.scalars(
            select(VictimRestriction.victim_id).where(
                VictimRestriction.victim_id.in_(victim_ids), VictimRestriction.lifted_at.is_(None)
            )
        )
    )
    return {victim_id: victim_id in found for victim_id in victim_ids}


def restricted_among(victims: Iterable[Victim]) -> frozenset[int]:
    """The ids of the ``victims`` restricted at their request: one statement for them all, made
    once per page while one is rendered (``app.core.memo``)."""
    flags = read_each("victim_restricted", (v.id for v in victims), _read_restricted)
    return frozenset(victim_id for victim_id, restricted in flags.items() if restricted)


def erasure_of(victim: Victim) -> VictimErasure | None:
    return db.session.scalar(select(VictimErasure).where(VictimErasure.victim_id == victim.id))


def may_see_identity(user: User, case: Case, victim: Victim) -> bool:
    """While a victim is restricted only the case's case manager and the agency's supervisors
    see the identity; otherwise the case page's usual rules apply (this adds nothing)."""
    # the case's victims, when loaded, asked together (the case page asks for each of them)
    loaded = () if "victims" in inspect(case).unloaded else case.victims
    if victim.id not in restricted_among([victim, *loaded]):
        return True
    return bool(user.id == case.case_manager_id or may_supervise(user, case))


def subject_victims(victim: Victim) -> list[Victim]:
    """Every victim row of the same person in the agency (the person links them), else the
    victim alone. A request is about the person, not one file."""
    if victim.person_id is None:
        return [victim]
    return list(
        db.session.scalars(
            select(Victim)
            .join(Case, Case.id == Victim.case_id)
            .where(Victim.person_id == victim.person_id, Case.agency_id == victim.case.agency_id)
            .order_by(Victim.id)
        )
    )


def requests_about(victims: list[Victim]) -> list[DataSubjectRequest]:
    ids = [v.id for v in victims]
    return list(
        db.session.scalars(
            select(DataSubjectRequest)
            .where(DataSubjectRequest.victim_id.in_(ids))
            .order_by(DataSubjectRequest.received_at.desc(), DataSubjectRequest.id.desc())
        )
    )


def request_of(victim: Victim, request_id: int) -> DataSubjectRequest | None:
    found = db.session.get(DataSubjectRequest, request_id)
    if found is None or found.victim_id not in {v.id for v in subject_victims(victim)}:
        return None
    return found


# --- legal proceedings ---------------------------------------------------------------------


def open_law_enforcement_condition() -> Any:
    """SQL: the ``Case`` has a law-enforcement (penegakan_hukum) track not ended."""
    return exists(
        select(ServiceTrack.id).where(
            ServiceTrack.case_id == Case.id,
            ServiceTrack.service_type == ServiceType.PENEGAKAN_HUKUM,
            ServiceTrack.ended_at.is_(None),
        )
    )


def proceedings_open_reason(victims: list[Victim]) -> str | None:
    """Why the identity must be kept (legal proceedings open), or None. Proceedings are open
    while a case of the person is not closed or has a penegakan_hukum track not ended."""
    case_ids = sorted({v.case_id for v in victims})
    cases = list(db.session.scalars(select(Case).where(Case.id.in_(case_ids)).order_by(Case.id)))
    for case in cases:
        ref = case.reference or f"#{case.id}"
        if db.session.scalar(
            select(Case.id).where(Case.id == case.id, open_law_enforcement_condition())
        ):
            return str(
                _l(
                    "Legal proceedings are open: the law-enforcement service of case %(ref)s has "
                    "not ended. The identity is needed for the proceedings (UU 27/2022).",
                    ref=ref,
                )
            )
        if case.closed_at is None:
            return str(
                _l(
                    "Case %(ref)s is not closed: its handling, and any legal proceedings, may "
                    "still need the identity (UU 27/2022).",
                    ref=ref,
                )
            )
    return None


# --- retention -----------------------------------------------------------------------------


def retention_candidates(now: dt.datetime, years: int) -> list[Victim]:
    """Victims of cases closed more than ``years`` ago, with no law-enforcement track left
    open, whose identity is not erased yet."""
    cutoff = _years_before(now, years)
    return list(
        db.session.scalars(
            select(Victim)
            .join(Case, Case.id == Victim.case_id)
            .where(
                Case.closed_at.is_not(None),
                Case.closed_at < cutoff,
                not_(open_law_enforcement_condition()),
                not_(erased_condition()),
            )
            .order_by(Victim.id)
        )
    )


def _years_before(now: dt.datetime, years: int) -> dt.datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


# --- the export ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackRecords:
    """What a domain built on the service tracks keeps about a person's tracks, for the export
    (referrals: where a track was sent and what was shared). Privacy sits below those domains
    (they ask it whether an identity may be shared), so they register it from their
    ``init_app`` instead of being imported here.

    ``key``: the name of its list in a service's entry; ``agencies(track_ids)``: the agencies
    the tracks were sent to (left out of the export for a shelter track, with the provider);
    ``rows(track, shelter)``: the track's records as exported (``shelter``: the track is a
    shelter, so no agency is named)."""

    key: str
    agencies: Callable[[Collection[int]], Iterable[Agency]]
    rows: Callable[[ServiceTrack, bool], list[dict[str, Any]]]


_TRACK_RECORDS: dict[str, TrackRecords] = {}


def register_track_records(records: TrackRecords) -> None:
    """Add ``records`` to every service of an export (registering a key again replaces it)."""
    _TRACK_RECORDS[records.key] = records


def exported(value: Any) -> Any:
    """A value as the export writes it: dates in ISO 8601, vocabularies by their value."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def _victim_part(victim: Victim) -> dict[str, Any]:
    return {
        "label": victim.label,
        "name": victim.name,
        "nik": victim.nik,
        "sex": exported(victim.sex),
        "birth_date": exported(victim.birth_date),
        "age_at_incident": victim.age_at_incident,
        "is_child": victim.is_child,
        "disability": victim.disability,
        "disability_kind": victim.disability_kind,
        "pregnant": victim.pregnant,
        "education": exported(victim.education),
        "occupation": victim.occupation,
        "marital_status": exported(victim.marital_status),
        "religion": exported(victim.religion),
        "nationality": exported(victim.nationality),
        "domicile_region": victim.domicile_region.code if victim.domicile_region else None,
        "address": victim.address,
        "phone": victim.phone,
        "violence_types": [exported(t.type) for t in victim.violence_types],
        "ampk_categories": [exported(c.category) for c in victim.ampk_categories],
        "tppo": {
            "proses": victim.tppo_proses,
            "cara": victim.tppo_cara,
            "tujuan": victim.tppo_tujuan,
            "cross_border": victim.tppo_cross_border,
            "destination_country": victim.tppo_destination_country,
            "recruiter": victim.tppo_recruiter,
            "documents": victim.tppo_documents,
        },
        # guardians are other people: their relation only, not their identity
        "guardians": [{"relation": g.relation} for g in victim.guardians],
    }


SHELTER_WITHHELD = _l(
    "Where the person is sheltered is not in this file (a safe house's location is known only to "
    "its staff and the case manager): tell the person in person, once you are sure it is safe."
)


def _shelters(victim: Victim) -> tuple[set[int], set[str]]:
    """The person's shelter tracks (``ServiceTrack.is_shelter``) and the codes of the agencies
    that shelter them (or were asked to): left out of an access export, which is handed to
    whoever asked — possibly under pressure from the person the victim fled."""
    tracks = [
        t
        for t in db.session.scalars(select(ServiceTrack).where(ServiceTrack.victim_id == victim.id))
        if t.is_shelter
    ]
    ids = {t.id for t in tracks}
    agencies = {t.provider for t in tracks if t.provider is not None}
    if ids:
        for records in _TRACK_RECORDS.values():
            agencies |= set(records.agencies(ids))
    return ids, {a.code for a in agencies if a.id != victim.case.agency_id}


def _consents(victim: Victim) -> list[dict[str, Any]]:
    entries = db.session.scalars(
        select(ConsentEntry).where(ConsentEntry.victim_id == victim.id).order_by(ConsentEntry.id)
    )
    _tracks, shelter_codes = _shelters(victim)

    def purpose(text: str) -> str:
        kind, _sep, code = text.partition(":")
        return f"{kind}:—" if kind == "rujukan" and code in shelter_codes else text

    return [
        {
            "purpose": purpose(e.purpose),
            "decision": exported(e.decision),
            "given_by": exported(e.given_by),
            "at": exported(e.at),
            "withdraws": e.withdraws_id,
            "id": e.id,
        }
        for e in entries
    ]


def _services(victim: Victim) -> list[dict[str, Any]]:
    tracks = db.session.scalars(
        select(ServiceTrack).where(ServiceTrack.victim_id == victim.id).order_by(ServiceTrack.id)
    )
    shelter_tracks, _codes = _shelters(victim)
    result = []
    for track in tracks:
        shelter = track.id in shelter_tracks
        result.append(
            {
                "service_type": exported(track.service_type),
                "provider": None if shelter else track.provider.name if track.provider else None,
                "withheld": [str(SHELTER_WITHHELD)] if shelter else [],
                "state": exported(track.state),
                "started_at": exported(track.started_at),
                "ended_at": exported(track.ended_at),
                "end_reason": track.end_reason,
                **{key: records.rows(track, shelter) for key, records in _TRACK_RECORDS.items()},
            }
        )
    return result


def _assessment(victim: Victim) -> dict[str, Any] | None:
    found = db.session.scalar(
        select(Assessment)
        .where(Assessment.victim_id == victim.id)
        .options(selectinload(Assessment.findings))
    )
    if found is None:
        return None
    return {
        "summary": found.summary,
        "completed_at": exported(found.completed_at),
        "findings": [
            {
                "area": exported(f.area),
                "level": exported(f.level),
                "needs": f.needs,
                "risks": f.risks,
            }
            for f in found.findings
        ],
    }


def _case_part(case: Case) -> dict[str, Any]:
    """What the case file holds about the incident. The chronology and the notes speak of the
    whole case; they are included only when the person is its only victim (otherwise they may
    hold other victims' data and are listed as withheld, for a person to review)."""
    alone = len(case.victims) == 1
    notes = list(
        db.session.scalars(
            select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id)
        )
    )
    return {
        "reference": case.reference,
        "received_at": exported(case.received_at),
        "state": exported(case.state),
        "closed_at": exported(case.closed_at),
        "case_types": [exported(t) for t in case.case_types],
        "incident_date": exported(case.incident_date),
        "incident_place": exported(case.incident_place),
        "kronologi": case.kronologi if alone else None,
        "notes": [{"at": exported(n.at), "body": n.body} for n in notes] if alone else [],
        "withheld": (
            []
            if alone
            else [
                str(
                    _l(
                        "The chronology and %(n)d notes of this case are withheld: the case has "
                        "other victims. Review them before handing them over.",
                        n=len(notes),
                    )
                )
            ]
        ),
    }


def export_data(victim: Victim, request: DataSubjectRequest, now: dt.datetime) -> dict[str, Any]:
    """Everything the agency holds about the person behind ``victim``: each of their victim
    rows with its case, consent ledger, services, referrals (and what they shared) and
    assessment. Never another victim's data, never a perpetrator's or witness's identity."""
    victims = subject_victims(victim)
    return {
        "format": "simpul-data-subject-export/1",
        "request": {"id": request.id, "kind": exported(request.kind)},
        "agency": victim.case.agency.name,
        "generated_at": exported(now),
        "records": [
            {
                "case": _case_part(v.case),
                "victim": _victim_part(v),
                "consents": _consents(v),
                "services": _services(v),
                "assessment": _assessment(v),
                "restricted": is_restricted(v),
                "erased": erasure_of(v) is not None,
            }
            for v in victims
        ],
    }


def data_subject_rows_keep(victim: Victim, label: str) -> Any:
    """A request of the person (a restriction, an erasure) stays with the victim row: the victim
    may not be removed from the intake (``app.cases.operations.register_victim_removal_guard``)."""
    kept = db.session.scalar(
        select(DataSubjectRequest.id).where(DataSubjectRequest.victim_id == victim.id).limit(1)
    ) or db.session.scalar(
        select(VictimRestriction.id).where(VictimRestriction.victim_id == victim.id).limit(1)
    )
    if not kept:
        return None
    return _l(
        "Victim %(label)s has data-subject requests recorded (UU 27/2022) and cannot be removed.",
        label=label,
    )
