"""The read side of regions and population.

Regions and population figures are not case data: every signed-in part of the application may
read them, so these queries are not scoped to a user.

Population totals (domain.md §6.2)
----------------------------------
``population_total(region_id, year, sex=..., max_age=...)`` adds up the rows of one region and
year. It returns ``None`` — *cannot be computed*, never a guess and never zero — when:

- there is no row for that region and year (and sex, when given);
- ``sex`` is not given and only one sex has rows (the total of both sexes is unknown);
- the age ranges of a sex do not start at 0 or leave a gap (e.g. 0-4, then 10-14);
- ``max_age`` is not given and the oldest range is not open-ended (``age_to`` empty);
- ``max_age`` is given and a range straddles it. ``penduduk_anak`` is ages 0-17
  (``max_age=17``): it needs ranges that end at 17 and start again at 18 (0-4, 5-9, 10-14, 15-17,
  18-24 …, or simply 0-17 and 18+). A row such as 15-19 makes the number of children unknowable,
  so the total is ``None``.

The totals cover the region's own rows only; figures of the regions under it are not added.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from app.core.enums import RegionLevel, Sex
from app.core.i18n import lazy_gettext as _l
from app.extensions import db
from app.regions.models import Population, Region

ANAK_MAX_AGE = 17  # domain.md §6: anak = under 18

# --- regions -----------------------------------------------------------------------------


def get_region_by_code(code: str) -> Region | None:
    return db.session.scalar(select(Region).where(Region.code == code))


def get_region(region_id: int) -> Region | None:
    return db.session.get(Region, region_id)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def regions_query(
    *,
    level: RegionLevel | str | None = None,
    parent_id: int | None = None,
    search: str | None = None,
) -> Select[tuple[Region]]:
    """Regions in code order (which is tree order), optionally only those of one ``level``, the
    direct children of ``parent_id``, and those whose code starts with or whose name contains
    ``search``."""
    query = select(Region).options(joinedload(Region.parent)).order_by(Region.code)
    if level:
        query = query.where(Region.level == RegionLevel(level))
    if parent_id is not None:
        query = query.where(Region.parent_id == parent_id)
    search = (search or "").strip()
    if search:
        escaped = _like_escape(search)
        query = query.where(
            or_(
                Region.code.like(f"{escaped}%", escape="\\"),
                Region.name.ilike(f"%{escaped}%", escape="\\"),
            )
        )
    return query


def region_options(search: str, *, limit: int) -> list[tuple[str, str]]:
    """(code, name) of at most ``limit`` regions found by ``regions_query(search=...)``."""
    query = regions_query(search=search).limit(limit)
    return [(r.code, r.name) for r in db.session.scalars(query)]


def list_regions(
    *,
    level: RegionLevel | str | None = None,
    parent_id: int | None = None,
    search: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Pagination:
    """One page of ``regions_query``."""
    return db.paginate(
        regions_query(level=level, parent_id=parent_id, search=search),
        page=page,
        per_page=per_page,
        error_out=False,
        count=True,
    )


def region_children(region_id: int) -> list[Region]:
    return list(
        db.session.scalars(
            select(Region).where(Region.parent_id == region_id).order_by(Region.code)
        )
    )


def child_counts(region_ids: Iterable[int]) -> dict[int, int]:
    """How many direct children each of ``region_ids`` has (absent: none)."""
    ids = list(region_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Region.parent_id, func.count(Region.id))
        .where(Region.parent_id.in_(ids))
        .group_by(Region.parent_id)
    )
    return {parent_id: n for parent_id, n in rows}


def ancestors(region: Region) -> list[Region]:
    """The regions above ``region``, from the province down to its parent (for breadcrumbs)."""
    chain: list[Region] = []
    current = region.parent
    while current is not None:
        chain.append(current)
        current = current.parent
    return chain[::-1]


# --- population --------------------------------------------------------------------------


def get_population(population_id: int) -> Population | None:
    return db.session.get(Population, population_id)


def get_population_row(
    region_id: int, year: int, sex: Sex | str, age_from: int
) -> Population | None:
    return db.session.scalar(
        select(Population).where(
            Population.region_id == region_id,
            Population.year == year,
            Population.sex == Sex(sex),
            Population.age_from == age_from,
        )
    )


def population_rows(region_id: int, year: int) -> list[Population]:
    """The figures of one region and year, by sex then age."""
    return list(
        db.session.scalars(
            select(Population)
            .where(Population.region_id == region_id, Population.year == year)
            .order_by(Population.sex, Population.age_from)
        )
    )


def population_years(region_id: int) -> list[int]:
    """The years with figures for the region, newest first."""
    return list(
        db.session.scalars(
            select(Population.year)
            .where(Population.region_id == region_id)
            .distinct()
            .order_by(Population.year.desc())
        )
    )


@dataclass(frozen=True)
class PopulationFigure:
    """A derived total, or ``value`` None with the ``reason`` it cannot be computed."""

    value: int | None
    reason: Any = None  # a lazy translated string when value is None


def _sum_ranges(rows: Sequence[Population], max_age: int | None) -> PopulationFigure:
    """Add up the rows of one sex covering ages 0..max_age (all ages when None)."""
    if not rows:
        return PopulationFigure(None, _l("no figures"))
    total = 0
    expected: int | None = 0  # the next age a row must start at; None once open-ended
    for row in sorted(rows, key=lambda r: r.age_from):
        if expected is None or (max_age is not None and row.age_from > max_age):
            break
        if row.age_from != expected:
            return PopulationFigure(
                None, _l("the age ranges leave a gap at age %(age)d", age=expected)
            )
        if max_age is not None and (row.age_to is None or row.age_to > max_age):
            return PopulationFigure(
                None,
                _l(
                    "the range %(ages)s spans ages %(a)d and %(b)d",
                    ages=row.age_label,
                    a=max_age,
                    b=max_age + 1,
                ),
            )
        total += row.count
        expected = None if row.age_to is None else row.age_to + 1
    if max_age is None and expected is not None:
        return PopulationFigure(
            None,
            _l("the oldest range is not open-ended (ages %(age)d and above missing)", age=expected),
        )
    if max_age is not None and expected is not None and expected <= max_age:
        return PopulationFigure(None, _l("the age ranges leave a gap at age %(age)d", age=expected))
    return PopulationFigure(total)


def population_figure(
    rows: Sequence[Population], *, sex: Sex | str | None = None, max_age: int | None = None
) -> PopulationFigure:
    """The total of ``rows`` (one region and year) for ``sex`` (both when None) and ages
    0..``max_age`` (all when None), or why it cannot be computed (see the module docstring)."""
    sexes = [Sex(sex)] if sex is not None else list(Sex)
    total = 0
    for one in sexes:
        figure = _sum_ranges([r for r in rows if r.sex == one], max_age)
        if figure.value is None:
            if sex is None and rows:
                return PopulationFigure(
                    None,
                    _l("%(sex)s: %(reason)s", sex=one.value, reason=figure.reason),
                )
            return figure
        total += figure.value
    return PopulationFigure(total)


def population_total(
    region_id: int, year: int, *, sex: Sex | str | None = None, max_age: int | None = None
) -> int | None:
    """Residents of the region in ``year`` of ``sex`` (both when None) aged 0..``max_age`` (all
    ages when None); None when there are no figures or they cannot give an exact number."""
    return population_figure(population_rows(region_id, year), sex=sex, max_age=max_age).value


def population_summary(region_id: int, year: int) -> dict[str, PopulationFigure]:
    """The denominators of domain.md §6.2 for one region and year."""
    rows = population_rows(region_id, year)
    return {
        "penduduk_perempuan": population_figure(rows, sex=Sex.P),
        "penduduk_anak": population_figure(rows, max_age=ANAK_MAX_AGE),
        "penduduk": population_figure(rows),
    }
