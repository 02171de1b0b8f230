"""New service tracks (domain.md §3.1): a track enters the workflow when it is planned (or
imported), so creating one is an engine event (``engine.begin_tracks``) and lives here, above
``app.services`` (the tracks' table and their scoped reads).

``check_track`` holds the rules of one track as a pure function, so ``flask cases import`` can
report every problem of a record before it writes anything; ``create_track`` applies the same
rules, writes the track with its first transition row and the audit entry, and opens the
deadlines its planning starts. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from app.agencies.models import Agency
from app.audit.operations import SystemActor, record
from app.auth.models import User
from app.cases.intake import Problem, raise_first
from app.cases.models import Case, ConsentEntry, ConsentLike, Victim, consent_in_force
from app.core.db import utcnow
from app.core.enums import TRACK_ENDED, CaseType, ConsentDecision, ServiceType, TrackState
from app.core.errors import DomainError
from app.core.i18n import lazy_gettext as _l
from app.deadlines.operations import deadlines_for_track
from app.extensions import db
from app.services.models import TRACK_WORKFLOW_VERSION, ServiceTrack
from app.workflow import engine

Actor = User | SystemActor

# A track in these states is with a provider, so it names one.
NEEDS_PROVIDER = frozenset(
    {TrackState.DIRUJUK, TrackState.DITERIMA_PENYEDIA, TrackState.BERJALAN, TrackState.SELESAI}
)
# A track in these states has started.
NEEDS_START = frozenset({TrackState.BERJALAN, TrackState.SELESAI})


def check_track(
    service_type: ServiceType | str,
    state: TrackState | str,
    *,
    provider: Agency | None,
    started_at: dt.datetime | None,
    ended_at: dt.datetime | None,
    consents: Iterable[ConsentLike] | None = None,
    case_types: Iterable[str] = (),
    perpetrator_ages: Iterable[int | None] = (),
) -> list[Problem]:
    """Every rule one service track breaks, each tied to a field of the track.

    ``consents`` is the victim's consent ledger (checked for a track the victim declined);
    ``case_types`` and ``perpetrator_ages`` decide whether mediation is allowed.
    """
    p: list[Problem] = []
    try:
        service_type = ServiceType(service_type)
    except ValueError:
        return [Problem("type", _l("Unknown service type."))]
    try:
        state = TrackState(state)
    except ValueError:
        return [Problem("status", _l("Unknown service-track state."))]

    if provider is None and state in NEEDS_PROVIDER:
        p.append(Problem("provider", _l("Name the agency that provides this service.")))
    elif provider is not None and not provider.provides(service_type):
        p.append(
            Problem(
                "provider",
                _l(
                    "%(agency)s does not provide the service %(service)s.",
                    agency=provider.code,
                    service=service_type.value,
                ),
            )
        )
    if started_at is None and state in NEEDS_START:
        p.append(Problem("started_at", _l("A service in progress or completed has a start time.")))
    if state in TRACK_ENDED:
        if ended_at is None:
            p.append(Problem("ended_at", _l("A service that has ended needs its end time.")))
        elif started_at is not None and ended_at < started_at:
            p.append(Problem("ended_at", _l("A service cannot end before it started.")))
    elif ended_at is not None:
        p.append(Problem("ended_at", _l("Only a service that has ended has an end time.")))

    if state is TrackState.DITOLAK_KORBAN and consents is not None:
        entry = consent_in_force(consents, f"layanan:{service_type.value}")
        if entry is None or entry.decision != ConsentDecision.MENOLAK:
            p.append(
                Problem(
                    "status",
                    _l(
                        "A service the victim declined needs the victim's refusal in the consent "
                        "ledger (purpose %(purpose)s, decision menolak).",
                        purpose=f"layanan:{service_type.value}",
                    ),
                )
            )
    if service_type is ServiceType.MEDIASI and CaseType.TPKS in set(case_types):
        ages = list(perpetrator_ages)
        if not ages or not all(age is not None and age < 18 for age in ages):
            p.append(
                Problem(
                    "type",
                    _l(
                        "Mediation is not allowed in a sexual-violence (TPKS) case unless the "
                        "perpetrator is a child."
                    ),
                )
            )
    return p


@dataclass
class TrackSpec:
    """One service track to create: for ``victim``, of ``service_type``, in ``state``."""

    victim: Victim
    service_type: ServiceType | str
    provider: Agency | None = None
    state: TrackState | str = TrackState.DIRENCANAKAN
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    end_reason: str | None = None
    target_date: dt.date | None = None
    at: dt.datetime | None = None  # when it got to ``state`` (default: end, else start, else now)
    reason: str | None = None
    # when it entered the intervention plan (default: now; an imported history gives its own)
    planned_at: dt.datetime | None = None


def create_track(
    case: Case,
    victim: Victim,
    service_type: ServiceType | str,
    *,
    provider: Agency | None,
    state: TrackState | str = TrackState.DIRENCANAKAN,
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    end_reason: str | None = None,
    target_date: dt.date | None = None,
    actor: Actor,
    kind: str = "workflow",
    at: dt.datetime | None = None,
    reason: str | None = None,
) -> ServiceTrack:
    """Add one service track; see ``create_tracks``."""
    spec = TrackSpec(
        victim=victim,
        service_type=service_type,
        provider=provider,
        state=state,
        started_at=started_at,
        ended_at=ended_at,
        end_reason=end_reason,
        target_date=target_date,
        at=at,
        reason=reason,
    )
    return create_tracks(case, [spec], actor=actor, kind=kind)[0]


def create_tracks(
    case: Case,
    specs: list[TrackSpec],
    *,
    actor: Actor,
    kind: str = "workflow",
    batch: bool = False,
) -> list[ServiceTrack]:
    """Add service tracks to ``case`` (e.g. the tracks of an intervention plan) and record how
    each got to its state: one transition row from nothing to the state, of ``kind``
    ``workflow`` or ``import``, and one audit entry per track. All or nothing: the first broken
    rule raises ``DomainError`` (its ``field`` prefixed ``tracks-<i>-``) before anything is
    written.

    ``batch`` (``kind="import"`` only): the tracks of one case of an import's batch, whose
    specs the import checked against the record they come from (``check_track``, one track per
    victim and service): see ``import_tracks``."""
    if batch:
        assert kind == "import", "only an import writes its tracks in batches"
        return import_tracks(case, specs, actor=actor)
    if not specs:
        return []
    existing = {
        (victim_id, ServiceType(service_type))
        for victim_id, service_type in db.session.execute(
            select(ServiceTrack.victim_id, ServiceTrack.service_type).where(
                ServiceTrack.case_id == case.id
            )
        )
    }
    ledgers: dict[int, list[ConsentEntry]] = {}
    if any(str(spec.state) == TrackState.DITOLAK_KORBAN for spec in specs):
        for entry in db.session.scalars(
            select(ConsentEntry)
            .where(ConsentEntry.victim_id.in_([spec.victim.id for spec in specs]))
            .order_by(ConsentEntry.id)
        ):
            ledgers.setdefault(entry.victim_id, []).append(entry)
    case_types = [t.value for t in case.case_types]
    perpetrator_ages = [x.age for x in case.perpetrators]

    tracks = []
    states: list[TrackState] = []
    now = utcnow()
    for i, spec in enumerate(specs):
        path = f"tracks-{i}-"
        if spec.victim.case_id != case.id:
            raise DomainError(_l("The victim belongs to another case."), field=path + "victim")
        if spec.end_reason is not None and len(spec.end_reason) > 500:
            raise DomainError(_l("At most %(n)d characters.", n=500), field=path + "end_reason")
        problems = check_track(
            spec.service_type,
            spec.state,
            provider=spec.provider,
            started_at=spec.started_at,
            ended_at=spec.ended_at,
            consents=ledgers.get(spec.victim.id, []),
            case_types=case_types,
            perpetrator_ages=perpetrator_ages,
        )
        raise_first([Problem(path + p.path, p.message) for p in problems])
        service_type, state = ServiceType(spec.service_type), TrackState(spec.state)
        if (spec.victim.id, service_type) in existing:
            raise DomainError(
                _l(
                    "Victim %(label)s already has a %(service)s service.",
                    label=spec.victim.label,
                    service=service_type.value,
                ),
                field=path + "type",
            )
        existing.add((spec.victim.id, service_type))
        tracks.append(
            ServiceTrack(
                case_id=case.id,
                victim_id=spec.victim.id,
                service_type=service_type,
                provider_id=spec.provider.id if spec.provider is not None else None,
                target_date=spec.target_date,
                started_at=spec.started_at,
                ended_at=spec.ended_at,
                end_reason=spec.end_reason or None,
                planned_at=spec.planned_at or now,
            )
        )
        states.append(state)
    # the tracks enter their state through the engine: one row each, from nothing
    engine.begin_tracks(
        [
            (track, _start(spec, track, state, now))
            for spec, track, state in zip(specs, tracks, states, strict=True)
        ],
        actor=actor,
        imported=kind == "import",
    )
    for spec, track in zip(specs, tracks, strict=True):
        created_entry(case, spec, track, actor)
    db.session.flush()
    if kind != "import":  # imported history starts no clocks
        for track in tracks:
            deadlines_for_track(track, at=now)
    return tracks


def _start(
    spec: TrackSpec, track: ServiceTrack, state: TrackState, now: dt.datetime
) -> engine.TrackStart:
    """The first row of a new track: its state, from when, and what it was created as."""
    return engine.TrackStart(
        state=state,
        at=spec.at or spec.ended_at or spec.started_at or now,
        reason=spec.reason,
        data={
            "service_type": track.service_type.value,
            "victim": spec.victim.label,
            "provider": spec.provider.code if spec.provider is not None else None,
        },
    )


def created_entry(case: Case, spec: TrackSpec, track: ServiceTrack, actor: Actor) -> None:
    """The audit entry of a new track, once it has its id."""
    record(
        actor,
        "track.create",
        "case",
        case.id,
        {
            "track": track.id,
            "victim": spec.victim.label,
            "service_type": track.service_type.value,
            "state": track.state.value,
            "provider": spec.provider.code if spec.provider is not None else None,
        },
    )


def import_tracks(case: Case, specs: list[TrackSpec], *, actor: Actor) -> list[ServiceTrack]:
    """``create_tracks(case, specs, kind="import")`` for one case of an import's batch: the
    caller checked every spec (``check_track`` and one track per victim and service, as
    ``flask cases import``'s ``check_history`` does) against the record it reads them from. The
    tracks and their first rows are added, not flushed (``engine.import_tracks``); the caller
    records each one's entry (``created_entry``) once the batch is flushed. Imported history
    starts no clocks. Every column with a default in the database is given here, so that the
    batch's tracks are inserted without reading anything back (no ``RETURNING``)."""
    now = utcnow()
    tracks = [
        ServiceTrack(
            case=case,
            workflow_version=TRACK_WORKFLOW_VERSION,
            victim=spec.victim,
            service_type=ServiceType(spec.service_type),
            provider=spec.provider,
            target_date=spec.target_date,
            started_at=spec.started_at,
            ended_at=spec.ended_at,
            end_reason=spec.end_reason or None,
            planned_at=spec.planned_at or now,
        )
        for spec in specs
    ]
    engine.import_tracks(
        [
            (track, _start(spec, track, TrackState(spec.state), now))
            for spec, track in zip(specs, tracks, strict=True)
        ],
        actor=actor,
    )
    return tracks
