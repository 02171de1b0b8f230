"""The monthly report at scale: building and writing it runs the same SQL statements whatever
the number of regions, agencies, cases and referrals of the region (within one batch of cases
checked for quality)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from app.audit.operations import SystemActor
from app.core.enums import Role, ServiceType
from app.extensions import db
from app.indicators.models import ReportJob
from app.indicators.operations import rollup
from app.indicators.periods import JAKARTA
from app.indicators.report import generate_report, report_files
from app.referrals import operations as ops
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, KabkotaFactory, KecamatanFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case
from tests.sql_count import count_statements

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def private_files(app: Flask, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.setitem(app.extensions, "simpul_dispatch", lambda name, args, kwargs: None)


@pytest.fixture
def world() -> dict[str, Any]:
    kab = KabkotaFactory()
    w: dict[str, Any] = {"kab": kab, "period": RECEIVED.astimezone(JAKARTA).strftime("%Y-%m")}
    w["rsud"] = AgencyFactory(region=kab, services=[ServiceType.REHABILITASI_KESEHATAN])
    w["analyst"] = UserFactory(roles=[(Role.ANALIS_DATA, w["rsud"])])
    return w


def grow(w: dict[str, Any], districts: int, cases: int) -> None:
    """``districts`` new kecamatan, each with an agency registering ``cases`` cases in the
    month, every other one referred to the district's health centre."""
    for _ in range(districts):
        district = KecamatanFactory(parent=w["kab"])
        uptd = AgencyFactory(region=district, services=[ServiceType.PENGADUAN])
        supervisor = UserFactory(roles=[(Role.SUPERVISOR, uptd)])
        puskesmas = AgencyFactory(region=district, services=[ServiceType.REHABILITASI_KESEHATAN])
        for i in range(cases):
            case = create_case(uptd, actor=supervisor, case_manager=supervisor)
            if i % 2:
                continue
            track = create_track(
                case,
                case.victims[0],
                ServiceType.REHABILITASI_KESEHATAN,
                provider=puskesmas,
                actor=supervisor,
            )
            referral = ops.save_referral(
                track.id,
                to_agency=puskesmas,
                sharing=ops.Sharing(),
                message=None,
                actor=supervisor,
                send=True,
                override_reason="Korban butuh visum segera",
                expected_version=track.version,
            )
            referral.sent_at = RECEIVED + dt.timedelta(hours=2)  # sent in the report's month
    db.session.flush()
    rollup(w["period"], region_code=w["kab"].code, actor=SystemActor("t"))
    db.session.flush()
    db.session.expire_all()


def report_statements(w: dict[str, Any]) -> tuple[int, list[tuple[str, int]]]:
    job = ReportJob(
        kind="report",
        region_id=w["kab"].id,
        period=w["period"],
        format="xlsx",
        requested_by_id=w["analyst"].id,
    )
    db.session.add(job)
    db.session.flush()
    with count_statements() as counted:
        generate_report(job, progress=lambda percent: None)
    workbook = load_workbook(report_files().path(job.stored_name))
    return counted.n, [(sheet.title, sheet.max_row) for sheet in workbook.worksheets]


def test_the_report_runs_the_same_statements_whatever_the_size_of_the_region(
    world: dict[str, Any],
) -> None:
    grow(world, districts=1, cases=2)
    few, few_sizes = report_statements(world)
    grow(world, districts=4, cases=4)
    many, many_sizes = report_statements(world)
    # the report did grow: more agencies in its referral and quality tables
    assert dict(many_sizes)["Kualitas data"] > dict(few_sizes)["Kualitas data"], (
        few_sizes,
        many_sizes,
        few,
        many,
    )
    assert dict(many_sizes)["Rujukan"] > dict(few_sizes)["Rujukan"]
    assert many == few, (few, many)
    assert many <= 30, many
