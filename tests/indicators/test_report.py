"""The monthly report (domain.md §6, §7): content in XLSX and PDF from the stored figures,
disclosure control, formula escaping, the job, the request form and the scoped, audited
download."""

from __future__ import annotations

import datetime as dt
import io
import re
import stat
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.audit.models import AuditEntry
from app.audit.operations import SystemActor
from app.cases.intake import ConsentData, PerpetratorData, VictimData
from app.core.enums import Role
from app.extensions import db
from app.indicators import tasks
from app.indicators.models import IndicatorTarget, ReportJob
from app.indicators.operations import rollup
from app.indicators.queries import figures
from app.indicators.report import generate_report, report_files
from app.indicators.report import pdf as report_module
from tests.factories import AgencyFactory, KabkotaFactory, PopulationFactory, UserFactory
from tests.fixtures import login_as

pytestmark = pytest.mark.postgres

PERIOD = "2025-03"
RECEIVED = dt.datetime(2025, 3, 14, 2, 30, tzinfo=dt.UTC)
VICTIM_NAME = "Zulaikha Purnamasari Distinktif"
EVIL_AGENCY = '=HYPERLINK("x")'


def victim(sex: str, age: int, name: str | None = None) -> VictimData:
    return VictimData(
        sex=sex,
        name=name,
        age=age,
        violence_types=["fisik"],
        consents=[
            ConsentData(purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED)
        ],
    )


@pytest.fixture(autouse=True)
def private_files(app: Any, tmp_path: Any, monkeypatch: Any) -> None:
    """Reports are written to a temporary report directory beside a temporary upload directory,
    not the instance folder."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "REPORT_DIR", str(tmp_path / "reports"))


@pytest.fixture
def world(create_case: Any) -> dict[str, Any]:
    """A kabupaten with 7 women and 3 boys registered in March 2025, its population, a target,
    an agency whose name is a formula, and the figures rolled up."""
    kab = KabkotaFactory(name="Kabupaten Laporan")
    agency = AgencyFactory(region=kab, name=EVIL_AGENCY)
    for sex, age_from, age_to, count in (
        ("P", 0, 17, 8000),
        ("P", 18, None, 7000),
        ("L", 0, 17, 8000),
        ("L", 18, None, 7000),
    ):
        PopulationFactory(
            region=kab, year=2025, sex=sex, age_from=age_from, age_to=age_to, count=count
        )
    people = [victim("P", 30, VICTIM_NAME if i == 0 else None) for i in range(7)]
    people += [victim("L", 9) for _ in range(3)]
    for person in people:
        create_case(
            agency,
            received_at=RECEIVED,
            victims=[person],
            perpetrators=[
                PerpetratorData(name="Pelaku", sex="L", age=40, relationships={1: "lainnya"})
            ],
        )
    db.session.add(
        IndicatorTarget(
            code="rasio_kekerasan_perempuan", region_id=kab.id, year=2025, value=Decimal("3.20")
        )
    )
    db.session.flush()
    rollup(PERIOD, region_code=kab.code, actor=SystemActor("t"))
    db.session.flush()
    analyst = UserFactory(roles=[(Role.ANALIS_DATA, agency)])
    other_kab = KabkotaFactory()
    stranger = UserFactory(roles=[(Role.ANALIS_DATA, AgencyFactory(region=other_kab))])
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    return {
        "kab": kab,
        "agency": agency,
        "analyst": analyst,
        "stranger": stranger,
        "manager": manager,
        "other_kab": other_kab,
    }


def new_job(world: dict[str, Any], file_format: str = "xlsx") -> ReportJob:
    job = ReportJob(
        kind="report",
        region_id=world["kab"].id,
        period=PERIOD,
        format=file_format,
        requested_by_id=world["analyst"].id,
    )
    db.session.add(job)
    db.session.flush()
    return job


def cells(workbook: Any) -> list[tuple[str, list[Any]]]:
    return [
        (sheet.title, list(row))
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    ]


def row_starting(rows: list[tuple[str, list[Any]]], sheet: str, first: str) -> list[Any]:
    found = [r for s, r in rows if s == sheet and r and r[0] == first]
    assert found, (sheet, first)
    return found[0]


def test_xlsx_report_content(world: dict[str, Any]) -> None:
    job = new_job(world)
    seen: list[int] = []
    message = generate_report(job, progress=seen.append)
    assert "siap" in message
    assert seen == sorted(seen) and seen[-1] >= 90
    path = report_files().root / job.stored_name
    assert path.parent.name == "reports" and path.parent.parent == report_files().root.parent
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert re.fullmatch(r"[0-9a-f]{32}\.xlsx", job.stored_name)
    workbook = load_workbook(io.BytesIO(path.read_bytes()))
    rows = cells(workbook)

    # RAHASIA in the first row of every sheet
    for sheet in workbook.worksheets:
        assert "RAHASIA" in str(sheet["A1"].value)
    assert {"Ringkasan", "Indikator utama", "Rincian korban", "Rujukan", "Kualitas data"} <= set(
        workbook.sheetnames
    )

    # headline values are the figures', as numbers with 2 decimals (counts as whole numbers)
    headline = [
        f for f in figures(world["kab"].id, PERIOD) if f.definition.headline and not f.breakdown
    ]
    assert headline
    for f in headline:
        row = row_starting(rows, "Indikator utama", f.definition.name_id)
        if f.value is None:
            assert row[1] == "—"
        elif f.definition.scale == 1:
            assert row[1] == int(f.value)
        else:
            assert Decimal(str(row[1])) == f.value
    sheet = workbook["Indikator utama"]
    numeric = [c for r in sheet.iter_rows() for c in r if isinstance(c.value, float)]
    assert numeric and all(c.number_format == "#,##0.00" for c in numeric)
    # the women's rate: 7 ÷ 15,000 x 100,000 = 46.67 against a lower-is-better target of 3.20:
    # capaian (2 x 3.20 - 46.67) ÷ 3.20 x 100 = -1258.44
    women = next(f for f in headline if f.definition.code == "rasio_kekerasan_perempuan")
    rate = row_starting(rows, "Indikator utama", women.definition.name_id)
    assert Decimal(str(rate[1])) == Decimal("46.67")
    assert Decimal(str(rate[3])) == Decimal("3.2")
    assert Decimal(str(rate[4])) == Decimal("-1258.44")
    assert rate[5] == "lebih rendah lebih baik"

    # breakdown by sex: 3 boys → "<5"; the 7 women would give them back from the total
    by_sex = [r for s, r in rows if s == "Rincian korban"]
    start = next(i for i, r in enumerate(by_sex) if r[0] == "Korban menurut jenis kelamin")
    block = {r[0]: r[1] for r in by_sex[start + 2 : start + 4]}
    assert block == {"Laki-laki": "<5", "Perempuan": "dirahasiakan"}

    # an agency name that is a formula is text with a leading quote, never a formula
    quality = workbook["Kualitas data"]
    texts = [c for r in quality.iter_rows() for c in r if isinstance(c.value, str)]
    assert "'" + EVIL_AGENCY in [c.value for c in texts]
    assert all(c.data_type == "s" for c in texts)
    every_text = [v for _, r in rows for v in r if isinstance(v, str)]
    assert not any(v.startswith(("=", "+", "-", "@")) for v in every_text)

    # no person is named
    assert not any(VICTIM_NAME.split()[0] in v for v in every_text)
    assert VICTIM_NAME.encode() not in path.read_bytes()


def test_pdf_with_unicode_font(world: dict[str, Any]) -> None:
    # .ci/run installs Debian's fonts-dejavu-core; without it the PDF would fall back to Helvetica
    assert report_module.find_font() is not None, (
        "DejaVu Sans missing: apt install fonts-dejavu-core"
    )
    job = new_job(world, "pdf")
    message = generate_report(job, progress=lambda p: None)
    content = (report_files().root / job.stored_name).read_bytes()
    assert content.startswith(b"%PDF")
    assert b"DejaVuSans" in content
    assert "Helvetica" not in message


def test_pdf_marks_every_page_rahasia(world: dict[str, Any], monkeypatch: Any) -> None:
    # the core font and no compression, so the page text can be read from the bytes
    monkeypatch.setattr(report_module, "FONT_DIRS", ())
    monkeypatch.setattr(report_module, "PDF_COMPRESS", False)
    job = new_job(world, "pdf")
    message = generate_report(job, progress=lambda p: None)
    assert "Helvetica" in message
    content = (report_files().root / job.stored_name).read_bytes()
    assert content.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type /Page\b(?!s)", content))
    assert pages >= 2
    assert content.count(b"(RAHASIA) Tj") == pages
    assert b"Kabupaten Laporan" in content
    assert VICTIM_NAME.encode() not in content


def run(job: ReportJob) -> ReportJob:
    assert tasks.run_job.run(job.id) == "done"
    db.session.flush()
    db.session.refresh(job)
    return job


def test_job_runs_to_done(world: dict[str, Any]) -> None:
    job = run(new_job(world))
    assert job.state == "selesai"
    assert job.progress == 100
    assert job.stored_name and (report_files().root / job.stored_name).is_file()
    assert "siap diunduh" in (job.message or "")


def test_download(world: dict[str, Any], client: Any) -> None:
    job = run(new_job(world))
    url = f"/indikator/laporan/{job.id}/unduh"
    login_as(client, world["analyst"])
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert (
        f"laporan-{world['kab'].code.replace('.', '')}-{PERIOD}.xlsx"
        in response.headers["Content-Disposition"]
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["Cache-Control"] == "no-store, private"
    assert response.data.startswith(b"PK")
    entries = db.session.scalars(
        sa.select(AuditEntry).where(
            AuditEntry.action == "indicators.report_download", AuditEntry.object_id == str(job.id)
        )
    ).all()
    assert len(entries) == 1 and entries[0].actor_id == world["analyst"].id
    assert client.get(f"/indikator/laporan/{job.id}.json").get_json()["state"] == "selesai"
    assert client.get(f"/indikator/laporan/{job.id}").status_code == 200


def test_download_by_someone_else_of_the_region(world: dict[str, Any], client: Any) -> None:
    job = run(new_job(world))
    colleague = UserFactory(roles=[(Role.PIMPINAN, world["agency"])])
    login_as(client, colleague)
    assert client.get(f"/indikator/laporan/{job.id}/unduh").status_code == 200


def test_download_refused(world: dict[str, Any], client: Any) -> None:
    done = run(new_job(world))
    waiting = new_job(world)
    login_as(client, world["stranger"])
    assert client.get(f"/indikator/laporan/{done.id}/unduh").status_code == 404
    assert client.get(f"/indikator/laporan/{done.id}.json").status_code == 404
    client.post("/keluar")
    login_as(client, world["analyst"])
    assert client.get(f"/indikator/laporan/{waiting.id}/unduh").status_code == 404
    client.post("/keluar")
    login_as(client, world["manager"])
    assert client.get(f"/indikator/laporan/{done.id}/unduh").status_code == 403
    assert client.get("/indikator/laporan").status_code == 403
    assert not db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "indicators.report_download")
    ).all()


@pytest.fixture
def sent(app: Any, monkeypatch: Any) -> list[tuple[str, tuple[Any, ...]]]:
    calls: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setitem(
        app.extensions, "simpul_dispatch", lambda name, args, kwargs: calls.append((name, args))
    )
    return calls


def jobs_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(ReportJob.id))) or 0


def test_request_a_report(world: dict[str, Any], client: Any, sent: list[Any]) -> None:
    login_as(client, world["analyst"])
    page = client.get("/indikator/laporan")
    assert page.status_code == 200
    assert "Kabupaten Laporan" in page.get_data(as_text=True)
    before = jobs_count()
    response = client.post(
        "/indikator/laporan", data={"period": PERIOD, "region": world["kab"].id, "format": "pdf"}
    )
    assert response.status_code == 302
    job = db.session.scalars(sa.select(ReportJob).order_by(ReportJob.id.desc())).first()
    assert jobs_count() == before + 1
    assert (job.kind, job.period, job.format, job.state) == ("report", PERIOD, "pdf", "antre")
    assert job.requested_by_id == world["analyst"].id
    assert response.headers["Location"].endswith(f"/indikator/laporan/{job.id}")
    assert sent == [("indicators.run_job", (job.id,))]
    page = client.get(f"/indikator/laporan/{job.id}")
    assert page.status_code == 200
    assert "report.js" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("period", "region_key", "text"),
    [
        ("2025-13", "kab", "YYYY-MM"),
        ("maret", "kab", "YYYY-MM"),
        ("2025", "kab", "YYYY-MM"),
        ("2099-01", "kab", "begun"),
        ("2024-01", "kab", "rollup"),
        (PERIOD, "other_kab", "your regions"),
    ],
)
def test_bad_request_creates_nothing(
    world: dict[str, Any], client: Any, sent: list[Any], period: str, region_key: str, text: str
) -> None:
    login_as(client, world["analyst"])
    world["analyst"].locale = "en"
    before = jobs_count()
    response = client.post(
        "/indikator/laporan",
        data={"period": period, "region": world[region_key].id, "format": "xlsx"},
    )
    assert response.status_code == 422
    assert text in response.get_data(as_text=True)
    assert jobs_count() == before
    assert sent == []
