"""Storing indicator values (domain.md §6.6): idempotent rollups, closing a period, revisions
after a close, and which regions a case counts in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.operations import SystemActor
from app.core.db import utcnow
from app.core.enums import ServiceType
from app.core.errors import DomainError
from app.extensions import db
from app.indicators.models import IndicatorDefinition, IndicatorRevision, IndicatorValue
from app.indicators.operations import close_period, rollup
from app.indicators.queries import figures
from tests.factories import (
    AgencyFactory,
    KabkotaFactory,
    KecamatanFactory,
    ProvinceFactory,
    UserFactory,
)
from tests.indicators.test_compute import (
    ALL_SERVICES,
    done,
    person,
    register,
    standard_population,
    wib,
)

SYSTEM = SystemActor("t")


def all_rows() -> list[tuple[Any, ...]]:
    db.session.expire_all()
    return [
        (
            v.id,
            v.definition_id,
            v.region_id,
            v.period,
            v.breakdown,
            v.numerator,
            v.denominator,
            v.reason,
            v.computed_at,
        )
        for v in db.session.scalars(select(IndicatorValue).order_by(IndicatorValue.id))
    ]


def figure(region_id: int | None, period: str, code: str, breakdown: str = "") -> Any:
    found = [f for f in figures(region_id, period, codes=[code]) if f.breakdown == breakdown]
    assert len(found) == 1, (code, breakdown, found)
    return found[0]


@pytest.fixture
def kab() -> Any:
    return KabkotaFactory()


@pytest.fixture
def agency(kab: Any) -> Any:
    return AgencyFactory(region=kab, services=ALL_SERVICES)


def test_rollup_twice_gives_identical_rows(agency: Any, kab: Any) -> None:
    standard_population(kab, girls=8000, women=7000, boys=8000, men=7000)
    c = register(agency, [person("P", age=30), person("L", age=9)], assessed=wib(2025, 3, 15))
    done(c, c.victims[0], ServiceType.PENGADUAN, wib(2025, 3, 20))
    first_report = rollup("2025", actor=SYSTEM, now=dt.datetime(2026, 1, 2, 1, 0, tzinfo=dt.UTC))
    db.session.flush()
    first = all_rows()
    assert first and first_report.written == len(first)
    second_report = rollup("2025", actor=SYSTEM)  # later: the values did not change
    db.session.flush()
    assert all_rows() == first  # same numbers and the same computed_at, every column
    assert second_report.written == 0
    assert second_report.unchanged == len(first)
    assert {row[8] for row in first} == {dt.datetime(2026, 1, 2, 1, 0, tzinfo=dt.UTC)}


def test_rollup_updates_a_changed_value_of_an_open_period(agency: Any, kab: Any) -> None:
    register(agency, [person("P", age=30)])
    rollup("2025", actor=SYSTEM, now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    register(agency, [person("P", age=31)])
    later = dt.datetime(2026, 1, 3, tzinfo=dt.UTC)
    report = rollup("2025", actor=SYSTEM, now=later)
    assert report.written >= 1
    f = figure(kab.id, "2025", "jumlah_korban")
    assert f.numerator == 2 and f.computed_at == later
    assert f.revisions == []


def test_close_then_correction_without_and_with_a_reason(agency: Any, kab: Any) -> None:
    officer = UserFactory()
    register(agency, [person("P", age=30)], received=wib(2025, 7, 3))
    register(agency, [person("P", age=12)], received=wib(2025, 7, 4), case_types=("kta",))
    rollup("2025-07", actor=SYSTEM, now=dt.datetime(2025, 8, 3, tzinfo=dt.UTC))
    close_period("2025-07", kab, actor=officer)
    original = figure(kab.id, "2025-07", "jumlah_korban")
    assert original.numerator == 2
    value_row = (
        original.original.id,
        original.original.numerator,
        original.original.denominator,
        original.original.computed_at,
    )

    # a case of July registered late changes the count
    register(agency, [person("L", age=40)], received=wib(2025, 7, 20))
    report = rollup("2025-07", actor=SYSTEM)
    assert report.closed_skipped >= 1
    assert report.revised == 0
    assert db.session.scalar(select(IndicatorRevision.id).limit(1)) is None
    assert figure(kab.id, "2025-07", "jumlah_korban").numerator == 2  # frozen

    report = rollup("2025-07", actor=officer, revise_reason="Kasus Juli yang terlambat dicatat")
    assert report.revised >= 1
    db.session.expire_all()
    definition = db.session.scalar(
        select(IndicatorDefinition).where(IndicatorDefinition.code == "jumlah_korban")
    )
    row = db.session.scalar(
        select(IndicatorValue).where(
            IndicatorValue.definition_id == definition.id,
            IndicatorValue.region_id == kab.id,
            IndicatorValue.period == "2025-07",
            IndicatorValue.breakdown == "",
        )
    )
    # the original value row is unchanged
    assert (row.id, row.numerator, row.denominator, row.computed_at) == value_row
    revisions = list(
        db.session.scalars(select(IndicatorRevision).where(IndicatorRevision.value_id == row.id))
    )
    assert len(revisions) == 1
    rev = revisions[0]
    assert rev.numerator == 3 and rev.denominator is None
    assert rev.why == "Kasus Juli yang terlambat dicatat"
    assert rev.revised_by_id == officer.id
    assert rev.revised_at is not None
    # figures: the revised numbers, the revision list, the original still visible
    f = figure(kab.id, "2025-07", "jumlah_korban")
    assert f.numerator == 3
    assert f.value == Decimal("3")
    assert [r.id for r in f.revisions] == [rev.id]
    assert f.original.numerator == 2
    assert f.original_value == Decimal("2")
    # the added victim is a man: jumlah_korban_perempuan did not change and gets no revision
    w = figure(kab.id, "2025-07", "jumlah_korban_perempuan")
    assert w.numerator == 1 and w.revisions == []
    # running the revision again adds nothing
    again = rollup("2025-07", actor=officer, revise_reason="lagi")
    assert again.revised == 0
    assert len(figure(kab.id, "2025-07", "jumlah_korban").revisions) == 1
    # a second correction revises the revised figure: 3 → 4, both revisions listed in order
    register(agency, [person("P", age=9)], received=wib(2025, 7, 21), case_types=("kta",))
    assert rollup("2025-07", actor=officer, revise_reason="koreksi kedua").revised >= 1
    f = figure(kab.id, "2025-07", "jumlah_korban")
    assert f.numerator == 4
    assert [r.numerator for r in f.revisions] == [3, 4]
    assert [r.why for r in f.revisions] == ["Kasus Juli yang terlambat dicatat", "koreksi kedua"]
    assert f.original.numerator == 2


def test_close_is_refused_before_the_period_ended(kab: Any) -> None:
    officer = UserFactory()
    next_year = str(utcnow().year + 1)
    with pytest.raises(DomainError):
        close_period(next_year, kab, actor=officer)
    this_month = f"{utcnow().year}-{utcnow().month:02d}"
    with pytest.raises(DomainError):
        close_period(this_month, kab, actor=officer)


def test_close_is_refused_without_values(kab: Any) -> None:
    officer = UserFactory()
    with pytest.raises(DomainError):
        close_period("2024", kab, actor=officer)
    rollup("2024", region_code=kab.code, actor=SYSTEM)
    close_period("2024", kab, actor=officer)
    with pytest.raises(DomainError):  # and only once
        close_period("2024", kab, actor=officer)


def test_national_value_sums_every_region() -> None:
    k1 = KabkotaFactory()
    k2 = KabkotaFactory(parent=ProvinceFactory())
    assert k1.parent_id != k2.parent_id
    a1 = AgencyFactory(region=k1, services=ALL_SERVICES)
    a2 = AgencyFactory(region=k2, services=ALL_SERVICES)
    register(a1, [person("P", age=30), person("P", age=10)])
    register(a2, [person("P", age=31)])
    register(a2, [person("L", age=41)])
    rollup("2025", actor=SYSTEM)
    assert figure(k1.id, "2025", "jumlah_korban").numerator == 2
    assert figure(k2.id, "2025", "jumlah_korban").numerator == 2
    assert figure(k1.parent_id, "2025", "jumlah_korban").numerator == 2
    national = figure(None, "2025", "jumlah_korban")
    assert national.region is None
    assert national.numerator == 4
    assert figure(None, "2025", "jumlah_korban_perempuan").numerator == 2
    assert figure(None, "2025", "korban_menurut_jenis_kelamin", "P").numerator == 3


def test_kecamatan_agency_counts_in_its_kabkota_and_province() -> None:
    kec = KecamatanFactory()
    kab = kec.parent
    province = kab.parent
    other_kec = KecamatanFactory(parent=kab)
    agency = AgencyFactory(region=kec, services=ALL_SERVICES)
    register(agency, [person("P", age=30), person("L", age=7)])
    rollup("2025", actor=SYSTEM)
    for region in (kec, kab, province):
        assert figure(region.id, "2025", "jumlah_korban").numerator == 2, region.level
        assert figure(region.id, "2025", "jumlah_korban_anak").numerator == 1
    assert figure(other_kec.id, "2025", "jumlah_korban").numerator == 0
    assert figure(None, "2025", "jumlah_korban").numerator == 2


def test_rollup_of_one_region_only_touches_it_and_below() -> None:
    kab = KabkotaFactory()
    kec = KecamatanFactory(parent=kab)
    other = KabkotaFactory()
    register(AgencyFactory(region=kec, services=ALL_SERVICES), [person("P", age=30)])
    rollup("2025", region_code=kab.code, actor=SYSTEM)
    assert figure(kab.id, "2025", "jumlah_korban").numerator == 1
    assert figure(kec.id, "2025", "jumlah_korban").numerator == 1
    assert figures(other.id, "2025") == []
    assert figures(None, "2025") == []
    assert figures(kab.parent_id, "2025") == []
    with pytest.raises(DomainError):
        rollup("2025", region_code="99.99.99", actor=SYSTEM)


def test_stored_rate_without_population_has_a_reason(agency: Any, kab: Any) -> None:
    register(agency, [person("P", age=30)])
    rollup("2025", region_code=kab.code, actor=SYSTEM)
    f = figure(kab.id, "2025", "rasio_kekerasan_perempuan")
    assert f.numerator is None and f.value is None
    assert f.reason


def test_the_monthly_job_rolls_up_the_month_before_and_its_longer_periods(
    agency: Any, kab: Any
) -> None:
    from app.indicators.tasks import monthly_rollup

    register(agency, [person("P", age=30)], received=wib(2025, 7, 20))
    # run on 2 August (WIB): July, the third quarter, the second semester and the year
    done = monthly_rollup.run("2025-08-02T01:30:00+07:00")
    assert done == ["2025-07", "2025-Q3", "2025-S2", "2025"]
    for period in done:
        assert figure(kab.id, period, "jumlah_korban").numerator == 1
    assert figure(None, "2025-07", "jumlah_korban").numerator == 1  # national too
    # run again (the beat runs on days 1-5): nothing changes
    before = all_rows()
    monthly_rollup.run("2025-08-03T01:30:00+07:00")
    assert all_rows() == before
