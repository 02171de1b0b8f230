"""The rollup at national scale: regions without agencies are not stored but still answer with
the figures they had (``compute.empty``); the referral figures of each receiving agency are
stored at rollup and the dashboard reads them (no statement over cases or referrals, and as
many statements with more data); a kab/kota rollup writes only its own subtree."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.core.enums import ReferralState, Role, ServiceType, TrackState
from app.extensions import db
from app.indicators.compute import NO_POPULATION, NO_VICTIMS, Scope, compute, region_tree
from app.indicators.definitions import current_definitions, sync_definitions
from app.indicators.models import IndicatorValue, ReferralFigure
from app.indicators.operations import close_period, rollup
from app.indicators.periods import parse
from app.indicators.queries import figures, has_values, referral_rows
from app.referrals.metrics import referral_metrics
from app.referrals.models import Referral
from tests.factories import (
    AgencyFactory,
    KabkotaFactory,
    KecamatanFactory,
    ProvinceFactory,
    UserFactory,
)
from tests.fixtures import login_as
from tests.indicators.test_compute import (
    ACTOR,
    ALL_SERVICES,
    person,
    register,
    standard_population,
    track,
    wib,
)
from tests.sql_count import count_statements

pytestmark = pytest.mark.postgres

YEAR = "2025"
# a statement that reads case data: the dashboard must not issue one
CASE_DATA = re.compile(
    r"\b(FROM|JOIN)\s+(cases|victims|referrals|service_tracks|deadlines|consent_entries)\b",
    re.IGNORECASE,
)


@pytest.fixture
def world() -> dict[str, Any]:
    """A province with a kab/kota holding two agencies (one with a kecamatan without any),
    and a kab/kota without agencies whose kecamatan has population figures."""
    sync_definitions()
    province = ProvinceFactory()
    kab = KabkotaFactory(parent=province)
    kec_empty = KecamatanFactory(parent=kab)
    kab_empty = KabkotaFactory(parent=province)
    kec_far = KecamatanFactory(parent=kab_empty)
    standard_population(kab, girls=8000, women=7000, boys=8000, men=7000)
    standard_population(kec_far, girls=800, women=700, boys=800, men=700)
    uptd = AgencyFactory(region=kab, services=ALL_SERVICES)
    police = AgencyFactory(region=kab, services=ALL_SERVICES)
    register(uptd, [person("P", age=30), person("L", age=9)], received=wib(2025, 3, 3))
    return {
        "province": province,
        "kab": kab,
        "kec_empty": kec_empty,
        "kab_empty": kab_empty,
        "kec_far": kec_far,
        "uptd": uptd,
        "police": police,
        "leader": UserFactory(roles=[(Role.PIMPINAN, uptd)]),
    }


def stored_regions(period: str) -> set[int | None]:
    return set(
        db.session.scalars(
            select(IndicatorValue.region_id).where(IndicatorValue.period == period).distinct()
        )
    )


def answered(region_id: int, period: str) -> dict[tuple[str, str], tuple[Any, Any, Any]]:
    return {
        (f.definition.code, f.breakdown): (f.numerator, f.denominator, f.reason)
        for f in figures(region_id, period)
    }


def reference(region_id: int, period: str) -> dict[tuple[str, str], tuple[Any, Any, Any]]:
    """``compute.compute`` of every definition for the region: the per-region reference."""
    tree = region_tree()
    parsed = parse(period)
    scope = Scope(period=parsed, agency_ids=(), region_id=region_id, region_ids=None)
    return {
        (d.code, breakdown): (r.numerator, r.denominator, r.reason)
        for d in current_definitions(parsed.start_date)
        for breakdown, r in compute(d, scope, tree).items()
    }


def test_regions_without_agencies_are_not_stored_and_answer_as_before(
    app: Flask, world: dict[str, Any]
) -> None:
    empty = [world["kec_empty"], world["kab_empty"], world["kec_far"]]
    for region in empty:  # before any rollup: nothing, as for any region
        assert figures(region.id, YEAR) == []
        assert not has_values(region.id, YEAR)
    rollup(YEAR, actor=ACTOR)
    stored = stored_regions(YEAR)
    assert {None, world["province"].id, world["kab"].id} <= stored
    assert not stored & {r.id for r in empty}  # skipped: no rows
    for region in empty:
        got = answered(region.id, YEAR)
        assert got == reference(region.id, YEAR)  # what the per-region computation gives
        assert got[("jumlah_korban", "")] == (0, None, None)
        assert got[("pct_perempuan_layanan_komprehensif", "")][2] == NO_VICTIMS
        assert has_values(region.id, YEAR)
    # the kecamatan with population figures has its rate (0 per 100.000), the other has none
    far = answered(world["kec_far"].id, YEAR)[("rasio_kekerasan_perempuan", "")]
    assert far == (0, 1500, None)  # penduduk perempuan: every age
    assert answered(world["kec_empty"].id, YEAR)[("rasio_kekerasan_perempuan", "")] == (
        None,
        None,
        NO_POPULATION,
    )
    # a period no rollup covered answers nothing
    assert figures(world["kec_far"].id, "2024") == []
    # the CLI shows them, and the period can be closed for them
    out = app.test_cli_runner().invoke(
        args=["indicators", "show", "--period", YEAR, "--region", world["kec_far"].code]
    )
    assert out.exit_code == 0 and '"code": "jumlah_korban"' in out.output
    close_period(YEAR, world["kec_far"], actor=UserFactory())


def test_a_region_that_gets_an_agency_is_stored_and_kept_up_to_date(
    world: dict[str, Any],
) -> None:
    kec = world["kec_empty"]
    rollup(YEAR, actor=ACTOR)
    assert kec.id not in stored_regions(YEAR)
    puskesmas = AgencyFactory(region=kec, services=ALL_SERVICES)
    register(puskesmas, [person("P", age=40)], received=wib(2025, 5, 5))
    rollup(YEAR, actor=ACTOR)
    assert kec.id in stored_regions(YEAR)
    assert answered(kec.id, YEAR)[("jumlah_korban", "")][0] == 1
    # the agency moves away: its old values are brought back to the empty figures, not left
    puskesmas.region_id = world["kab"].id
    db.session.flush()
    report = rollup(YEAR, actor=ACTOR)
    assert report.written > 0
    got, want = answered(kec.id, YEAR), reference(kec.id, YEAR)
    assert {k: v for k, v in got.items() if not k[1]} == want
    # a category that occurred before counts zero now (stored rows are never deleted)
    assert {v for k, v in got.items() if k[1]} == {(0, None, None)}


def test_a_kabkota_rollup_writes_only_its_subtree(world: dict[str, Any]) -> None:
    elsewhere = AgencyFactory(region=KabkotaFactory(parent=ProvinceFactory()))
    register(elsewhere, [person("P", age=20)], received=wib(2025, 3, 2))
    send(world, world["uptd"], elsewhere, wib(2025, 4, 1), accepted_after=3)
    send(world, world["uptd"], world["police"], wib(2025, 4, 1), accepted_after=4)
    rollup(YEAR, region_code=world["kab"].code, actor=ACTOR)
    # the kab/kota itself (its kecamatan has no agency); not the province, the nation, the rest
    assert stored_regions(YEAR) == {world["kab"].id}
    assert set(
        db.session.scalars(select(ReferralFigure.agency_id).where(ReferralFigure.period == YEAR))
    ) == {world["police"].id}
    # its empty kecamatan answers from it
    assert answered(world["kec_empty"].id, YEAR) == reference(world["kec_empty"].id, YEAR)
    # and a kab/kota without agencies rolled up alone is stored, so that its kecamatan answer
    rollup(YEAR, region_code=world["kab_empty"].code, actor=ACTOR)
    assert world["kab_empty"].id in stored_regions(YEAR)
    assert answered(world["kec_far"].id, YEAR) == reference(world["kec_far"].id, YEAR)


# --- referral figures ------------------------------------------------------------------------


def send(
    world: dict[str, Any],
    sender: Any,
    to: Any,
    sent: dt.datetime,
    *,
    accepted_after: int | None = None,
    declined: bool = False,
) -> Referral:
    case = register(sender, [person("P", age=33)], received=sent - dt.timedelta(days=1))
    t = track(case, case.victims[0], ServiceType.PENDAMPINGAN, TrackState.DIRUJUK)
    state = ReferralState.DIKIRIM
    accepted = None
    if accepted_after is not None:
        state, accepted = ReferralState.DITERIMA, sent + dt.timedelta(hours=accepted_after)
    if declined:
        state = ReferralState.DITOLAK
    referral = Referral(
        case_id=case.id,
        track_id=t.id,
        from_agency_id=sender.id,
        to_agency_id=to.id,
        sent_at=sent,
        accepted_at=accepted,
        state=state,
        override_reason="Darurat",
        decline_reason="Layanan penuh" if declined else None,
    )
    db.session.add(referral)
    db.session.flush()
    return referral


def referral_table(body: str) -> str:
    return body.split('id="h-referrals"')[1].split("</section>")[0]


def test_referral_figures_are_stored_at_rollup_and_read_by_the_dashboard(
    world: dict[str, Any], client: Any
) -> None:
    uptd, police = world["uptd"], world["police"]
    for hours in (2, 5, 7, 11, 30):
        send(world, uptd, police, wib(2025, 6, 2), accepted_after=hours)
    send(world, uptd, police, wib(2025, 6, 3), declined=True)
    send(world, police, uptd, wib(2025, 6, 4))
    period = parse(YEAR)
    live = referral_metrics(period.start, period.end, by="agency", agency_ids=[uptd.id, police.id])
    login_as(client, world["leader"])
    url = f"/indikator?region={world['kab'].code}&period={YEAR}"
    assert "<td" not in referral_table(client.get(url).get_data(as_text=True))  # not rolled up
    rollup(YEAR, actor=ACTOR)
    assert referral_rows(world["kab"].id, YEAR) == live  # the same figures, the same order
    assert referral_rows(None, YEAR) == live
    assert referral_rows(world["kab_empty"].id, YEAR) == []
    table = referral_table(client.get(url).get_data(as_text=True))
    assert police.name in table and uptd.name in table
    assert "7,00" in table  # the median hours to acceptance of the five accepted
    # a referral sent after the rollup changes nothing until the next one
    send(world, uptd, police, wib(2025, 6, 9), accepted_after=1)
    assert referral_table(client.get(url).get_data(as_text=True)) == table
    second = rollup(YEAR, actor=ACTOR)
    assert second.written > 0
    assert referral_table(client.get(url).get_data(as_text=True)) != table
    # the same rollup again leaves every stored row as it was
    before = {(r.id, r.computed_at) for r in db.session.scalars(select(ReferralFigure))}
    rollup(YEAR, actor=ACTOR)
    db.session.expire_all()
    assert {(r.id, r.computed_at) for r in db.session.scalars(select(ReferralFigure))} == before


def test_the_dashboard_reads_no_case_data_and_its_statements_do_not_grow(
    world: dict[str, Any], client: Any
) -> None:
    uptd, police = world["uptd"], world["police"]
    send(world, uptd, police, wib(2025, 6, 2), accepted_after=3)
    rollup(YEAR, actor=ACTOR)
    login_as(client, world["leader"])
    url = f"/indikator?region={world['kab'].code}&period={YEAR}"
    client.get(url)  # the session's first request loads what every page needs once

    def statements() -> list[str]:
        with count_statements() as counted:
            assert client.get(url).status_code == 200
        return counted.statements

    small = statements()
    reading = [s for s in small if CASE_DATA.search(s)]
    assert reading == [], reading
    # ten times the agencies, cases and referrals
    for n in range(10):
        agency = AgencyFactory(region=world["kab"], services=ALL_SERVICES)
        register(agency, [person("P", age=20 + n), person("L", age=n)], received=wib(2025, 7, 1))
        send(world, agency, police, wib(2025, 7, 2), accepted_after=n + 1)
        send(world, police, agency, wib(2025, 7, 3), declined=True)
    rollup(YEAR, actor=ACTOR)
    client.get(url)
    big = statements()
    assert len(big) == len(small), (len(small), len(big))
    assert [s for s in big if CASE_DATA.search(s)] == []
