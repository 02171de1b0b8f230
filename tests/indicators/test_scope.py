"""One scope for every indicator page (scope.reach_of). The monthly report pages used to have a
scope of their own (``user_region_ids``) that disagreed with the dashboard's: it counted the desa
under a user's regions, so a report job of a desa was open to them although no page offers a
desa, and it had no national level, so a national data officer could not follow a national
report job. Both now follow the dashboard's rule."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from app.core.enums import RegionLevel, Role
from app.extensions import db
from app.indicators.models import ReportJob
from app.indicators.scope import MANAGE, VIEW, reach_of
from app.regions.models import Region
from tests.factories import AgencyFactory, KabkotaFactory, KecamatanFactory, UserFactory
from tests.fixtures import login

MONTH = "2025-03"


@pytest.fixture
def world() -> dict[str, Any]:
    kab = KabkotaFactory()
    kec = KecamatanFactory(parent=kab)
    desa = Region(code=f"{kec.code}.2001", name="Desa Uji", level=RegionLevel.DESA, parent=kec)
    db.session.add(desa)
    db.session.flush()
    provinces = list(db.session.scalars(sa.select(Region).where(Region.parent_id.is_(None))))
    national = UserFactory(roles=[(Role.ANALIS_DATA, AgencyFactory(region=p)) for p in provinces])
    return {
        "kab": kab,
        "kec": kec,
        "desa": desa,
        "analyst": UserFactory(roles=[(Role.ANALIS_DATA, AgencyFactory(region=kab))]),
        "leader": UserFactory(roles=[(Role.PIMPINAN, AgencyFactory(region=kab))]),
        "national": national,
        "other": UserFactory(roles=[(Role.ANALIS_DATA, AgencyFactory(region=kab))]),
    }


def test_the_reach_is_the_agencies_regions_down_to_the_kecamatan(world: dict[str, Any]) -> None:
    kab, kec, desa = world["kab"], world["kec"], world["desa"]
    reach = reach_of(world["analyst"])
    assert reach.includes(kab.id) and reach.includes(kec.id)
    assert not reach.includes(desa.id)  # figures stop at the kecamatan
    assert not reach.includes(kab.parent_id) and not reach.includes(None)
    assert reach.home == [kab]
    # a leader sees the dashboards of the region, but manages nothing there
    assert reach_of(world["leader"]).includes(kab.id)
    assert not reach_of(world["leader"], MANAGE).regions
    # the national level: agencies in every top-level region
    assert reach_of(world["national"]).includes(None)
    # an account that was switched off reaches nothing, whatever its grants
    world["analyst"].active = False
    assert not reach_of(world["analyst"], VIEW).regions


def report_job(region: Region | None, by: Any) -> ReportJob:
    job = ReportJob(
        kind="report",
        region_id=region.id if region is not None else None,
        period=MONTH,
        format="xlsx",
        requested_by_id=by.id,
    )
    db.session.add(job)
    db.session.flush()
    return job


def test_report_jobs_follow_the_dashboards_scope(world: dict[str, Any], client: Any) -> None:
    """Where the report pages' own scope disagreed with the dashboard's."""
    of_desa = report_job(world["desa"], world["other"])
    of_nation = report_job(None, world["other"])
    of_kec = report_job(world["kec"], world["other"])
    login(client, world["analyst"])
    assert client.get(f"/indikator/laporan/{of_kec.id}").status_code == 200
    # the report pages counted the desa in; no page offers a desa
    assert client.get(f"/indikator/laporan/{of_desa.id}").status_code == 404
    assert client.get(f"/indikator?region={world['desa'].code}").status_code == 404
    assert client.get(f"/indikator/laporan/{of_nation.id}").status_code == 404
    client.post("/keluar")
    # the report pages had no national level; the dashboard has
    login(client, world["national"])
    assert client.get("/indikator?region=nasional").status_code == 200
    assert client.get(f"/indikator/laporan/{of_nation.id}").status_code == 200
