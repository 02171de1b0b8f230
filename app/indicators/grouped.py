"""Every definition of a period for many regions at once (the rollup's path; issue #16).

``compute.compute`` answers one (definition, region) with its own statements; a rollup of every
region that way builds, compiles and runs regions x definitions statements. Here a handful of
statements per period fetch every counted victim (and deadline, referral) once, national, each
with its *leaf* — the agency that first registered the case (or, with
``INDICATOR_REGION=incident``, the incident's region) — and the figures of each region are then
taken in Python over the rows whose leaf lies in the region's subtree.

Nothing is added up across regions: a victim as a person (``victims.person_id``) may be a victim
in cases of two regions, and counts of persons are additive only across disjoint sets of
persons. Each region counts the distinct persons of its own rows, and a person is comprehensive
in a region when every one of their rows *in that region* is (§6.1) — exactly the per-region
statements of ``compute.py``, which stays the reference implementation
(tests/indicators/test_grouped.py compares the two on a rich world)."""

from __future__ import annotations

import decimal
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select

from app.agencies.models import Agency
from app.cases.models import Case, CaseTypeEntry, PerpetratorRelation, Victim, VictimViolenceType
from app.core.enums import ReferralState, TrackState
from app.deadlines.models import Deadline
from app.deadlines.rules import FIRST_RESPONSE_BY_RISK, DeadlineCode
from app.extensions import db
from app.indicators.compute import (
    NO_ACCEPTED_REFERRALS,
    NO_FIRST_RESPONSES,
    NO_POPULATION,
    NO_VICTIMS,
    PERSON,
    UNKNOWN,
    D,
    PopulationFigures,
    Result,
    Scope,
    _age_band,
    _counted_cases,
    _group,
    _planned_before,
    _victims,
    comprehensive_condition,
    population_figures,
    summed_population,
)
from app.indicators.models import IndicatorDefinition
from app.indicators.periods import Period
from app.regions.models import Population, Region
from app.services.models import ServiceTrack

Tree = dict[int | None, list[int]]
Key = tuple[int, int | None]  # (definition id, region id; None: national)


def _label(value: Any) -> str:
    return str(getattr(value, "value", value))


@dataclass
class _Victim:
    id: int
    person: int
    case_id: int
    women: bool
    child: bool
    ok: int
    categories: dict[str, list[str]]


class Regions:
    """Which of the rollup's regions each leaf (a region id, or None: no region) counts in: the
    region itself and every region above it among ``targets`` (``None`` there: national, where
    everything counts)."""

    def __init__(self, targets: Iterable[int | None]) -> None:
        self.targets = set(targets)
        self.parent: dict[int, int | None] = dict(
            db.session.execute(select(Region.id, Region.parent_id)).tuples().all()
        )
        self._memo: dict[int | None, tuple[int | None, ...]] = {}

    def of(self, leaf: int | None) -> tuple[int | None, ...]:
        if leaf not in self._memo:
            found: list[int | None] = []
            seen: set[int] = set()
            at = leaf
            while at is not None and at not in seen:
                seen.add(at)
                if at in self.targets:
                    found.append(at)
                at = self.parent.get(at)
            if None in self.targets:
                found.append(None)
            self._memo[leaf] = tuple(found)
        return self._memo[leaf]


class PopulationBook:
    """``compute.population`` for every region of a year from one read of the population table,
    each region computed once (same rules, same reasons)."""

    def __init__(self, year: int, tree: Tree) -> None:
        self.year = year
        self.tree = tree
        self.rows: dict[int, list[tuple[Any, int, int | None, int]]] = defaultdict(list)
        for region_id, sex, age_from, age_to, count in db.session.execute(
            select(
                Population.region_id,
                Population.sex,
                Population.age_from,
                Population.age_to,
                Population.count,
            ).where(Population.year == year)
        ):
            self.rows[region_id].append((sex, age_from, age_to, count))
        self._memo: dict[int | None, PopulationFigures] = {}

    def _own(self, region_id: int) -> PopulationFigures | None:
        return population_figures(self.rows.get(region_id) or [])

    def of(self, region_id: int | None) -> PopulationFigures:
        if region_id not in self._memo:
            self._memo[region_id] = self._compute(region_id)
        return self._memo[region_id]

    def _compute(self, region_id: int | None) -> PopulationFigures:
        if region_id is not None:
            own = self._own(region_id)
            if own is not None:
                return own
        children = self.tree.get(region_id, [])
        if not children:
            return PopulationFigures(None, None, NO_POPULATION)
        return summed_population([self.of(child) for child in children])


def rate(
    definition: IndicatorDefinition, figures: PopulationFigures, numerator: decimal.Decimal
) -> dict[str, Result]:
    """``compute.rasio`` from the population figures and the numerator."""
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


# --- the rows of a period ----------------------------------------------------------------------

DIMENSIONS = (
    "jenis_kekerasan",
    "tempat_kejadian",
    "kelompok_umur",
    "jenis_kelamin",
    "disabilitas",
    "hubungan_pelaku",
    "jenis_kasus",
)


class PeriodRows:
    """Everything the definitions of a period count, national, with each row's leaf."""

    def __init__(
        self,
        period: Period,
        definitions: Sequence[IndicatorDefinition],
        regions: Regions,
        *,
        by_incident: bool,
    ) -> None:
        self.period = period
        self.regions = regions
        self.by_incident = by_incident
        methods = {d.method for d in definitions}
        self.agency_region: dict[int, int | None] = dict(
            db.session.execute(select(Agency.id, Agency.region_id)).tuples().all()
        )
        national = Scope(period=period, agency_ids=None, region_id=None, by_incident=by_incident)
        # victims (counted and refused) by region: region -> rows
        self.victims: dict[int | None, list[_Victim]] = defaultdict(list)
        self.refused: dict[int | None, list[_Victim]] = defaultdict(list)
        self.case_types: dict[int, list[str]] = defaultdict(list)
        self.refused_case_types: dict[int, list[str]] = defaultdict(list)
        self.tracks: dict[tuple[int, str], tuple[int, int]] = {}
        self._victim_rows(national)
        self._refused_rows(national)
        if "cakupan" in methods:
            self._track_rows(national)
        self.deadlines: dict[int | None, list[int]] = defaultdict(list)
        if "respons_pertama" in methods:
            self._deadline_rows(national)
        self.referrals: dict[int | None, list[tuple[Any, Any, bool, bool]]] = defaultdict(list)
        if "rujukan" in methods:
            self._referral_rows()

    def _leaf_of_case(self) -> Any:
        return Case.incident_region_id if self.by_incident else Case.first_agency_id

    def _regions_of_leaf(self, leaf: int | None) -> tuple[int | None, ...]:
        if self.by_incident:
            return self.regions.of(leaf)
        return self.regions.of(self.agency_region.get(leaf) if leaf is not None else None)

    def _regions_of_agency(self, agency_id: int | None) -> tuple[int | None, ...]:
        return self.regions.of(self.agency_region.get(agency_id) if agency_id is not None else None)

    def _victim_rows(self, national: Scope) -> None:
        ok = case((comprehensive_condition(self.period.end), 1), else_=0)
        women = case((_group("perempuan"), 1), else_=0)
        child = case((_group("anak"), 1), else_=0)
        disability = case((Victim.disability.is_(True), "ya"), else_="tidak")
        query = _victims(national, "semua").add_columns(
            PERSON.label("person"),
            Case.id.label("case_id"),
            self._leaf_of_case().label("leaf"),
            women.label("women"),
            child.label("child"),
            ok.label("ok"),
            func.coalesce(Case.incident_place, UNKNOWN).label("place"),
            _age_band().label("band"),
            Victim.sex.label("sex"),
            disability.label("disability"),
        )
        sub = query.subquery()
        extra: dict[str, dict[int, list[str]]] = {
            "jenis_kekerasan": defaultdict(list),
            "hubungan_pelaku": defaultdict(list),
        }
        for victim_id, category in db.session.execute(
            select(VictimViolenceType.victim_id, VictimViolenceType.type).join(
                sub, sub.c.id == VictimViolenceType.victim_id
            )
        ):
            extra["jenis_kekerasan"][victim_id].append(_label(category))
        for victim_id, category in db.session.execute(
            select(PerpetratorRelation.victim_id, PerpetratorRelation.relationship_).join(
                sub, sub.c.id == PerpetratorRelation.victim_id
            )
        ):
            extra["hubungan_pelaku"][victim_id].append(_label(category))
        case_types = self.case_types
        counted_cases = select(sub.c.case_id).distinct().scalar_subquery()
        for case_id, category in db.session.execute(
            select(CaseTypeEntry.case_id, CaseTypeEntry.type).where(
                CaseTypeEntry.case_id.in_(counted_cases)
            )
        ):
            case_types[case_id].append(_label(category))
        for row in db.session.execute(select(sub)).mappings():
            victim = _Victim(
                id=row["id"],
                person=row["person"],
                case_id=row["case_id"],
                women=bool(row["women"]),
                child=bool(row["child"]),
                ok=int(row["ok"]),
                categories={
                    "jenis_kekerasan": extra["jenis_kekerasan"].get(row["id"], []),
                    "tempat_kejadian": [_label(row["place"])],
                    "kelompok_umur": [_label(row["band"])],
                    "jenis_kelamin": [_label(row["sex"])],
                    "disabilitas": [_label(row["disability"])],
                    "hubungan_pelaku": extra["hubungan_pelaku"].get(row["id"], []),
                    "jenis_kasus": case_types.get(row["case_id"], []),
                },
            )
            for region in self._regions_of_leaf(row["leaf"]):
                self.victims[region].append(victim)

    def _refused_rows(self, national: Scope) -> None:
        """The victims who refused statistics (``refused_statistics`` counts): no breakdowns."""
        query = _victims(national, "semua", refused=True).add_columns(
            PERSON.label("person"),
            Case.id.label("case_id"),
            self._leaf_of_case().label("leaf"),
            case((_group("perempuan"), 1), else_=0).label("women"),
            case((_group("anak"), 1), else_=0).label("child"),
        )
        sub = query.subquery()
        for case_id, category in db.session.execute(
            select(CaseTypeEntry.case_id, CaseTypeEntry.type).where(
                CaseTypeEntry.case_id.in_(select(sub.c.case_id).distinct().scalar_subquery())
            )
        ):
            self.refused_case_types[case_id].append(_label(category))
        for victim_id, person, case_id, leaf, women, child in db.session.execute(select(sub)):
            victim = _Victim(victim_id, person, case_id, bool(women), bool(child), 0, {})
            for region in self._regions_of_leaf(leaf):
                self.refused[region].append(victim)

    def _track_rows(self, national: Scope) -> None:
        end = self.period.end
        t = ServiceTrack
        sub = _victims(national, "semua").subquery()
        done = case(
            (and_(t.state == TrackState.SELESAI, t.ended_at < end), 1),
            else_=0,
        )
        planned = case((_planned_before(end), 1), else_=0)
        for victim_id, service, is_done, is_planned in db.session.execute(
            select(t.victim_id, t.service_type, func.max(done), func.max(planned))
            .join(sub, sub.c.id == t.victim_id)
            .group_by(t.victim_id, t.service_type)
        ):
            self.tracks[(victim_id, _label(service))] = (int(is_done or 0), int(is_planned or 0))

    def _deadline_rows(self, national: Scope) -> None:
        rows = db.session.execute(
            select(Case.agency_id, case((Deadline.met_at.is_not(None), 1), else_=0))
            .join(Case, Case.id == Deadline.case_id)
            .where(
                *_counted_cases(national, first_registration=False),
                Deadline.track_id.is_(None),
                Deadline.code.in_(list(FIRST_RESPONSE_BY_RISK.values())),
                or_(Deadline.completed_at.is_not(None), Deadline.missed_at.is_not(None)),
            )
        )
        for agency_id, met in rows:
            for region in self._regions_of_agency(agency_id):
                self.deadlines[region].append(int(met))

    def _referral_rows(self) -> None:
        from app.referrals.models import Referral

        late = exists(
            select(Deadline.id).where(
                Deadline.track_id == Referral.track_id,
                Deadline.code == DeadlineCode.REFERRAL_RESPONSE,
                Deadline.started_at == Referral.sent_at,
                Deadline.missed_at.is_not(None),
            )
        )
        rows = db.session.execute(
            select(
                Referral.to_agency_id,
                Referral.sent_at,
                Referral.accepted_at,
                case((Referral.state == ReferralState.DITOLAK, 1), else_=0),
                case((late, 1), else_=0),
            ).where(Referral.sent_at >= self.period.start, Referral.sent_at < self.period.end)
        )
        for agency_id, sent, accepted, declined, overdue in rows:
            for region in self._regions_of_agency(agency_id):
                self.referrals[region].append((sent, accepted, bool(declined), bool(overdue)))


# --- the figures of one region -----------------------------------------------------------------


def _of_group(rows: list[_Victim], group: str) -> Iterable[_Victim]:
    if group == "perempuan":
        return (v for v in rows if v.women)
    if group == "anak":
        return (v for v in rows if v.child)
    if group == "perempuan_anak":
        return (v for v in rows if v.women or v.child)
    if group == "semua":
        return rows
    raise KeyError(group)


def figures_of(
    definition: IndicatorDefinition,
    region_id: int | None,
    data: PeriodRows,
    book: PopulationBook,
) -> dict[str, Result]:
    """What ``compute.compute`` gives for the definition and the region."""
    method = definition.method
    rows = data.victims.get(region_id, [])
    if method == "komprehensif":
        per_person: dict[int, int] = {}
        for v in _of_group(rows, definition.group):
            per_person[v.person] = min(per_person.get(v.person, 1), v.ok)
        if not per_person:
            return {"": Result(D(0), D(0), NO_VICTIMS)}
        return {"": Result(D(sum(per_person.values())), D(len(per_person)))}
    if method == "rasio":
        numerator = D(len({v.person for v in _of_group(rows, definition.group)}))
        return rate(definition, book.of(region_id), numerator)
    if method == "cakupan":
        service = definition.params["service"]
        done: set[int] = set()
        denominator: set[int] = set()
        planned_only = bool(definition.params.get("planned"))
        for v in rows:
            is_done, is_planned = data.tracks.get((v.id, service), (0, 0))
            if is_done:
                done.add(v.person)
            if not planned_only or is_planned:
                denominator.add(v.person)
        if not denominator:
            return {"": Result(D(0), D(0), NO_VICTIMS)}
        return {"": Result(D(len(done)), D(len(denominator)))}
    if method == "count":
        case_type = definition.params.get("case_type")
        types = data.case_types
        if definition.params.get("refused_statistics"):
            rows, types = data.refused.get(region_id, []), data.refused_case_types
        persons = {
            v.person
            for v in _of_group(rows, definition.group)
            if not case_type or case_type in types.get(v.case_id, [])
        }
        return {"": Result(D(len(persons)), None)}
    if method == "breakdown":
        dimension = definition.params["dimension"]
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown breakdown {dimension}")
        by_category: dict[str, set[int]] = defaultdict(set)
        for v in rows:
            for category in v.categories[dimension]:
                by_category[category].add(v.person)
        return {category: Result(D(len(p)), None) for category, p in by_category.items()}
    if method == "respons_pertama":
        deadlines = data.deadlines.get(region_id, [])
        if not deadlines:
            return {"": Result(D(0), D(0), NO_FIRST_RESPONSES)}
        return {"": Result(D(sum(deadlines)), D(len(deadlines)))}
    if method == "rujukan":
        referrals = data.referrals.get(region_id, [])
        measure = definition.params["measure"]
        if measure == "median_jam":
            seconds = [
                (accepted - sent).total_seconds()
                for sent, accepted, _d, _l in referrals
                if accepted is not None
            ]
            if not seconds:
                return {"": Result(None, None, NO_ACCEPTED_REFERRALS)}
            median = decimal.Decimal(str(statistics.median(seconds))) / 3600
            return {"": Result(median.quantize(decimal.Decimal("0.0001")), D(1))}
        if measure == "diterima":
            n = sum(1 for _s, accepted, _d, _l in referrals if accepted is not None)
        elif measure == "ditolak":
            n = sum(1 for _s, _a, declined, _l in referrals if declined)
        elif measure == "terlambat":
            n = sum(1 for _s, _a, _d, overdue in referrals if overdue)
        else:
            n = len(referrals)
        return {"": Result(D(n), None)}
    raise ValueError(f"unknown method {method}")


def compute_all(
    definitions: Sequence[IndicatorDefinition],
    period: Period,
    targets: Sequence[int | None],
    tree: Tree,
    *,
    by_incident: bool,
) -> dict[Key, dict[str, Result]]:
    """``compute.compute`` of every definition for every region of ``targets`` (None:
    national), from one read of the period's rows."""
    data = PeriodRows(period, definitions, Regions(targets), by_incident=by_incident)
    book = PopulationBook(period.year, tree)
    results: dict[Key, dict[str, Result]] = {}
    for region_id in targets:
        for definition in definitions:
            results[(definition.id, region_id)] = figures_of(definition, region_id, data, book)
    return results
