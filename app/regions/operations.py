"""The write side of regions (wilayah) and population figures: the only code that changes them.

Every function checks its rules first and raises ``DomainError`` (nothing changed) when one is
broken, then changes the rows, flushes and writes an audit entry. None of them commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.audit.operations import SystemActor, record
from app.core.db import IdPool, model_diff
from app.core.enums import RegionLevel, Sex
from app.core.errors import DomainError
from app.core.formatting import format_number
from app.core.i18n import lazy_gettext as _l
from app.core.labels import label
from app.extensions import db
from app.regions.models import Population, Region
from app.regions.queries import get_population_row, get_region_by_code

if TYPE_CHECKING:
    from app.auth.models import User


# Kemendagri codes: 32, 32.73, 32.73.01, 32.73.01.1001 (ASCII digits only).
class ImportBook:
    """What one file of ``flask regions import`` or ``flask population import`` reads, read
    once and kept up to date as its rows are applied: the regions by code, the population rows
    of each region and year. A new row takes its id from the table's sequence (PostgreSQL, in
    blocks), so it is audited without a flush of its own: the file is written together at its
    end (``write_batch``: the new rows inserted table by table), its audit entries sealed
    together. Elsewhere (SQLite) each new row is flushed for its id."""

    SIBLINGS = 200  # regions read together at most (a kabupaten's kecamatan, a kecamatan's desa)

    def __init__(self) -> None:
        with db.session.no_autoflush:
            self.regions: dict[str, Region] = {
                r.code: r for r in db.session.scalars(select(Region))
            }
        self._population: dict[tuple[int, int], list[Population]] = {}
        self._siblings: dict[int | None, list[int]] | None = None
        self._ids = IdPool(db.session)

    def region(self, code: str) -> Region | None:
        return self.regions.get(code)

    def population(self, region: Region, year: int) -> list[Population]:
        """The rows of ``region`` and ``year``: those stored, and those added since. Read with
        those of the region's siblings (a file lists a kabupaten's kecamatan together): one
        query for the regions of one parent and year, not one per region."""
        key = (region.id, year)
        if key not in self._population:
            if self._siblings is None:
                self._siblings = {}
                for stored in self.regions.values():
                    if stored.id is not None:
                        self._siblings.setdefault(stored.parent_id, []).append(stored.id)
            family = self._siblings.get(region.parent_id, [])
            wanted = {region.id} | {
                other for other in family[: self.SIBLINGS] if (other, year) not in self._population
            }
            for region_id in wanted:
                self._population[(region_id, year)] = []
            with db.session.no_autoflush:
                for row in db.session.scalars(
                    select(Population)
                    .where(Population.region_id.in_(sorted(wanted)), Population.year == year)
                    .order_by(Population.id)
                ):
                    self._population[(row.region_id, year)].append(row)
        return self._population[key]

    def give_id(self, row: Region | Population) -> None:
        self._ids.give(row)


CODE_PATTERNS: dict[RegionLevel, re.Pattern[str]] = {
    RegionLevel.PROVINSI: re.compile(r"[0-9]{2}"),
    RegionLevel.KABKOTA: re.compile(r"[0-9]{2}\.[0-9]{2}"),
    RegionLevel.KECAMATAN: re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}"),
    RegionLevel.DESA: re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}"),
}
CODE_FORMS: dict[RegionLevel, tuple[str, str]] = {
    RegionLevel.PROVINSI: ("NN", "32"),
    RegionLevel.KABKOTA: ("NN.NN", "32.73"),
    RegionLevel.KECAMATAN: ("NN.NN.NN", "32.73.01"),
    RegionLevel.DESA: ("NN.NN.NN.NNNN", "32.73.01.1001"),
}
NAME_MAX = 200
YEAR_MIN, YEAR_MAX = 1900, 2200
AGE_MAX = 150
COUNT_MAX = 1_000_000_000  # far above any region; keeps typing slips out of the BIGINT


# --- regions -----------------------------------------------------------------------------


def _check_level(level: RegionLevel | str) -> RegionLevel:
    try:
        return RegionLevel(str(level).strip())
    except ValueError:
        raise DomainError(
            _l(
                "Unknown level %(level)s: use provinsi, kabkota, kecamatan or desa.",
                level=repr(str(level)),
            ),
            field="level",
        ) from None


def _check_code(code: str, level: RegionLevel) -> str:
    if not CODE_PATTERNS[level].fullmatch(code):
        form, example = CODE_FORMS[level]
        raise DomainError(
            _l(
                "%(code)s is not a valid code for a %(level)s: it must have the form %(form)s "
                "(digits), e.g. %(example)s.",
                code=repr(code),
                level=label(level),
                form=form,
                example=example,
            ),
            field="code",
        )
    return code


def _check_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_l("Enter the region's name."), field="name")
    if len(name) > NAME_MAX:
        raise DomainError(
            _l("The name may be at most %(n)d characters long.", n=NAME_MAX), field="name"
        )
    return name


def _clean_parent_code(parent_code: str | None) -> str | None:
    parent_code = (parent_code or "").strip()
    return parent_code or None


def _resolve_parent(
    code: str,
    level: RegionLevel,
    parent_code: str | None,
    find: Callable[[str], Region | None] = get_region_by_code,
) -> Region | None:
    """The parent a new region of ``level`` with ``code`` must have, checked."""
    expected = level.parent_level
    if expected is None:
        if parent_code is not None:
            raise DomainError(_l("A province has no parent region."), field="parent_code")
        return None
    if parent_code is None:
        raise DomainError(
            _l(
                "A %(level)s needs a parent region (a %(parent_level)s).",
                level=label(level),
                parent_level=label(expected),
            ),
            field="parent_code",
        )
    parent = find(parent_code)
    if parent is None:
        raise DomainError(
            _l("The parent region %(code)s does not exist.", code=parent_code),
            field="parent_code",
        )
    if parent.level is not expected:
        raise DomainError(
            _l(
                "The parent of a %(level)s must be a %(parent_level)s, but %(code)s is a "
                "%(actual)s.",
                level=label(level),
                parent_level=label(expected),
                code=parent.code,
                actual=label(parent.level),
            ),
            field="parent_code",
        )
    if not code.startswith(parent.code + "."):
        raise DomainError(
            _l(
                "The code %(code)s does not lie under its parent %(parent)s (it must start "
                "with %(prefix)s).",
                code=code,
                parent=parent.code,
                prefix=parent.code + ".",
            ),
            field="code",
        )
    return parent


def _region_state(region: Region) -> dict[str, Any]:
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level.value,
        "parent": region.parent.code if region.parent is not None else None,
    }


def _insert_region(
    code: str,
    name: str,
    level: RegionLevel,
    parent: Region | None,
    actor: User | SystemActor,
    book: ImportBook | None = None,
) -> Region:
    region = Region(code=code, name=name, level=level, parent=parent)
    db.session.add(region)
    if book is None:
        db.session.flush()
    else:
        book.give_id(region)
        book.regions[code] = region
    record(actor, "region.create", "region", region.id, _region_state(region))
    return region


def _rename_region(
    region: Region, name: str, actor: User | SystemActor, *, flush: bool = True
) -> bool:
    """Give ``region`` a (checked) new name; False when it already had it."""
    if region.name == name:
        return False
    before = _region_state(region)
    region.name = name
    if flush:
        db.session.flush()
    record(actor, "region.update", "region", region.id, model_diff(before, _region_state(region)))
    return True


def upsert_region(
    code: str,
    name: str,
    level: RegionLevel | str,
    parent_code: str | None,
    *,
    actor: User | SystemActor,
    book: ImportBook | None = None,
) -> tuple[Region, str]:
    """Create the region ``code`` or bring its name up to date.

    Returns the region and ``"created"``, ``"updated"`` or ``"unchanged"``. The level and the
    parent of an existing code never change (a different one is refused): only the name may.
    ``book``: the look-ups of a whole file (``flask regions import``), read once.
    """
    code = (code or "").strip()
    level = _check_level(level)
    name = _check_name(name)
    parent_code = _clean_parent_code(parent_code)
    find = book.region if book is not None else get_region_by_code
    existing = find(code) if code else None
    if existing is not None:
        if existing.level is not level:
            raise DomainError(
                _l(
                    "Region %(code)s is a %(level)s; the level of an existing region cannot "
                    "change.",
                    code=code,
                    level=label(existing.level),
                ),
                field="level",
            )
        current_parent = existing.parent.code if existing.parent is not None else None
        if current_parent != parent_code:
            raise DomainError(
                _l(
                    "Region %(code)s lies under %(parent)s; the parent of an existing region "
                    "cannot change.",
                    code=code,
                    parent=current_parent or "—",
                ),
                field="parent_code",
            )
        changed = _rename_region(existing, name, actor, flush=book is None)
        return existing, "updated" if changed else "unchanged"
    code = _check_code(code, level)
    parent = _resolve_parent(code, level, parent_code, find)
    return _insert_region(code, name, level, parent, actor, book), "created"


def create_region(
    code: str,
    name: str,
    level: RegionLevel | str,
    parent_code: str | None,
    *,
    actor: User | SystemActor,
) -> Region:
    """Create a new region (the admin form); an existing code is refused."""
    code = (code or "").strip()
    level = _check_level(level)
    code = _check_code(code, level)
    name = _check_name(name)
    if get_region_by_code(code) is not None:
        raise DomainError(
            _l("A region with the code %(code)s already exists.", code=code), field="code"
        )
    parent = _resolve_parent(code, level, _clean_parent_code(parent_code))
    return _insert_region(code, name, level, parent, actor)


def update_region(
    region: Region, *, name: str, expected_version: int, actor: User | SystemActor
) -> Region:
    """Rename ``region`` (the admin form). Code, level and parent never change."""
    if region.version != expected_version:
        raise DomainError(
            _l(
                "Someone else changed this region while you were editing. Reload the page and "
                "try again."
            )
        )
    _rename_region(region, _check_name(name), actor)
    return region


# --- population --------------------------------------------------------------------------


def _whole_number(value: Any, field: str, name: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(_l("%(name)s must be a whole number.", name=name), field=field)
    return value


def _check_year(value: Any) -> int:
    year = _whole_number(value, "year", _l("The year"))
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise DomainError(
            _l("The year must be between %(lo)d and %(hi)d.", lo=YEAR_MIN, hi=YEAR_MAX),
            field="year",
        )
    return year


def _check_sex(sex: Sex | str) -> Sex:
    try:
        return Sex(str(sex).strip().upper())
    except ValueError:
        raise DomainError(
            _l("The sex must be L or P, not %(value)s.", value=repr(str(sex))), field="sex"
        ) from None


def _check_ages(age_from: Any, age_to: Any) -> tuple[int, int | None]:
    age_from = _whole_number(age_from, "age_from", _l("The lowest age"))
    if not 0 <= age_from <= AGE_MAX:
        raise DomainError(
            _l("The lowest age must be between 0 and %(n)d.", n=AGE_MAX), field="age_from"
        )
    if age_to is None:
        return age_from, None
    age_to = _whole_number(age_to, "age_to", _l("The highest age"))
    if not age_from <= age_to <= AGE_MAX:
        raise DomainError(
            _l(
                "The highest age must be between the lowest age (%(lo)d) and %(hi)d, or empty "
                "for an open-ended range.",
                lo=age_from,
                hi=AGE_MAX,
            ),
            field="age_to",
        )
    return age_from, age_to


def _check_count(value: Any) -> int:
    count = _whole_number(value, "count", _l("The number of residents"))
    if count < 0:
        raise DomainError(_l("The number of residents cannot be negative."), field="count")
    if count > COUNT_MAX:
        raise DomainError(
            _l("The number of residents may be at most %(n)s.", n=format_number(COUNT_MAX)),
            field="count",
        )
    return count


def _age_label(age_from: int, age_to: int | None) -> str:
    """As ``Population.age_label``: 75+ or 0\u20134 (en dash)."""
    return f"{age_from}+" if age_to is None else f"{age_from}\u2013{age_to}"


def _check_no_overlap(
    region: Region,
    year: int,
    sex: Sex,
    age_from: int,
    age_to: int | None,
    *,
    exclude_id: int | None,
    rows: list[Population] | None = None,
) -> None:
    """The age ranges of one region, year and sex never overlap. ``rows``: the region's rows of
    ``year`` as an import's book holds them (else they are read)."""
    if rows is None:
        found = list(
            db.session.scalars(
                select(Population)
                .where(
                    Population.region_id == region.id,
                    Population.year == year,
                    Population.sex == sex,
                )
                .order_by(Population.age_from)
            )
        )
    else:
        found = sorted((r for r in rows if r.sex is sex), key=lambda r: r.age_from)
    top = AGE_MAX + 1 if age_to is None else age_to
    for row in found:
        if row.id == exclude_id:
            continue
        row_top = AGE_MAX + 1 if row.age_to is None else row.age_to
        if row.age_from <= top and age_from <= row_top:
            raise DomainError(
                _l(
                    "Ages %(ages)s overlap the range %(other)s already recorded for %(region)s, "
                    "%(year)d, %(sex)s.",
                    ages=_age_label(age_from, age_to),
                    other=row.age_label,
                    region=region.code,
                    year=year,
                    sex=label(sex),
                ),
                field="age_to" if row.age_from > age_from else "age_from",
            )


def _population_state(pop: Population) -> dict[str, Any]:
    return {
        "region": pop.region.code,
        "year": pop.year,
        "sex": pop.sex.value,
        "age_from": pop.age_from,
        "age_to": pop.age_to,
        "count": pop.count,
    }


def _insert_population(
    region: Region,
    year: int,
    sex: Sex,
    age_from: int,
    age_to: int | None,
    count: int,
    actor: User | SystemActor,
    *,
    book: ImportBook | None = None,
) -> Population:
    rows = book.population(region, year) if book is not None else None
    _check_no_overlap(region, year, sex, age_from, age_to, exclude_id=None, rows=rows)
    pop = Population(
        region=region, year=year, sex=sex, age_from=age_from, age_to=age_to, count=count
    )
    db.session.add(pop)
    if book is None:
        db.session.flush()
    else:
        book.give_id(pop)
        book.population(region, year).append(pop)
    record(actor, "population.create", "population", pop.id, _population_state(pop))
    return pop


def _change_population(
    pop: Population,
    age_to: int | None,
    count: int,
    actor: User | SystemActor,
    *,
    rows: list[Population] | None = None,
) -> bool:
    if pop.age_to == age_to and pop.count == count:
        return False
    if pop.age_to != age_to:
        _check_no_overlap(
            pop.region, pop.year, pop.sex, pop.age_from, age_to, exclude_id=pop.id, rows=rows
        )
    before = _population_state(pop)
    pop.age_to = age_to
    pop.count = count
    if rows is None:
        db.session.flush()
    record(
        actor, "population.update", "population", pop.id, model_diff(before, _population_state(pop))
    )
    return True


def upsert_population(
    region_code: str,
    year: int,
    sex: Sex | str,
    age_from: int,
    age_to: int | None,
    count: int,
    *,
    actor: User | SystemActor,
    book: ImportBook | None = None,
) -> tuple[Population, str]:
    """Create or update the figure of (region, year, sex, age_from).

    A row with the same lowest age is the same row: its highest age and count are updated.
    Returns the row and ``"created"``, ``"updated"`` or ``"unchanged"``. ``book``: the
    look-ups of a whole file (``flask population import``), read once.
    """
    region_code = (region_code or "").strip()
    find = book.region if book is not None else get_region_by_code
    region = find(region_code) if region_code else None
    if region is None:
        raise DomainError(
            _l("The region %(code)s does not exist.", code=region_code or "—"),
            field="region_code",
        )
    year = _check_year(year)
    sex = _check_sex(sex)
    age_from, age_to = _check_ages(age_from, age_to)
    count = _check_count(count)
    if book is None:
        existing = get_population_row(region.id, year, sex, age_from)
        rows = None
    else:
        rows = book.population(region, year)
        existing = next((r for r in rows if r.sex is sex and r.age_from == age_from), None)
    if existing is not None:
        changed = _change_population(existing, age_to, count, actor, rows=rows)
        return existing, "updated" if changed else "unchanged"
    pop = _insert_population(region, year, sex, age_from, age_to, count, actor, book=book)
    return pop, "created"


def create_population(
    region: Region,
    year: int,
    sex: Sex | str,
    age_from: int,
    age_to: int | None,
    count: int,
    *,
    actor: User | SystemActor,
) -> Population:
    """Add a new row (the admin form); a row with the same lowest age is refused."""
    year = _check_year(year)
    sex = _check_sex(sex)
    age_from, age_to = _check_ages(age_from, age_to)
    count = _check_count(count)
    if get_population_row(region.id, year, sex, age_from) is not None:
        raise DomainError(
            _l(
                "There is already a row for ages from %(age)d; change its count instead.",
                age=age_from,
            ),
            field="age_from",
        )
    return _insert_population(region, year, sex, age_from, age_to, count, actor)


def update_population(pop: Population, *, count: int, actor: User | SystemActor) -> Population:
    """Correct the count of one row."""
    _change_population(pop, pop.age_to, _check_count(count), actor)
    return pop


def delete_population(pop: Population, *, actor: User | SystemActor) -> None:
    state = _population_state(pop)
    pop_id = pop.id
    db.session.delete(pop)
    db.session.flush()
    record(actor, "population.delete", "population", pop_id, state)
