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
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ClauseElement,
    DateTime,
    Executable,
    Select,
    TableClause,
    and_,
    case,
    column,
    distinct,
    exists,
    func,
    or_,
    select,
    table,
    text,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles

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
    descendants,
    occupied_regions,
    population_figures,
    rate_of,
    summed_population,
)
from app.indicators.models import IndicatorDefinition
from app.indicators.periods import Period
from app.regions.models import Population
from app.services.models import ServiceTrack

Tree = dict[int | None, list[int]]
_NOTHING: Counter[tuple[str, ...]] = Counter()  # what a region without rows counts (read only)
Key = tuple[int, int | None]  # (definition id, region id; None: national)


def _label(value: Any) -> str:
    return str(getattr(value, "value", value))


class Regions:
    """Which of the rollup's regions each leaf (a region id, or None: no region) counts in: the
    region itself and every region above it among ``targets`` (``None`` there: national, where
    everything counts)."""

    def __init__(self, targets: Iterable[int | None], tree: Tree) -> None:
        self.targets = set(targets)
        self.parent: dict[int, int | None] = {
            child: parent for parent, children in tree.items() for child in children
        }
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

    def __init__(self, year: int, tree: Tree, under: set[int] | None = None) -> None:
        self.year = year
        self.tree = tree
        self.rows: dict[int, list[tuple[Any, int, int | None, int]]] = defaultdict(list)
        where = [Population.year == year]
        if under is not None:  # only the regions asked for and those under them
            where.append(Population.region_id.in_(sorted(under)))
        for region_id, sex, age_from, age_to, count in db.session.execute(
            select(
                Population.region_id,
                Population.sex,
                Population.age_from,
                Population.age_to,
                Population.count,
            ).where(*where)
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

Feature = tuple[str, ...]


def _groups(women: bool, child: bool) -> tuple[str, ...]:
    """The groups (``IndicatorDefinition.group``) a victim row belongs to (one tuple for
    each combination, shared by every row)."""
    return _GROUPS[(women, child)]


def _groups_of(women: bool, child: bool) -> tuple[str, ...]:
    found = ["semua"]
    if women:
        found.append("perempuan")
    if child:
        found.append("anak")
    if women or child:
        found.append("perempuan_anak")
    return tuple(found)


_GROUPS = {(w, c): _groups_of(w, c) for w in (False, True) for c in (False, True)}
_OK = {groups: tuple(("ok", g) for g in groups) for groups in _GROUPS.values()}

SEPARATOR = ","  # no vocabulary value holds one


def _split(joined: str | None) -> list[str]:
    return joined.split(SEPARATOR) if joined else []


# the period's counted victims, one row each (``PeriodRows._victim_rows``)
_COUNTED = "rollup_counted_victims"


class _CreateTemporary(Executable, ClauseElement):
    """``CREATE TEMPORARY TABLE name AS query`` (PostgreSQL and SQLite): the table lives in
    the session's connection only."""

    inherit_cache = False

    def __init__(self, name: str, query: Select[Any]) -> None:
        self.name = name
        self.query = query


@compiles(_CreateTemporary)
def _create_temporary(element: _CreateTemporary, compiler: Any, **kw: Any) -> str:
    return f"CREATE TEMPORARY TABLE {element.name} AS {compiler.process(element.query, **kw)}"


def _temporary(name: str, query: Select[Any]) -> TableClause:
    """The rows of ``query`` in a temporary table ``name`` (replacing one left by an earlier
    rollup of the same connection), with statistics for the planner on PostgreSQL."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    schema = "pg_temp" if postgresql else "temp"
    db.session.execute(text(f"DROP TABLE IF EXISTS {schema}.{name}"))
    db.session.execute(_CreateTemporary(name, query))
    if postgresql:
        db.session.execute(text(f"ANALYZE {name}"))
    return table(name, *(column(c.name) for c in query.selected_columns))


@dataclass(slots=True)
class _Row:
    """One victim row as the counts see it: its leaf (the region it counts in, with every
    region above it), its groups, whether it is comprehensive, and what it has (``Feature``)."""

    leaf: int | None
    groups: tuple[str, ...]
    ok: int
    features: tuple[Feature, ...]


def _person(rows: list[_Row]) -> set[Feature]:
    """What a person has in a region, from their rows there: everything any row has, and
    ``("ok", group)`` for each group where every row of the group is comprehensive (§6.1: a
    person counts as served only if every one of their cases is)."""
    found: set[Feature] = set()
    seen: set[str] = set()
    bad: set[str] = set()
    for row in rows:
        found.update(row.features)
        seen.update(row.groups)
        if not row.ok:
            bad.update(row.groups)
    found.update(("ok", group) for group in seen - bad)
    return found


class PeriodRows:
    """Everything the definitions of a period count, national, added up per region.

    The unit is the person, and a person may be a victim in cases of several regions, so
    counts are not added across regions as they are. Each person's rows are taken together
    into what the person has (``_person``: in groups, of a case type, served, in a category);
    a person whose rows all have the same leaf has that in every region above the leaf, so
    their features are counted once per leaf and the leaves' counts added up the region tree.
    The few persons with rows under several leaves are counted in each region from their rows
    there. A region's figure is then a number of persons with a feature: exactly the distinct
    persons ``compute.py`` counts with its own statements."""

    def __init__(
        self,
        period: Period,
        definitions: Sequence[IndicatorDefinition],
        regions: Regions,
        *,
        by_incident: bool,
        under: set[int] | None,
    ) -> None:
        self.period = period
        self.regions = regions
        self.by_incident = by_incident
        methods = {d.method for d in definitions}
        agencies = select(Agency.id, Agency.region_id)
        if under is not None:
            agencies = agencies.where(Agency.region_id.in_(sorted(under)))
        self.agency_region: dict[int, int | None] = dict(
            db.session.execute(agencies).tuples().all()
        )
        # the rows of the targets' subtrees only (``under``; None: every row, with the
        # national level): a region counts only the rows under it
        national = Scope(period=period, agency_ids=None, region_id=None, by_incident=by_incident)
        if under is not None:
            national = Scope(
                period=period,
                agency_ids=tuple(a for a, r in self.agency_region.items() if r in under),
                region_id=None,
                region_ids=frozenset(under),
                by_incident=by_incident,
            )
        self.counts: dict[int | None, Counter[Feature]] = defaultdict(Counter)
        self.refused: dict[int | None, Counter[Feature]] = defaultdict(Counter)
        self._feature: dict[Feature, Feature] = {}  # one tuple for each feature, shared
        self._categories: dict[int | None, dict[str, dict[str, int]]] = {}
        self._victim_rows(national, with_tracks="cakupan" in methods)
        self._refused_rows(national)
        # (met, settled) first responses of each region
        self.deadlines: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
        if "respons_pertama" in methods:
            self._deadline_rows(national)
        self.referrals: dict[int | None, _Referrals] = defaultdict(_Referrals)
        if "rujukan" in methods:
            self._referral_rows(national)

    def categories(self, region_id: int | None) -> dict[str, dict[str, int]]:
        """The region's persons per breakdown category, by dimension (read once a region)."""
        if region_id not in self._categories:
            found: dict[str, dict[str, int]] = defaultdict(dict)
            for feature, n in (self.counts.get(region_id) or {}).items():
                if feature[0] == "cat" and n:
                    found[feature[1]][feature[2]] = n
            self._categories[region_id] = found
        return self._categories[region_id]

    def _leaf_of_case(self) -> Any:
        return Case.incident_region_id if self.by_incident else Case.first_agency_id

    def _leaf(self, leaf: int | None) -> int | None:
        """The region a case's leaf (an agency, or with ``by_incident`` a region) counts in."""
        if self.by_incident or leaf is None:
            return leaf
        return self.agency_region.get(leaf)

    def _regions_of_agency(self, agency_id: int | None) -> tuple[int | None, ...]:
        return self.regions.of(self.agency_region.get(agency_id) if agency_id is not None else None)

    def _f(self, *parts: str) -> Feature:
        return self._feature.setdefault(parts, parts)

    def _add(
        self, target: dict[int | None, Counter[Feature]], rows: Iterable[tuple[int, _Row]]
    ) -> None:
        """Count each person's features in every region of their rows (see the class)."""
        by_person: dict[int, list[_Row]] = defaultdict(list)
        for person, row in rows:
            by_person[person].append(row)
        per_leaf: dict[int | None, Counter[Feature]] = defaultdict(Counter)
        for person_rows in by_person.values():
            leaf = person_rows[0].leaf
            if len(person_rows) == 1:  # most persons: a row's features are distinct
                counted = per_leaf[leaf]
                counted.update(person_rows[0].features)
                if person_rows[0].ok:
                    counted.update(_OK[person_rows[0].groups])
                continue
            if all(row.leaf == leaf for row in person_rows):
                per_leaf[leaf].update(_person(person_rows))
                continue
            in_region: dict[int | None, list[_Row]] = defaultdict(list)
            for row in person_rows:
                for region in self.regions.of(row.leaf):
                    in_region[region].append(row)
            for region, region_rows in in_region.items():
                target[region].update(_person(region_rows))
        for leaf, counted in per_leaf.items():
            for region in self.regions.of(leaf):
                target[region].update(counted)

    def _victim_rows(self, national: Scope, *, with_tracks: bool) -> None:
        """The counted victims of the period, evaluated once into a temporary table (the
        refusal, restriction and comprehensive-service conditions are read once per victim),
        then counted from it: the persons with a single row (nearly all) in SQL, grouped by
        leaf; the persons with several rows one by one (``_add``)."""
        ok = case((comprehensive_condition(self.period.end), 1), else_=0)
        women = case((_group("perempuan"), 1), else_=0)
        child = case((_group("anak"), 1), else_=0)
        disability = case((Victim.disability.is_(True), "ya"), else_="tidak")
        several = case((func.count().over(partition_by=PERSON) > 1, 1), else_=0)
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
            several.label("several"),
        )
        counted = _temporary(_COUNTED, query)
        self._single_rows(counted.alias("rv"), with_tracks=with_tracks)
        self._several_rows(counted.alias("rv"), with_tracks=with_tracks)
        db.session.execute(text(f"DROP TABLE {_COUNTED}"))

    def _single_rows(self, rv: Any, *, with_tracks: bool) -> None:
        """The persons with one counted row: a row's features are the person's, so each
        feature's persons are counted in SQL per leaf (a handful of rows per leaf) and added
        up the region tree."""
        single = rv.c.several == 0
        per_leaf: dict[int | None, Counter[Feature]] = defaultdict(Counter)
        f = self._f
        leaf = rv.c.leaf
        for at, is_woman, is_child, is_ok, n in db.session.execute(
            select(leaf, rv.c.women, rv.c.child, rv.c.ok, func.count())
            .where(single)
            .group_by(leaf, rv.c.women, rv.c.child, rv.c.ok)
        ):
            counted = per_leaf[self._leaf(at)]
            groups = _groups(bool(is_woman), bool(is_child))
            for group in groups:
                counted[f("n", group)] += n
                if is_ok:
                    counted[f("ok", group)] += n
        for dimension, category_of in (
            ("tempat_kejadian", rv.c.place),
            ("kelompok_umur", rv.c.band),
            ("jenis_kelamin", rv.c.sex),
            ("disabilitas", rv.c.disability),
        ):
            for at, category, n in db.session.execute(
                select(leaf, category_of, func.count()).where(single).group_by(leaf, category_of)
            ):
                per_leaf[self._leaf(at)][f("cat", dimension, _label(category))] += n
        # a case's types are distinct (its key), a victim's violence types too
        t = CaseTypeEntry
        for at, is_woman, is_child, case_type, n in db.session.execute(
            select(leaf, rv.c.women, rv.c.child, t.type, func.count())
            .join(t, t.case_id == rv.c.case_id)
            .where(single)
            .group_by(leaf, rv.c.women, rv.c.child, t.type)
        ):
            counted = per_leaf[self._leaf(at)]
            name = _label(case_type)
            for group in _groups(bool(is_woman), bool(is_child)):
                counted[f("t", group, name)] += n
            counted[f("cat", "jenis_kasus", name)] += n
        v, r = VictimViolenceType, PerpetratorRelation
        for dimension, victim_column, category_column, n_victims in (
            ("jenis_kekerasan", v.victim_id, v.type, func.count()),
            # a victim may have the same relation to two perpetrators
            ("hubungan_pelaku", r.victim_id, r.relationship_, func.count(distinct(rv.c.id))),
        ):
            for at, category, n in db.session.execute(
                select(leaf, category_column, n_victims)
                .join(rv, rv.c.id == victim_column)
                .where(single)
                .group_by(leaf, category_column)
            ):
                per_leaf[self._leaf(at)][f("cat", dimension, _label(category))] += n
        if with_tracks:
            end = self.period.end
            s = ServiceTrack
            done = case((and_(s.state == TrackState.SELESAI, s.ended_at < end), rv.c.id))
            planned = case((_planned_before(end), rv.c.id))
            for at, service, n_done, n_planned in db.session.execute(
                select(
                    leaf,
                    s.service_type,
                    func.count(distinct(done)),
                    func.count(distinct(planned)),
                )
                .join(rv, rv.c.id == s.victim_id)
                .where(single)
                .group_by(leaf, s.service_type)
            ):
                counted = per_leaf[self._leaf(at)]
                name = _label(service)
                if n_done:
                    counted[f("done", name)] += n_done
                if n_planned:
                    counted[f("planned", name)] += n_planned
        for at, counted in per_leaf.items():
            for region in self.regions.of(at):
                self.counts[region].update(counted)

    def _several_rows(self, rv: Any, *, with_tracks: bool) -> None:
        """The persons with several counted rows (linked by the intake's duplicate check): what
        a person has is taken over all their rows (``_add``)."""
        several = rv.c.several == 1
        f = self._f
        extra: dict[int, list[Feature]] = defaultdict(list)
        # one row per victim (the categories joined with commas)
        v, r = VictimViolenceType, PerpetratorRelation
        for dimension, victim_column, category_column in (
            ("jenis_kekerasan", v.victim_id, v.type),
            ("hubungan_pelaku", r.victim_id, r.relationship_),
        ):
            for victim_id, categories in db.session.execute(
                select(victim_column, func.aggregate_strings(category_column, SEPARATOR))
                .join(rv, rv.c.id == victim_column)
                .where(several)
                .group_by(victim_column)
            ):
                extra[victim_id].extend(f("cat", dimension, c) for c in set(_split(categories)))
        if with_tracks:
            self._track_features(rv, several, extra)
        case_types: dict[int, tuple[str, ...]] = {
            case_id: tuple(sorted(set(_split(types))))
            for case_id, types in db.session.execute(
                select(
                    CaseTypeEntry.case_id,
                    func.aggregate_strings(CaseTypeEntry.type, SEPARATOR),
                )
                .where(
                    CaseTypeEntry.case_id.in_(
                        select(rv.c.case_id).where(several).distinct().scalar_subquery()
                    )
                )
                .group_by(CaseTypeEntry.case_id)
            )
        }
        # the features of the group and case types of a row: a few combinations, built once
        of_groups: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[Feature, ...]] = {}

        def group_features(groups: tuple[str, ...], types: tuple[str, ...]) -> tuple[Feature, ...]:
            key = (groups, types)
            if key not in of_groups:
                found = [f("n", g) for g in groups]
                found += [f("t", g, t) for g in groups for t in types]
                found += [f("cat", "jenis_kasus", t) for t in types]
                of_groups[key] = tuple(found)
            return of_groups[key]

        def rows() -> Iterable[tuple[int, _Row]]:
            for (
                victim_id,
                person,
                case_id,
                leaf,
                is_woman,
                is_child,
                is_ok,
                place,
                band,
                sex,
                has_disability,
            ) in db.session.execute(
                select(
                    rv.c.id,
                    rv.c.person,
                    rv.c.case_id,
                    rv.c.leaf,
                    rv.c.women,
                    rv.c.child,
                    rv.c.ok,
                    rv.c.place,
                    rv.c.band,
                    rv.c.sex,
                    rv.c.disability,
                ).where(several)
            ):
                groups = _groups(bool(is_woman), bool(is_child))
                types = case_types.get(case_id, ())
                features = (
                    *group_features(groups, types),
                    f("cat", "tempat_kejadian", _label(place)),
                    f("cat", "kelompok_umur", _label(band)),
                    f("cat", "jenis_kelamin", _label(sex)),
                    f("cat", "disabilitas", _label(has_disability)),
                    *extra.pop(victim_id, ()),
                )
                yield person, _Row(self._leaf(leaf), groups, int(is_ok), features)

        self._add(self.counts, rows())

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
        case_types: dict[int, list[str]] = defaultdict(list)
        for case_id, category in db.session.execute(
            select(CaseTypeEntry.case_id, CaseTypeEntry.type).where(
                CaseTypeEntry.case_id.in_(select(sub.c.case_id).distinct().scalar_subquery())
            )
        ):
            case_types[case_id].append(_label(category))
        f = self._f
        rows = []
        for _victim_id, person, case_id, leaf, women, child in db.session.execute(select(sub)):
            groups = _groups(bool(women), bool(child))
            features = [f("n", g) for g in groups]
            features += [f("t", g, t) for g in groups for t in set(case_types.get(case_id, ()))]
            rows.append((person, _Row(self._leaf(leaf), groups, 0, tuple(features))))
        self._add(self.refused, rows)

    def _track_features(self, rv: Any, where: Any, extra: dict[int, list[Feature]]) -> None:
        """Per victim of ``rv`` (those ``where`` holds for): each service whose track ended
        ``selesai`` before the period's end (``done``) and each planned before it
        (``planned``)."""
        end = self.period.end
        t = ServiceTrack
        done = case((and_(t.state == TrackState.SELESAI, t.ended_at < end), t.service_type))
        planned = case((_planned_before(end), t.service_type))
        f = self._f
        # one row per victim (the services joined with commas; NULLs, the others, left out)
        for victim_id, done_services, planned_services in db.session.execute(
            select(
                t.victim_id,
                func.aggregate_strings(done, SEPARATOR),
                func.aggregate_strings(planned, SEPARATOR),
            )
            .join(rv, rv.c.id == t.victim_id)
            .where(where)
            .group_by(t.victim_id)
        ):
            found = extra[victim_id]
            found.extend(f("done", service) for service in set(_split(done_services)))
            found.extend(f("planned", service) for service in set(_split(planned_services)))

    def _deadline_rows(self, national: Scope) -> None:
        """Per region: the first responses met and the first responses settled (met or
        missed), counted per agency in SQL."""
        met = case((Deadline.met_at.is_not(None), 1), else_=0)
        rows = db.session.execute(
            select(Case.agency_id, func.sum(met), func.count())
            .join(Case, Case.id == Deadline.case_id)
            .where(
                *_counted_cases(national, first_registration=False),
                Deadline.track_id.is_(None),
                Deadline.code.in_(list(FIRST_RESPONSE_BY_RISK.values())),
                or_(Deadline.completed_at.is_not(None), Deadline.missed_at.is_not(None)),
            )
            .group_by(Case.agency_id)
        )
        for agency_id, n_met, n in rows:
            for region in self._regions_of_agency(agency_id):
                figures = self.deadlines[region]
                figures[0] += int(n_met or 0)
                figures[1] += int(n)

    def _referral_rows(self, national: Scope) -> None:
        from app.referrals.models import Referral

        late = exists(
            select(Deadline.id).where(
                Deadline.track_id == Referral.track_id,
                Deadline.code == DeadlineCode.REFERRAL_RESPONSE,
                Deadline.started_at == Referral.sent_at,
                Deadline.missed_at.is_not(None),
            )
        )
        where = [
            Referral.sent_at >= self.period.start,
            Referral.sent_at < self.period.end,
            *(
                [Referral.to_agency_id.in_(national.agency_ids)]
                if national.agency_ids is not None
                else []
            ),
        ]
        # the counts per receiving agency in SQL, added up per region
        for agency_id, sent, accepted, declined, overdue in db.session.execute(
            select(
                Referral.to_agency_id,
                func.count(),
                func.count(Referral.accepted_at),
                func.sum(case((Referral.state == ReferralState.DITOLAK, 1), else_=0)),
                func.sum(case((late, 1), else_=0)),
            )
            .where(*where)
            .group_by(Referral.to_agency_id)
        ):
            for region in self._regions_of_agency(agency_id):
                figures = self.referrals[region]
                figures.sent += int(sent)
                figures.accepted += int(accepted)
                figures.declined += int(declined or 0)
                figures.overdue += int(overdue or 0)
        # the waits of the accepted ones, for the medians (plain timestamps: a year has
        # hundreds of thousands, the difference does not depend on the time zone)
        waits: dict[int | None, list[float]] = defaultdict(list)
        plain = DateTime(timezone=True)
        for agency_id, sent_at, accepted_at in db.session.execute(
            select(
                Referral.to_agency_id,
                type_coerce(Referral.sent_at, plain),
                type_coerce(Referral.accepted_at, plain),
            ).where(*where, Referral.accepted_at.is_not(None))
        ):
            waits[agency_id].append((accepted_at - sent_at).total_seconds())
        for agency_id, seconds in waits.items():
            for region in self._regions_of_agency(agency_id):
                self.referrals[region].waits.extend(seconds)


@dataclass(slots=True)
class _Referrals:
    """The referrals a region's agencies received in the period."""

    sent: int = 0
    accepted: int = 0
    declined: int = 0
    overdue: int = 0
    waits: list[float] = field(default_factory=list)  # seconds to acceptance, accepted ones


# --- the figures of one region -----------------------------------------------------------------


def figures_of(
    definition: IndicatorDefinition,
    region_id: int | None,
    data: PeriodRows,
    book: PopulationBook,
) -> dict[str, Result]:
    """What ``compute.compute`` gives for the definition and the region."""
    method = definition.method
    counted = data.counts.get(region_id) or _NOTHING
    if method == "komprehensif":
        persons = counted[("n", definition.group)]
        if not persons:
            return {"": Result(D(0), D(0), NO_VICTIMS)}
        return {"": Result(D(counted[("ok", definition.group)]), D(persons))}
    if method == "rasio":
        return rate_of(definition, book.of(region_id), D(counted[("n", definition.group)]))
    if method == "cakupan":
        service = definition.params["service"]
        if definition.params.get("planned"):
            denominator = counted[("planned", service)]
        else:
            denominator = counted[("n", "semua")]
        if not denominator:
            return {"": Result(D(0), D(0), NO_VICTIMS)}
        return {"": Result(D(counted[("done", service)]), D(denominator))}
    if method == "count":
        case_type = definition.params.get("case_type")
        if definition.params.get("refused_statistics"):
            counted = data.refused.get(region_id) or _NOTHING
        if case_type:
            return {"": Result(D(counted[("t", definition.group, case_type)]), None)}
        return {"": Result(D(counted[("n", definition.group)]), None)}
    if method == "breakdown":
        dimension = definition.params["dimension"]
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown breakdown {dimension}")
        return {
            category: Result(D(n), None)
            for category, n in data.categories(region_id).get(dimension, {}).items()
        }
    if method == "respons_pertama":
        n_met, settled = data.deadlines.get(region_id, (0, 0))
        if not settled:
            return {"": Result(D(0), D(0), NO_FIRST_RESPONSES)}
        return {"": Result(D(n_met), D(settled))}
    if method == "rujukan":
        referrals = data.referrals.get(region_id) or _Referrals()
        measure = definition.params["measure"]
        if measure == "median_jam":
            if not referrals.waits:
                return {"": Result(None, None, NO_ACCEPTED_REFERRALS)}
            median = decimal.Decimal(str(statistics.median(referrals.waits))) / 3600
            return {"": Result(median.quantize(decimal.Decimal("0.0001")), D(1))}
        if measure == "diterima":
            n = referrals.accepted
        elif measure == "ditolak":
            n = referrals.declined
        elif measure == "terlambat":
            n = referrals.overdue
        else:
            n = referrals.sent
        return {"": Result(D(n), None)}
    raise ValueError(f"unknown method {method}")


def compute_all(
    definitions: Sequence[IndicatorDefinition],
    period: Period,
    targets: Sequence[int | None],
    tree: Tree,
    *,
    by_incident: bool,
    stale: Iterable[int] = (),
) -> dict[Key, dict[str, Result]]:
    """``compute.compute`` of every definition for every region of ``targets`` (None:
    national), from one read of the period's rows.

    By the agencies' jurisdiction (not ``by_incident``) a region without any agency in it or
    under it counts nothing: it is left out of the results (its figures are
    ``compute.empty``, which ``queries.figures`` answers without stored values), unless it is
    in ``stale`` (it has stored values of the period to keep up to date)."""
    if not by_incident:
        keep = occupied_regions(tree) | set(stale)
        targets = [t for t in targets if t is None or t in keep]
    under: set[int] | None = None
    if None not in targets:
        under = set()
        for target in targets:
            if target is not None and target not in under:
                under |= descendants(target, tree)
    data = PeriodRows(
        period, definitions, Regions(targets, tree), by_incident=by_incident, under=under
    )
    book = PopulationBook(period.year, tree, under)
    results: dict[Key, dict[str, Result]] = {}
    for region_id in targets:
        for definition in definitions:
            results[(definition.id, region_id)] = figures_of(definition, region_id, data, book)
    return results
