"""The read side of agencies and task forces."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy import case as sa_case
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.agencies.models import Agency, AgencyService, SubTaskForce, SubTaskForceMember, TaskForce
from app.core.enums import (
    SERVICE_SUBTASKFORCE,
    AgencyType,
    RegionLevel,
    ServiceType,
    SubTaskForceKey,
)
from app.core.labels import label
from app.core.memo import read_each
from app.extensions import db
from app.regions.models import Region

if TYPE_CHECKING:
    from flask_sqlalchemy.pagination import Pagination

    from app.auth.models import User

# Agencies whose reach is national or abroad: they may join the Sub GTs of any task force.
NATIONAL_REACH_TYPES: frozenset[AgencyType] = frozenset(
    {AgencyType.PERWAKILAN_RI, AgencyType.LPSK, AgencyType.BP2MI, AgencyType.IMIGRASI}
)
# The levels of region that have a task force (GT P2TPPO).
TASK_FORCE_LEVELS: frozenset[RegionLevel] = frozenset({RegionLevel.PROVINSI, RegionLevel.KABKOTA})

PER_PAGE = 50


def _code(region: Region | str) -> str:
    return region.code if isinstance(region, Region) else str(region).strip()


def region_code_within(code: str, ancestor_code: str) -> bool:
    """True when the region ``code`` is ``ancestor_code`` or lies under it (Kemendagri codes)."""
    return code == ancestor_code or code.startswith(ancestor_code + ".")


def _region_subtree(ancestor_code: str) -> Any:
    """SQL condition: ``Region`` is the region ``ancestor_code`` or lies under it."""
    return or_(
        Region.code == ancestor_code,
        Region.code.startswith(ancestor_code + ".", autoescape=True),
    )


def _ancestor_codes(code: str) -> list[str]:
    """``32.73.01`` → ``['32.73.01', '32.73', '32']`` (the region itself first)."""
    parts = code.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


# --- agencies -------------------------------------------------------------------------------


def get_agency(agency_id: int) -> Agency | None:
    return db.session.get(
        Agency, agency_id, options=[joinedload(Agency.region), selectinload(Agency.services)]
    )


def get_agency_by_code(code: str) -> Agency | None:
    return db.session.scalar(select(Agency).where(Agency.code == code))


def agency_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(select(Agency.id, Agency.code, Agency.name).order_by(Agency.code))
    return [(str(row.id), f"{row.code} — {row.name}") for row in rows]


@dataclass(frozen=True)
class AgencyFilters:
    """What the agency list is narrowed to; ``None``/empty means "any"."""

    search: str | None = None
    type: AgencyType | None = None
    service_type: ServiceType | None = None
    region_code: str | None = None  # the region and every region under it
    active: bool | None = None


def agencies_query(filters: AgencyFilters | None = None) -> Select[tuple[Agency]]:
    filters = filters or AgencyFilters()
    query = (
        select(Agency)
        .join(Agency.region)
        .options(contains_eager(Agency.region), selectinload(Agency.services))
        .order_by(Agency.code)
    )
    if filters.search and filters.search.strip():
        text = filters.search.strip()
        query = query.where(
            or_(
                Agency.code.icontains(text, autoescape=True),
                Agency.name.icontains(text, autoescape=True),
            )
        )
    if filters.type is not None:
        query = query.where(Agency.type == filters.type)
    if filters.service_type is not None:
        query = query.where(Agency.services.any(AgencyService.service_type == filters.service_type))
    if filters.region_code:
        query = query.where(_region_subtree(filters.region_code.strip()))
    if filters.active is not None:
        query = query.where(Agency.active.is_(filters.active))
    return query


def list_agencies(
    filters: AgencyFilters | None = None, *, page: int = 1, per_page: int = PER_PAGE
) -> Pagination:
    """One page of agencies matching ``filters``, ordered by code."""
    return db.paginate(agencies_query(filters), page=page, per_page=per_page, error_out=False)


def agency_region_options(limit: int = 5000) -> list[tuple[str, str]]:
    """``(code, name)`` of the provinces, regencies/cities and districts, for the region
    suggestions of the agency form (villages are typed by code)."""
    rows = db.session.execute(
        select(Region.code, Region.name)
        .where(Region.level != RegionLevel.DESA)
        .order_by(Region.code)
        .limit(limit)
    )
    return [(row.code, row.name) for row in rows]


def agencies_providing(
    service_type: ServiceType | str,
    region: Region | str | None = None,
    *,
    include_national: bool = True,
    active_only: bool = True,
) -> list[Agency]:
    """Agencies that declare ``service_type``, ordered by code.

    With ``region``: those located in that region or a region under it, plus (unless
    ``include_national`` is false) agencies of national or overseas reach wherever they are.
    """
    query = (
        select(Agency)
        .join(Agency.region)
        .options(contains_eager(Agency.region))
        .where(Agency.services.any(AgencyService.service_type == ServiceType(service_type)))
        .order_by(Agency.code)
    )
    if active_only:
        query = query.where(Agency.active.is_(True))
    if region is not None:
        in_region = _region_subtree(_code(region))
        if include_national:
            in_region = or_(in_region, Agency.type.in_(NATIONAL_REACH_TYPES))
        query = query.where(in_region)
    return list(db.session.scalars(query))


# --- agencies near a case, and the search for any other -----------------------------------------

NEARBY_LIMIT = 150
"""At most this many agencies are listed near a place (the case page's forms); others are found
by the search (``search_agencies``)."""
SEARCH_LIMIT = 20
# listed near every case wherever they are
NEARBY_NATIONAL_TYPES = frozenset({AgencyType.LPSK})
SEARCH_MIN = 2
SEARCH_MAX = 80


@dataclass(frozen=True)
class Nearby:
    """The active agencies near a place, with their services and regions loaded: nearest first."""

    agencies: list[Agency]
    more: bool  # the place has more agencies than the list holds: the search finds them

    def providing(self, service_type: ServiceType | str) -> list[Agency]:
        wanted = ServiceType(service_type)
        return [a for a in self.agencies if wanted in a.service_types]


def nearby_agencies(region_ids: Iterable[int | None], *, limit: int = NEARBY_LIMIT) -> Nearby:
    """The active agencies a counselor looks to first for a case in the regions ``region_ids``
    (the case's agency's and the incident's): those of their kab/kota (at any level under it),
    then those registered at the level of their province (the provincial UPTD PPA, hospital,
    police, shelter …), then the national ones (LPSK) wherever they are (imigrasi and BP2MI
    offices are regional, the perwakilan RI abroad are many: near the case or by the search); by
    name within each; at most ``limit``. Three statements
    whatever the number of agencies in the country (the regions, the agencies, their services).
    """
    ids = [i for i in region_ids if i is not None]
    codes = list(db.session.scalars(select(Region.code).where(Region.id.in_(ids)))) if ids else []
    kabkota = sorted({c[:5] for c in codes if len(c) >= 5})
    provinces = sorted({c[:2] for c in codes})
    near = or_(false(), *(_region_subtree(code) for code in kabkota))
    province_level = Region.code.in_(provinces) if provinces else false()
    rank = sa_case((near, 0), (province_level, 1), else_=2)
    rows = list(
        db.session.scalars(
            select(Agency)
            .join(Agency.region)
            .where(
                Agency.active.is_(True),
                or_(near, province_level, Agency.type.in_(NEARBY_NATIONAL_TYPES)),
            )
            .options(contains_eager(Agency.region), selectinload(Agency.services))
            .order_by(rank, Agency.name, Agency.id)
            .limit(limit + 1)
        )
    )
    return Nearby(rows[:limit], len(rows) > limit)


def search_agencies(
    text: str, *, service_type: ServiceType | None = None, limit: int = SEARCH_LIMIT
) -> tuple[list[Agency], bool]:
    """Active agencies whose code starts with ``text``, or one of the words of whose name does
    (case-insensitive), providing ``service_type`` when given: the exact code first, then codes,
    then names, by name; at most ``limit``, and whether there are more. The caller checks
    ``text`` (``SEARCH_MIN`` to ``SEARCH_MAX`` characters)."""
    text = text.strip()
    by_code = Agency.code.istartswith(text, autoescape=True)
    by_name = or_(
        Agency.name.istartswith(text, autoescape=True),
        Agency.name.icontains(" " + text, autoescape=True),
    )
    query = (
        select(Agency)
        .join(Agency.region)
        .where(Agency.active.is_(True), or_(by_code, by_name))
        .options(contains_eager(Agency.region), selectinload(Agency.services))
        .order_by(
            sa_case((func.lower(Agency.code) == text.lower(), 0), (by_code, 1), else_=2),
            Agency.name,
            Agency.id,
        )
        .limit(limit + 1)
    )
    if service_type is not None:
        query = query.where(Agency.services.any(AgencyService.service_type == service_type))
    rows = list(db.session.scalars(query))
    return rows[:limit], len(rows) > limit


def agency_may_join(agency: Agency, task_force: TaskForce) -> bool:
    """The membership rule: located in the task force's region (or under it), or of national
    or overseas reach."""
    return agency.type in NATIONAL_REACH_TYPES or region_code_within(
        agency.region.code, task_force.region.code
    )


def member_candidates(sub_task_force: SubTaskForce) -> list[Agency]:
    """Active agencies that may join ``sub_task_force`` and are not members yet."""
    members = select(SubTaskForceMember.agency_id).where(
        SubTaskForceMember.sub_task_force_id == sub_task_force.id
    )
    region_code = sub_task_force.task_force.region.code
    return list(
        db.session.scalars(
            select(Agency)
            .join(Agency.region)
            .options(contains_eager(Agency.region))
            .where(
                Agency.active.is_(True),
                Agency.id.not_in(members),
                or_(_region_subtree(region_code), Agency.type.in_(NATIONAL_REACH_TYPES)),
            )
            .order_by(Agency.code)
        )
    )


def sub_task_forces_of_agency(agency: Agency) -> list[SubTaskForce]:
    """The Sub GTs ``agency`` is a member of, by region code and Sub GT order."""
    return list(
        db.session.scalars(
            select(SubTaskForce)
            .join(SubTaskForceMember, SubTaskForceMember.sub_task_force_id == SubTaskForce.id)
            .join(SubTaskForce.task_force)
            .join(TaskForce.region)
            .where(SubTaskForceMember.agency_id == agency.id)
            .options(joinedload(SubTaskForce.task_force).joinedload(TaskForce.region))
            .order_by(Region.code, SubTaskForce.id)
        )
    )


# --- task forces ----------------------------------------------------------------------------


def sub_task_force_choices() -> list[tuple[str, str]]:
    rows = db.session.scalars(
        select(SubTaskForce)
        .join(SubTaskForce.task_force)
        .join(TaskForce.region)
        .options(joinedload(SubTaskForce.task_force).joinedload(TaskForce.region))
        .order_by(Region.code, SubTaskForce.id)
    )
    return [(str(s.id), f"{s.task_force.region.code} — {label(s.key)}") for s in rows]


def get_sub_task_force_by_id(sub_task_force_id: int) -> SubTaskForce | None:
    return db.session.get(SubTaskForce, sub_task_force_id)


def get_sub_task_force(region_code: str, key: str) -> SubTaskForce | None:
    return db.session.scalar(
        select(SubTaskForce)
        .join(SubTaskForce.task_force)
        .join(TaskForce.region)
        .where(Region.code == region_code, SubTaskForce.key == key)
    )


def list_task_forces() -> list[TaskForce]:
    """Every task force with its region and Sub GT members, by region code."""
    return list(
        db.session.scalars(
            select(TaskForce)
            .join(TaskForce.region)
            .options(
                joinedload(TaskForce.region),
                selectinload(TaskForce.sub_task_forces).selectinload(SubTaskForce.members),
            )
            .order_by(Region.code)
        )
    )


def get_task_force(task_force_id: int) -> TaskForce | None:
    """A task force with its six Sub GTs and their member agencies loaded."""
    return db.session.get(
        TaskForce,
        task_force_id,
        options=[
            joinedload(TaskForce.region),
            selectinload(TaskForce.sub_task_forces)
            .selectinload(SubTaskForce.members)
            .joinedload(SubTaskForceMember.agency)
            .joinedload(Agency.region),
        ],
    )


def get_task_force_for_region(region: Region | str) -> TaskForce | None:
    return db.session.scalar(
        select(TaskForce).join(TaskForce.region).where(Region.code == _code(region))
    )


def get_sub_task_force_of(task_force: TaskForce, sub_task_force_id: int) -> SubTaskForce | None:
    """The Sub GT ``sub_task_force_id`` when it belongs to ``task_force``."""
    return next((s for s in task_force.sub_task_forces if s.id == sub_task_force_id), None)


def regions_without_task_force() -> list[Region]:
    """Provinces and regencies/cities that have no task force yet, by code."""
    return list(
        db.session.scalars(
            select(Region)
            .where(
                Region.level.in_(TASK_FORCE_LEVELS),
                ~select(TaskForce.id).where(TaskForce.region_id == Region.id).exists(),
            )
            .order_by(Region.code)
        )
    )


def sub_task_force_for_service(
    region: Region | str, service_type: ServiceType | str
) -> SubTaskForce | None:
    """The Sub GT that reviews ``service_type`` for cases of ``region``.

    That is the Sub GT of the nearest task force at the region or above it (a kecamatan's
    cases go to its kabupaten/kota's GT; without one, to the province's). ``None`` when the
    service type has no Sub GT review or no such task force exists.
    """
    key = SERVICE_SUBTASKFORCE.get(ServiceType(service_type))
    if key is None:
        return None
    codes = _ancestor_codes(_code(region))
    return db.session.scalar(
        select(SubTaskForce)
        .join(SubTaskForce.task_force)
        .join(TaskForce.region)
        .where(Region.code.in_(codes), SubTaskForce.key == key)
        .options(joinedload(SubTaskForce.task_force).joinedload(TaskForce.region))
        .order_by(func.length(Region.code).desc())
        .limit(1)
    )


def services_reviewed_by(key: SubTaskForceKey | str) -> list[ServiceType]:
    """The service types a Sub GT reviews (domain.md §3), in vocabulary order."""
    key = SubTaskForceKey(key)
    return [service for service, reviewer in SERVICE_SUBTASKFORCE.items() if reviewer is key]


# Who holds the Sub GT coordinator role is a role grant, and grants are auth's, built on the
# agencies: auth registers the answer from its ``init_app`` (``auth.grants.coordinators_of``).
CoordinatorsOf = Callable[[TaskForce], "dict[int, list[User]]"]
_coordinators_of: list[CoordinatorsOf] = []


def register_coordinators(find: CoordinatorsOf) -> None:
    _coordinators_of[:] = [find]


def coordinators_of(task_force: TaskForce) -> dict[int, list[User]]:
    """``{sub_task_force_id: [users]}``: who holds the Sub GT coordinator role on each Sub GT."""
    if not _coordinators_of:
        return {s.id: [] for s in task_force.sub_task_forces}
    return _coordinators_of[0](task_force)


def names_by_code(codes: Iterable[str]) -> dict[str, str]:
    """The name of each agency code (the code itself for one that is not an agency's), for text
    that stores codes (a consent's ``rujukan:<code>``) and shows names; read once per code for a
    rendered page."""

    def read(missing: list[str]) -> dict[str, str]:
        found = dict(
            db.session.execute(select(Agency.code, Agency.name).where(Agency.code.in_(missing)))
            .tuples()
            .all()
        )
        return {code: found.get(code, code) for code in missing}

    return read_each("agencies.name_by_code", codes, read)
