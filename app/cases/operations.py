"""The write side of the case record. Every function checks, mutates, flushes and audits; none
commits."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import select

from app.agencies.models import Agency
from app.audit.models import AuditEntry
from app.audit.operations import SystemActor, record
from app.auth.models import User
from app.cases import storage
from app.cases.files import Refusal, UploadRefused, check_content, without_metadata
from app.cases.intake import (
    JAKARTA,
    ConsentData,
    GuardianData,
    Intake,
    PerpetratorData,
    VictimData,
    check_consent,
    check_intake,
    raise_first,
    victim_age,
)
from app.cases.models import (
    Attachment,
    Case,
    CaseCounter,
    CaseNote,
    CaseTypeEntry,
    ConsentEntry,
    Guardian,
    Perpetrator,
    PerpetratorRelation,
    Person,
    Victim,
    VictimAmpkCategory,
    VictimNameKey,
    VictimViolenceType,
    Witness,
)
from app.cases.notifications import notify_supervisors_high_risk
from app.cases.queries import known_region_codes, scope_condition
from app.core import storage as file_storage
from app.core.crypto import (
    index_keyring,
    name_dob_index,
    name_index,
    name_keys,
    nik_index,
    nik_matches,
    normalise_name,
)
from app.core.db import model_diff, utcnow
from app.core.enums import (
    AmpkCategory,
    CaseState,
    CaseType,
    Channel,
    ConsentDecision,
    ConsentGiver,
    Education,
    IncidentDatePrecision,
    IncidentPlace,
    Kewenangan,
    MaritalStatus,
    Nationality,
    Ranah,
    Relationship,
    Religion,
    ReporterKind,
    Risk,
    Sex,
    ViolenceType,
)
from app.core.errors import DomainError
from app.core.i18n import lazy_gettext as _l
from app.core.tasks import delete_on_rollback
from app.extensions import db
from app.regions.models import Region

Actor = User | SystemActor


class ConflictError(DomainError):
    """The record changed since the person loaded it; ``changes`` says what changed."""

    def __init__(self, message: Any, changes: dict[str, list[Any]]) -> None:
        super().__init__(message)
        self.changes = changes


def workflow_key_for(case_types: list[str]) -> str:
    return "tppo" if CaseType.TPPO in case_types else "ktpa"


def next_reference(agency: Agency, received_at: dt.datetime) -> str:
    """``<AGENCY-CODE>-<YYYY>-<NNNNN>``, sequential per agency and year (Asia/Jakarta), never
    reused. The counter row is locked, so concurrent intakes wait for each other."""
    year = received_at.astimezone(JAKARTA).year
    number = _take_numbers(agency, year, 1)
    return f"{agency.code}-{year}-{number:05d}"


def next_references(wanted: list[tuple[Agency, dt.datetime]]) -> list[str]:
    """The references of several new cases at once (an import's batch), in the order given, as
    ``next_reference`` would give them one after the other: one counter update per agency and
    year instead of one per case."""
    groups: dict[tuple[int, int], list[int]] = {}
    agencies: dict[int, Agency] = {}
    for i, (agency, received_at) in enumerate(wanted):
        agencies[agency.id] = agency
        groups.setdefault((agency.id, received_at.astimezone(JAKARTA).year), []).append(i)
    references = [""] * len(wanted)
    for (agency_id, year), positions in groups.items():
        agency = agencies[agency_id]
        last = _take_numbers(agency, year, len(positions))
        first = last - len(positions) + 1
        for number, i in enumerate(positions, start=first):
            references[i] = f"{agency.code}-{year}-{number:05d}"
    return references


def _take_numbers(agency: Agency, year: int, count: int) -> int:
    """Move the counter of ``agency`` and ``year`` on by ``count`` (the row locked until the
    transaction ends) and return its new value, the last number taken."""
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        # local: the insert of the dialect in use (ON CONFLICT differs)
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    db.session.execute(
        insert(CaseCounter)
        .values(agency_id=agency.id, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["agency_id", "year"])
    )
    number: int = db.session.execute(
        sa.update(CaseCounter)
        .where(CaseCounter.agency_id == agency.id, CaseCounter.year == year)
        .values(last_number=CaseCounter.last_number + count)
        .returning(CaseCounter.last_number)
    ).scalar_one()
    return number


def _region(code: str | None) -> Region | None:
    if not code:
        return None
    with db.session.no_autoflush:
        return db.session.scalar(select(Region).where(Region.code == code))


def _person_for(agency: Agency, victim: VictimData) -> Person | None:
    if victim.link_person_id is not None:
        person = db.session.get(Person, victim.link_person_id)
        if person is None or person.agency_id != agency.id:
            raise DomainError(_l("The person to link to was not found."), field="victims")
        return person
    if not victim.name and not victim.nik:
        return None
    person = Person(
        agency_id=agency.id,
        name_dob_index=(
            name_dob_index(victim.name, victim.birth_date.isoformat())
            if victim.name and victim.birth_date
            else None
        ),
        nik_index=nik_index(victim.nik) if victim.nik else None,
    )
    db.session.add(person)
    return person


def fill_case(case: Case, intake: Intake, agency: Agency, actor: Actor) -> None:
    """Write the intake's content onto ``case``.

    People are matched by their position on the form and updated in place, so what hangs off a
    victim (the consent ledger, service tracks) stays attached. A registered case cannot lose a
    victim whose consent decisions or services are recorded.
    """
    victims = _fill(case, intake, agency, _region)
    db.session.flush()
    for v, victim in zip(intake.victims, victims, strict=True):
        recorded = {
            (c.purpose, c.decision.value, c.given_by.value, c.given_by_name, c.at)
            for c in db.session.scalars(
                select(ConsentEntry).where(ConsentEntry.victim_id == victim.id)
            )
        }
        for consent in v.consents:
            key = consent_key(consent)
            if key not in recorded:  # the same decision shown again on the form is not new
                _add_consent(victim, consent, actor)
                recorded.add(key)


def fill_new_case(
    case: Case,
    intake: Intake,
    agency: Agency,
    actor: Actor,
    *,
    region: Callable[[str | None], Region | None],
) -> None:
    """``fill_case`` for a case created now and not yet flushed (an import's batch): nothing to
    match or read back, so nothing is flushed or looked up here; ``region`` resolves region codes
    (the batch's look-ups, read once). Everything is written with the batch's next flush."""
    victims = _fill(case, intake, agency, region)
    for v, victim in zip(intake.victims, victims, strict=True):
        recorded: set[tuple[Any, ...]] = set()
        for consent in v.consents:
            key = consent_key(consent)
            if key not in recorded:
                entry = _consent_entry(consent, actor)
                entry.victim = victim  # its id comes with the flush
                db.session.add(entry)
                recorded.add(key)


def consent_key(consent: ConsentData) -> tuple[Any, ...]:
    return (
        consent.purpose,
        consent.decision,
        consent.given_by,
        consent.given_by_name or None,
        consent.at,
    )


def _fill(
    case: Case, intake: Intake, agency: Agency, region: Callable[[str | None], Region | None]
) -> list[Victim]:
    """Everything of ``fill_case`` but the consent ledger; returns the victims in form order."""
    case.received_at = intake.received_at  # type: ignore[assignment]
    if case.transferred_from_id is None:  # its own registration is the first one
        case.first_received_at = case.received_at
    assert intake.channel is not None, "check_intake refuses an intake without its channel"
    case.channel = Channel(intake.channel)
    case.risk = Risk(intake.risk) if intake.risk else None  # type: ignore[assignment]
    case.kewenangan = Kewenangan(intake.kewenangan)
    case.reporter_kind = ReporterKind(intake.reporter_kind)
    case.reporter_name = intake.reporter_name or None
    case.reporter_phone = intake.reporter_phone or None
    case.reporter_relation = intake.reporter_relation or None
    case.incident_date = intake.incident_date
    precision = intake.incident_date_precision or ("hari" if intake.incident_date else None)
    case.incident_date_precision = IncidentDatePrecision(precision) if precision else None
    case.incident_region = region(intake.incident_region_code)
    case.incident_place = IncidentPlace(intake.incident_place) if intake.incident_place else None
    case.ranah = Ranah(intake.ranah) if intake.ranah else None
    case.kronologi = intake.kronologi or None
    case.workflow_key = workflow_key_for(intake.case_types)
    case.types = [CaseTypeEntry(type=CaseType(t)) for t in dict.fromkeys(intake.case_types)]

    perpetrators = _sync_perpetrators(case, intake)
    victims = _sync_victims(case, intake, agency, region)
    for x, perpetrator in zip(intake.perpetrators, perpetrators, strict=True):
        perpetrator.relations = [
            PerpetratorRelation(victim=victims[position - 1], relationship_=Relationship(relation))
            for position, relation in x.relationships.items()
        ]
    for v, victim in zip(intake.victims, victims, strict=True):
        victim.guardians = [
            Guardian(
                name=g.name.strip(),
                relation=g.relation or None,
                phone=g.phone or None,
                perpetrator=(
                    perpetrators[g.perpetrator_position - 1] if g.perpetrator_position else None
                ),
            )
            for g in v.guardians
        ]
    case.witnesses = [
        Witness(name=name.strip(), phone=phone or None) for name, phone in intake.witnesses
    ]
    return victims


def _match(rows: list[Any], wanted: list[Any]) -> tuple[list[Any | None], list[Any]]:
    """Pair each wanted entry with the existing row it edits: by id when the form carries ids,
    else by position. Returns the pairing and the rows no longer wanted. Kept rows are moved out
    of the way of the (case, position) uniqueness before they are renumbered."""
    by_id = {row.id: row for row in rows}
    by_position = {row.position: row for row in rows}
    use_ids = any(getattr(w, "id", None) for w in wanted)
    paired: list[Any | None] = []
    for i, w in enumerate(wanted, start=1):
        if use_ids:
            row = by_id.pop(w.id, None) if w.id else None
        else:
            row = by_position.get(i)
            if row is not None:
                by_id.pop(row.id, None)
        paired.append(row)
    if rows:
        for row in rows:  # out of the way of the renumbering (removed rows too, until they go)
            row.position = -row.id
        db.session.flush()
    return paired, list(by_id.values())


def _sync_perpetrators(case: Case, intake: Intake) -> list[Perpetrator]:
    paired, removed = _match(list(case.perpetrators), intake.perpetrators)
    result = []
    for i, (x, row) in enumerate(zip(intake.perpetrators, paired, strict=True), start=1):
        perpetrator = row or Perpetrator()
        perpetrator.position = i
        perpetrator.name = x.name or None
        perpetrator.sex = Sex(x.sex) if x.sex else None
        perpetrator.age = x.age
        perpetrator.notes = x.notes or None
        if perpetrator not in case.perpetrators:
            case.perpetrators.append(perpetrator)
        result.append(perpetrator)
    for perpetrator in removed:
        case.perpetrators.remove(perpetrator)
    return result


# What keeps a victim on the case: the domains built on the case hold rows about a victim (a
# data-subject request, a service track) that removing the victim from the intake would orphan.
# Each says so through a guard registered from its ``init_app``: ``guard(victim, label)`` returns
# the refusal to show (with the victim's label), or None. Guards run in their order, before the
# case's own check of its consent ledger.
RemovalGuard = Callable[[Victim, str], Any]  # a (lazy) message, or None
_REMOVAL_GUARDS: dict[str, tuple[int, RemovalGuard]] = {}


def register_victim_removal_guard(name: str, order: int, guard: RemovalGuard) -> None:
    """Refuse removing a victim from the intake when ``guard`` says why. Registering a name
    again replaces it."""
    _REMOVAL_GUARDS[name] = (order, guard)


def _removal_refused(victim: Victim, label: str) -> Any:
    for _order, guard in sorted(_REMOVAL_GUARDS.values(), key=lambda item: item[0]):
        refusal = guard(victim, label)
        if refusal is not None:
            return refusal
    return None


def set_name_keys(victim: Victim, case: Case, name: str | None) -> None:
    """Write the name keys of ``victim`` for ``name`` (none for no name) under the current
    blind-index key: rows already right stay, the others go (``app.core.crypto.name_keys``)."""
    if name is None:
        victim.name_keys = []
        return
    key_id, wanted = name_keys(name)
    kept = [k for k in victim.name_keys if k.digest in wanted and k.key_id == key_id]
    have = {k.digest for k in kept}
    victim.name_keys = kept + [
        VictimNameKey(digest=d, key_id=key_id, case=case) for d in sorted(wanted - have)
    ]


def _sync_victims(
    case: Case,
    intake: Intake,
    agency: Agency,
    region: Callable[[str | None], Region | None] = _region,
) -> list[Victim]:
    labels = {v.id: v.label for v in case.victims}  # before _match moves the positions
    paired, removed = _match(list(case.victims), intake.victims)
    result = []
    for i, (v, row) in enumerate(zip(intake.victims, paired, strict=True), start=1):
        victim = row
        if victim is None:
            victim = Victim(position=i, person=_person_for(agency, v))
            case.victims.append(victim)
        elif v.link_person_id is not None and v.link_person_id != victim.person_id:
            victim.person = _person_for(agency, v)
        victim.position = i
        age = victim_age(v, intake)
        if row is None or (victim.name or None) != (v.name or None):
            set_name_keys(victim, case, v.name or None)
        victim.name = v.name or None
        victim.name_index = name_index(v.name) if v.name else None
        victim.nik = v.nik or None
        victim.nik_index = nik_index(v.nik) if v.nik else None
        assert v.sex is not None, "check_intake refuses a victim without sex"
        victim.sex = Sex(v.sex)
        victim.birth_date = v.birth_date
        victim.age_at_incident = age
        victim.is_child = age is not None and age < 18
        victim.disability = v.disability
        victim.disability_kind = v.disability_kind or None
        victim.pregnant = v.pregnant
        victim.education = Education(v.education) if v.education else None
        victim.occupation = v.occupation or None
        victim.marital_status = MaritalStatus(v.marital_status) if v.marital_status else None
        victim.religion = Religion(v.religion) if v.religion else None
        victim.nationality = Nationality(v.nationality or "WNI")
        victim.domicile_region = region(v.domicile_region_code)
        victim.address = v.address or None
        victim.phone = v.phone or None
        victim.has_nik = v.has_nik
        victim.has_akta = v.has_akta
        victim.has_kia = v.has_kia
        victim.tppo_proses = list(dict.fromkeys(v.tppo_proses))
        victim.tppo_cara = list(dict.fromkeys(v.tppo_cara))
        victim.tppo_tujuan = list(dict.fromkeys(v.tppo_tujuan))
        victim.tppo_cross_border = v.tppo_cross_border
        victim.tppo_destination_country = v.tppo_destination_country or None
        victim.tppo_recruiter = v.tppo_recruiter or None
        victim.tppo_documents = v.tppo_documents or None
        victim.violence_types = [
            VictimViolenceType(type=ViolenceType(t)) for t in dict.fromkeys(v.violence_types)
        ]
        victim.ampk_categories = [
            VictimAmpkCategory(category=AmpkCategory(c)) for c in dict.fromkeys(v.ampk_categories)
        ]
        result.append(victim)
    for victim in removed:
        if victim.id is not None:
            label = labels.get(victim.id, victim.label)
            refusal = _removal_refused(victim, label)
            if refusal is not None:
                raise DomainError(refusal, field="victims")
            has_history = db.session.scalar(
                select(ConsentEntry.id).where(ConsentEntry.victim_id == victim.id).limit(1)
            )
            if has_history and case.state is not CaseState.DRAFT:
                raise DomainError(
                    _l(
                        "Victim %(label)s has recorded consent decisions or services and cannot "
                        "be removed.",
                        label=label,
                    ),
                    field="victims",
                )
            if has_history:  # a draft's own entries go with it: nothing was registered yet
                for entry in db.session.scalars(
                    select(ConsentEntry).where(ConsentEntry.victim_id == victim.id)
                ):
                    db.session.delete(entry)
                db.session.flush()
        case.victims.remove(victim)
    return result


def _add_consent(victim: Victim, c: ConsentData, actor: Actor) -> ConsentEntry:
    entry = _consent_entry(c, actor)
    entry.victim_id = victim.id
    db.session.add(entry)
    return entry


def _consent_entry(c: ConsentData, actor: Actor) -> ConsentEntry:
    return ConsentEntry(
        purpose=c.purpose,
        decision=ConsentDecision(c.decision),
        given_by=ConsentGiver(c.given_by),
        given_by_name=(c.given_by_name or None),
        at=c.at,
        recorded_by_id=actor.id,
    )


UNDECIDED_DUPLICATE = _l(
    "A registered case of this agency already has a victim with this NIK. Check for duplicates "
    "and choose whether it is the same person, then save again."
)


def _nik_lock_key(agency_id: int, index: str) -> int:
    """The PostgreSQL advisory lock of one NIK at one agency: a signed 64-bit number."""
    digest = hashlib.sha256(f"simpul-nik:{agency_id}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def recheck_duplicate_niks(
    intake: Intake,
    agency: Agency,
    case: Case | None,
    *,
    actor: Actor,
    only_new_rows: bool = False,
) -> None:
    """The intake's duplicate check again, inside the registering transaction: a victim whose
    NIK a registered case of the agency already has must be decided on (linked to that person,
    or declared another person) before the complaint is registered — as the intake form asks.

    The view asks before saving, but two intakes with one NIK sent at the same moment both pass
    that check. So each NIK is locked first, per agency (``pg_advisory_xact_lock``, held until
    the transaction ends; on SQLite every transaction starts with ``BEGIN IMMEDIATE`` and is
    alone already), then looked up: the first intake registers the person, the others find it
    and are sent back to the form, where the question is asked. ``only_new_rows``: only victims
    added now (an edit of a registered case).

    Only cases in ``actor``'s own scope count, as on the form: a match outside it is shown there
    as "possible duplicate elsewhere — ask a supervisor", with nothing to choose, so it cannot
    hold the registration back (the data-quality queue flags the pair). Matching is on the NIK's
    index under every blind-index key, as the form's check does."""
    wanted: dict[str, tuple[int, str]] = {}
    for i, v in enumerate(intake.victims):
        if not v.nik or v.link_person_id is not None or v.new_person:
            continue
        if only_new_rows and v.id is not None:
            continue
        wanted.setdefault(nik_index(v.nik), (i, v.nik))
    if not wanted:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        for index in sorted(wanted):  # one order for every transaction: no deadlock
            db.session.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"),
                {"key": _nik_lock_key(agency.id, index)},
            )
    for i, nik in wanted.values():
        query = (
            select(Victim.id)
            .join(Case, Case.id == Victim.case_id)
            .where(
                Case.agency_id == agency.id,
                Case.state != CaseState.DRAFT,
                nik_matches(Victim.nik_index, nik),
                scope_condition(actor),
            )
            .limit(1)
        )
        if case is not None and case.id is not None:
            query = query.where(Case.id != case.id)
        with db.session.no_autoflush:
            found = db.session.scalar(query)
        if found is not None:
            raise DomainError(UNDECIDED_DUPLICATE, field=f"victims-{i}-nik")


def case_snapshot(case: Case) -> dict[str, Any]:
    """What a person edits on the intake form, to tell them what someone else changed."""
    return {
        "received_at": case.received_at.isoformat() if case.received_at else None,
        "channel": case.channel.value,
        "case_types": sorted(t.value for t in case.case_types),
        "risk": case.risk.value if case.risk else None,
        "kewenangan": case.kewenangan.value,
        "reporter_kind": case.reporter_kind.value,
        "incident_date": case.incident_date.isoformat() if case.incident_date else None,
        "incident_place": case.incident_place.value if case.incident_place else None,
        "ranah": case.ranah.value if case.ranah else None,
        "incident_region": case.incident_region.code if case.incident_region else None,
        # the narrative itself never goes into the audit trail: only a fingerprint of it
        "kronologi": _fingerprint(case.kronologi),
        "victims": [
            f"{v.label} {v.sex.value} {v.age_at_incident if v.age_at_incident is not None else '?'}"
            f" {','.join(sorted(t.type.value for t in v.violence_types))}"
            for v in case.victims
        ],
        "perpetrators": [
            f"{x.label} {x.sex.value if x.sex else '?'} {x.age if x.age is not None else '?'}"
            for x in case.perpetrators
        ],
    }


def _fingerprint(text: str | None) -> str | None:
    if not text:
        return None
    return f"{len(text)} chars #{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def check_version(case: Case, expected_version: int, before: dict[str, Any] | None = None) -> None:
    if case.version != expected_version:
        raise ConflictError(
            _l(
                "Someone else changed this case while you were editing it. Your changes were not "
                "saved; here is what changed. Review it, then apply your changes again."
            ),
            changes=_changed_since(case, expected_version),
        )


def _changed_since(case: Case, version: int) -> dict[str, list[Any]]:
    """The audit entries written since ``version`` say what changed and who changed it."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.object_type == "case",
            AuditEntry.object_id == str(case.id),
            AuditEntry.action.in_(("case.update", "case.draft")),
        )
        .order_by(AuditEntry.id.desc())
        .limit(max(case.version - version, 1))
    )
    merged: dict[str, list[Any]] = {}
    for entry in reversed(list(entries)):
        for key, value in entry.changes.items():
            if isinstance(value, list) and len(value) == 2:
                merged.setdefault(key, [value[0], value[1]])[1] = value[1]
    return merged


def update_case(
    case: Case,
    intake: Intake,
    *,
    expected_version: int,
    actor: Actor,
    now: dt.datetime | None = None,
    recheck_duplicates: bool = False,
) -> Case:
    """Save an edit of a registered case; refused when someone else saved in between.
    ``recheck_duplicates``: as for ``register_case``, for the victims added now."""
    if case.state is CaseState.DRAFT:
        raise DomainError(_l("Complete the draft to register it first."))
    check_version(case, expected_version)
    raise_first(check_intake(intake, now=now or utcnow(), region_codes=known_region_codes(intake)))
    if recheck_duplicates:
        recheck_duplicate_niks(intake, case.agency, case, actor=actor, only_new_rows=True)
    before = case_snapshot(case)
    fill_case(case, intake, case.agency, actor)
    case.updated_at = utcnow()  # the case row changes even when only people changed
    db.session.flush()
    after = case_snapshot(case)

    record(actor, "case.update", "case", case.id, model_diff(before, after))
    if before["risk"] != Risk.TINGGI and case.risk is Risk.TINGGI:
        notify_supervisors_high_risk(case)
    return case


def save_draft(
    case: Case,
    intake: Intake,
    *,
    expected_version: int,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Case:
    if case.state is not CaseState.DRAFT:
        raise DomainError(_l("This complaint is already registered."))
    check_version(case, expected_version)
    raise_first(
        check_intake(
            intake, now=now or utcnow(), draft=True, region_codes=known_region_codes(intake)
        )
    )
    before = case_snapshot(case)
    fill_case(case, intake, case.agency, actor)
    case.updated_at = utcnow()
    db.session.flush()
    record(actor, "case.draft", "case", case.id, model_diff(before, case_snapshot(case)))
    return case


def add_consent(victim: Victim, consent: ConsentData, *, actor: Actor) -> ConsentEntry:
    """Append a decision to the victim's consent ledger (entries are never edited)."""
    case = victim.case
    forbidden = {normalise_name(p.name) for p in case.perpetrators if p.name} | {
        normalise_name(g.name) for g in victim.guardians if g.perpetrator_id is not None
    }
    raise_first(
        check_consent(
            consent,
            path="consent",
            forbidden_givers=forbidden,
            received_at=case.received_at,
            now=utcnow(),
        )
    )
    entry = _add_consent(victim, consent, actor)
    db.session.flush()
    record(
        actor,
        "consent.add",
        "case",
        case.id,
        {"victim": victim.label, "purpose": consent.purpose, "decision": consent.decision},
    )
    return entry


def add_note(case: Case, body: str, *, actor: Actor, corrects: CaseNote | None = None) -> CaseNote:
    body = body.strip()
    if not body:
        raise DomainError(_l("Write the note first."), field="body")
    if len(body) > 10_000:
        raise DomainError(_l("At most %(n)d characters.", n=10_000), field="body")
    if corrects is not None and corrects.case_id != case.id:
        raise DomainError(_l("The note to correct belongs to another case."))
    note = CaseNote(
        case_id=case.id,
        author_id=actor.id,
        body=body,
        corrects_id=corrects.id if corrects else None,
    )
    db.session.add(note)
    db.session.flush()
    record(actor, "case.note", "case", case.id, {"note": note.id, "corrects": note.corrects_id})
    return note


def upload_dir() -> Path:
    """The attachments' directory (``UPLOAD_DIR``; ``app.core.storage.uploads``)."""
    return file_storage.uploads().root


REFUSALS = {
    Refusal.UNKNOWN: _l(
        "This kind of file is not accepted. Send a PDF, a photo (JPEG, PNG, WebP) or an "
        "office document."
    ),
    Refusal.TOO_LARGE: _l(
        "File refused: its archive contents are too large (opened, the document becomes far "
        "larger than the file itself). Save the document again in the office program, or send "
        "it as a PDF."
    ),
    Refusal.ACTIVE: _l(
        "File refused: the document contains macros, scripts or embedded objects. Save it "
        "again without macros (for example as .docx or .xlsx, not .docm or .xlsm), or send it "
        "as a PDF."
    ),
    Refusal.EXTERNAL: _l(
        "File refused: the document loads content from outside itself when it is opened (a "
        "linked template, object or picture). Save it again as a standalone document, or send "
        "it as a PDF."
    ),
}


def add_attachment(
    case: Case, filename: str, content: bytes, *, actor: Actor, description: str | None = None
) -> Attachment:
    limit = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    if not content:
        raise DomainError(_l("The file is empty."), field="file")
    if len(content) > limit:
        raise DomainError(
            _l("The file is larger than %(n)d MB.", n=current_app.config["MAX_UPLOAD_MB"]),
            field="file",
        )
    try:
        content_type = check_content(content)
    except UploadRefused as refused:
        # what was found, never the file's name or content
        current_app.logger.warning("upload refused on case %s: %s", case.id, refused)
        raise DomainError(REFUSALS[refused.refusal], field="file") from None
    # photos are stored re-encoded, without EXIF/GPS and other metadata (files.without_metadata)
    cleaned = without_metadata(content, content_type)
    if cleaned is None:
        raise DomainError(
            _l(
                "The photo could not be read. It may be damaged: send it again or send "
                "another file."
            ),
            field="file",
        )
    content = cleaned
    # encrypted with a data key of its own (storage.py); removed again if this is rolled back
    directory = upload_dir()
    stored = storage.write_file(directory, content)
    delete_on_rollback(db.session, directory / stored.stored_name)
    safe_name = "".join(c for c in Path(filename or "berkas").name if c.isprintable())[:200]
    attachment = Attachment(
        case_id=case.id,
        uploaded_by_id=actor.id,
        original_name=safe_name or "berkas",
        stored_name=stored.stored_name,
        data_key=stored.data_key,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        description=(description or "").strip()[:500] or None,
    )
    db.session.add(attachment)
    db.session.flush()
    record(
        actor,
        "case.attachment",
        "case",
        case.id,
        {"attachment": attachment.id, "type": content_type, "size": len(content)},
    )
    return attachment


def record_identity_reveal(case: Case, victim: Victim, *, actor: Actor) -> None:
    """Reveal a child victim's identity to ``actor``; every reveal is recorded."""
    record(actor, "case.reveal_identity", "case", case.id, {"victim": victim.label})


def record_attachment_download(case: Case, attachment: Attachment, *, actor: Actor) -> None:
    """Evidence leaves the system only through a download; every download is recorded."""
    record(
        actor,
        "case.attachment_download",
        "case",
        case.id,
        {"attachment": attachment.id, "sha256": attachment.sha256},
    )


def intake_from_case(case: Case) -> Intake:
    """The intake record of ``case`` as an ``Intake`` (people, incident, triage), without its
    consent ledger: what another agency needs to open a case of its own for the same people
    (a transfer). The consent decisions stay with the agency they were given to."""

    def value(x: Any) -> Any:
        return x.value if x is not None else None

    position = {v.id: v.position for v in case.victims}
    perpetrator_position = {p.id: p.position for p in case.perpetrators}
    return Intake(
        received_at=case.received_at,
        channel=case.channel.value,
        case_types=[t.type.value for t in case.types],
        risk=value(case.risk),
        kewenangan=case.kewenangan.value,
        reporter_kind=case.reporter_kind.value,
        reporter_name=case.reporter_name,
        reporter_phone=case.reporter_phone,
        reporter_relation=case.reporter_relation,
        incident_date=case.incident_date,
        incident_date_precision=value(case.incident_date_precision),
        incident_region_code=case.incident_region.code if case.incident_region else None,
        incident_place=value(case.incident_place),
        ranah=value(case.ranah),
        kronologi=case.kronologi,
        victims=[
            VictimData(
                sex=v.sex.value,
                name=v.name,
                nik=v.nik,
                birth_date=v.birth_date,
                age=None if v.birth_date else v.age_at_incident,
                disability=v.disability,
                disability_kind=v.disability_kind,
                pregnant=v.pregnant,
                education=value(v.education),
                occupation=v.occupation,
                marital_status=value(v.marital_status),
                religion=value(v.religion),
                nationality=v.nationality.value,
                domicile_region_code=v.domicile_region.code if v.domicile_region else None,
                address=v.address,
                phone=v.phone,
                has_nik=v.has_nik,
                has_akta=v.has_akta,
                has_kia=v.has_kia,
                violence_types=[t.type.value for t in v.violence_types],
                ampk_categories=[a.category.value for a in v.ampk_categories],
                tppo_proses=list(v.tppo_proses or []),
                tppo_cara=list(v.tppo_cara or []),
                tppo_tujuan=list(v.tppo_tujuan or []),
                tppo_cross_border=v.tppo_cross_border,
                tppo_destination_country=v.tppo_destination_country,
                tppo_recruiter=v.tppo_recruiter,
                tppo_documents=v.tppo_documents,
                guardians=[
                    GuardianData(
                        name=g.name,
                        relation=g.relation,
                        phone=g.phone,
                        perpetrator_position=perpetrator_position.get(g.perpetrator_id)
                        if g.perpetrator_id
                        else None,
                    )
                    for g in v.guardians
                ],
            )
            for v in case.victims
        ],
        perpetrators=[
            PerpetratorData(
                name=p.name,
                sex=value(p.sex),
                age=p.age,
                notes=p.notes,
                relationships={position[r.victim_id]: r.relationship_.value for r in p.relations},
            )
            for p in case.perpetrators
        ],
        witnesses=[(w.name, w.phone) for w in case.witnesses],
    )


# --- name keys under a new blind-index key --------------------------------------------------------


def rebuild_name_keys(batch_size: int, echo: Any = None) -> tuple[int, int]:
    """Rewrite, under the current blind-index key, the name keys of every victim with a name
    whose keys are not all under it or are missing (victims registered before the name keys
    existed): what ``flask keys reindex`` runs after the indexes held in columns. Victims in
    batches of ``batch_size`` by id, each batch its own transaction; a batch's victims are
    locked (PostgreSQL: ``FOR UPDATE``) before their names are read, so an edit meanwhile either
    comes first and is read, or waits and writes its own keys after. Idempotent: victims already
    right are left alone. Returns (victims checked, rows written)."""
    current = index_keyring().current_id
    checked = written = 0
    last = 0
    total = db.session.scalar(select(sa.func.count()).select_from(Victim)) or 0
    locking = db.session.get_bind().dialect.name == "postgresql"
    while True:
        ids = list(
            db.session.scalars(
                select(Victim.id).where(Victim.id > last).order_by(Victim.id).limit(batch_size)
            )
        )
        if not ids:
            break
        last = ids[-1]
        checked += len(ids)
        keyed: dict[int, set[str]] = {}
        for victim_id, key_id in db.session.execute(
            select(VictimNameKey.victim_id, VictimNameKey.key_id).where(
                VictimNameKey.victim_id.in_(ids)
            )
        ):
            keyed.setdefault(victim_id, set()).add(key_id)
        query = select(Victim.id, Victim.case_id, Victim.name).where(Victim.id.in_(ids))
        if locking:
            query = query.with_for_update(of=Victim)
        stale: list[int] = []
        rows: list[dict[str, Any]] = []
        for victim_id, case_id, name in db.session.execute(query).all():
            keys = keyed.get(victim_id, set())
            if (name is None and not keys) or (name is not None and keys == {current}):
                continue
            stale.append(victim_id)
            if name is None:
                continue
            key_id, digests = name_keys(name)
            rows += [
                {"victim_id": victim_id, "case_id": case_id, "digest": d, "key_id": key_id}
                for d in sorted(digests)
            ]
        if stale:
            db.session.execute(sa.delete(VictimNameKey).where(VictimNameKey.victim_id.in_(stale)))
        if rows:
            db.session.execute(sa.insert(VictimNameKey), rows)
        written += len(rows)
        db.session.commit()
        if echo:
            echo(f"victim_name_keys: {checked}/{total} victims, {written} name keys written")
    return checked, written
