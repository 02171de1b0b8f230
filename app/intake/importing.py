"""``flask cases import``: historical cases from JSON Lines (interfaces.md §3).

Each line is one case. ``parse_line`` turns the JSON object into an ``Intake`` (the same plain
data the intake form builds) plus what only an import carries: the case's state, its assessment
and closing times and its service tracks. ``import_case`` checks the record with
``check_intake`` — every rule of the form — and with the rules of the workflow that a history must
satisfy (``check_history``), then writes it through the ordinary operations: ``register_case``
and ``create_tracks``. A whole file (``import_lines``) is checked the same way, record by record,
and written in batches: on PostgreSQL as the rows those operations write, built as plain data
(``app.intake.rows``, compared with them table by table in tests/cases/test_import_insert.py).

What the history looks like once imported (``case_transitions``, all of kind ``import``, by the
importing actor):

* ``register``: nothing → ``diterima``, dated ``received_at``;
* ``import``: ``diterima`` → the record's ``status`` (when it is not ``diterima``), dated
  ``closed_at`` for a closed case, else the latest time the record holds (the assessment, a
  service start or end). The record does not say when the stages in between were passed, so no
  dates are invented for them;
* per service track, ``import``: nothing → its ``status``, dated its end, else its start, else
  ``received_at``.

The keys of a record beyond the example of interfaces.md §3 (all optional; ``null`` = absent):
``kewenangan``; ``reporter`` {kind, name, phone, relation}; ``incident`` {date (``2025-03-10``,
or ``2025-03`` / ``2025`` when only the month / year is known), region, place, ranah};
``kronologi``; ``witnesses`` [{name, phone}]; ``closed_reason`` (required for ``ditutup``);
``case_manager`` (email of a manajer_kasus or supervisor of the agency). A victim may also carry
name, nik, disability_kind, pregnant, education, occupation, marital_status, religion,
domicile_region, address, phone, has_nik, has_akta, has_kia, ampk_categories, ``tppo``
{proses, cara, tujuan, cross_border, destination_country, recruiter, documents} and
``guardians`` [{name, relation, phone, perpetrator: <perpetrator key>}]; a perpetrator
``key``, name and notes; a consent ``given_by_name`` (a guardian's decision without it is kept
and flagged for data quality, ``completeness.guardian_name``); a service ``end_reason``,
``target_date`` and ``planned_at``. Any other key is refused, naming it.

A line is written inside a savepoint: a rejected line leaves nothing behind, the others still
import. A case whose ``(agency, external_id)`` already exists is skipped untouched, so importing
the same file again imports nothing new.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import IntegrityError

from app.agencies.models import Agency
from app.agencies.queries import get_agency_by_code
from app.audit.operations import SystemActor, record
from app.auth.models import RoleGrant, User
from app.cases.intake import (
    ConsentData,
    GuardianData,
    Intake,
    PerpetratorData,
    Problem,
    VictimData,
    check_intake,
)
from app.cases.models import Case, consent_in_force
from app.cases.operations import next_references
from app.core.bounds import YEAR_OUT_OF_RANGE, year_in_range
from app.core.db import IdPool, assign_ids, take_ids, utcnow
from app.core.enums import (
    CASE_CLOSED,
    TRACK_ENDED,
    AmpkCategory,
    CaseState,
    CaseType,
    Channel,
    ConsentDecision,
    ConsentGiver,
    Education,
    IncidentPlace,
    Kewenangan,
    MaritalStatus,
    Nationality,
    Ranah,
    Relationship,
    Religion,
    ReporterKind,
    Risk,
    Role,
    ServiceType,
    Sex,
    TppoCara,
    TppoProses,
    TppoTujuan,
    TrackState,
    ViolenceType,
    is_valid_consent_purpose,
)
from app.core.errors import DomainError
from app.core.i18n import lazy_gettext as _l
from app.extensions import db
from app.intake.rows import RecordToWrite, write_rows
from app.regions.models import Region
from app.workflow import engine
from app.workflow.registration import register_case, register_imported_case, registered_entry
from app.workflow.tracks import TrackSpec, check_track, create_tracks, created_entry

Actor = User | SystemActor
DateLike = TypeVar("DateLike", dt.date, dt.datetime)

# Case states an imported case may be in (a draft is not a case yet).
IMPORTABLE_STATES = [s for s in CaseState if s is not CaseState.DRAFT]
# Up to and including asesmen the assessment is not complete yet.
BEFORE_PLAN = frozenset(
    {CaseState.DITERIMA, CaseState.IDENTIFIKASI, CaseState.KEDARURATAN, CaseState.ASESMEN}
)
# Past asesmen: the assessment is complete and the victim agreed to services.
PAST_ASSESSMENT = frozenset(
    {
        CaseState.RENCANA_INTERVENSI,
        CaseState.INTERVENSI,
        CaseState.PEMANTAUAN,
        CaseState.TERMINASI,
    }
)
# Roles that may hold a case (domain.md §1.2).
CASE_MANAGER_ROLES = (Role.MANAJER_KASUS, Role.SUPERVISOR)

FUTURE_SLACK = dt.timedelta(minutes=5)


# --- the parsed record -----------------------------------------------------------------------


@dataclass
class ServiceData:
    victim_position: int  # 1-based, as in the Intake
    type: str
    status: str
    provider_code: str | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    end_reason: str | None = None
    target_date: dt.date | None = None
    planned_at: dt.datetime | None = None  # optional (interfaces.md §3)


@dataclass
class ParsedCase:
    external_id: str
    agency_code: str
    intake: Intake
    status: str
    assessment_completed_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    closed_reason: str | None = None
    case_manager_email: str | None = None
    services: list[ServiceData] = field(default_factory=list)


@dataclass
class Outcome:
    """``imported``, ``skipped`` (already present, nothing changed) or ``rejected``."""

    status: str
    reason: str | None = None
    case_id: int | None = None


class RecordError(DomainError):
    """A record cannot be read as an import record; ``field`` is the path of the culprit in the
    JSON object (``victims[0].birth_date``)."""


def _fail(path: str, message: Any) -> RecordError:
    return RecordError(message, field=path)


def describe(problems: Iterable[Problem]) -> str:
    """``path: message; path: message`` — the reason printed after ``line L:``."""
    return "; ".join(f"{p.path}: {p.message}" if p.path else str(p.message) for p in problems)


# --- reading one JSON object -----------------------------------------------------------------

TOP_KEYS = (
    "external_id",
    "agency",
    "received_at",
    "channel",
    "case_types",
    "risk",
    "kewenangan",
    "reporter",
    "incident",
    "kronologi",
    "victims",
    "perpetrators",
    "witnesses",
    "assessment_completed_at",
    "services",
    "status",
    "closed_at",
    "closed_reason",
    "case_manager",
)
REPORTER_KEYS = ("kind", "name", "phone", "relation")
INCIDENT_KEYS = ("date", "region", "place", "ranah")
VICTIM_KEYS = (
    "key",
    "name",
    "nik",
    "sex",
    "birth_date",
    "age",
    "disability",
    "disability_kind",
    "pregnant",
    "education",
    "occupation",
    "marital_status",
    "religion",
    "nationality",
    "domicile_region",
    "address",
    "phone",
    "has_nik",
    "has_akta",
    "has_kia",
    "violence_types",
    "ampk_categories",
    "tppo",
    "guardians",
    "consents",
)
TPPO_KEYS = (
    "proses",
    "cara",
    "tujuan",
    "cross_border",
    "destination_country",
    "recruiter",
    "documents",
)
GUARDIAN_KEYS = ("name", "relation", "phone", "perpetrator")
CONSENT_KEYS = ("purpose", "decision", "given_by", "at", "given_by_name")
PERPETRATOR_KEYS = ("key", "name", "sex", "age", "notes", "relationship")
WITNESS_KEYS = ("name", "phone")
SERVICE_KEYS = (
    "victim",
    "type",
    "provider",
    "status",
    "started_at",
    "ended_at",
    "end_reason",
    "target_date",
    "planned_at",
)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Obj:
    """One JSON object being read, with the path that names it in error messages."""

    def __init__(self, value: Any, path: str, keys: tuple[str, ...]) -> None:
        if not isinstance(value, dict):
            raise _fail(path, _l("expected an object {…}, found %(found)s", found=_kind(value)))
        for key in value:
            if key not in keys:
                close = difflib.get_close_matches(str(key), keys, n=1)
                if close:
                    raise _fail(
                        path,
                        _l(
                            'unknown key "%(key)s" (did you mean "%(close)s"?)',
                            key=key,
                            close=close[0],
                        ),
                    )
                raise _fail(path, _l('unknown key "%(key)s"', key=key))
        self.value = value
        self.path = path

    def at(self, key: str) -> str:
        return _join(self.path, key)

    def raw(self, key: str) -> Any:
        return self.value.get(key)

    def required(self, key: str) -> Any:
        value = self.value.get(key)
        if value is None or value == "" or value == []:
            raise _fail(self.at(key), _l("required"))
        return value

    def text(self, key: str, *, required: bool = False, limit: int | None = None) -> str | None:
        value = self.required(key) if required else self.value.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise _fail(self.at(key), _l("expected text, found %(found)s", found=_kind(value)))
        value = value.strip()
        if limit is not None and len(value) > limit:
            raise _fail(self.at(key), _l("At most %(n)d characters.", n=limit))
        if required and not value:
            raise _fail(self.at(key), _l("required"))
        return value or None

    def flag(self, key: str) -> bool | None:
        value = self.value.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise _fail(self.at(key), _l("expected true or false, found %(found)s", found=_kind(value)))

    def whole(self, key: str) -> int | None:
        value = self.value.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(
                self.at(key), _l("expected a whole number, found %(found)s", found=_kind(value))
            )
        return value

    def items(self, key: str) -> list[Any]:
        value = self.value.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise _fail(
                self.at(key), _l("expected a list […], found %(found)s", found=_kind(value))
            )
        return value

    def choice(self, key: str, vocabulary: Iterable[Any], *, required: bool = False) -> str | None:
        value = self.text(key, required=required)
        if value is not None:
            _check_choice(self.at(key), value, vocabulary)
        return value

    def choices(self, key: str, vocabulary: Iterable[Any]) -> list[str]:
        values = self.items(key)
        allowed = _allowed(vocabulary)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise _fail(
                    _join(self.at(key), i), _l("expected text, found %(found)s", found=_kind(value))
                )
            _check_choice(_join(self.at(key), i), value, allowed)
        return values

    def timestamp(self, key: str, *, required: bool = False) -> dt.datetime | None:
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise _fail(
                self.at(key),
                _l(
                    '"%(value)s" is not a timestamp (write e.g. 2025-03-14T09:30:00+07:00)',
                    value=value,
                ),
            ) from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise _fail(
                self.at(key),
                _l(
                    "timestamp needs a time zone offset (e.g. %(example)s)",
                    example=value + "+07:00",
                ),
            )
        return _in_range(self.at(key), parsed).astimezone(dt.UTC)

    def date(self, key: str) -> dt.date | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise _fail(
                self.at(key), _l('"%(value)s" is not a date (write e.g. 2025-03-10)', value=value)
            ) from None
        return _in_range(self.at(key), day)

    def child(self, key: str, keys: tuple[str, ...]) -> _Obj | None:
        value = self.value.get(key)
        return None if value is None else _Obj(value, self.at(key), keys)

    def children(self, key: str, keys: tuple[str, ...]) -> list[_Obj]:
        return [_Obj(item, _join(self.at(key), i), keys) for i, item in enumerate(self.items(key))]


def _in_range(path: str, value: DateLike) -> DateLike:
    """A date or timestamp whose year is within ``app.core.bounds`` (1900-2100): year 1 is a
    mistake, and its conversion to UTC would not even fit in a timestamp."""
    if not year_in_range(value):
        raise _fail(path, YEAR_OUT_OF_RANGE)
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)[:60]
    if isinstance(value, int | float):
        return str(value)
    return "a list" if isinstance(value, list) else "an object"


_ALLOWED: dict[type[Any], tuple[str, ...]] = {}


def _allowed(vocabulary: Iterable[Any]) -> tuple[str, ...]:
    """The values of a vocabulary as text, in order; an enumeration's built once per process
    (a file reads its vocabularies thousands of times)."""
    if not isinstance(vocabulary, type):
        return tuple(str(v) for v in vocabulary)
    allowed = _ALLOWED.get(vocabulary)
    if allowed is None:
        allowed = _ALLOWED[vocabulary] = tuple(str(v) for v in vocabulary)
    return allowed


def _check_choice(path: str, value: str, vocabulary: Iterable[Any]) -> None:
    allowed = _allowed(vocabulary)
    if value not in allowed:
        raise _fail(
            path,
            _l(
                '"%(value)s" is not one of: %(allowed)s',
                value=value,
                allowed=", ".join(allowed),
            ),
        )


def _incident_date(obj: _Obj) -> tuple[dt.date | None, str | None]:
    """``2025-03-10`` (the day), ``2025-03`` (month known) or ``2025`` (year known)."""
    value = obj.text("date")
    if value is None:
        return None, None
    try:
        if len(value) == 4:
            day, precision = dt.date(int(value), 1, 1), "tahun"
        elif len(value) == 7:
            day, precision = dt.date(int(value[:4]), int(value[5:]), 1), "bulan"
        else:
            day, precision = dt.date.fromisoformat(value), "hari"
    except ValueError:
        raise _fail(
            obj.at("date"),
            _l(
                '"%(value)s" is not a date (write 2025-03-10, or 2025-03 or 2025 when only the '
                "month or year is known)",
                value=value,
            ),
        ) from None
    return _in_range(obj.at("date"), day), precision


def parse_line(obj: Any) -> ParsedCase:
    """One JSON object of an import file as an ``Intake`` plus the import's own fields. Raises
    ``RecordError`` (its ``field`` the path in the object) when the record cannot be read: an
    unknown key, a value of the wrong type or outside its vocabulary, a dangling victim key."""
    top = _Obj(obj, "", TOP_KEYS)
    external_id = top.text("external_id", required=True, limit=120)
    agency_code = top.text("agency", required=True, limit=40)
    status = top.choice("status", IMPORTABLE_STATES, required=True)

    intake = Intake(
        received_at=top.timestamp("received_at", required=True),
        channel=top.choice("channel", Channel),
        case_types=top.choices("case_types", CaseType),
        risk=top.choice("risk", Risk),
        kewenangan=top.choice("kewenangan", Kewenangan) or "kabkota",
        kronologi=top.text("kronologi"),
    )
    reporter = top.child("reporter", REPORTER_KEYS)
    if reporter is not None:
        intake.reporter_kind = reporter.choice("kind", ReporterKind) or "korban"
        intake.reporter_name = reporter.text("name")
        intake.reporter_phone = reporter.text("phone")
        intake.reporter_relation = reporter.text("relation")
    incident = top.child("incident", INCIDENT_KEYS)
    if incident is not None:
        intake.incident_date, intake.incident_date_precision = _incident_date(incident)
        intake.incident_region_code = incident.text("region")
        intake.incident_place = incident.choice("place", IncidentPlace)
        intake.ranah = incident.choice("ranah", Ranah)

    perpetrators = top.children("perpetrators", PERPETRATOR_KEYS)
    perpetrator_keys: dict[str, int] = {}
    for i, x in enumerate(perpetrators, start=1):
        key = x.text("key")
        if key is not None:
            if key in perpetrator_keys:
                raise _fail(x.at("key"), _l('the key "%(key)s" is used twice', key=key))
            perpetrator_keys[key] = i

    victims = top.children("victims", VICTIM_KEYS)
    victim_keys: dict[str, int] = {}
    for i, v in enumerate(victims, start=1):
        key = v.text("key", required=True)
        assert key is not None
        if key in victim_keys:
            raise _fail(v.at("key"), _l('the key "%(key)s" is used twice', key=key))
        victim_keys[key] = i
        intake.victims.append(_victim(v, perpetrator_keys))

    for x in perpetrators:
        relationships: dict[int, str] = {}
        relation_obj = x.raw("relationship")
        if relation_obj is not None:
            if not isinstance(relation_obj, dict):
                raise _fail(
                    x.at("relationship"),
                    _l(
                        'expected an object {"v1": "suami_istri"}, found %(found)s',
                        found=_kind(relation_obj),
                    ),
                )
            for key in relation_obj:
                if key not in victim_keys:
                    raise _fail(
                        x.at("relationship"), _l('no victim has the key "%(key)s"', key=key)
                    )
            relation = _Obj(relation_obj, x.at("relationship"), tuple(victim_keys))
            for key in relation_obj:
                value = relation.choice(key, Relationship, required=True)
                relationships[victim_keys[key]] = value or ""
        intake.perpetrators.append(
            PerpetratorData(
                name=x.text("name"),
                sex=x.choice("sex", Sex),
                age=x.whole("age"),
                notes=x.text("notes"),
                relationships=relationships,
            )
        )
    for w in top.children("witnesses", WITNESS_KEYS):
        intake.witnesses.append((w.text("name", required=True) or "", w.text("phone")))

    services = []
    for s in top.children("services", SERVICE_KEYS):
        victim_key = s.text("victim", required=True)
        if victim_key not in victim_keys:
            raise _fail(
                s.at("victim"),
                _l('no victim has the key "%(key)s"', key=victim_key),
            )
        services.append(
            ServiceData(
                victim_position=victim_keys[victim_key],
                type=s.choice("type", ServiceType, required=True),  # type: ignore[arg-type]
                status=s.choice("status", TrackState, required=True),  # type: ignore[arg-type]
                provider_code=s.text("provider"),
                started_at=s.timestamp("started_at"),
                ended_at=s.timestamp("ended_at"),
                end_reason=s.text("end_reason", limit=500),
                target_date=s.date("target_date"),
                planned_at=s.timestamp("planned_at"),
            )
        )
    return ParsedCase(
        external_id=external_id,  # type: ignore[arg-type]
        agency_code=agency_code,  # type: ignore[arg-type]
        intake=intake,
        status=status,  # type: ignore[arg-type]
        assessment_completed_at=top.timestamp("assessment_completed_at"),
        closed_at=top.timestamp("closed_at"),
        closed_reason=top.text("closed_reason", limit=500),
        case_manager_email=top.text("case_manager"),
        services=services,
    )


def _victim(v: _Obj, perpetrator_keys: dict[str, int]) -> VictimData:
    victim = VictimData(
        sex=v.choice("sex", Sex),
        name=v.text("name"),
        nik=v.text("nik"),
        birth_date=v.date("birth_date"),
        age=v.whole("age"),
        disability=bool(v.flag("disability")),
        disability_kind=v.text("disability_kind"),
        pregnant=v.flag("pregnant"),
        education=v.choice("education", Education),
        occupation=v.text("occupation"),
        marital_status=v.choice("marital_status", MaritalStatus),
        religion=v.choice("religion", Religion),
        nationality=v.choice("nationality", Nationality) or "WNI",
        domicile_region_code=v.text("domicile_region"),
        address=v.text("address"),
        phone=v.text("phone"),
        has_nik=v.flag("has_nik"),
        has_akta=v.flag("has_akta"),
        has_kia=v.flag("has_kia"),
        violence_types=v.choices("violence_types", ViolenceType),
        ampk_categories=v.choices("ampk_categories", AmpkCategory),
    )
    tppo = v.child("tppo", TPPO_KEYS)
    if tppo is not None:
        victim.tppo_proses = tppo.choices("proses", TppoProses)
        victim.tppo_cara = tppo.choices("cara", TppoCara)
        victim.tppo_tujuan = tppo.choices("tujuan", TppoTujuan)
        victim.tppo_cross_border = tppo.flag("cross_border")
        victim.tppo_destination_country = tppo.text("destination_country")
        victim.tppo_recruiter = tppo.text("recruiter")
        victim.tppo_documents = tppo.text("documents")
    for g in v.children("guardians", GUARDIAN_KEYS):
        perpetrator = g.text("perpetrator")
        if perpetrator is not None and perpetrator not in perpetrator_keys:
            raise _fail(
                g.at("perpetrator"), _l('no perpetrator has the key "%(key)s"', key=perpetrator)
            )
        victim.guardians.append(
            GuardianData(
                name=g.text("name", required=True) or "",
                relation=g.text("relation"),
                phone=g.text("phone"),
                perpetrator_position=perpetrator_keys.get(perpetrator) if perpetrator else None,
            )
        )
    for c in v.children("consents", CONSENT_KEYS):
        purpose = c.text("purpose", required=True)
        assert purpose is not None
        if not is_valid_consent_purpose(purpose):
            raise _fail(c.at("purpose"), _l('"%(value)s" is not a consent purpose', value=purpose))
        victim.consents.append(
            ConsentData(
                purpose=purpose,
                decision=c.choice("decision", ConsentDecision, required=True),  # type: ignore[arg-type]
                given_by=c.choice("given_by", ConsentGiver, required=True),  # type: ignore[arg-type]
                at=c.timestamp("at", required=True),  # type: ignore[arg-type]
                given_by_name=c.text("given_by_name", limit=200),
            )
        )
    return victim


# --- the rules of an imported history --------------------------------------------------------

# Intake field paths (form style) → the record's JSON paths.
_TOP_PATHS = {
    "reporter_kind": "reporter.kind",
    "reporter_name": "reporter.name",
    "reporter_phone": "reporter.phone",
    "reporter_relation": "reporter.relation",
    "incident_date": "incident.date",
    "incident_date_precision": "incident.date",
    "incident_region_code": "incident.region",
    "incident_place": "incident.place",
    "ranah": "incident.ranah",
}
_FIRST_PATHS = {"tracks": "services"}
_NESTED_PATHS = {
    "domicile_region_code": "domicile_region",
    "tppo_proses": "tppo.proses",
    "tppo_cara": "tppo.cara",
    "tppo_tujuan": "tppo.tujuan",
    "tppo_cross_border": "tppo.cross_border",
    "tppo_destination_country": "tppo.destination_country",
    "tppo_recruiter": "tppo.recruiter",
    "tppo_documents": "tppo.documents",
    "relationships": "relationship",
}


def json_path(form_path: str) -> str:
    """``victims-0-consents-1-given_by`` → ``victims[0].consents[1].given_by``."""
    if form_path in _TOP_PATHS:
        return _TOP_PATHS[form_path]
    out = ""
    for part in form_path.split("-"):
        if part.isdigit():
            out += f"[{part}]"
        else:
            out = _join(out, _NESTED_PATHS.get(part, part) if out else _FIRST_PATHS.get(part, part))
    return out


def check_history(
    parsed: ParsedCase,
    *,
    providers: dict[str, Agency | None],
    now: dt.datetime,
) -> list[Problem]:
    """The rules an imported state and its history must satisfy beyond the intake's own
    (interfaces.md §3): consent for services past asesmen, the assessment and closing times,
    and service tracks consistent with the case's state."""
    p: list[Problem] = []
    intake = parsed.intake
    state = CaseState(parsed.status)
    received = intake.received_at
    assessed, closed = parsed.assessment_completed_at, parsed.closed_at

    def not_future(path: str, value: dt.datetime | None) -> None:
        if value is not None and value > now + FUTURE_SLACK:
            p.append(Problem(path, _l("This time is in the future.")))

    def not_before_received(path: str, value: dt.datetime | None) -> None:
        if value is not None and received is not None and value < received:
            p.append(Problem(path, _l("This is before the case was received.")))

    if state is CaseState.KEDARURATAN and intake.risk != Risk.TINGGI:
        p.append(
            Problem("status", _l("Only a case of high risk (tinggi) goes through kedaruratan."))
        )
    for i, victim in enumerate(intake.victims):
        for j, consent in enumerate(victim.consents):
            not_future(f"victims[{i}].consents[{j}].at", consent.at)
    if state in PAST_ASSESSMENT:
        for i, victim in enumerate(intake.victims):
            entry = consent_in_force(victim.consents, "layanan")
            if entry is None or entry.decision != ConsentDecision.SETUJU:
                p.append(
                    Problem(
                        f"victims[{i}].consents",
                        _l(
                            "A case past asesmen needs the victim's consent to services "
                            "(purpose layanan, decision setuju)."
                        ),
                    )
                )
        if assessed is None:
            p.append(
                Problem(
                    "assessment_completed_at",
                    _l("A case past asesmen needs the time its assessment was completed."),
                )
            )
    elif state in BEFORE_PLAN and assessed is not None:
        p.append(
            Problem(
                "assessment_completed_at",
                _l(
                    "A case in %(state)s has no completed assessment yet.",
                    state=state.value,
                ),
            )
        )
    not_before_received("assessment_completed_at", assessed)
    not_future("assessment_completed_at", assessed)

    if state in CASE_CLOSED:
        if closed is None:
            p.append(Problem("closed_at", _l("A closed case needs the time it was closed.")))
        if state is CaseState.DITUTUP and not parsed.closed_reason:
            p.append(
                Problem("closed_reason", _l("Say why the case was closed without completion."))
            )
    else:
        if closed is not None:
            p.append(
                Problem(
                    "closed_at",
                    _l("A case in %(state)s is open: it has no closing time.", state=state.value),
                )
            )
        if parsed.closed_reason:
            p.append(Problem("closed_reason", _l("Only a closed case has a closing reason.")))
    not_before_received("closed_at", closed)
    not_future("closed_at", closed)
    if closed is not None and assessed is not None and closed < assessed:
        p.append(Problem("closed_at", _l("The case cannot close before its assessment.")))

    seen: dict[tuple[int, str], int] = {}
    perpetrator_ages = [x.age for x in intake.perpetrators]
    for i, s in enumerate(parsed.services):
        path = f"services[{i}]"
        key = (s.victim_position, s.type)
        if key in seen:
            p.append(
                Problem(
                    f"{path}.type",
                    _l(
                        "The victim already has this service (services[%(n)d]); one track per "
                        "victim and service type.",
                        n=seen[key],
                    ),
                )
            )
        seen.setdefault(key, i)
        provider = providers.get(s.provider_code) if s.provider_code else None
        if s.provider_code and provider is None:
            p.append(
                Problem(
                    f"{path}.provider",
                    _l('No agency has the code "%(code)s".', code=s.provider_code),
                )
            )
        for problem in check_track(
            s.type,
            s.status,
            provider=provider,
            started_at=s.started_at,
            ended_at=s.ended_at,
            consents=intake.victims[s.victim_position - 1].consents,
            case_types=intake.case_types,
            perpetrator_ages=perpetrator_ages,
        ):
            if not (problem.path == "provider" and s.provider_code and provider is None):
                p.append(Problem(f"{path}.{problem.path}", problem.message))
        for name in ("started_at", "ended_at", "planned_at"):
            not_before_received(f"{path}.{name}", getattr(s, name))
            not_future(f"{path}.{name}", getattr(s, name))
        if state is CaseState.TERMINASI:
            if TrackState(s.status) not in TRACK_ENDED:
                p.append(
                    Problem(
                        f"{path}.status",
                        _l(
                            "A case in terminasi cannot have a service still open (%(state)s).",
                            state=s.status,
                        ),
                    )
                )
            elif s.ended_at is not None and closed is not None and s.ended_at > closed:
                p.append(
                    Problem(f"{path}.ended_at", _l("The service ended after the case was closed."))
                )
    return p


def _case_manager(email: str, agency: Agency) -> tuple[User | None, Problem | None]:
    user = find_user(email)
    if user is None or not user.active:
        return None, Problem(
            "case_manager", _l("No active user has the email %(email)s.", email=email)
        )
    holds = db.session.scalar(
        select(RoleGrant.id).where(
            RoleGrant.user_id == user.id,
            RoleGrant.agency_id == agency.id,
            RoleGrant.role.in_(CASE_MANAGER_ROLES),
        )
    )
    if holds is None:
        return None, Problem(
            "case_manager",
            _l(
                "%(email)s is not a case manager or supervisor at %(agency)s.",
                email=email,
                agency=agency.code,
            ),
        )
    return user, None


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


# --- writing -----------------------------------------------------------------------------------


class _DryRun(Exception):
    pass


def find_imported(agency: Agency, external_id: str) -> int | None:
    return db.session.scalar(
        select(Case.id).where(Case.agency_id == agency.id, Case.external_id == external_id)
    )


class Lookups:
    """What the lines of one import look up, read once: region codes (and the regions a batch
    names), agencies by code, case managers."""

    def __init__(self) -> None:
        self.region_codes: set[str] = set(db.session.scalars(select(Region.code)))
        self._regions: dict[str, Region | None] = {}
        self._agencies: dict[str, Agency | None] = {}
        self._managers: dict[tuple[str, int], tuple[User | None, Problem | None]] = {}
        self._ids: IdPool | None = None

    def ids(self) -> IdPool:
        """The ids the import's batches take from the sequences, in blocks (PostgreSQL)."""
        if self._ids is None:
            self._ids = IdPool(db.session)
        return self._ids

    def agency(self, code: str) -> Agency | None:
        if code not in self._agencies:
            self._agencies[code] = get_agency_by_code(code)
        return self._agencies[code]

    def manager(self, email: str, agency: Agency) -> tuple[User | None, Problem | None]:
        key = (email.strip().lower(), agency.id)
        if key not in self._managers:
            self._managers[key] = _case_manager(email, agency)
        return self._managers[key]

    def load_regions(self, codes: Iterable[str]) -> None:
        """Read the regions of ``codes`` not read yet, in one query."""
        missing = {code for code in codes if code and code not in self._regions}
        if not missing:
            return
        found = {
            region.code: region
            for region in db.session.scalars(select(Region).where(Region.code.in_(missing)))
        }
        for code in missing:
            self._regions[code] = found.get(code)

    def region(self, code: str | None) -> Region | None:
        if not code:
            return None
        self.load_regions([code])
        return self._regions[code]

    def imported(self, keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
        """The cases already there among ``keys`` ``(agency id, external_id)``, in one query."""
        wanted = set(keys)
        if not wanted:
            return {}
        rows = db.session.execute(
            select(Case.agency_id, Case.external_id, Case.id).where(
                tuple_(Case.agency_id, Case.external_id).in_(sorted(wanted))
            )
        )
        return {(agency_id, external_id): case_id for agency_id, external_id, case_id in rows}


def check_record(
    parsed: ParsedCase, agency: Agency, *, now: dt.datetime, lookups: Lookups
) -> tuple[list[Problem], dict[str, Agency | None], User | None]:
    """Every rule a record must satisfy before it is written (the intake form's, with the legacy
    rules, and the history's): the problems, the providers the services name, and the case
    manager the record names."""
    problems = [
        Problem(json_path(p.path), p.message)
        for p in check_intake(
            parsed.intake, now=now, region_codes=lookups.region_codes, legacy=True
        )
    ]
    providers = {
        code: lookups.agency(code)
        for code in {s.provider_code for s in parsed.services if s.provider_code}
    }
    problems += check_history(parsed, providers=providers, now=now)
    manager = None
    if parsed.case_manager_email:
        manager, problem = lookups.manager(parsed.case_manager_email, agency)
        if problem is not None:
            problems.append(problem)
    return _unique(problems), providers, manager


def _unknown_agency(code: str) -> str:
    return describe([Problem("agency", _l('No agency has the code "%(code)s".', code=code))])


def import_case(
    parsed: ParsedCase,
    *,
    actor: Actor,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    lookups: Lookups | None = None,
) -> Outcome:
    """Import one parsed record: ``skipped`` when its ``(agency, external_id)`` is already
    there (nothing changes), ``rejected`` with the reason when a rule is broken (nothing is
    written), else ``imported``. With ``dry_run`` everything is checked and written inside a
    savepoint that is then rolled back. Never commits. ``lookups`` lets the lines of one file
    share what they look up. (A whole file goes through ``import_lines``, which writes its
    records in batches and comes back here only for a batch the database refused.)"""
    now = now or utcnow()
    lookups = lookups or Lookups()
    agency = lookups.agency(parsed.agency_code)
    if agency is None:
        return Outcome("rejected", _unknown_agency(parsed.agency_code))
    existing = find_imported(agency, parsed.external_id)
    if existing is not None:
        return Outcome("skipped", case_id=existing)

    problems, providers, manager = check_record(parsed, agency, now=now, lookups=lookups)
    if problems:
        return Outcome("rejected", describe(problems))

    try:
        with db.session.begin_nested():
            case = _write(parsed, agency, providers, manager, actor=actor, now=now)
            case_id = case.id
            if dry_run:
                raise _DryRun
    except _DryRun:
        return Outcome("imported", case_id=None)
    except DomainError as exc:
        path = json_path(exc.field) if exc.field else ""
        return Outcome("rejected", describe([Problem(path, exc.message)]))
    except IntegrityError as exc:
        # Someone imported the same record at the same time and committed first.
        existing = find_imported(agency, parsed.external_id)
        if existing is not None:
            return Outcome("skipped", case_id=existing)
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return Outcome(
            "rejected",
            describe(
                [Problem("", _l("the database refused the record (%(error)s)", error=detail))]
            ),
        )
    return Outcome("imported", case_id=case_id)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[str] = set()
    result = []
    for problem in problems:
        text = f"{problem.path}: {problem.message}"
        if text not in seen:
            seen.add(text)
            result.append(problem)
    return result


def _write(
    parsed: ParsedCase,
    agency: Agency,
    providers: dict[str, Agency | None],
    manager: User | None,
    *,
    actor: Actor,
    now: dt.datetime,
) -> Case:
    intake = parsed.intake
    received = intake.received_at
    assert received is not None
    case = register_case(
        intake,
        agency=agency,
        actor=actor,
        external_id=parsed.external_id,
        now=now,
        transition_kind="import",
    )

    case.assessment_completed_at = parsed.assessment_completed_at
    if manager is not None:
        case.case_manager_id = manager.id
    db.session.flush()

    tracks = create_tracks(case, _track_specs(parsed, case, providers), actor=actor, kind="import")
    _arrive(case, parsed, actor=actor)
    db.session.flush()
    _imported_entry(case, parsed, len(tracks), actor)
    return case


def _track_specs(
    parsed: ParsedCase, case: Case, providers: dict[str, Agency | None]
) -> list[TrackSpec]:
    received = parsed.intake.received_at
    assert received is not None
    return [
        TrackSpec(
            victim=case.victims[s.victim_position - 1],
            service_type=s.type,
            provider=providers.get(s.provider_code) if s.provider_code else None,
            state=s.status,
            started_at=s.started_at,
            ended_at=s.ended_at,
            end_reason=s.end_reason,
            target_date=s.target_date,
            at=s.ended_at or s.started_at or received,
            planned_at=planned_at(s, parsed),
        )
        for s in parsed.services
    ]


def _arrive(case: Case, parsed: ParsedCase, *, actor: Actor) -> None:
    """The case arrives in the state its record gives (an engine event of its own), with its
    closing time and reason (CHECK closed_iff_closed_at): dated ``closed_at`` for a closed case,
    else the latest time the record holds (module docstring)."""
    at = arrival_time(parsed)
    if at is not None:
        engine.import_state(
            case, CaseState(parsed.status), actor=actor, at=at, reason=parsed.closed_reason
        )
    case.closed_at = parsed.closed_at
    case.closed_reason = parsed.closed_reason


def arrival_time(parsed: ParsedCase) -> dt.datetime | None:
    """When the case arrived in its record's state: None when that is ``diterima`` (no row of
    its own), ``closed_at`` for a closed case, else the latest time the record holds."""
    state = CaseState(parsed.status)
    if state is CaseState.DITERIMA:
        return None
    known = [parsed.intake.received_at, parsed.assessment_completed_at]
    known += [s.started_at for s in parsed.services] + [s.ended_at for s in parsed.services]
    at = parsed.closed_at if state in CASE_CLOSED else max(t for t in known if t is not None)
    assert at is not None, "a case past diterima has a closing or a track time (parse_case)"
    return at


def _imported_entry(case: Case, parsed: ParsedCase, tracks: int, actor: Actor) -> None:
    record(
        actor,
        "case.import",
        "case",
        case.id,
        {
            "external_id": parsed.external_id,
            "reference": case.reference,
            "state": parsed.status,
            "tracks": tracks,
        },
    )


@dataclass
class _Ready:
    """A line that passed every check, waiting for its batch to be written."""

    line: int
    parsed: ParsedCase
    agency: Agency
    providers: dict[str, Agency | None]
    manager: User | None


# A batch on PostgreSQL is written as plain rows (``rows.write_rows``) rather than as ORM objects
# flushed by the unit of work (the same rows); off, it is flushed as on SQLite (kept for comparing
# the two in the tests).
INSERT_WITHOUT_FLUSH = True


def _write_batch(batch: list[_Ready], *, actor: Actor, lookups: Lookups) -> None:
    """Write checked records together, as ``_write`` writes each: the same rows, transitions
    (each case's in the order ``_write`` adds them) and audit entries, written together for the
    whole batch instead of several flushes per case, with one counter update per agency and year
    for the references. On PostgreSQL the rows are built as plain data and inserted table by
    table, every row with its id taken first (``rows.write_rows``); elsewhere (and with
    ``INSERT_WITHOUT_FLUSH`` off) the operations' objects are flushed, twice. The caller holds
    the savepoint: a refusal of the database leaves nothing."""
    lookups.load_regions(
        code
        for ready in batch
        for code in [
            ready.parsed.intake.incident_region_code,
            *(v.domicile_region_code for v in ready.parsed.intake.victims),
        ]
        if code
    )
    references = next_references(
        [(ready.agency, ready.parsed.intake.received_at) for ready in batch]  # type: ignore[misc]
    )
    postgres = db.session.get_bind().dialect.name == "postgresql"
    case_ids = take_ids(db.session, Case.__table__, len(batch)) if postgres else []
    if postgres and INSERT_WITHOUT_FLUSH:
        write_rows(
            db.session,
            [
                RecordToWrite(
                    parsed=ready.parsed,
                    agency=ready.agency,
                    providers=ready.providers,
                    manager=ready.manager,
                    reference=reference,
                    case_id=case_id,
                    planned=[planned_at(s, ready.parsed) for s in ready.parsed.services],
                    arrived_at=arrival_time(ready.parsed),
                )
                for ready, reference, case_id in zip(batch, references, case_ids, strict=True)
            ],
            actor=actor,
            ids=lookups.ids(),
            region=lookups.region,
        )
        return
    written = []
    with db.session.no_autoflush:
        for i, (ready, reference) in enumerate(zip(batch, references, strict=True)):
            parsed = ready.parsed
            case = register_imported_case(
                parsed.intake,
                agency=ready.agency,
                actor=actor,
                reference=reference,
                external_id=parsed.external_id,
                region=lookups.region,
            )
            if postgres:
                case.id = case_ids[i]
            else:  # SQLite (the embedded demo): no sequence to take ids from
                db.session.flush()
            case.assessment_completed_at = parsed.assessment_completed_at
            if ready.manager is not None:
                case.case_manager_id = ready.manager.id
            specs = _track_specs(parsed, case, ready.providers)
            tracks = create_tracks(case, specs, actor=actor, kind="import", batch=True)
            _arrive(case, parsed, actor=actor)
            written.append((case, parsed, specs, tracks))
        assign_ids(db.session)
        db.session.flush()
        for case, parsed, specs, tracks in written:
            registered_entry(case, actor)
            for spec, track in zip(specs, tracks, strict=True):
                created_entry(case, spec, track, actor)
            _imported_entry(case, parsed, len(tracks), actor)
    db.session.flush()


def planned_at(service: ServiceData, parsed: ParsedCase) -> dt.datetime:
    """When an imported track entered the plan (domain.md §6.1, interfaces.md §3): the record's
    ``planned_at``; else the case's assessment (the plan follows it), else its registration —
    or the track's start when it started earlier (a complaint handled at intake). Never the time
    of the import: a service planned and never started still counts as planned."""
    if service.planned_at is not None:
        return service.planned_at
    received = parsed.intake.received_at
    assert received is not None
    plan = parsed.assessment_completed_at or received
    if service.started_at is not None and service.started_at < plan:
        return service.started_at
    return plan


# --- a whole file --------------------------------------------------------------------------------


@dataclass
class ImportResult:
    imported: int = 0
    skipped: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"imported {self.imported}, skipped {self.skipped} (already present), "
            f"rejected {len(self.rejected)}"
        )


TOO_DEEP = _l("lists or objects nested too deeply (a case record is only a few levels deep)")


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _RepeatedKey(key)
        result[key] = value
    return result


def read_lines(lines: Iterable[bytes | str]) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, object)`` for every non-blank line, or ``(line_number, RecordError)``
    when the line is not UTF-8 or not JSON — including JSON that Python refuses to read: lists
    or objects nested deeper than the interpreter's recursion limit (``RecursionError``) and
    whole numbers longer than its integer digit limit (``ValueError``, 4,300 digits)."""
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, _fail("", _l("not UTF-8 text (byte %(n)d)", n=exc.start + 1))
                continue
        else:
            text = raw
        if number == 1:
            text = text.removeprefix("\ufeff")
        if not text.strip():
            continue
        if "\x00" in text or "\\u0000" in text:
            # a NUL byte (raw or escaped) has no place in a record and PostgreSQL cannot store it
            yield number, _fail("", _l("contains a NUL character"))
            continue
        try:
            yield number, json.loads(text, object_pairs_hook=_no_repeated_keys)
        except _RepeatedKey as exc:
            yield (
                number,
                _fail("", _l('the key "%(key)s" appears twice in one object', key=exc.key)),
            )
        except json.JSONDecodeError as exc:
            yield (
                number,
                _fail("", _l("not valid JSON (%(error)s)", error=f"{exc.msg}, column {exc.colno}")),
            )
        except RecursionError:
            yield number, _fail("", TOO_DEEP)
        except ValueError:  # a whole number past sys.get_int_max_str_digits()
            yield (
                number,
                _fail(
                    "",
                    _l(
                        "a number has more than %(n)d digits",
                        n=sys.get_int_max_str_digits() or 4300,
                    ),
                ),
            )


# Lines written together: one batch of writes, and with ``commit`` one transaction (the chain
# lock of the audit trail is held for one chunk at a time).
CHUNK_SIZE = 500


@dataclass
class Progress:
    """Where an import stands after a chunk: ``lines`` read of ``total`` (when known)."""

    lines: int
    total: int | None
    result: ImportResult
    seconds: float

    @property
    def per_second(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        if self.total is None or self.per_second <= 0:
            return None
        return max(self.total - self.lines, 0) / self.per_second


def import_lines(
    lines: Iterable[bytes | str],
    *,
    actor: Actor,
    now: dt.datetime | None = None,
    chunk_size: int | None = None,
    commit: Callable[[], None] | None = None,
    progress: Callable[[Progress], None] | None = None,
    total: int | None = None,
) -> ImportResult:
    """Import every line, ``chunk_size`` lines at a time (default ``CHUNK_SIZE``): the chunk's
    lines are read and checked, the cases already there found in one query, and the good
    records written in one batch (``_write_batch``). ``commit`` (the CLI's): called after each
    chunk, so what a chunk imported stays imported whatever happens to a later one, and running
    the file again imports only what is missing; without it the caller commits (or rolls back a
    dry run) at the end. ``progress`` is told after each chunk (``total``: the number of lines,
    when known)."""
    result = ImportResult()
    now = now or utcnow()
    chunk_size = chunk_size or CHUNK_SIZE
    lookups = Lookups()
    started = time.perf_counter()
    read = 0
    chunk: list[tuple[int, Any]] = []

    def finish_chunk() -> None:
        _import_chunk(chunk, actor=actor, now=now, lookups=lookups, result=result)
        chunk.clear()
        if commit is not None:
            commit()
        if progress is not None:
            progress(Progress(read, total, result, time.perf_counter() - started))

    for number, obj in read_lines(lines):
        read = number
        chunk.append((number, obj))
        if len(chunk) >= chunk_size:
            finish_chunk()
    if chunk:
        finish_chunk()
    return result


def _import_chunk(
    chunk: list[tuple[int, Any]],
    *,
    actor: Actor,
    now: dt.datetime,
    lookups: Lookups,
    result: ImportResult,
) -> None:
    rejected: list[tuple[int, str]] = []
    candidates: list[tuple[int, ParsedCase, Agency]] = []
    for number, obj in chunk:
        if isinstance(obj, RecordError):
            rejected.append((number, describe([Problem(obj.field or "", obj.message)])))
            continue
        try:
            parsed = parse_line(obj)
        except RecordError as exc:
            rejected.append((number, describe([Problem(exc.field or "", exc.message)])))
            continue
        except RecursionError:  # a value nested so deep that reading it recursed too far
            rejected.append((number, str(TOO_DEEP)))
            continue
        agency = lookups.agency(parsed.agency_code)
        if agency is None:
            rejected.append((number, _unknown_agency(parsed.agency_code)))
            continue
        candidates.append((number, parsed, agency))

    there = lookups.imported((agency.id, parsed.external_id) for _, parsed, agency in candidates)
    batch: list[_Ready] = []
    coming: set[tuple[int, str]] = set()
    for number, parsed, agency in candidates:
        key = (agency.id, parsed.external_id)
        if key in there or key in coming:  # imported before, or earlier in this chunk
            result.skipped += 1
            continue
        try:
            problems, providers, manager = check_record(parsed, agency, now=now, lookups=lookups)
        except RecursionError:
            rejected.append((number, str(TOO_DEEP)))
            continue
        if problems:
            rejected.append((number, describe(problems)))
            continue
        batch.append(_Ready(number, parsed, agency, providers, manager))
        coming.add(key)

    if batch:
        try:
            with db.session.begin_nested():
                _write_batch(batch, actor=actor, lookups=lookups)
            result.imported += len(batch)
        except (DomainError, IntegrityError, RecursionError):
            # the database (or a rule only the write checks) refused a record of the batch:
            # nothing of the batch is left; each record again on its own, so that one bad
            # record is reported and the others import
            for ready in batch:
                try:
                    outcome = import_case(ready.parsed, actor=actor, now=now, lookups=lookups)
                except RecursionError:
                    outcome = Outcome("rejected", str(TOO_DEEP))
                if outcome.status == "imported":
                    result.imported += 1
                elif outcome.status == "skipped":
                    result.skipped += 1
                else:
                    rejected.append((ready.line, outcome.reason or ""))
    result.rejected += sorted(rejected)
