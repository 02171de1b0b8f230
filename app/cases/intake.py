"""The intake record as plain data, and every rule it must satisfy (domain.md §2).

The intake form and ``flask cases import`` both build an ``Intake`` and call ``check_intake``, so
a rule holds the same way wherever the data comes from. ``check_intake`` returns every problem
found, each tied to a field path (``victims-0-birth_date``) so the form can show it in place.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from app.core.crypto import normalise_name
from app.core.enums import (
    AmpkCategory,
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
    TppoCara,
    TppoProses,
    TppoTujuan,
    ViolenceType,
    is_valid_consent_purpose,
)
from app.core.errors import DomainError
from app.core.formatting import format_day
from app.core.i18n import lazy_gettext as _l

JAKARTA = ZoneInfo("Asia/Jakarta")
NIK_RE = re.compile(r"^\d{16}$")
PHONE_RE = re.compile(r"^\+?[0-9 ()-]{6,20}$")


@dataclass
class ConsentData:
    purpose: str
    decision: str
    given_by: str
    at: dt.datetime
    given_by_name: str | None = None


@dataclass
class GuardianData:
    name: str
    relation: str | None = None
    phone: str | None = None
    perpetrator_position: int | None = None  # the guardian is this alleged perpetrator


@dataclass
class VictimData:
    sex: str | None = None
    id: int | None = None  # an existing victim being edited; None = a new one
    name: str | None = None
    nik: str | None = None
    birth_date: dt.date | None = None
    age: int | None = None
    disability: bool = False
    disability_kind: str | None = None
    pregnant: bool | None = None
    education: str | None = None
    occupation: str | None = None
    marital_status: str | None = None
    religion: str | None = None
    nationality: str = "WNI"
    domicile_region_code: str | None = None
    address: str | None = None
    phone: str | None = None
    has_nik: bool | None = None
    has_akta: bool | None = None
    has_kia: bool | None = None
    violence_types: list[str] = field(default_factory=list)
    ampk_categories: list[str] = field(default_factory=list)
    tppo_proses: list[str] = field(default_factory=list)
    tppo_cara: list[str] = field(default_factory=list)
    tppo_tujuan: list[str] = field(default_factory=list)
    tppo_cross_border: bool | None = None
    tppo_destination_country: str | None = None
    tppo_recruiter: str | None = None
    tppo_documents: str | None = None
    guardians: list[GuardianData] = field(default_factory=list)
    consents: list[ConsentData] = field(default_factory=list)
    link_person_id: int | None = None  # chosen in the duplicate check
    new_person: bool = False  # "another person" chosen in the duplicate check


@dataclass
class PerpetratorData:
    name: str | None = None
    id: int | None = None  # an existing perpetrator being edited; None = a new one
    sex: str | None = None
    age: int | None = None
    notes: str | None = None
    # victim position (1-based) -> relationship
    relationships: dict[int, str] = field(default_factory=dict)


@dataclass
class Intake:
    received_at: dt.datetime | None = None
    channel: str | None = None
    case_types: list[str] = field(default_factory=list)
    risk: str | None = None
    kewenangan: str = "kabkota"
    reporter_kind: str = "korban"
    reporter_name: str | None = None
    reporter_phone: str | None = None
    reporter_relation: str | None = None
    incident_date: dt.date | None = None
    incident_date_precision: str | None = None
    incident_region_code: str | None = None
    incident_place: str | None = None
    ranah: str | None = None
    kronologi: str | None = None
    victims: list[VictimData] = field(default_factory=list)
    perpetrators: list[PerpetratorData] = field(default_factory=list)
    witnesses: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class Problem:
    path: str
    message: object

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def age_on(birth_date: dt.date, day: dt.date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def reference_day(intake: Intake) -> dt.date | None:
    """The day ages are counted on: the incident, else the registration."""
    if intake.incident_date is not None:
        return intake.incident_date
    if intake.received_at is not None:
        return intake.received_at.astimezone(JAKARTA).date()
    return None


def victim_age(victim: VictimData, intake: Intake) -> int | None:
    day = reference_day(intake)
    if victim.birth_date is not None and day is not None:
        return age_on(victim.birth_date, day)
    return victim.age


@functools.cache
def _values(vocabulary: type[enum.StrEnum]) -> frozenset[str]:
    """The values of a vocabulary, built once (an import checks thousands of records)."""
    return frozenset(m.value for m in vocabulary)


def _in(value: str | None, vocabulary: type[enum.StrEnum]) -> bool:
    return value is None or value in _values(vocabulary)


def _all_in(values: list[str], vocabulary: type[enum.StrEnum]) -> bool:
    allowed = _values(vocabulary)
    return all(v in allowed for v in values)


# The longest texts of an intake (characters); the form's fields carry them as maxlength.
KRONOLOGI_MAX = 20_000
NOTE_MAX = 500  # a victim's address and documents, a perpetrator's notes


def _text(problems: list[Problem], path: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        problems.append(Problem(path, _l("At most %(n)d characters.", n=limit)))


def check_intake(
    intake: Intake,
    *,
    now: dt.datetime,
    draft: bool = False,
    region_codes: set[str] | None = None,
    legacy: bool = False,
    quick: bool = False,
) -> list[Problem]:
    """Every rule of domain.md §2 the intake breaks. ``legacy`` (an imported history,
    interfaces.md §3): what old records often lack — a victim's age, the name of a guardian who
    consented — is accepted and left to the data-quality checks instead. A draft needs only what
    identifies the record (channel and registration time); every other rule still applies to
    what was given. ``quick`` (the quick intake, ``/kasus/cepat``): a victim's types of violence
    may be left for later — domain.md does not ask for them at registration, and the case page
    lists them as still missing (``app.cases.completeness``); every other rule applies."""
    p: list[Problem] = []
    required = _l("This field is required.")
    unknown = _l("Choose a value from the list.")

    if intake.received_at is None:
        p.append(Problem("received_at", required))
    elif intake.received_at > now + dt.timedelta(minutes=5):
        p.append(Problem("received_at", _l("The registration time cannot be in the future.")))
    if not intake.channel:
        p.append(Problem("channel", required))
    elif not _in(intake.channel, Channel):
        p.append(Problem("channel", unknown))
    if not _all_in(intake.case_types, CaseType):
        p.append(Problem("case_types", unknown))
    elif not intake.case_types and not draft:
        p.append(Problem("case_types", _l("Choose at least one case type.")))
    if len(set(intake.case_types)) != len(intake.case_types):
        p.append(Problem("case_types", _l("A case type is listed twice.")))
    if not intake.risk and not draft:
        p.append(Problem("risk", _l("Choose the risk level.")))
    elif not _in(intake.risk, Risk):
        p.append(Problem("risk", unknown))
    if not _in(intake.kewenangan, Kewenangan):
        p.append(Problem("kewenangan", unknown))

    if not _in(intake.reporter_kind, ReporterKind):
        p.append(Problem("reporter_kind", unknown))
    elif intake.reporter_kind == ReporterKind.PIHAK_KETIGA and not intake.reporter_name:
        p.append(Problem("reporter_name", _l("Give the name of the person reporting.")))
    if intake.reporter_phone and not PHONE_RE.match(intake.reporter_phone):
        p.append(Problem("reporter_phone", _l("Enter a phone number of digits.")))
    _text(p, "reporter_name", intake.reporter_name, 200)
    _text(p, "reporter_relation", intake.reporter_relation, 100)

    if intake.incident_date is not None:
        if (
            intake.received_at is not None
            and intake.incident_date > intake.received_at.astimezone(JAKARTA).date()
        ):
            p.append(
                Problem(
                    "incident_date",
                    _l("The incident cannot be after the complaint was registered."),
                )
            )
        if intake.incident_date_precision and not _in(
            intake.incident_date_precision, IncidentDatePrecision
        ):
            p.append(Problem("incident_date_precision", unknown))
    if not _in(intake.incident_place, IncidentPlace):
        p.append(Problem("incident_place", unknown))
    if not _in(intake.ranah, Ranah):
        p.append(Problem("ranah", unknown))
    if (
        intake.incident_region_code
        and region_codes is not None
        and intake.incident_region_code not in region_codes
    ):
        p.append(Problem("incident_region_code", _l("Unknown region code.")))
    _text(p, "kronologi", intake.kronologi, KRONOLOGI_MAX)

    if not intake.victims and not draft:
        p.append(Problem("victims", _l("Add at least one victim.")))
    perpetrator_names = {
        normalise_name(x.name) for x in intake.perpetrators if x.name and x.name.strip()
    }
    for i, v in enumerate(intake.victims):
        _check_victim(
            p,
            f"victims-{i}",
            v,
            intake,
            draft=draft,
            region_codes=region_codes,
            perpetrator_names=perpetrator_names,
            now=now,
            legacy=legacy,
            quick=quick,
        )
    for i, x in enumerate(intake.perpetrators):
        path = f"perpetrators-{i}"
        if not _in(x.sex, Sex):
            p.append(Problem(f"{path}-sex", unknown))
        if x.age is not None and not 0 <= x.age <= 120:
            p.append(Problem(f"{path}-age", _l("Enter an age between 0 and 120.")))
        _text(p, f"{path}-name", x.name, 200)
        _text(p, f"{path}-notes", x.notes, NOTE_MAX)
        for position, relation in x.relationships.items():
            if not 1 <= position <= len(intake.victims):
                p.append(Problem(f"{path}-relationships", _l("Unknown victim.")))
            elif not _in(relation, Relationship):
                p.append(Problem(f"{path}-relationships", unknown))
    for i, (name, phone) in enumerate(intake.witnesses):
        if not name.strip():
            p.append(Problem(f"witnesses-{i}-name", required))
        _text(p, f"witnesses-{i}-name", name, 200)
        if phone and not PHONE_RE.match(phone):
            p.append(Problem(f"witnesses-{i}-phone", _l("Enter a phone number of digits.")))
    return p


def _check_victim(
    p: list[Problem],
    path: str,
    v: VictimData,
    intake: Intake,
    *,
    draft: bool,
    region_codes: set[str] | None,
    perpetrator_names: set[str],
    legacy: bool = False,
    now: dt.datetime | None = None,
    quick: bool = False,
) -> None:
    unknown = _l("Choose a value from the list.")
    if not v.sex:
        p.append(Problem(f"{path}-sex", _l("Choose the victim's sex.")))
    elif not _in(v.sex, Sex):
        p.append(Problem(f"{path}-sex", unknown))
    _text(p, f"{path}-name", v.name, 200)
    if v.nik and not NIK_RE.match(v.nik):
        p.append(Problem(f"{path}-nik", _l("A NIK has exactly 16 digits.")))
    if v.age is not None and not 0 <= v.age <= 120:
        p.append(Problem(f"{path}-age", _l("Enter an age between 0 and 120.")))
    day = reference_day(intake)
    if v.birth_date is not None:
        if day is not None and v.birth_date > day:
            p.append(Problem(f"{path}-birth_date", _l("The birth date is after the incident.")))
        elif day is not None and v.age is not None and age_on(v.birth_date, day) != v.age:
            p.append(
                Problem(
                    f"{path}-age",
                    _l(
                        "The age does not match the birth date: on %(day)s the victim was "
                        "%(n)d years old.",
                        day=format_day(day),
                        n=age_on(v.birth_date, day),
                    ),
                )
            )
    elif v.age is None and not draft and not legacy:
        p.append(Problem(f"{path}-age", _l("Give the birth date or the age at the incident.")))
    age = victim_age(v, intake)
    is_child = age is not None and age < 18

    if not _all_in(v.violence_types, ViolenceType):
        p.append(Problem(f"{path}-violence_types", unknown))
    elif not v.violence_types and not draft and not quick:
        p.append(Problem(f"{path}-violence_types", _l("Choose at least one type of violence.")))
    if not _all_in(v.ampk_categories, AmpkCategory):
        p.append(Problem(f"{path}-ampk_categories", unknown))
    elif v.ampk_categories and age is not None and not is_child:
        p.append(
            Problem(
                f"{path}-ampk_categories",
                _l("Special-protection (AMPK) categories apply only to children under 18."),
            )
        )
    if (
        CaseType.AMPK in intake.case_types
        and age is not None
        and not is_child
        and not any(
            victim_age(x, intake) is not None and victim_age(x, intake) < 18  # type: ignore[operator]
            for x in intake.victims
        )
    ):
        p.append(Problem("case_types", _l("An AMPK case needs a child victim.")))
    for name, values, vocab in (
        ("tppo_proses", v.tppo_proses, TppoProses),
        ("tppo_cara", v.tppo_cara, TppoCara),
        ("tppo_tujuan", v.tppo_tujuan, TppoTujuan),
    ):
        if not _all_in(values, vocab):
            p.append(Problem(f"{path}-{name}", unknown))
    for key, vocabulary in (
        ("education", Education),
        ("marital_status", MaritalStatus),
        ("religion", Religion),
        ("nationality", Nationality),
    ):
        if not _in(getattr(v, key), vocabulary):
            p.append(Problem(f"{path}-{key}", unknown))
    if v.phone and not PHONE_RE.match(v.phone):
        p.append(Problem(f"{path}-phone", _l("Enter a phone number of digits.")))
    if v.pregnant and v.sex == Sex.L:
        p.append(Problem(f"{path}-pregnant", _l("Only a female victim can be pregnant.")))
    if (
        v.domicile_region_code
        and region_codes is not None
        and (v.domicile_region_code not in region_codes)
    ):
        p.append(Problem(f"{path}-domicile_region_code", _l("Unknown region code.")))
    for key, limit in (
        ("address", NOTE_MAX),
        ("occupation", 100),
        ("disability_kind", 200),
        ("tppo_destination_country", 100),
        ("tppo_recruiter", 200),
        ("tppo_documents", NOTE_MAX),
    ):
        _text(p, f"{path}-{key}", getattr(v, key), limit)

    guardian_perpetrators = {
        normalise_name(g.name) for g in v.guardians if g.perpetrator_position is not None
    }
    for j, g in enumerate(v.guardians):
        if not g.name.strip():
            p.append(Problem(f"{path}-guardians-{j}-name", _l("This field is required.")))
        _text(p, f"{path}-guardians-{j}-name", g.name, 200)
        _text(p, f"{path}-guardians-{j}-relation", g.relation, 100)
        if g.phone and not PHONE_RE.match(g.phone):
            p.append(Problem(f"{path}-guardians-{j}-phone", _l("Enter a phone number of digits.")))
        if g.perpetrator_position is not None and not (
            1 <= g.perpetrator_position <= len(intake.perpetrators)
        ):
            p.append(Problem(f"{path}-guardians-{j}", _l("Unknown perpetrator.")))
    for j, c in enumerate(v.consents):
        p.extend(
            check_consent(
                c,
                path=f"{path}-consents-{j}",
                forbidden_givers=perpetrator_names | guardian_perpetrators,
                received_at=intake.received_at,
                now=now,
                legacy=legacy,
            )
        )


def check_consent(
    c: ConsentData,
    *,
    path: str,
    forbidden_givers: set[str],
    received_at: dt.datetime | None,
    now: dt.datetime | None = None,
    legacy: bool = False,
) -> list[Problem]:
    """The rules of one consent-ledger entry. ``forbidden_givers`` are the normalised names of
    the alleged perpetrators: none of them may decide for the victim."""
    p: list[Problem] = []
    unknown = _l("Choose a value from the list.")
    if not is_valid_consent_purpose(c.purpose):
        p.append(Problem(f"{path}-purpose", _l("Unknown consent purpose.")))
    if not c.decision or not _in(c.decision, ConsentDecision):
        p.append(Problem(f"{path}-decision", unknown))
    if not c.given_by or not _in(c.given_by, ConsentGiver):
        p.append(Problem(f"{path}-given_by", unknown))
    elif c.given_by == ConsentGiver.WALI:
        giver = normalise_name(c.given_by_name or "")
        _text(p, f"{path}-given_by_name", c.given_by_name, 200)
        if not giver:
            if not legacy:  # an imported record without the name: a data-quality finding
                p.append(Problem(f"{path}-given_by_name", _l("Name the guardian who decided.")))
        elif giver in forbidden_givers:
            p.append(
                Problem(
                    f"{path}-given_by",
                    _l(
                        "The guardian who is the alleged perpetrator cannot give consent "
                        "for the victim."
                    ),
                )
            )
    if c.at is None:
        p.append(Problem(f"{path}-at", _l("This field is required.")))
    elif received_at is not None and c.at < received_at - dt.timedelta(days=366):
        p.append(Problem(f"{path}-at", _l("Check the date of the decision.")))
    elif now is not None and c.at > now + dt.timedelta(minutes=5):
        p.append(Problem(f"{path}-at", _l("The decision cannot be in the future.")))
    return p


def raise_first(problems: list[Problem]) -> None:
    if problems:
        first = problems[0]
        raise DomainError(first.message, field=first.path)
