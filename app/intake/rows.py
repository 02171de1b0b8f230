"""The rows of an import's batch as plain data (``flask cases import`` on PostgreSQL).

``write_rows`` writes checked records (``importing.check_record``: every rule of the intake form
and of the history) as the ORM path of ``importing._write_batch`` writes them — the same rows of
the same tables, column by column, and the same audit entries in the same order — but builds
each row as a dict and sends each table's rows as one prepared ``INSERT`` executed many times,
without an ORM object per row: constructing, instrumenting and cascading some thirty objects
per case was most of what an import spent. ``tests/cases/test_import_insert.py`` compares the
two paths table by table.

What each row holds follows the operations it stands for: ``register_imported_case`` with
``fill_new_case`` (the case, its people and its consent ledger), ``engine.register``,
``engine.import_tracks`` and ``engine.import_state`` (the transition rows), ``import_tracks``
(the service tracks) and the audit entries ``registered_entry``, ``created_entry`` and the
import's own ``case.import``. Ids come from the tables' sequences before anything is written
(``IdPool``), so no row is read back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from app.agencies.models import Agency
from app.audit.operations import SystemActor, append_entries, entry_row
from app.auth.models import User
from app.cases.intake import victim_age
from app.cases.models import (
    Case,
    CaseTypeEntry,
    ConsentEntry,
    Guardian,
    Perpetrator,
    PerpetratorRelation,
    Person,
    Victim,
    VictimAmpkCategory,
    VictimViolenceType,
    Witness,
)
from app.cases.operations import consent_key, workflow_key_for
from app.core.crypto import name_dob_index, name_index, nik_index
from app.core.db import AnySession, IdPool, utcnow
from app.core.enums import CaseState, TrackState
from app.regions.models import Region
from app.services.models import TRACK_WORKFLOW_VERSION, ServiceTrack
from app.workflow.engine import import_state_allowed, registered_state
from app.workflow.models import CaseTransition

if TYPE_CHECKING:
    from app.intake.importing import ParsedCase

Actor = User | SystemActor


@dataclass
class RecordToWrite:
    """One checked record of the batch with what its checks resolved."""

    parsed: ParsedCase
    agency: Agency
    providers: dict[str, Agency | None]
    manager: User | None
    reference: str
    case_id: int
    # when each of its tracks entered the plan (``importing.planned_at``)
    planned: list[dt.datetime]
    # when it arrived in its state (None: it stays diterima)
    arrived_at: dt.datetime | None


class _Tables:
    """The batch's rows, table by table, in the order they were built."""

    ORDER = (
        Case,
        CaseTypeEntry,
        Person,
        Victim,
        VictimViolenceType,
        VictimAmpkCategory,
        Perpetrator,
        PerpetratorRelation,
        Guardian,
        Witness,
        ConsentEntry,
        ServiceTrack,
        CaseTransition,
    )

    def __init__(self) -> None:
        self.rows: dict[type[Any], list[dict[str, Any]]] = {model: [] for model in self.ORDER}

    def add(self, model: type[Any], row: dict[str, Any]) -> None:
        self.rows[model].append(row)

    def insert(self, session: AnySession) -> None:
        """Each table's rows, parents first: one statement per table and set of columns (a
        ``None`` leaves a column that has a default to it, as the flush does)."""
        connection = session.connection()
        for model in self.ORDER:
            rows = self.rows[model]
            if not rows:
                continue
            table = model.__table__
            defaulted = _defaulted(table)
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in rows:
                if defaulted:
                    row = {k: v for k, v in row.items() if v is not None or k not in defaulted}
                groups.setdefault(tuple(row), []).append(row)
            for group in groups.values():
                connection.execute(table.insert(), group)


_DEFAULTED: dict[sa.Table, frozenset[str]] = {}


def _defaulted(table: sa.Table) -> frozenset[str]:
    if table not in _DEFAULTED:
        _DEFAULTED[table] = frozenset(
            c.key
            for c in table.columns
            if (c.default is not None or c.server_default is not None)
            and not getattr(c.type, "should_evaluate_none", False)
        )
    return _DEFAULTED[table]


def write_rows(
    session: AnySession,
    records: list[RecordToWrite],
    *,
    actor: Actor,
    ids: IdPool,
    region: Callable[[str | None], Region | None],
) -> None:
    """Insert the rows of ``records`` and their audit entries (sealed onto the chain in the
    order the ORM path records them). Raises ``DomainError`` when a record's state is not one of
    its workflow's (the caller then writes each record on its own)."""
    tables = _Tables()
    entries: list[dict[str, Any]] = []
    label = actor.label if isinstance(actor, SystemActor) else "user"
    now = utcnow()
    for item in records:
        _case_rows(item, tables, entries, actor=actor, label=label, ids=ids, region=region, now=now)
    tables.insert(session)
    append_entries(session, entries)


def _case_rows(
    item: RecordToWrite,
    tables: _Tables,
    entries: list[dict[str, Any]],
    *,
    actor: Actor,
    label: str,
    ids: IdPool,
    region: Callable[[str | None], Region | None],
    now: dt.datetime,
) -> None:
    parsed, agency, intake = item.parsed, item.agency, item.parsed.intake
    case_id = item.case_id
    workflow_key = workflow_key_for(intake.case_types)
    registered = registered_state(workflow_key, 1)
    state = CaseState(parsed.status)
    if state is not registered:
        import_state_allowed(workflow_key, 1, state)
    assert intake.channel is not None, "check_intake refuses an intake without its channel"
    precision = intake.incident_date_precision or ("hari" if intake.incident_date else None)
    incident_region = region(intake.incident_region_code)
    tables.add(
        Case,
        {
            "id": case_id,
            "reference": item.reference,
            "agency_id": agency.id,
            "external_id": parsed.external_id,
            "state": state.value,
            "workflow_key": workflow_key,
            "workflow_version": 1,
            "received_at": intake.received_at,
            "first_received_at": intake.received_at,
            "channel": intake.channel,
            "registered_by_id": actor.id,
            "case_manager_id": item.manager.id if item.manager is not None else None,
            "reporter_kind": intake.reporter_kind,
            "reporter_name": intake.reporter_name or None,
            "reporter_phone": intake.reporter_phone or None,
            "reporter_relation": intake.reporter_relation or None,
            "incident_date": intake.incident_date,
            "incident_date_precision": precision,
            "incident_region_id": incident_region.id if incident_region is not None else None,
            "incident_place": intake.incident_place or None,
            "ranah": intake.ranah or None,
            "kronologi": intake.kronologi or None,
            "risk": intake.risk or None,
            "kewenangan": intake.kewenangan,
            "assessment_completed_at": parsed.assessment_completed_at,
            "closed_at": parsed.closed_at,
            "closed_reason": parsed.closed_reason,
            "version": 1,
        },
    )
    for case_type in dict.fromkeys(intake.case_types):
        tables.add(CaseTypeEntry, {"case_id": case_id, "type": case_type})

    actor_id = actor.id
    # the registration's row (engine.register, kind import)
    tables.add(
        CaseTransition,
        {
            "id": ids.take(CaseTransition),
            "case_id": case_id,
            "track_id": None,
            "at": intake.received_at,
            "actor_id": actor_id,
            "actor_label": label,
            "kind": "import",
            "event": "register",
            "from_state": None,
            "to_state": registered.value,
            "reason": None,
            "data": {"external_id": parsed.external_id},
        },
    )

    perpetrator_ids = []
    for position, x in enumerate(intake.perpetrators, start=1):
        perpetrator_id = ids.take(Perpetrator)
        perpetrator_ids.append(perpetrator_id)
        tables.add(
            Perpetrator,
            {
                "id": perpetrator_id,
                "case_id": case_id,
                "position": position,
                "name": x.name or None,
                "sex": x.sex or None,
                "age": x.age,
                "notes": x.notes or None,
            },
        )
    victim_ids = []
    for position, v in enumerate(intake.victims, start=1):
        victim_id = ids.take(Victim)
        victim_ids.append(victim_id)
        person_id = None
        if v.name or v.nik:  # _person_for: a new person of the agency
            person_id = ids.take(Person)
            tables.add(
                Person,
                {
                    "id": person_id,
                    "agency_id": agency.id,
                    "name_dob_index": (
                        name_dob_index(v.name, v.birth_date.isoformat())
                        if v.name and v.birth_date
                        else None
                    ),
                    "nik_index": nik_index(v.nik) if v.nik else None,
                },
            )
        age = victim_age(v, intake)
        assert v.sex is not None, "check_intake refuses a victim without sex"
        domicile = region(v.domicile_region_code)
        tables.add(
            Victim,
            {
                "id": victim_id,
                "case_id": case_id,
                "position": position,
                "person_id": person_id,
                "name": v.name or None,
                "name_index": name_index(v.name) if v.name else None,
                "nik": v.nik or None,
                "nik_index": nik_index(v.nik) if v.nik else None,
                "sex": v.sex,
                "birth_date": v.birth_date,
                "age_at_incident": age,
                "is_child": age is not None and age < 18,
                "disability": v.disability,
                "disability_kind": v.disability_kind or None,
                "pregnant": v.pregnant,
                "education": v.education or None,
                "occupation": v.occupation or None,
                "marital_status": v.marital_status or None,
                "religion": v.religion or None,
                "nationality": v.nationality or "WNI",
                "domicile_region_id": domicile.id if domicile is not None else None,
                "address": v.address or None,
                "phone": v.phone or None,
                "has_nik": v.has_nik,
                "has_akta": v.has_akta,
                "has_kia": v.has_kia,
                "tppo_proses": list(dict.fromkeys(v.tppo_proses)),
                "tppo_cara": list(dict.fromkeys(v.tppo_cara)),
                "tppo_tujuan": list(dict.fromkeys(v.tppo_tujuan)),
                "tppo_cross_border": v.tppo_cross_border,
                "tppo_destination_country": v.tppo_destination_country or None,
                "tppo_recruiter": v.tppo_recruiter or None,
                "tppo_documents": v.tppo_documents or None,
            },
        )
        for violence_type in dict.fromkeys(v.violence_types):
            tables.add(VictimViolenceType, {"victim_id": victim_id, "type": violence_type})
        for category in dict.fromkeys(v.ampk_categories):
            tables.add(VictimAmpkCategory, {"victim_id": victim_id, "category": category})
    for x, perpetrator_id in zip(intake.perpetrators, perpetrator_ids, strict=True):
        for position, relation in x.relationships.items():
            tables.add(
                PerpetratorRelation,
                {
                    "perpetrator_id": perpetrator_id,
                    "victim_id": victim_ids[position - 1],
                    "relationship": relation,
                },
            )
    for v, victim_id in zip(intake.victims, victim_ids, strict=True):
        for g in v.guardians:
            tables.add(
                Guardian,
                {
                    "id": ids.take(Guardian),
                    "victim_id": victim_id,
                    "name": g.name.strip(),
                    "relation": g.relation or None,
                    "phone": g.phone or None,
                    "perpetrator_id": (
                        perpetrator_ids[g.perpetrator_position - 1]
                        if g.perpetrator_position
                        else None
                    ),
                },
            )
    for name, phone in intake.witnesses:
        tables.add(
            Witness,
            {
                "id": ids.take(Witness),
                "case_id": case_id,
                "name": name.strip(),
                "phone": phone or None,
            },
        )
    for v, victim_id in zip(intake.victims, victim_ids, strict=True):
        recorded: set[tuple[Any, ...]] = set()
        for consent in v.consents:
            key = consent_key(consent)
            if key in recorded:
                continue
            recorded.add(key)
            tables.add(
                ConsentEntry,
                {
                    "id": ids.take(ConsentEntry),
                    "victim_id": victim_id,
                    "purpose": consent.purpose,
                    "decision": consent.decision,
                    "given_by": consent.given_by,
                    "given_by_name": consent.given_by_name or None,
                    "at": consent.at,
                    "recorded_by_id": actor_id,
                },
            )

    entries.append(
        entry_row(
            actor,
            "case.register",
            "case",
            case_id,
            {"agency": agency.code, "reference": item.reference, "risk": intake.risk or None},
        )
    )
    received = intake.received_at
    for s, planned in zip(parsed.services, item.planned, strict=True):
        track_id = ids.take(ServiceTrack)
        provider = item.providers.get(s.provider_code) if s.provider_code else None
        provider_code = provider.code if provider is not None else None
        victim_label = f"K{s.victim_position}"  # Victim.label
        track_state = TrackState(s.status).value
        tables.add(
            ServiceTrack,
            {
                "id": track_id,
                "case_id": case_id,
                "victim_id": victim_ids[s.victim_position - 1],
                "service_type": s.type,
                "provider_id": provider.id if provider is not None else None,
                "state": track_state,
                "workflow_version": TRACK_WORKFLOW_VERSION,
                "target_date": s.target_date,
                "started_at": s.started_at,
                "ended_at": s.ended_at,
                "end_reason": s.end_reason or None,
                "planned_at": planned,
                "version": 1,
            },
        )
        tables.add(
            CaseTransition,
            {
                "id": ids.take(CaseTransition),
                "case_id": case_id,
                "track_id": track_id,
                "at": s.ended_at or s.started_at or received or now,
                "actor_id": actor_id,
                "actor_label": label,
                "kind": "import",
                "event": "import",
                "from_state": None,
                "to_state": track_state,
                "reason": None,
                "data": {
                    "service_type": s.type,
                    "victim": victim_label,
                    "provider": provider_code,
                },
            },
        )
        entries.append(
            entry_row(
                actor,
                "track.create",
                "case",
                case_id,
                {
                    "track": track_id,
                    "victim": victim_label,
                    "service_type": s.type,
                    "state": track_state,
                    "provider": provider_code,
                },
            )
        )
    if state is not registered:  # engine.import_state: one row from diterima
        assert item.arrived_at is not None
        tables.add(
            CaseTransition,
            {
                "id": ids.take(CaseTransition),
                "case_id": case_id,
                "track_id": None,
                "at": item.arrived_at,
                "actor_id": actor_id,
                "actor_label": label,
                "kind": "import",
                "event": "import",
                "from_state": registered.value,
                "to_state": state.value,
                "reason": parsed.closed_reason,
                "data": {"external_id": parsed.external_id},
            },
        )
    entries.append(
        entry_row(
            actor,
            "case.import",
            "case",
            case_id,
            {
                "external_id": parsed.external_id,
                "reference": item.reference,
                "state": parsed.status,
                "tracks": len(parsed.services),
            },
        )
    )
