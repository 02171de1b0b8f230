"""Computing indicator values in the database (domain.md §6), with aggregate SQL.

The counting rules (§6, defaults of every definition):

* the unit is the **victim as a person**: victim rows linked to the same person (the intake
  duplicate check, ``victims.person_id``) count once; a row with no person counts as its own;
* **perempuan** = female and 18 or older at the incident (``age_at_incident``, computed from the
  birth date on the incident day: a woman turning 18 that day is 18); **anak** = under 18, either
  sex; a victim whose age is unknown is in neither group (only in the totals);
* a victim belongs to the period in which the case was **first registered**
  (``first_received_at``, Asia/Jakarta — see ``periods.py``): for a case received by transfer
  that is the registration of the case it came from, so the victim counts once, then and there;
* a victim belongs to the region of the agency that first registered the case
  (``first_agency_id``: its jurisdiction, the default), or with ``INDICATOR_REGION=incident`` to
  the region of the incident (a case with no incident region counts only nationally);
* victims who refused ``pelaporan_statistik`` (the consent in force) are left out of every
  figure and counted apart (``jumlah_korban_menolak_statistik``); victims under a
  data-subject restriction are left out too;
* cases closed as duplicates (``duplicate_of_id``) are left out, and so are drafts and cases
  transferred to another agency (``dilimpahkan``: the receiving agency's case counts them, in
  the first registration's period and region, with its own assessment and services);
* **comprehensive services** (§6.1), as of the period's end: the case's assessment completed
  before the end, at least one service track of the victim planned before the end
  (``planned_at``: when it entered the plan — for imported history the record's own time, never
  the import's), and every such track ended ``selesai`` before the end — tracks ended
  ``ditolak_korban`` (informed refusal) before the end are left out; a track still open at the
  end, whatever its state, or ended otherwise, means not comprehensive. A person is
  comprehensive only if every one of their victim rows of the period is.

Each function returns ``{breakdown: Result}`` (``""`` for the whole).
"""

from __future__ import annotations

import datetime as dt
import decimal
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    case,
    distinct,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from app.agencies.models import Agency
from app.cases.models import (
    Case,
    CaseTypeEntry,
    ConsentEntry,
    PerpetratorRelation,
    Victim,
    VictimViolenceType,
)
from app.core.enums import (
    AGE_BANDS,
    CaseState,
    ConsentDecision,
    ReferralState,
    Sex,
    TrackState,
)
from app.deadlines.models import Deadline
from app.deadlines.rules import FIRST_RESPONSE_BY_RISK, DeadlineCode
from app.extensions import db
from app.indicators.models import IndicatorDefinition
from app.indicators.periods import Period
from app.privacy.queries import restricted_condition
from app.referrals.models import Referral
from app.regions.models import Population, Region
from app.services.models import ServiceTrack

ADULT = 18

UNKNOWN = "tidak_diketahui"

NO_POPULATION = "Data penduduk untuk wilayah dan tahun ini belum ada."
POPULATION_INCOMPLETE = "Data penduduk sebagian wilayah di bawahnya belum ada."
POPULATION_SEX_MISSING = "Data penduduk wilayah ini tidak lengkap untuk kedua jenis kelamin."
CHILD_BANDS_MIXED = "Kelompok umur data penduduk tidak memisahkan anak (0-17 tahun)."
NO_VICTIMS = "Tidak ada korban pada kelompok ini untuk periode ini."
NO_FIRST_RESPONSES = "Tidak ada tenggat respons pertama pada periode ini."
NO_ACCEPTED_REFERRALS = "Belum ada rujukan yang diterima pada periode ini."


@dataclass(frozen=True)
class Result:
    numerator: decimal.Decimal | None
    denominator: decimal.Decimal | None
    reason: str | None = None


@dataclass(frozen=True)
class Scope:
    """Where and when: the agencies whose cases count (their region and every region under it;
    None = every agency, the national value) and the period."""

    period: Period
    agency_ids: tuple[int, ...] | None
    region_id: int | None
    # the region and every region under it (None: national); with ``by_incident`` victims are
    # selected by the incident's region instead of the agency's jurisdiction
    region_ids: frozenset[int] | None = None
    by_incident: bool = False


def D(value: Any) -> decimal.Decimal:
    return decimal.Decimal(value if value is not None else 0)


# --- regions -----------------------------------------------------------------------------------


def region_tree() -> dict[int | None, list[int]]:
    """Children of each region id (``None``: the top level)."""
    children: dict[int | None, list[int]] = {}
    for region_id, parent_id in db.session.execute(select(Region.id, Region.parent_id)):
        children.setdefault(parent_id, []).append(region_id)
    return children


def descendants(region_id: int, tree: dict[int | None, list[int]]) -> set[int]:
    found, stack = {region_id}, [region_id]
    while stack:
        for child in tree.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def occupied_regions(tree: dict[int | None, list[int]]) -> set[int]:
    """The regions with at least one agency in them or under them. Every other region counts
    nothing by the agencies' jurisdiction (``nothing_under``): its figures are ``empty``."""
    parent = {child: parent for parent, children in tree.items() for child in children}
    found: set[int] = set()
    for region_id in db.session.scalars(select(Agency.region_id).distinct()):
        at: int | None = region_id
        while at is not None and at not in found:
            found.add(at)
            at = parent.get(at)
    return found


def agencies_in(region_ids: Iterable[int]) -> tuple[int, ...]:
    return tuple(
        db.session.scalars(select(Agency.id).where(Agency.region_id.in_(list(region_ids))))
    )


# --- the victims of a scope --------------------------------------------------------------------


def _counted_cases(scope: Scope, *, first_registration: bool = True) -> list[Any]:
    """The cases whose victims count in ``scope``: by their first registration (victims), or by
    their own (what the agency itself did, e.g. its first responses)."""
    received = Case.first_received_at if first_registration else Case.received_at
    agency = Case.first_agency_id if first_registration else Case.agency_id
    where = [
        Case.state.not_in([CaseState.DRAFT, CaseState.DILIMPAHKAN]),
        Case.duplicate_of_id.is_(None),
        received >= scope.period.start,
        received < scope.period.end,
    ]
    if scope.by_incident and first_registration:
        if scope.region_ids is not None:
            where.append(Case.incident_region_id.in_(sorted(scope.region_ids)))
    elif scope.agency_ids is not None:
        where.append(agency.in_(scope.agency_ids) if scope.agency_ids else false())
    return where


def _group(group: str) -> Any:
    women = and_(Victim.sex == Sex.P, Victim.age_at_incident >= ADULT)
    children = Victim.age_at_incident < ADULT
    return {
        "perempuan": women,
        "anak": children,
        "perempuan_anak": or_(women, children),
        "semua": literal(True),
    }[group]


PERSON = func.coalesce(Victim.person_id, -Victim.id)


STATISTICS_PURPOSE = "pelaporan_statistik"


def refused_statistics() -> Any:
    """The victim's consent in force for ``pelaporan_statistik`` (the latest decision by its
    time, then by the ledger) is a refusal: left out of the figures, counted apart
    (``jumlah_korban_menolak_statistik``)."""
    e, later = aliased(ConsentEntry), aliased(ConsentEntry)
    return exists(
        select(e.id).where(
            e.victim_id == Victim.id,
            e.purpose == STATISTICS_PURPOSE,
            e.decision == ConsentDecision.MENOLAK,
            not_(
                exists(
                    select(later.id).where(
                        later.victim_id == e.victim_id,
                        later.purpose == STATISTICS_PURPOSE,
                        or_(later.at > e.at, and_(later.at == e.at, later.id > e.id)),
                    )
                )
            ),
        )
    )


def _victims(
    scope: Scope, group: str, case_type: str | None = None, *, refused: bool = False
) -> Select[Any]:
    query = select(Victim.id).join(Case, Case.id == Victim.case_id).where(*_counted_cases(scope))
    query = query.where(_group(group))
    query = query.where(refused_statistics() if refused else not_(refused_statistics()))
    # a victim under a data-subject restriction (UU 27/2022) is not processed for statistics
    query = query.where(not_(restricted_condition()))
    if case_type:
        query = query.where(
            exists(
                select(CaseTypeEntry.case_id).where(
                    CaseTypeEntry.case_id == Case.id, CaseTypeEntry.type == case_type
                )
            )
        )
    return query


def _persons(query: Select[Any]) -> decimal.Decimal:
    sub = query.add_columns(PERSON.label("person")).subquery()
    return D(db.session.scalar(select(func.count(distinct(sub.c.person)))))


# --- §6.1 comprehensive services ----------------------------------------------------------------


def _planned_before(end: dt.datetime) -> Any:
    """A track belongs to the plan at ``end`` when it entered the plan before it."""
    return ServiceTrack.planned_at < end


def comprehensive_condition(end: dt.datetime) -> Any:
    t = ServiceTrack
    has_track = exists(select(t.id).where(t.victim_id == Victim.id, _planned_before(end)))
    settled = and_(t.state.in_([TrackState.SELESAI, TrackState.DITOLAK_KORBAN]), t.ended_at < end)
    unsettled = exists(
        select(t.id).where(t.victim_id == Victim.id, _planned_before(end), not_(settled))
    )
    return and_(Case.assessment_completed_at < end, has_track, not_(unsettled))


def komprehensif(definition: IndicatorDefinition, scope: Scope) -> dict[str, Result]:
    ok = case((comprehensive_condition(scope.period.end), 1), else_=0)
    rows = (
        _victims(scope, definition.group)
        .add_columns(PERSON.label("person"), ok.label("ok"))
        .subquery()
    )
    per_person = select(rows.c.person, func.min(rows.c.ok).label("ok")).group_by(rows.c.person)
    per = per_person.subquery()
    numerator, denominator = db.session.execute(
        select(func.coalesce(func.sum(per.c.ok), 0), func.count())
    ).one()
    if not denominator:
        return {"": Result(D(0), D(0), NO_VICTIMS)}
    return {"": Result(D(numerator), D(denominator))}


# --- §6.2 rates per population -----------------------------------------------------------------


@dataclass(frozen=True)
class PopulationFigures:
    perempuan: int | None
    anak: int | None
    reason: str | None = None


def _own_population(region_id: int, year: int) -> PopulationFigures | None:
    rows = db.session.execute(
        select(Population.sex, Population.age_from, Population.age_to, Population.count).where(
            Population.region_id == region_id, Population.year == year
        )
    ).all()
    return population_figures([tuple(r) for r in rows])


def population_figures(rows: list[tuple[Any, ...]]) -> PopulationFigures | None:
    """Women and children of one region's population rows (sex, age_from, age_to, count), or
    why a rate cannot use them; None when the region has no rows."""
    if not rows:
        return None
    sexes = {sex for sex, _f, _t, _c in rows}
    women = sum(count for sex, _f, _t, count in rows if sex == Sex.P)
    if Sex.P not in sexes:
        return PopulationFigures(None, None, POPULATION_SEX_MISSING)
    mixed = any(
        age_from < ADULT and (age_to is None or age_to >= ADULT)
        for _s, age_from, age_to, _c in rows
    )
    child_sexes = {sex for sex, _f, age_to, _c in rows if age_to is not None and age_to < ADULT}
    if not mixed and child_sexes != {Sex.L, Sex.P}:
        return PopulationFigures(women, None, POPULATION_SEX_MISSING)
    children = sum(
        count for _s, age_from, age_to, count in rows if age_to is not None and age_to < ADULT
    )
    if mixed:
        return PopulationFigures(women, None, CHILD_BANDS_MIXED)
    return PopulationFigures(women, children)


def population(
    region_id: int | None, year: int, tree: dict[int | None, list[int]]
) -> PopulationFigures:
    """The region's own figures; else the sum of its children's (every child must have them);
    national: the sum of the top-level regions."""
    if region_id is not None:
        own = _own_population(region_id, year)
        if own is not None:
            return own
    children = tree.get(region_id, [])
    if not children:
        return PopulationFigures(None, None, NO_POPULATION)
    return summed_population([population(child, year, tree) for child in children])


def summed_population(parts: list[PopulationFigures]) -> PopulationFigures:
    """A region's population from its children's: the sum, or why a rate cannot use it."""
    if all(p.perempuan is None for p in parts):
        return PopulationFigures(None, None, NO_POPULATION)
    if any(p.perempuan is None for p in parts):
        return PopulationFigures(None, None, POPULATION_INCOMPLETE)
    women = sum(p.perempuan or 0 for p in parts)
    if any(p.anak is None for p in parts):
        reasons = {p.reason for p in parts if p.anak is None}
        return PopulationFigures(
            women, None, reasons.pop() if len(reasons) == 1 else POPULATION_INCOMPLETE
        )
    return PopulationFigures(women, sum(p.anak or 0 for p in parts))


def rasio(
    definition: IndicatorDefinition,
    scope: Scope,
    tree: dict[int | None, list[int]],
) -> dict[str, Result]:
    return _rate(definition, scope, tree, _persons(_victims(scope, definition.group)))


def _rate(
    definition: IndicatorDefinition,
    scope: Scope,
    tree: dict[int | None, list[int]],
    numerator: decimal.Decimal,
) -> dict[str, Result]:
    return rate_of(definition, population(scope.region_id, scope.period.year, tree), numerator)


def rate_of(
    definition: IndicatorDefinition, figures: PopulationFigures, numerator: decimal.Decimal
) -> dict[str, Result]:
    """A rate (§6.2) from the region's population figures and the numerator."""
    parts: list[int | None] = [
        figures.perempuan if part == "perempuan" else figures.anak
        for part in definition.params.get("population", [])
    ]
    if any(p is None for p in parts):
        return {"": Result(None, None, figures.reason or NO_POPULATION)}
    denominator = D(sum(p or 0 for p in parts))
    if denominator == 0:
        return {"": Result(None, None, NO_POPULATION)}
    return {"": Result(numerator, denominator)}


# --- §6.3 coverage ------------------------------------------------------------------------------


def cakupan(definition: IndicatorDefinition, scope: Scope) -> dict[str, Result]:
    service = definition.params["service"]
    end = scope.period.end
    t = ServiceTrack
    done = exists(
        select(t.id).where(
            t.victim_id == Victim.id,
            t.service_type == service,
            t.state == TrackState.SELESAI,
            t.ended_at < end,
        )
    )
    numerator = _persons(_victims(scope, "semua").where(done))
    if definition.params.get("planned"):
        planned = exists(
            select(t.id).where(
                t.victim_id == Victim.id, t.service_type == service, _planned_before(end)
            )
        )
        denominator = _persons(_victims(scope, "semua").where(planned))
    else:
        denominator = _persons(_victims(scope, "semua"))
    if not denominator:
        return {"": Result(D(0), D(0), NO_VICTIMS)}
    return {"": Result(numerator, denominator)}


# --- §6.4 counts and breakdowns ----------------------------------------------------------------


def count(definition: IndicatorDefinition, scope: Scope) -> dict[str, Result]:
    query = _victims(
        scope,
        definition.group,
        definition.params.get("case_type"),
        refused=bool(definition.params.get("refused_statistics")),
    )
    return {"": Result(_persons(query), None)}


def _age_band() -> Any:
    age = Victim.age_at_incident
    whens = []
    for name, low, high in AGE_BANDS:
        cond = age >= low if high is None else and_(age >= low, age <= high)
        whens.append((cond, name))
    return case(*whens, else_=UNKNOWN)


def breakdown(definition: IndicatorDefinition, scope: Scope) -> dict[str, Result]:
    dimension = definition.params["dimension"]
    base = _victims(scope, "semua")
    if dimension == "jenis_kekerasan":
        query = base.join(VictimViolenceType, VictimViolenceType.victim_id == Victim.id)
        category: Any = VictimViolenceType.type
    elif dimension == "tempat_kejadian":
        query, category = base, func.coalesce(Case.incident_place, UNKNOWN)
    elif dimension == "kelompok_umur":
        query, category = base, _age_band()
    elif dimension == "jenis_kelamin":
        query, category = base, Victim.sex
    elif dimension == "disabilitas":
        query, category = base, case((Victim.disability.is_(True), "ya"), else_="tidak")
    elif dimension == "hubungan_pelaku":
        query = base.join(PerpetratorRelation, PerpetratorRelation.victim_id == Victim.id)
        category = PerpetratorRelation.relationship_
    elif dimension == "jenis_kasus":
        query = base.join(CaseTypeEntry, CaseTypeEntry.case_id == Case.id)
        category = CaseTypeEntry.type
    else:
        raise ValueError(f"unknown breakdown {dimension}")
    sub = query.add_columns(category.label("category"), PERSON.label("person")).subquery()
    rows = db.session.execute(
        select(sub.c.category, func.count(distinct(sub.c.person))).group_by(sub.c.category)
    ).all()
    return {str(getattr(cat, "value", cat)): Result(D(n), None) for cat, n in rows}


# --- operational: first responses and referrals -------------------------------------------------


def respons_pertama(definition: IndicatorDefinition, scope: Scope) -> dict[str, Result]:
    query = (
        select(Deadline.met_at)
        .join(Case, Case.id == Deadline.case_id)
        .where(
            *_counted_cases(scope, first_registration=False),
            Deadline.track_id.is_(None),
            Deadline.code.in_(list(FIRST_RESPONSE_BY_RISK.values())),
            # decided: done (in time or late) or missed; one still running, or cancelled
            # because the case ended first, is not counted either way
            or_(Deadline.completed_at.is_not(None), Deadline.missed_at.is_not(None)),
        )
        .subquery()
    )
    met, total = db.session.execute(select(func.count(query.c.met_at), func.count())).one()
    if not total:
        return {"": Result(D(0), D(0), NO_FIRST_RESPONSES)}
    return {"": Result(D(met), D(total))}


def rujukan(definition: IndicatorDefinition, scope: Scope) -> dict[str, Result]:
    where = [
        Referral.sent_at >= scope.period.start,
        Referral.sent_at < scope.period.end,
    ]
    if scope.agency_ids is not None:
        where.append(Referral.to_agency_id.in_(scope.agency_ids) if scope.agency_ids else false())
    measure = definition.params["measure"]
    if measure == "median_jam":
        seconds = [
            (accepted - sent).total_seconds()
            for sent, accepted in db.session.execute(
                select(Referral.sent_at, Referral.accepted_at).where(
                    *where, Referral.accepted_at.is_not(None)
                )
            )
        ]
        if not seconds:
            return {"": Result(None, None, NO_ACCEPTED_REFERRALS)}
        median = decimal.Decimal(str(statistics.median(seconds))) / 3600
        return {"": Result(median.quantize(decimal.Decimal("0.0001")), D(1))}
    condition: Any = literal(True)
    if measure == "diterima":
        condition = Referral.accepted_at.is_not(None)
    elif measure == "ditolak":
        condition = Referral.state == ReferralState.DITOLAK
    elif measure == "terlambat":
        condition = exists(
            select(Deadline.id).where(
                Deadline.track_id == Referral.track_id,
                Deadline.code == DeadlineCode.REFERRAL_RESPONSE,
                Deadline.started_at == Referral.sent_at,
                Deadline.missed_at.is_not(None),
            )
        )
    n = db.session.scalar(select(func.count(Referral.id)).where(*where, condition))
    return {"": Result(D(n), None)}


# the methods that select by the agencies of the scope even with ``INDICATOR_REGION=incident``
BY_AGENCY = frozenset({"respons_pertama", "rujukan"})


def nothing_under(definition: IndicatorDefinition, scope: Scope) -> bool:
    """The scope has no agency under it (and, for victims counted by the incident's region, no
    way to know without asking): every query of the definition selects nothing."""
    if scope.agency_ids != ():
        return False
    return not scope.by_incident or definition.method in BY_AGENCY


def empty(
    definition: IndicatorDefinition, scope: Scope, tree: dict[int | None, list[int]]
) -> dict[str, Result]:
    """What ``compute`` gives for a scope that selects nothing (``nothing_under``), without
    asking the database for cases: the same zeros and reasons (and a rate's population)."""
    method = definition.method
    if method in ("komprehensif", "cakupan"):
        return {"": Result(D(0), D(0), NO_VICTIMS)}
    if method == "rasio":
        return _rate(definition, scope, tree, D(0))
    if method == "count":
        return {"": Result(D(0), None)}
    if method == "breakdown":
        return {}
    if method == "respons_pertama":
        return {"": Result(D(0), D(0), NO_FIRST_RESPONSES)}
    if method == "rujukan":
        if definition.params["measure"] == "median_jam":
            return {"": Result(None, None, NO_ACCEPTED_REFERRALS)}
        return {"": Result(D(0), None)}
    raise ValueError(f"unknown method {method}")


def compute(
    definition: IndicatorDefinition, scope: Scope, tree: dict[int | None, list[int]]
) -> dict[str, Result]:
    method = definition.method
    if nothing_under(definition, scope):
        return empty(definition, scope, tree)
    if method == "komprehensif":
        return komprehensif(definition, scope)
    if method == "rasio":
        return rasio(definition, scope, tree)
    if method == "cakupan":
        return cakupan(definition, scope)
    if method == "count":
        return count(definition, scope)
    if method == "breakdown":
        return breakdown(definition, scope)
    if method == "respons_pertama":
        return respons_pertama(definition, scope)
    if method == "rujukan":
        return rujukan(definition, scope)
    raise ValueError(f"unknown method {method}")
