"""Which regions a user may see indicators of — the one scope of every indicator page, the
monthly report and the jobs (domain.md §1.2: data officers and leaders see the dashboards and
reports *of their region*).

The rule: an **active** user reaches the region of every agency where they hold a role with the
permission asked for (``indicators:view``, ``indicators:manage``, ``periods:close``), and every
region under it down to the kecamatan level — figures stop there, a desa has none. The national
level is reached only when those agencies' regions include every top-level region. A region
outside the reach is answered as if it did not exist (404); so is a job of such a region,
unless the user asked for it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.auth.models import User
from app.core.enums import RegionLevel
from app.core.permissions import permissions_for_roles
from app.extensions import db
from app.indicators.disclosure import below_kabkota
from app.indicators.models import ReportJob
from app.regions.models import Region

VIEW, MANAGE, CLOSE = "indicators:view", "indicators:manage", "periods:close"
NATIONAL = "nasional"


class OutOfReach(LookupError):
    """A region (or the national level) the user may not see: the page answers 404."""


@dataclass
class Reach:
    """The regions a user may see (id → region, above the desa level) and the national level."""

    regions: dict[int, Region]
    national: bool
    home: list[Region]  # the agencies' own regions, highest first

    def ordered(self) -> list[Region]:
        return sorted(self.regions.values(), key=lambda r: r.code)

    def includes(self, region_id: int | None) -> bool:
        """Whether the region (None: the national level) is within reach."""
        return self.national if region_id is None else region_id in self.regions

    def pick(self, code: str | None) -> Region | None:
        """The region named by ``code`` (``nasional``: None); no code: the user's own top
        region (or the national level). ``OutOfReach`` when the user may not see it."""
        code = (code or "").strip()
        if not code:
            if self.home:
                return self.home[0]
            if self.national:
                return None
            raise OutOfReach(code)
        if code.lower() == NATIONAL:
            if self.national:
                return None
            raise OutOfReach(code)
        for region in self.regions.values():
            if region.code == code:
                return region
        raise OutOfReach(code)

    def children(self, region: Region | None) -> list[Region]:
        """The regions within reach right under ``region`` (None: the top level)."""
        parent_id = region.id if region is not None else None
        return [r for r in self.ordered() if r.parent_id == parent_id]

    def target_regions(self) -> list[Region]:
        """The regions whose targets a user sets (the targets page's choice, the upload's
        scope): those reached down to the kabupaten/kota level, and the user's own agencies'
        regions."""
        return [r for r in self.ordered() if not below_kabkota(r) or r in self.home]


def reach_of(user: User, permission: str = VIEW) -> Reach:
    """The one scope function: what ``user`` reaches with ``permission`` (see the module)."""
    if not user.active:
        return Reach({}, False, [])
    own = {
        g.agency.region_id
        for g in user.grants
        if g.agency is not None and permission in permissions_for_roles([g.role])
    }
    if not own:
        return Reach({}, False, [])
    # the agencies' regions and every region under them, walked down the parent index (the
    # regions of the reach, not every region of the country)
    top = select(Region).where(Region.id.in_(own)).cte("reached", recursive=True)
    below = aliased(Region)
    reached = aliased(Region, top.union(select(below).join(top, below.parent_id == top.c.id)))
    regions = {
        r.id: r
        for r in db.session.scalars(select(reached).where(reached.level != RegionLevel.DESA))
    }
    roots = set(db.session.scalars(select(Region.id).where(Region.parent_id.is_(None))))
    home = sorted((regions[i] for i in own if i in regions), key=lambda r: (r.level.depth, r.code))
    return Reach(regions, bool(roots) and roots <= own, home)


def may_see_job(user: User, job: ReportJob, permission: str) -> bool:
    """A job (rollup or report) is seen by the one who asked for it, and by whoever reaches its
    region with ``permission``."""
    if job.requested_by_id == user.id:
        return True
    return reach_of(user, permission).includes(job.region_id)
