"""The read side of data quality: the verification queue of a user's agencies, and the scores
of a period per agency (domain.md §7)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import defer, selectinload

from app.agencies.models import Agency
from app.auth.models import User
from app.cases.intake import JAKARTA
from app.cases.models import Case, ConsentEntry, Perpetrator, Victim
from app.cases.queries import scope_condition
from app.core.bounds import NumberedPage
from app.core.db import utcnow
from app.core.enums import CaseState, VerificationStatus
from app.extensions import db
from app.quality.checks import (
    BLOCKING,
    COMPLETENESS,
    KINDS,
    TIMELINESS,
    UNIQUENESS,
    VALIDITY,
    Issue,
    check_cases,
)
from app.quality.permissions import quality_agency_ids

PER_PAGE = 25
TAB_UNVERIFIED = "belum"
TAB_VERIFIED_WITH_ISSUES = "masalah"
TABS: tuple[str, ...] = (TAB_UNVERIFIED, TAB_VERIFIED_WITH_ISSUES)
_CHUNK = 500


def _check_options() -> list[Any]:
    """Load what the checks and the queue need, and leave the narrative and the reporter's
    details unloaded: the queue never shows them."""
    return [
        defer(Case.kronologi),
        defer(Case.reporter_name),
        defer(Case.reporter_phone),
        defer(Case.reporter_relation),
        selectinload(Case.agency),
        selectinload(Case.types),
        selectinload(Case.victims)
        .load_only(
            Victim.id,
            Victim.case_id,
            Victim.position,
            Victim.sex,
            Victim.birth_date,
            Victim.age_at_incident,
            Victim.disability,
        )
        .selectinload(Victim.violence_types),
        selectinload(Case.victims)
        .selectinload(Victim.consents)
        .load_only(
            ConsentEntry.id,
            ConsentEntry.victim_id,
            ConsentEntry.purpose,
            ConsentEntry.at,
            ConsentEntry.given_by,
            ConsentEntry.given_by_name,
        ),
        selectinload(Case.perpetrators)
        .load_only(Perpetrator.id, Perpetrator.case_id, Perpetrator.position)
        .selectinload(Perpetrator.relations),
    ]


def _load(case_ids: Sequence[int]) -> list[Case]:
    cases: list[Case] = []
    for start in range(0, len(case_ids), _CHUNK):
        chunk = case_ids[start : start + _CHUNK]
        cases += db.session.scalars(
            select(Case).where(Case.id.in_(chunk)).options(*_check_options())
        ).all()
    return cases


def _counted(agency_ids: Iterable[int]) -> Any:
    """Registered cases of the agencies that count: not drafts, not closed as duplicates."""
    return (
        select(Case.id)
        .where(Case.agency_id.in_(list(agency_ids)))
        .where(Case.state != CaseState.DRAFT, Case.duplicate_of_id.is_(None))
    )


# --- the queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    case: Case
    issues: list[Issue]

    @property
    def blocking(self) -> list[Issue]:
        return [i for i in self.issues if i.blocking]


@dataclass(frozen=True)
class QueuePage(NumberedPage[QueueRow]):
    """One page of the queue."""

    per_page: int = PER_PAGE


def queue_for(
    user: User, tab: str = TAB_UNVERIFIED, page: int = 1, *, now: dt.datetime | None = None
) -> QueuePage:
    """The cases of the user's agencies (where they are analis_data or supervisor) to look at:
    ``belum`` — registered and not yet verified, with every issue; ``masalah`` — verified, but
    with completeness or validity issues again since. Most issues first, then the longest
    waiting."""
    agency_ids = quality_agency_ids(user)
    verified = tab == TAB_VERIFIED_WITH_ISSUES
    status = VerificationStatus.TERVERIFIKASI if verified else VerificationStatus.BELUM_DIVERIFIKASI
    ids = list(db.session.scalars(_counted(agency_ids).where(Case.verification == status)))
    cases = _load(ids)
    issues = check_cases(cases, now=now or utcnow(), kinds=BLOCKING if verified else KINDS)
    rows = [QueueRow(c, issues[c.id]) for c in cases]
    if verified:
        rows = [r for r in rows if r.issues]
    rows.sort(key=lambda r: (-len(r.issues), r.case.received_at, r.case.id))
    pages = max(1, -(-len(rows) // PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PER_PAGE
    return QueuePage(rows[start : start + PER_PAGE], page, len(rows))


def queue_case_for(user: User, case_id: int) -> Case | None:
    """A registered case of one of the user's data-quality agencies, or None (shown as 404)."""
    agency_ids = quality_agency_ids(user)
    if not agency_ids:
        return None
    return db.session.scalar(
        select(Case)
        .where(Case.id == case_id, Case.id.in_(_counted(agency_ids)))
        .options(*_check_options())
    )


def visible_case_ids(user: User, case_ids: Iterable[int]) -> set[int]:
    """Which of ``case_ids`` the user may open (need-to-know scope of the case pages)."""
    ids = list(case_ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(Case.id).where(Case.id.in_(ids), scope_condition(user))))


def agencies_of(user: User) -> list[Agency]:
    ids = quality_agency_ids(user)
    if not ids:
        return []
    return list(db.session.scalars(select(Agency).where(Agency.id.in_(ids)).order_by(Agency.name)))


# --- periods -----------------------------------------------------------------------------------


_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


@dataclass(frozen=True)
class Period:
    """A month or a year, bounded in Asia/Jakarta time: ``start`` ≤ received_at < ``end``."""

    year: int
    month: int | None = None

    @property
    def value(self) -> str:
        return f"{self.year:04d}-{self.month:02d}" if self.month else f"{self.year:04d}"

    @property
    def start(self) -> dt.datetime:
        return _jakarta_midnight(self.year, self.month or 1)

    @property
    def end(self) -> dt.datetime:
        if self.month is None:
            return _jakarta_midnight(self.year + 1, 1)
        if self.month == 12:
            return _jakarta_midnight(self.year + 1, 1)
        return _jakarta_midnight(self.year, self.month + 1)


def _jakarta_midnight(year: int, month: int) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=JAKARTA).astimezone(dt.UTC)


def parse_period(text: str | None) -> Period | None:
    """``YYYY-MM`` (a month) or ``YYYY`` (a year); None when it is neither."""
    match = _PERIOD.match((text or "").strip())
    if not match:
        return None
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    if not 2000 <= year <= 2100 or (month is not None and not 1 <= month <= 12):
        return None
    return Period(year, month)


def current_month(now: dt.datetime | None = None) -> Period:
    today = (now or utcnow()).astimezone(JAKARTA)
    return Period(today.year, today.month)


# --- scores ------------------------------------------------------------------------------------


_HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class Score:
    """Cases without an issue of ``kind`` (``passed``) out of the cases of the period."""

    kind: str
    passed: int
    total: int

    @property
    def percent(self) -> Decimal | None:
        """Half-up to two decimals; None when the period has no case."""
        if not self.total:
            return None
        return (Decimal(self.passed) * 100 / Decimal(self.total)).quantize(
            _HUNDREDTH, rounding=ROUND_HALF_UP
        )


@dataclass(frozen=True)
class AgencyScores:
    agency_id: int
    agency_code: str
    agency_name: str
    cases: int
    scores: dict[str, Score] = field(default_factory=dict)

    @property
    def timeliness(self) -> Score:
        return self.scores[TIMELINESS]

    @property
    def completeness(self) -> Score:
        return self.scores[COMPLETENESS]

    @property
    def uniqueness(self) -> Score:
        return self.scores[UNIQUENESS]

    @property
    def validity(self) -> Score:
        return self.scores[VALIDITY]


def quality_scores(
    agency_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    now: dt.datetime | None = None,
) -> list[AgencyScores]:
    """Per agency, the share of its cases registered in [``start``, ``end``) (``received_at``;
    drafts and cases closed as duplicates left out) without an issue of each kind: timeliness,
    completeness, uniqueness, validity. Every agency asked for is listed, by name, even with no
    case (its percentages are then None)."""
    ids = sorted(set(agency_ids))
    if not ids:
        return []
    agencies = list(db.session.scalars(select(Agency).where(Agency.id.in_(ids))))
    case_ids = list(
        db.session.scalars(_counted(ids).where(Case.received_at >= start, Case.received_at < end))
    )
    now = now or utcnow()
    totals: dict[int, int] = dict.fromkeys(ids, 0)
    passed: dict[int, dict[str, int]] = {a: dict.fromkeys(KINDS, 0) for a in ids}
    for begin in range(0, len(case_ids), _CHUNK):
        cases = _load(case_ids[begin : begin + _CHUNK])
        issues = check_cases(cases, now=now)
        for case in cases:
            totals[case.agency_id] += 1
            found = {i.kind for i in issues[case.id]}
            for kind in KINDS:
                if kind not in found:
                    passed[case.agency_id][kind] += 1
    result = [
        AgencyScores(
            agency_id=a.id,
            agency_code=a.code,
            agency_name=a.name,
            cases=totals[a.id],
            scores={k: Score(k, passed[a.id][k], totals[a.id]) for k in KINDS},
        )
        for a in agencies
    ]
    result.sort(key=lambda s: (s.agency_name, s.agency_id))
    return result
