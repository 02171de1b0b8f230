"""Data-quality checks of one case (domain.md §7), reusable by the queue, the verification and
the period report.

Four kinds of issue: **completeness** (the fields the indicators of §6 need), **validity**
(dates that contradict each other), **uniqueness** (a victim who seems to be registered twice,
found through the blind indexes only) and **timeliness** (how long after the complaint the case
was entered). Completeness, validity and timeliness are pure functions of the loaded case;
uniqueness asks the database, in one batch for many cases.

Messages name victims and perpetrators by their labels (``K1``, ``P1``), never by name.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from app.cases.intake import JAKARTA, age_on
from app.cases.models import Case, Victim, consent_in_force
from app.core.db import utcnow
from app.core.enums import CaseState, ConsentGiver
from app.core.formatting import format_day
from app.core.i18n import lazy_gettext as _l
from app.extensions import db

COMPLETENESS = "completeness"
VALIDITY = "validity"
UNIQUENESS = "uniqueness"
TIMELINESS = "timeliness"
KINDS: tuple[str, ...] = (TIMELINESS, COMPLETENESS, UNIQUENESS, VALIDITY)
"""Every kind of issue, in the order the period report lists the scores."""

BLOCKING: frozenset[str] = frozenset({COMPLETENESS, VALIDITY})
"""Kinds of issue that keep a case from being verified (a late entry or a possible duplicate
is shown, but does not block)."""

TIMELINESS_DAYS = 3
"""A case is entered on time when it was created in the system at most this many days after
the complaint was received (``created_at - received_at``); domain.md §7 "entered within N days
of the event"."""

DUPLICATE_WINDOW_DAYS = 30
"""Two cases of one agency registered at most this many days apart whose victims match (same
NIK, or same name and birth date) are a possible double registration."""

CLOCK_TOLERANCE = dt.timedelta(minutes=5)
"""A registration time this far ahead of the clock is still accepted (as the intake does)."""

KIND_LABELS: dict[str, Any] = {
    TIMELINESS: _l("Timeliness"),
    COMPLETENESS: _l("Completeness"),
    UNIQUENESS: _l("Uniqueness"),
    VALIDITY: _l("Validity"),
}


@dataclass(frozen=True)
class Issue:
    """One problem of a case: ``code`` is ``<kind>.<what>``, ``field`` the intake field path
    (``victims-0-sex``) it belongs to, ``message`` a translatable sentence."""

    code: str
    field: str
    message: Any

    @property
    def kind(self) -> str:
        return self.code.split(".", 1)[0]

    @property
    def blocking(self) -> bool:
        return self.kind in BLOCKING


def _victim_path(victim: Victim, name: str) -> str:
    return f"victims-{victim.position - 1}-{name}"


def reference_day(case: Case) -> dt.date | None:
    """The day ages are counted on, as at intake: the incident, else the registration."""
    if case.incident_date is not None:
        return case.incident_date
    if case.received_at is not None:
        return case.received_at.astimezone(JAKARTA).date()
    return None


# --- completeness ------------------------------------------------------------------------------


def completeness_issues(case: Case) -> list[Issue]:
    """The fields the indicators need (domain.md §6): risk, case types, incident date, place and
    region; per victim sex, age or birth date, violence types, disability, and the name of a
    guardian who consented (an imported history may lack it, interfaces.md §3); the relationship
    of every perpetrator to every victim."""
    issues: list[Issue] = []
    if case.risk is None:
        issues.append(Issue("completeness.risk", "risk", _l("The risk level is missing.")))
    if not case.types:
        issues.append(
            Issue("completeness.case_types", "case_types", _l("No case type is recorded."))
        )
    if case.incident_date is None:
        issues.append(
            Issue(
                "completeness.incident_date", "incident_date", _l("The incident date is missing.")
            )
        )
    if case.incident_place is None:
        issues.append(
            Issue(
                "completeness.incident_place",
                "incident_place",
                _l("The place of the incident is missing."),
            )
        )
    if case.incident_region_id is None:
        issues.append(
            Issue(
                "completeness.incident_region",
                "incident_region_code",
                _l("The region of the incident is missing."),
            )
        )
    if not case.victims:
        issues.append(Issue("completeness.victims", "victims", _l("No victim is recorded.")))
    for v in case.victims:
        if v.sex is None:
            issues.append(
                Issue(
                    "completeness.victim_sex",
                    _victim_path(v, "sex"),
                    _l("Victim %(victim)s: the sex is missing.", victim=v.label),
                )
            )
        if v.birth_date is None and v.age_at_incident is None:
            issues.append(
                Issue(
                    "completeness.victim_age",
                    _victim_path(v, "age"),
                    _l(
                        "Victim %(victim)s: neither the birth date nor the age at the incident "
                        "is known.",
                        victim=v.label,
                    ),
                )
            )
        if not v.violence_types:
            issues.append(
                Issue(
                    "completeness.victim_violence_types",
                    _victim_path(v, "violence_types"),
                    _l("Victim %(victim)s: no type of violence is recorded.", victim=v.label),
                )
            )
        # the decisions in force (the latest per purpose): one recorded again with the
        # guardian's name settles the finding, the ledger itself staying as it was
        in_force = {c.purpose: consent_in_force(v.consents, c.purpose) for c in v.consents}
        for j, consent in enumerate(v.consents):
            if consent is not in_force[consent.purpose]:
                continue
            if consent.given_by == ConsentGiver.WALI and not (consent.given_by_name or "").strip():
                issues.append(
                    Issue(
                        "completeness.guardian_name",
                        _victim_path(v, f"consents-{j}-given_by_name"),
                        _l(
                            "Victim %(victim)s: a guardian decided on %(purpose)s, but who is "
                            "not recorded.",
                            victim=v.label,
                            purpose=consent.purpose,
                        ),
                    )
                )
        if v.disability is None:
            issues.append(
                Issue(
                    "completeness.victim_disability",
                    _victim_path(v, "disability"),
                    _l(
                        "Victim %(victim)s: whether the victim has a disability is not recorded.",
                        victim=v.label,
                    ),
                )
            )
    for i, perpetrator in enumerate(case.perpetrators):
        related = {r.victim_id for r in perpetrator.relations}
        for v in case.victims:
            if v.id in related:
                continue
            issues.append(
                Issue(
                    "completeness.relationship",
                    f"perpetrators-{i}-relationships",
                    _l(
                        "Perpetrator %(perpetrator)s: the relationship to victim %(victim)s is "
                        "missing.",
                        perpetrator=perpetrator.label,
                        victim=v.label,
                    ),
                )
            )
    return issues


# --- validity ----------------------------------------------------------------------------------


def validity_issues(case: Case, *, now: dt.datetime | None = None) -> list[Issue]:
    """Dates that cannot all be true: the incident after the registration, a birth after the
    incident, an age that does not match the birth date, a registration in the future."""
    issues: list[Issue] = []
    now = now or utcnow()
    received = case.received_at
    if received is not None and received > now + CLOCK_TOLERANCE:
        issues.append(
            Issue(
                "validity.received_in_future",
                "received_at",
                _l("The registration time is in the future."),
            )
        )
    if (
        case.incident_date is not None
        and received is not None
        and case.incident_date > received.astimezone(JAKARTA).date()
    ):
        issues.append(
            Issue(
                "validity.incident_after_registration",
                "incident_date",
                _l("The incident date is after the registration."),
            )
        )
    day = reference_day(case)
    for v in case.victims:
        if v.birth_date is None or day is None:
            continue
        if v.birth_date > day:
            issues.append(
                Issue(
                    "validity.birth_after_incident",
                    _victim_path(v, "birth_date"),
                    _l("Victim %(victim)s: the birth date is after the incident.", victim=v.label),
                )
            )
        elif v.age_at_incident is not None and v.age_at_incident != age_on(v.birth_date, day):
            issues.append(
                Issue(
                    "validity.age_mismatch",
                    _victim_path(v, "age"),
                    _l(
                        "Victim %(victim)s: the age at the incident (%(age)d) does not match the "
                        "birth date (%(expected)d years on %(day)s).",
                        victim=v.label,
                        age=v.age_at_incident,
                        expected=age_on(v.birth_date, day),
                        day=format_day(day),
                    ),
                )
            )
    return issues


# --- timeliness --------------------------------------------------------------------------------


def timeliness_issues(case: Case) -> list[Issue]:
    """The case was entered more than ``TIMELINESS_DAYS`` days after the complaint arrived."""
    if case.created_at is None or case.received_at is None:
        return []
    delay = case.created_at - case.received_at
    if delay <= dt.timedelta(days=TIMELINESS_DAYS):
        return []
    days = math.ceil(delay / dt.timedelta(days=1))
    return [
        Issue(
            "timeliness.late_entry",
            "received_at",
            _l(
                "Entered %(days)d days after the complaint was received; the standard is within "
                "%(limit)d days.",
                days=days,
                limit=TIMELINESS_DAYS,
            ),
        )
    ]


# --- uniqueness --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateMatch:
    case_id: int
    victim_position: int
    other_case_id: int
    other_reference: str | None
    matched_on: str  # "nik" or "name_dob"


_BATCH = 500


def duplicate_matches(cases: Sequence[Case]) -> dict[int, list[DuplicateMatch]]:
    """For each of ``cases``, the victims that match (blind-index NIK, or blind-index name and
    the same birth date) a victim of another registered case of the same agency received at most
    ``DUPLICATE_WINDOW_DAYS`` days apart. Cases closed as duplicates are left out on both sides:
    that double registration is already resolved. No identity is compared in SQL: names and NIKs
    through their blind indexes, and the (encrypted) birth dates of victims with the same name
    index once decrypted.

    Two statements for each 500 cases, whatever the number of namesakes in the country: their
    victims, and the victims with one of their NIKs or names among the cases of their agencies
    registered within the window of one of them (read by agency and date); the pairs are then
    matched here."""
    found: dict[int, list[DuplicateMatch]] = {}
    candidates = [c for c in cases if c.id is not None and c.duplicate_of_id is None]
    by_id = {c.id: c for c in candidates}
    ids = list(by_id)
    seen: set[tuple[int, int, int]] = set()
    window = dt.timedelta(days=DUPLICATE_WINDOW_DAYS)
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        victims = db.session.execute(
            select(
                Victim.case_id,
                Victim.position,
                Victim.nik_index,
                Victim.name_index,
                Victim.birth_date,
            )
            .where(
                Victim.case_id.in_(chunk),
                or_(Victim.nik_index.is_not(None), Victim.name_index.is_not(None)),
            )
            .order_by(Victim.case_id, Victim.position)
        ).all()
        niks = sorted({v.nik_index for v in victims if v.nik_index is not None})
        names = sorted({v.name_index for v in victims if v.name_index is not None})
        if not victims:
            continue
        others = list(
            db.session.execute(
                select(
                    Victim.case_id,
                    Victim.nik_index,
                    Victim.name_index,
                    Victim.birth_date,
                    Case.agency_id,
                    Case.reference,
                    Case.received_at,
                )
                .join(Case, Case.id == Victim.case_id)
                .where(
                    Case.agency_id.in_(sorted({by_id[i].agency_id for i in chunk})),
                    Case.received_at >= min(by_id[i].received_at for i in chunk) - window,
                    Case.received_at <= max(by_id[i].received_at for i in chunk) + window,
                    Case.state != CaseState.DRAFT,
                    Case.duplicate_of_id.is_(None),
                    or_(Victim.nik_index.in_(niks), Victim.name_index.in_(names)),
                )
            )
        )
        others.sort(key=lambda o: (o.received_at, o.case_id))  # each victim's, oldest first
        by_nik: dict[str, list[Any]] = {}
        by_name: dict[str, list[Any]] = {}
        for other in others:
            if other.nik_index is not None:
                by_nik.setdefault(other.nik_index, []).append(other)
            if other.name_index is not None:
                by_name.setdefault(other.name_index, []).append(other)
        for matched_on, index in (("nik", by_nik), ("name_dob", by_name)):
            for victim in victims:
                key = victim.nik_index if matched_on == "nik" else victim.name_index
                if key is None:
                    continue
                case = by_id[victim.case_id]
                for other in index.get(key, ()):
                    if other.case_id == case.id or other.agency_id != case.agency_id:
                        continue
                    if abs(other.received_at - case.received_at) > window:
                        continue
                    if matched_on == "name_dob" and (
                        victim.birth_date is None or victim.birth_date != other.birth_date
                    ):
                        continue
                    pair = (case.id, victim.position, other.case_id)
                    if pair in seen:
                        continue
                    seen.add(pair)
                    found.setdefault(case.id, []).append(
                        DuplicateMatch(
                            case.id, victim.position, other.case_id, other.reference, matched_on
                        )
                    )
    return found


def _duplicate_issue(match: DuplicateMatch) -> Issue:
    label = f"K{match.victim_position}"
    reference = match.other_reference or "—"
    if match.matched_on == "nik":
        message = _l(
            "Victim %(victim)s has the same NIK as a victim of case %(reference)s, registered "
            "within %(days)d days: possibly registered twice.",
            victim=label,
            reference=reference,
            days=DUPLICATE_WINDOW_DAYS,
        )
    else:
        message = _l(
            "Victim %(victim)s has the same name and birth date as a victim of case "
            "%(reference)s, registered within %(days)d days: possibly registered twice.",
            victim=label,
            reference=reference,
            days=DUPLICATE_WINDOW_DAYS,
        )
    return Issue(
        f"uniqueness.duplicate_{match.matched_on}", f"victims-{match.victim_position - 1}", message
    )


def uniqueness_issues(case: Case) -> list[Issue]:
    """Possible double registrations of this case's victims (one database query per kind)."""
    return [_duplicate_issue(m) for m in duplicate_matches([case]).get(case.id, [])]


# --- everything --------------------------------------------------------------------------------


def check_cases(
    cases: Iterable[Case], *, now: dt.datetime | None = None, kinds: Iterable[str] = KINDS
) -> dict[int, list[Issue]]:
    """Every issue of each case, by case id, in the order timeliness, completeness, uniqueness,
    validity; ``kinds`` limits which checks run (uniqueness costs queries, the others none)."""
    cases = list(cases)
    kinds = frozenset(kinds)
    now = now or utcnow()
    duplicates = duplicate_matches(cases) if UNIQUENESS in kinds else {}
    result: dict[int, list[Issue]] = {}
    for case in cases:
        issues: list[Issue] = []
        if TIMELINESS in kinds:
            issues += timeliness_issues(case)
        if COMPLETENESS in kinds:
            issues += completeness_issues(case)
        issues += [_duplicate_issue(m) for m in duplicates.get(case.id, [])]
        if VALIDITY in kinds:
            issues += validity_issues(case, now=now)
        result[case.id] = issues
    return result


def check_case(
    case: Case, *, now: dt.datetime | None = None, kinds: Iterable[str] = KINDS
) -> list[Issue]:
    """Every issue of one case (see :func:`check_cases`)."""
    return check_cases([case], now=now, kinds=kinds)[case.id]


def blocking_issues(case: Case, *, now: dt.datetime | None = None) -> list[Issue]:
    """The issues that keep the case from being verified: completeness and validity."""
    return check_case(case, now=now, kinds=BLOCKING)
