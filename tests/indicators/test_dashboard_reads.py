"""The dashboard's reads: the period's figures and the twelve months of its trend read together
(``queries.dashboard_figures``) are exactly what ``queries.figures`` gives for each period —
revisions, targets, breakdowns, regions without agencies and the national level alike — and the
years of the period picker are every year with stored values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.core.enums import Role
from app.extensions import db
from app.indicators import queries
from app.indicators.definitions import sync_definitions
from app.indicators.models import (
    IndicatorDefinition,
    IndicatorRevision,
    IndicatorTarget,
    IndicatorValue,
)
from tests.factories import AgencyFactory, KabkotaFactory, KecamatanFactory, UserFactory

pytestmark = pytest.mark.postgres

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def _store(definitions: list[IndicatorDefinition], region: Any, period: str, seed: int) -> None:
    for d in definitions:
        breakdowns = ["a", "b"] if d.method == "breakdown" else [""]
        for n, breakdown in enumerate(breakdowns):
            db.session.add(
                IndicatorValue(
                    definition_id=d.id,
                    region_id=region.id if region is not None else None,
                    period=period,
                    breakdown=breakdown,
                    numerator=Decimal((d.id * 7 + seed * 3 + n) % 40),
                    denominator=Decimal(40 + seed) if d.scale != 1 else None,
                )
            )


def _key(items: list[queries.Figure]) -> list[tuple[Any, ...]]:
    return [
        (
            f.definition.id,
            f.region.id if f.region is not None else None,
            f.period,
            f.breakdown,
            f.numerator,
            f.denominator,
            f.reason,
            f.computed_at,
            f.target,
            [r.id for r in f.revisions],
            f.original.id,
        )
        for f in items
    ]


@pytest.fixture
def world() -> dict[str, Any]:
    sync_definitions()
    kab = KabkotaFactory(name="Kabupaten Baca")
    empty_kec = KecamatanFactory(parent=kab, name="Kecamatan Tanpa Lembaga")
    agency = AgencyFactory(region=kab)
    analyst = UserFactory(roles=[(Role.ANALIS_DATA, agency)])
    definitions = list(
        db.session.scalars(sa.select(IndicatorDefinition).order_by(IndicatorDefinition.id))
    )
    for region in (kab, None):
        _store(definitions, region, "2025", 0)
        for seed, month in enumerate(MONTHS[:9], start=1):  # no values from October on
            _store(definitions, region, month, seed)
    db.session.flush()
    headline = next(d for d in definitions if d.headline)
    db.session.add(IndicatorTarget(code=headline.code, region_id=kab.id, year=2025, value=50))
    for period in ("2025", "2025-03"):
        value = db.session.scalar(
            sa.select(IndicatorValue).where(
                IndicatorValue.region_id == kab.id,
                IndicatorValue.period == period,
                IndicatorValue.definition_id == headline.id,
            )
        )
        assert value is not None
        for numerator in (3, 4):
            db.session.add(
                IndicatorRevision(
                    value_id=value.id,
                    numerator=Decimal(numerator),
                    denominator=Decimal(40),
                    why="Koreksi",
                    revised_by_id=analyst.id,
                )
            )
    db.session.flush()
    return {"kab": kab, "empty_kec": empty_kec, "headline": headline}


@pytest.mark.parametrize("period", ["2025", "2025-03", "2025-11", "2025-Q1"])
@pytest.mark.parametrize("where", ["kab", "empty_kec", "national"])
def test_the_dashboards_reads_are_the_figures_of_each_period(
    world: dict[str, Any], period: str, where: str
) -> None:
    region_id = None if where == "national" else world[where].id
    read = queries.dashboard_figures(region_id, period, MONTHS)
    expected = queries.figures(region_id, period)
    assert _key(read.figures) == _key(expected)
    if period in ("2025", "2025-03"):
        assert read.figures, "the period has figures"
    headline = sorted(
        {f.definition.code for f in expected if not f.breakdown and f.definition.headline}
    ) or sorted(
        set(
            db.session.scalars(
                sa.select(IndicatorDefinition.code).where(IndicatorDefinition.headline)
            )
        )
    )
    assert read.codes == headline and world["headline"].code in headline
    assert list(read.months) == MONTHS
    for month in MONTHS:
        assert _key(read.months[month]) == _key(queries.figures(region_id, month, codes=headline))
    if where == "kab":
        march = read.months["2025-03"]
        revised = [f for f in march if f.definition.id == world["headline"].id]
        assert revised[0].numerator == 4 and len(revised[0].revisions) == 2
        assert revised[0].target == 50
        assert not read.months["2025-11"]  # no values, a region with an agency: none


def test_a_period_without_headline_figures_trends_every_headline_definition(
    world: dict[str, Any],
) -> None:
    kab = world["kab"]
    read = queries.dashboard_figures(kab.id, "2024", MONTHS)
    assert read.figures == queries.figures(kab.id, "2024") == []
    every = sorted(
        set(
            db.session.scalars(
                sa.select(IndicatorDefinition.code).where(IndicatorDefinition.headline)
            )
        )
    )
    assert read.codes == every
    for month in MONTHS:
        assert _key(read.months[month]) == _key(queries.figures(kab.id, month, codes=every))


def test_the_stored_years_are_every_year_with_values(world: dict[str, Any]) -> None:
    definition = world["headline"]
    for period in ("2019-S2", "2021", "2021-07", "2023-Q4", "2030-12"):
        db.session.add(
            IndicatorValue(
                definition_id=definition.id,
                region_id=None,
                period=period,
                breakdown="",
                numerator=Decimal(1),
                denominator=Decimal(2),
            )
        )
    db.session.flush()
    distinct = {
        int(y)
        for y in db.session.scalars(
            sa.select(sa.func.substr(IndicatorValue.period, 1, 4)).distinct()
        )
    }
    assert queries.stored_years() == distinct == {2019, 2021, 2023, 2025, 2030}
