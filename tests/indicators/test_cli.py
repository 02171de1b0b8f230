"""``flask indicators rollup`` and ``flask indicators show --format json`` (interfaces.md §2,
§4)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.core.enums import ServiceType
from app.extensions import db
from app.indicators.models import IndicatorValue
from app.indicators.queries import figures
from tests.factories import AgencyFactory, KabkotaFactory
from tests.indicators.test_compute import (
    ALL_SERVICES,
    done,
    person,
    register,
    standard_population,
    track,
    wib,
)

KEYS = {
    "code",
    "definition_version",
    "region",
    "period",
    "numerator",
    "denominator",
    "scale",
    "value",
    "suppressed",
    "computed_at",
}


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["indicators", *args])


@pytest.fixture
def kab() -> Any:
    return KabkotaFactory()


@pytest.fixture
def history(kab: Any) -> Any:
    """6 women (5 comprehensive), 1 child; population P 15,000, anak 16,000."""
    from app.core.enums import TrackState

    agency = AgencyFactory(region=kab, services=ALL_SERVICES)
    standard_population(kab, girls=8000, women=7000, boys=8000, men=7000)
    for i in range(6):
        c = register(agency, [person("P", age=30 + i)], assessed=wib(2025, 3, 15))
        if i < 5:
            done(c, c.victims[0], ServiceType.PENGADUAN, wib(2025, 3, 20))
        else:
            track(c, c.victims[0], ServiceType.PENGADUAN, TrackState.BERJALAN)
    register(agency, [person("L", age=9)], case_types=("kta",))
    return agency


def shown(app: Flask, kab: Any, period: str = "2025") -> dict[tuple[str, str], dict[str, Any]]:
    result = run(app, "show", "--period", period, "--region", kab.code, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert isinstance(data, list) and data
    return {(row["code"], row.get("breakdown", "")): row for row in data}


def test_rollup_then_show_json(app: Flask, kab: Any, history: Any) -> None:
    result = run(app, "rollup", "--period", "2025")
    assert result.exit_code == 0, result.output
    assert "period 2025" in result.output
    rows = shown(app, kab)

    for row in rows.values():
        assert set(row) >= KEYS, row
        assert row["region"] == kab.code and row["period"] == "2025"
        assert isinstance(row["definition_version"], int)
        assert isinstance(row["suppressed"], bool)
        parsed = dt.datetime.fromisoformat(row["computed_at"])
        assert parsed.utcoffset() == dt.timedelta(0)
        if row["value"] is None:
            assert row.get("reason")

    # rasio_kekerasan_perempuan: 6 ÷ 15,000 x 100,000 = 40.00
    assert {k: rows[("rasio_kekerasan_perempuan", "")][k] for k in KEYS - {"computed_at"}} == {
        "code": "rasio_kekerasan_perempuan",
        "definition_version": 1,
        "region": kab.code,
        "period": "2025",
        "numerator": 6,
        "denominator": 15000,
        "scale": 100000,
        "value": "40.00",
        "suppressed": False,
    }
    # rasio_kekerasan_anak: 1 ÷ 16,000 x 100,000 = 6.25, from a count of 1 → marked
    anak = rows[("rasio_kekerasan_anak", "")]
    assert (anak["numerator"], anak["denominator"], anak["value"]) == (1, 16000, "6.25")
    assert anak["suppressed"] is True
    # combined: 7 ÷ 31,000 x 10,000 = 2.258… → 2.26
    both = rows[("rasio_kekerasan_perempuan_anak", "")]
    assert (both["numerator"], both["denominator"], both["scale"]) == (7, 31000, 10000)
    assert both["value"] == "2.26"
    # 5 ÷ 6 x 100 = 83.333… → 83.33
    pct = rows[("pct_perempuan_layanan_komprehensif", "")]
    assert (pct["numerator"], pct["denominator"], pct["scale"]) == (5, 6, 100)
    assert pct["value"] == "83.33" and pct["suppressed"] is False
    # anak: 0 ÷ 1 = 0.00, from a denominator of 1 child → marked
    pa = rows[("pct_anak_layanan_komprehensif", "")]
    assert (pa["numerator"], pa["denominator"], pa["value"]) == (0, 1, "0.00")
    assert pa["suppressed"] is True
    # a value that cannot be computed: null with a reason
    med = rows[("median_jam_rujukan_diterima", "")]
    assert med["value"] is None and med["reason"]
    plan = rows[("cakupan_mediasi_direncanakan", "")]
    assert plan["value"] is None and plan["reason"]
    # a breakdown carries its category
    assert rows[("korban_menurut_jenis_kelamin", "P")]["numerator"] == 6
    assert rows[("korban_menurut_jenis_kelamin", "L")]["numerator"] == 1


def test_json_matches_figures(app: Flask, kab: Any, history: Any) -> None:
    assert run(app, "rollup", "--period", "2025").exit_code == 0
    rows = shown(app, kab)
    stored = figures(kab.id, "2025")
    assert len(rows) == len(stored)
    for f in stored:
        row = rows[(f.definition.code, f.breakdown)]
        for key, number in (("numerator", f.numerator), ("denominator", f.denominator)):
            assert (None if row[key] is None else Decimal(str(row[key]))) == number
        # the same value, always written with 2 places (a count 7 is "7.00")
        assert (None if row["value"] is None else Decimal(row["value"])) == f.value
        assert row["scale"] == f.definition.scale
        assert dt.datetime.fromisoformat(row["computed_at"]) == f.computed_at.replace(microsecond=0)


def test_every_value_is_a_decimal_string_with_two_places(
    app: Flask, kab: Any, history: Any
) -> None:
    # interfaces.md §4: "value is a decimal string rounded half-up to 2 places, or null"
    assert run(app, "rollup", "--period", "2025").exit_code == 0
    for row in shown(app, kab).values():
        if row["value"] is not None:
            assert re.fullmatch(r"-?\d+\.\d{2}", row["value"]), (row["code"], row["value"])


def test_rollup_of_a_month_and_a_region(app: Flask, kab: Any, history: Any) -> None:
    result = run(app, "rollup", "--period", "2025-03", "--region", kab.code)
    assert result.exit_code == 0, result.output
    rows = shown(app, kab, "2025-03")
    assert rows[("jumlah_korban", "")]["numerator"] == 7
    # the national level was not part of this rollup
    result = run(app, "show", "--period", "2025-03", "--region", "nasional", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.output) == []


@pytest.mark.parametrize("period", ["2025-13", "2025-Q5", "juli", "2025/07"])
def test_bad_period_is_refused_and_changes_nothing(app: Flask, kab: Any, period: str) -> None:
    result = run(app, "rollup", "--period", period)
    assert result.exit_code != 0
    assert period in result.output
    assert db.session.scalar(select(func.count(IndicatorValue.id))) == 0
    result = run(app, "show", "--period", period, "--region", kab.code, "--format", "json")
    assert result.exit_code != 0
    assert period in result.output


def test_unknown_region_is_refused(app: Flask, kab: Any) -> None:
    result = run(app, "rollup", "--period", "2025", "--region", "99.98")
    assert result.exit_code != 0
    assert "99.98" in result.output
    assert db.session.scalar(select(func.count(IndicatorValue.id))) == 0
    result = run(app, "show", "--period", "2025", "--region", "99.98", "--format", "json")
    assert result.exit_code != 0
    assert "99.98" in result.output


def test_show_before_any_rollup_is_an_empty_list(app: Flask, kab: Any) -> None:
    result = run(app, "show", "--period", "2025", "--region", kab.code, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output) == []
