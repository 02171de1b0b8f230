"""The write side of data-subject rights. Every change is audit-logged (never with the values
of identifying fields) in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.audit.operations import SystemActor, record
from app.auth.models import User
from app.cases.models import (
    BreakGlassGrant,
    Case,
    ConsentEntry,
    Guardian,
    Person,
    Victim,
    VictimNameKey,
)
from app.core.db import utcnow
from app.core.enums import ReporterKind
from app.core.errors import DomainError
from app.core.i18n import lazy_gettext as _l
from app.deadlines.models import Deadline
from app.deadlines.operations import meet_deadline, open_deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.privacy import queries
from app.privacy.models import (
    DataSubjectRequest,
    ErasureBasis,
    RequestKind,
    RequestOutcome,
    VictimErasure,
    VictimRestriction,
)

Actor = User | SystemActor
ERASED = "dihapus"
REQUESTER_LIMIT = 500  # "who asked, and how" (the form says the same)
"""What a required identifying text field holds once erased (nullable ones become NULL)."""

# identifying fields of a victim, emptied by an erasure (statistical fields stay: sex, age,
# child, disability yes/no, education, occupation, religion, nationality, region, types)
VICTIM_IDENTITY_FIELDS = (
    "name",
    "name_index",
    "nik",
    "nik_index",
    "birth_date",
    "address",
    "phone",
    "disability_kind",
    "tppo_recruiter",
    "tppo_documents",
)


def record_request(
    case: Case,
    victim: Victim,
    *,
    kind: RequestKind | str,
    requester: str,
    received_at: dt.datetime,
    actor: Actor,
) -> DataSubjectRequest:
    """Record a request of the person behind ``victim`` and start its 3x24-hour clock
    (``data_subject_restriction``) for the agency."""
    if received_at.tzinfo is None:
        raise ValueError("naive datetime given for a request")
    if received_at > utcnow() + dt.timedelta(minutes=5):
        raise DomainError(
            _l("The request cannot have been received in the future."), field="received_at"
        )
    requester = requester.strip()
    if not requester:
        raise DomainError(_l("Say who asked, and how."), field="requester")
    if len(requester) > REQUESTER_LIMIT:
        raise DomainError(_l("At most %(n)d characters.", n=REQUESTER_LIMIT), field="requester")
    req = DataSubjectRequest(
        agency_id=case.agency_id,
        case_id=case.id,
        victim_id=victim.id,
        person_id=victim.person_id,
        kind=RequestKind(kind),
        requester=requester,
        received_at=received_at,
        recorded_by_id=actor.id,
    )
    db.session.add(req)
    db.session.flush()
    deadline = open_deadline(
        DeadlineCode.DATA_SUBJECT_RESTRICTION,
        case=case,
        start=received_at,
        agency=case.agency,
        responsible_user=actor if isinstance(actor, User) else None,
    )
    req.deadline_id = deadline.id
    record(
        actor,
        "privacy.request",
        "case",
        case.id,
        {"request": req.id, "kind": req.kind.value, "victim": victim.label},
    )
    db.session.flush()
    return req


def _decide(req: DataSubjectRequest, outcome: RequestOutcome, reason: str, actor: Actor) -> None:
    if req.decided_at is not None:
        return
    now = utcnow()
    req.decided_at = now
    req.decided_by_id = actor.id
    req.outcome = outcome
    req.reason = reason[:1000]
    if req.deadline_id is not None:
        deadline = db.session.get(Deadline, req.deadline_id)
        if deadline is not None:
            meet_deadline(deadline, now)
    record(
        actor,
        "privacy.decide",
        "case",
        req.case_id,
        {"request": req.id, "kind": req.kind.value, "outcome": outcome.value},
    )


def _check(req: DataSubjectRequest, kind: RequestKind) -> None:
    if req.kind is not kind:
        raise DomainError(_l("This request is of another kind."))


def refuse_request(req: DataSubjectRequest, *, reason: str, actor: Actor) -> None:
    """Refuse an open request with a reason (stored and shown)."""
    if not req.is_open:
        raise DomainError(_l("This request has already been decided."))
    if not reason.strip():
        raise DomainError(_l("Give the reason for the refusal."), field="reason")
    _decide(req, RequestOutcome.DITOLAK, reason.strip(), actor)


# --- access --------------------------------------------------------------------------------


def export_for_request(victim: Victim, req: DataSubjectRequest, *, actor: Actor) -> dict[str, Any]:
    """The export of an access request; recorded with the request id, and the request is
    fulfilled by the first export."""
    _check(req, RequestKind.AKSES)
    now = utcnow()
    data = queries.export_data(victim, req, now)
    record(
        actor,
        "privacy.export",
        "case",
        victim.case_id,
        {"request": req.id, "records": len(data["records"])},
    )
    _decide(req, RequestOutcome.DIPENUHI, str(_l("The data were exported for the request.")), actor)
    return data


# --- restriction ---------------------------------------------------------------------------


def restrict(victim: Victim, req: DataSubjectRequest, *, actor: Actor) -> list[VictimRestriction]:
    """Restrict the identity of every victim row of the person."""
    _check(req, RequestKind.PEMBATASAN)
    if not req.is_open:
        raise DomainError(_l("This request has already been decided."))
    made = []
    for v in queries.subject_victims(victim):
        if queries.is_restricted(v):
            continue
        restriction = VictimRestriction(
            victim_id=v.id, request_id=req.id, restricted_by_id=actor.id
        )
        db.session.add(restriction)
        made.append(restriction)
        record(actor, "privacy.restrict", "case", v.case_id, {"request": req.id, "victim": v.label})
    _decide(req, RequestOutcome.DIPENUHI, str(_l("The processing was restricted.")), actor)
    db.session.flush()
    return made


def carry_restrictions(source: Case, target: Case, *, actor: Actor) -> list[VictimRestriction]:
    """A transfer opens ``target`` at another agency with the people of ``source`` (in the same
    order): each restriction in force there follows its person, so the new case's victim is
    restricted likewise (its identity shown only to the new case manager and supervisors, left
    out of the indicators) until the agency that now serves the person lifts it, with a reason.
    The request stays with the agency that received it; the new row points at the one it came
    from."""
    made = []
    for old, new in zip(source.victims, target.victims, strict=True):
        restriction = queries.active_restriction(old)
        if restriction is None or queries.is_restricted(new):
            continue
        carried = VictimRestriction(
            victim_id=new.id, carried_from_id=restriction.id, restricted_by_id=actor.id
        )
        db.session.add(carried)
        made.append(carried)
        db.session.flush()
        record(
            actor,
            "privacy.restrict",
            "case",
            target.id,
            {"victim": new.label, "carried_from": restriction.id, "from_case": source.id},
        )
    return made


def carry_on_transfer(
    transfer: object, *, case: Case, new_case: Case, actor: User, **_: object
) -> None:
    """The receiver of ``app.workflow.operations.transfer_accepted``: the restrictions in force
    on the people of ``case`` follow them to ``new_case`` (``carry_restrictions``)."""
    carry_restrictions(case, new_case, actor=actor)


def lift_restriction(victim: Victim, *, reason: str, actor: Actor) -> int:
    """Lift the restrictions in force on the person's victim rows; how many were lifted."""
    if not reason.strip():
        raise DomainError(_l("Give the reason for lifting the restriction."), field="reason")
    lifted = 0
    for v in queries.subject_victims(victim):
        restriction = queries.active_restriction(v)
        if restriction is None:
            continue
        restriction.lifted_at = utcnow()
        restriction.lifted_by_id = actor.id
        restriction.lift_reason = reason.strip()[:1000]
        lifted += 1
        record(
            actor,
            "privacy.lift_restriction",
            "case",
            v.case_id,
            {"restriction": restriction.id, "victim": v.label},
        )
    if not lifted:
        raise DomainError(_l("No restriction is in force."))
    db.session.flush()
    return lifted


# --- erasure -------------------------------------------------------------------------------


@dataclass
class ErasureResult:
    erased: int
    refused_reason: str | None = None


def erase_for_request(victim: Victim, req: DataSubjectRequest, *, actor: Actor) -> ErasureResult:
    """Erase the person's identity, or refuse (reason stored on the request and returned)
    while legal proceedings are open."""
    _check(req, RequestKind.PENGHAPUSAN)
    if not req.is_open:
        raise DomainError(_l("This request has already been decided."))
    victims = queries.subject_victims(victim)
    reason = queries.proceedings_open_reason(victims)
    if reason is not None:
        _decide(req, RequestOutcome.DITOLAK, reason, actor)
        return ErasureResult(0, reason)
    erased = sum(
        erase_identity(v, basis=ErasureBasis.PERMINTAAN, actor=actor, request=req) for v in victims
    )
    _decide(req, RequestOutcome.DIPENUHI, str(_l("The identity was erased.")), actor)
    return ErasureResult(erased)


def erase_identity(
    victim: Victim,
    *,
    basis: ErasureBasis,
    actor: Actor,
    request: DataSubjectRequest | None = None,
) -> bool:
    """Empty the identifying fields of ``victim`` and of the people around it who identify it
    (guardians, a self-reporting victim's reporter fields, names in its consent ledger) and the
    reasons given for opening its case with break-the-glass; the statistical fields and the case
    history stay. False when already erased."""
    if queries.erasure_of(victim) is not None:
        return False
    if victim.age_at_incident is None and victim.birth_date is not None:
        at = victim.case.incident_date or victim.case.received_at.date()
        born = victim.birth_date
        victim.age_at_incident = at.year - born.year - ((at.month, at.day) < (born.month, born.day))
    # The erasure is on record first: only then does the database let the consent ledger's
    # names and notes go (the ledger is append-only otherwise; migration 21bb479f935a).
    db.session.add(
        VictimErasure(
            victim_id=victim.id,
            basis=basis,
            request_id=request.id if request is not None else None,
            erased_by_id=actor.id,
        )
    )
    db.session.flush()
    for field in VICTIM_IDENTITY_FIELDS:
        setattr(victim, field, None)
    # the keyed hashes of the name's words go with the name
    db.session.execute(db.delete(VictimNameKey).where(VictimNameKey.victim_id == victim.id))
    for guardian in db.session.scalars(db.select(Guardian).where(Guardian.victim_id == victim.id)):
        guardian.name = ERASED
        guardian.phone = None
    for entry in db.session.scalars(
        db.select(ConsentEntry).where(ConsentEntry.victim_id == victim.id)
    ):
        if entry.given_by_name is not None:
            entry.given_by_name = ERASED
        entry.note = None
    case = victim.case
    if case.reporter_kind is ReporterKind.KORBAN and (case.reporter_name or case.reporter_phone):
        case.reporter_name = ERASED if case.reporter_name else None
        case.reporter_phone = None
    # why someone opened the case with break-the-glass is free text about the case (it names
    # the victim more often than not): it goes too; the grant, its time and its views stay
    break_glass_reasons = 0
    for grant in db.session.scalars(
        db.select(BreakGlassGrant).where(BreakGlassGrant.case_id == victim.case_id)
    ):
        if grant.reason != ERASED:
            grant.reason = ERASED
            break_glass_reasons += 1
    db.session.flush()
    _clear_person(victim)
    record(
        actor,
        "privacy.erase",
        "case",
        victim.case_id,
        {
            "victim": victim.label,
            "basis": basis.value,
            "request": request.id if request is not None else None,
            "break_glass_reasons": break_glass_reasons,
        },
    )
    return True


def _clear_person(victim: Victim) -> None:
    """The person's blind indexes go once none of their victim rows keeps an identity."""
    if victim.person_id is None:
        return
    person = db.session.get(Person, victim.person_id)
    if person is None:
        return
    rows = db.session.scalars(db.select(Victim).where(Victim.person_id == person.id))
    if all(queries.erasure_of(v) is not None for v in rows):
        person.name_dob_index = None
        person.nik_index = None


# --- retention -----------------------------------------------------------------------------


@dataclass
class RetentionResult:
    eligible: int
    erased: int
    cases: int


def run_retention(
    *, years: int, dry_run: bool, now: dt.datetime | None = None, actor: Actor | None = None
) -> RetentionResult:
    """Erase (unless ``dry_run``) the identities of victims of cases closed more than ``years``
    ago with no legal proceedings open. Counts only: never names."""
    actor = actor or SystemActor("retention")
    candidates = queries.retention_candidates(now or utcnow(), years)
    cases = len({v.case_id for v in candidates})
    erased = 0
    if not dry_run:
        for victim in candidates:
            erased += erase_identity(victim, basis=ErasureBasis.RETENSI, actor=actor)
        record(
            actor,
            "privacy.retention",
            "system",
            "retention",
            {"years": years, "victims": erased, "cases": cases},
        )
    return RetentionResult(len(candidates), erased, cases)
