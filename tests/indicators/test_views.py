"""The indicator pages (domain.md §6.5-§6.7): the dashboard in Indonesian number format, scoped
to the user's regions, with disclosure control; rollup jobs and their progress; closing a
period; yearly targets; capaian of a lower-is-better indicator."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.core.enums import Role
from app.core.tasks import pending_tasks
from app.extensions import db
from app.indicators import tasks
from app.indicators.definitions import sync_definitions
from app.indicators.models import (
    IndicatorDefinition,
    IndicatorTarget,
    IndicatorValue,
    PeriodClose,
    ReportJob,
)
from tests.factories import AgencyFactory, KabkotaFactory, KecamatanFactory, UserFactory
from tests.fixtures import login_as

pytestmark = pytest.mark.postgres

PERIOD = "2025"


@pytest.fixture
def world() -> dict[str, Any]:
    sync_definitions()
    kab = KabkotaFactory(name="Kabupaten Dasbor")
    kec = KecamatanFactory(parent=kab, name="Kecamatan Dasbor")
    agency = AgencyFactory(region=kab)
    other = AgencyFactory()  # another kabupaten, another province
    return {
        "kab": kab,
        "kec": kec,
        "other_region": other.region,
        "analyst": UserFactory(roles=[(Role.ANALIS_DATA, agency)]),
        "leader": UserFactory(roles=[(Role.PIMPINAN, agency)]),
        "supervisor": UserFactory(roles=[(Role.SUPERVISOR, agency)]),
        "outsider": UserFactory(roles=[(Role.ANALIS_DATA, other)]),
    }


def put(
    code: str,
    region: Any,
    numerator: int | str | None,
    denominator: int | None = None,
    *,
    breakdown: str = "",
    reason: str | None = None,
    period: str = PERIOD,
) -> IndicatorValue:
    definition = db.session.scalar(
        sa.select(IndicatorDefinition)
        .where(IndicatorDefinition.code == code)
        .order_by(IndicatorDefinition.version.desc())
        .limit(1)
    )
    assert definition is not None, code
    value = IndicatorValue(
        definition_id=definition.id,
        region_id=region.id,
        period=period,
        breakdown=breakdown,
        numerator=Decimal(numerator) if numerator is not None else None,
        denominator=Decimal(denominator) if denominator is not None else None,
        reason=reason,
    )
    db.session.add(value)
    db.session.flush()
    return value


def page(client: Any, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def cell(body: str, row_label: str) -> str:
    """The value cell of the table row whose header starts with ``row_label``."""
    found = re.findall(
        r'<th scope="row" class="fw-normal">' + re.escape(row_label) + r"[^<]*</th>"
        r'<td class="text-end">([^<]*)</td>',
        body,
    )
    assert len(found) == 1, (row_label, found)
    return found[0]


@pytest.fixture
def sent(app: Flask, monkeypatch: Any) -> list[Any]:
    captured: list[Any] = []
    monkeypatch.setitem(
        app.extensions, "simpul_dispatch", lambda name, args, kwargs: captured.append((name, args))
    )
    return captured


# --- the dashboard ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["analyst", "leader"])
def test_dashboard_shows_values_in_indonesian_format(
    world: dict[str, Any], client: Any, who: str
) -> None:
    kab = world["kab"]
    put("pct_perempuan_layanan_komprehensif", kab, 11, 36)  # 30.555… → 30,56
    put("rasio_kekerasan_perempuan", kab, 36, 298079)  # 12.077… → 12,08
    put("jumlah_korban", kab, 1234)
    login_as(client, world[who])
    body = page(client, f"/indikator?region={kab.code}&period={PERIOD}")
    assert "30,56" in body
    assert "12,08" in body
    assert "1.234" in body
    assert "30.56" not in body.replace('"30.56"', "")  # the dot only in the chart data
    assert "chart.umd.min.js" in body and "js/indicators.js" in body
    assert f'href="/indikator?period={PERIOD}&amp;region={world["kec"].code}"' in body  # drill-down
    # the default region is the user's own
    assert "Kabupaten Dasbor" in page(client, "/indikator")


def test_dashboard_needs_indicators_view(world: dict[str, Any], client: Any) -> None:
    login_as(client, world["supervisor"])
    assert client.get("/indikator").status_code == 403
    assert client.get(f"/indikator/jumlah_korban?region={world['kab'].code}").status_code == 403


def test_region_outside_the_users_is_404(world: dict[str, Any], client: Any) -> None:
    login_as(client, world["analyst"])
    other = world["other_region"]
    assert client.get(f"/indikator?region={other.code}&period={PERIOD}").status_code == 404
    assert client.get(f"/indikator?region=nasional&period={PERIOD}").status_code == 404
    assert client.get(f"/indikator/jumlah_korban?region={other.code}").status_code == 404
    assert client.get(f"/indikator?region={world['kec'].code}").status_code == 200  # under own


def test_small_counts_are_suppressed_with_a_second_cell(world: dict[str, Any], client: Any) -> None:
    kab = world["kab"]
    put("korban_menurut_kelompok_umur", kab, 3, breakdown="0-5")
    put("korban_menurut_kelompok_umur", kab, 7, breakdown="6-12")
    put("korban_menurut_kelompok_umur", kab, 20, breakdown="13-17")
    login_as(client, world["analyst"])
    body = page(client, f"/indikator?region={kab.code}&period={PERIOD}")
    assert cell(body, "0-5") == "&lt;5"
    assert cell(body, "6-12") == "dirahasiakan"  # secondary (7): the total would give 3 away
    assert cell(body, "13-17") == "20"
    chart = json.loads(body.split('id="bd-kelompok_umur" data-chart=\'')[1].split("'")[0])
    assert chart["series"][0]["data"] == [None, None, "20"]  # hidden cells are not drawn


def test_below_kabkota_no_count_under_five(world: dict[str, Any], client: Any) -> None:
    kec = world["kec"]
    put("korban_menurut_jenis_kelamin", kec, 0, breakdown="L")
    put("korban_menurut_jenis_kelamin", kec, 12, breakdown="P")
    put("korban_menurut_jenis_kelamin", kec, 30, breakdown="P", period="2024")
    login_as(client, world["analyst"])
    body = page(client, f"/indikator?region={kec.code}&period={PERIOD}")
    table = body.split('id="bd-jenis_kelamin"')[1].split("</table>")[0]
    # zero is hidden like 1-4, so 12 is hidden as the second cell; the total (12) is shown
    assert re.findall(r'<td class="text-end">([^<]*)</td>', table) == [
        "&lt;5",
        "dirahasiakan",
        "12",
    ]
    assert ">0<" not in table


def test_a_null_value_shows_its_reason(world: dict[str, Any], client: Any) -> None:
    kab = world["kab"]
    reason = "Data penduduk untuk wilayah dan tahun ini belum ada."
    put("rasio_kekerasan_anak", kab, None, reason=reason)
    login_as(client, world["leader"])
    body = page(client, f"/indikator?region={kab.code}&period={PERIOD}")
    assert reason in body
    assert '<span class="ind-number">—</span>' in body


def test_capaian_of_a_lower_is_better_indicator(world: dict[str, Any], client: Any) -> None:
    kab = world["kab"]
    put("rasio_kekerasan_perempuan_anak", kab, 28, 100000)  # 28 ÷ 100.000 x 10.000 = 2,80
    db.session.add(
        IndicatorTarget(
            code="rasio_kekerasan_perempuan_anak", region_id=kab.id, year=2025, value=Decimal("3.2")
        )
    )
    login_as(client, world["analyst"])
    body = page(client, f"/indikator?region={kab.code}&period={PERIOD}")
    assert "2,80" in body and "3,20" in body
    assert "112,50" in body  # (2 x 3,20 - 2,80) ÷ 3,20 x 100, not 87,50
    assert "87,50" not in body


def test_detail_shows_the_figure_and_its_revisions(world: dict[str, Any], client: Any) -> None:
    from app.indicators.models import IndicatorRevision

    kab = world["kab"]
    value = put("pct_anak_layanan_komprehensif", kab, 20, 40)
    db.session.add(
        IndicatorRevision(
            value_id=value.id,
            numerator=Decimal(22),
            denominator=Decimal(40),
            why="Kasus terlambat dicatat",
            revised_by_id=world["analyst"].id,
        )
    )
    login_as(client, world["leader"])
    body = page(client, f"/indikator/pct_anak_layanan_komprehensif?region={kab.code}&period=2025")
    assert "55,00" in body  # current (revised)
    assert "50,00" in body  # original
    assert "Kasus terlambat dicatat" in body
    assert world["analyst"].name in body
    assert client.get(f"/indikator/tidak_ada?region={kab.code}").status_code == 404


# --- rollup jobs --------------------------------------------------------------------------------


def test_rollup_job_runs_and_reports_progress(
    world: dict[str, Any], client: Any, sent: list[Any]
) -> None:
    kab = world["kab"]
    login_as(client, world["analyst"])
    response = client.post("/indikator/rollup", data={"period": PERIOD, "region": kab.code})
    assert response.status_code == 302
    job = db.session.scalars(sa.select(ReportJob).order_by(ReportJob.id.desc())).first()
    assert (job.kind, job.period, job.region_id, job.state) == ("rollup", PERIOD, kab.id, "antre")
    assert job.requested_by_id == world["analyst"].id
    assert response.headers["Location"].endswith(f"/indikator/pekerjaan/{job.id}")
    queued = sent + [(name, args) for name, args, _ in pending_tasks(db.session)]
    assert queued == [("indicators.run_job", (job.id,))]
    assert "js/indicators.js" in page(client, f"/indikator/pekerjaan/{job.id}")
    assert client.get(f"/indikator/pekerjaan/{job.id}.json").get_json()["state"] == "antre"

    assert tasks.run_job.run(job.id) == "done"
    db.session.flush()
    data = client.get(f"/indikator/pekerjaan/{job.id}.json").get_json()
    assert (data["state"], data["progress"], data["done"]) == ("selesai", 100, True)
    assert db.session.scalar(
        sa.select(sa.func.count(IndicatorValue.id)).where(IndicatorValue.region_id == kab.id)
    )


def test_jobs_and_rollups_are_scoped(world: dict[str, Any], client: Any, sent: list[Any]) -> None:
    login_as(client, world["outsider"])
    response = client.post(
        "/indikator/rollup", data={"period": PERIOD, "region": world["kab"].code}
    )
    assert response.status_code == 404
    job = ReportJob(kind="rollup", region_id=world["kab"].id, period=PERIOD)
    db.session.add(job)
    db.session.flush()
    assert client.get(f"/indikator/pekerjaan/{job.id}").status_code == 404
    assert client.get(f"/indikator/pekerjaan/{job.id}.json").status_code == 404
    client.post("/keluar")
    login_as(client, world["leader"])  # pimpinan: no indicators:manage
    assert client.post("/indikator/rollup", data={"period": PERIOD}).status_code == 403
    client.post("/keluar")
    login_as(client, world["analyst"])  # same region, not the requester
    assert client.get(f"/indikator/pekerjaan/{job.id}.json").status_code == 200
    assert sent == []


# --- closing a period ---------------------------------------------------------------------------


def closes(region: Any) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(PeriodClose.id)).where(PeriodClose.region_id == region.id)
    )


def test_close_a_period(world: dict[str, Any], client: Any) -> None:
    kab = world["kab"]
    put("jumlah_korban", kab, 10)
    put("jumlah_korban", kab, 10, period="2099")
    login_as(client, world["leader"])
    assert "confirm" in page(client, f"/indikator/tutup?region={kab.code}&period={PERIOD}")

    early = client.post(
        "/indikator/tutup", data={"region": kab.code, "period": "2099", "confirm": "y"}
    )
    assert early.status_code == 422
    assert "alert-danger" in early.get_data(as_text=True)
    assert closes(kab) == 0

    unconfirmed = client.post("/indikator/tutup", data={"region": kab.code, "period": PERIOD})
    assert unconfirmed.status_code == 422
    assert closes(kab) == 0

    done = client.post(
        "/indikator/tutup", data={"region": kab.code, "period": PERIOD, "confirm": "y"}
    )
    assert done.status_code == 302
    assert closes(kab) == 1
    assert "badge text-bg-secondary" in page(client, f"/indikator?region={kab.code}&period=2025")

    again = client.post(
        "/indikator/tutup", data={"region": kab.code, "period": PERIOD, "confirm": "y"}
    )
    assert again.status_code == 422
    assert "alert-danger" in again.get_data(as_text=True)
    assert closes(kab) == 1


def test_close_is_scoped_and_needs_the_permission(world: dict[str, Any], client: Any) -> None:
    login_as(client, world["supervisor"])
    data = {"region": world["kab"].code, "period": PERIOD, "confirm": "y"}
    assert client.post("/indikator/tutup", data=data).status_code == 403
    client.post("/keluar")
    login_as(client, world["outsider"])
    assert client.post("/indikator/tutup", data=data).status_code == 404


# --- targets ------------------------------------------------------------------------------------


def targets(region: Any) -> dict[str, Decimal]:
    return {
        t.code: t.value
        for t in db.session.scalars(
            sa.select(IndicatorTarget).where(IndicatorTarget.region_id == region.id)
        )
    }


def test_targets_saved_from_indonesian_numbers(world: dict[str, Any], client: Any) -> None:
    kab = world["kab"]
    login_as(client, world["analyst"])
    assert "rasio_kekerasan_perempuan" in page(client, f"/indikator/target?region={kab.code}")
    response = client.post(
        "/indikator/target",
        data={
            "region": kab.code,
            "year": "2025",
            "rasio_kekerasan_perempuan": "3,20",
            "pct_perempuan_layanan_komprehensif": "80.5",
            "pct_anak_layanan_komprehensif": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert targets(kab) == {
        "rasio_kekerasan_perempuan": Decimal("3.2"),
        "pct_perempuan_layanan_komprehensif": Decimal("80.5"),
    }
    assert 'value="3,2"' in page(client, f"/indikator/target?region={kab.code}&year=2025")


@pytest.mark.parametrize("bad", ["3,2x", "-1", "1,2,3", "abc"])
def test_invalid_targets_save_nothing(world: dict[str, Any], client: Any, bad: str) -> None:
    kab = world["kab"]
    login_as(client, world["analyst"])
    response = client.post(
        "/indikator/target",
        data={
            "region": kab.code,
            "year": "2025",
            "pct_perempuan_layanan_komprehensif": "75",
            "rasio_kekerasan_perempuan": bad,
        },
    )
    assert response.status_code == 422
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert targets(kab) == {}


def test_targets_need_indicators_manage(world: dict[str, Any], client: Any) -> None:
    login_as(client, world["leader"])
    assert client.get("/indikator/target").status_code == 403


def test_a_job_whose_worker_died_runs_again_and_a_finished_one_does_not(
    world: dict[str, Any],
) -> None:
    kab = world["kab"]
    # the worker that started it was killed: the job stays "berjalan"; the broker redelivers it
    job = ReportJob(kind="rollup", region_id=kab.id, period=PERIOD, state="berjalan", progress=40)
    db.session.add(job)
    db.session.flush()
    assert tasks.run_job.run(job.id) == "done"
    db.session.flush()
    db.session.refresh(job)
    assert (job.state, job.progress) == ("selesai", 100)
    assert tasks.run_job.run(job.id) == "skipped"  # a finished job is never run twice
