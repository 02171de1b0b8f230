"""The dashboard's figures on first sign-in: yearly targets of the headline indicators for the
city (the current and the previous year), and the rollup the monthly job would have made after
the previous month ended — that month and its year, for the province and every region under it.

Measured on the demo (8 regions, every current definition, a 2-core machine): a rollup of one
period costs about 2.3 s on SQLite and 3 s on PostgreSQL — a third of the whole load's time goes
to these two. So the month and its year are rolled up, not the quarter and the semester the
monthly job also computes (the dashboard defaults to the latest year; the other periods are one
rollup away on the dashboard).

Targets are set by the data officer through ``set_target``; a target already there is left as it
is, and a period that already has values is not rolled up again (``rollup`` would change nothing,
but it records the run in the audit trail).
"""

from __future__ import annotations

import decimal
from typing import Any

from sqlalchemy import select

from app.audit.operations import SystemActor
from app.auth.models import User
from app.core.db import utcnow
from app.demo import data
from app.extensions import db
from app.indicators.definitions import sync_definitions
from app.indicators.models import IndicatorTarget, IndicatorValue
from app.indicators.operations import rollup, set_target
from app.indicators.periods import JAKARTA, previous_month
from app.regions.queries import get_region_by_code

DATA_OFFICER = "analis@simpul.demo"
# code -> (target of the previous year, of the current year); rates are per population and
# lower is better, the shares of comprehensive services higher
TARGETS: dict[str, tuple[str, str]] = {
    "pct_perempuan_layanan_komprehensif": ("40.00", "45.00"),
    "pct_anak_layanan_komprehensif": ("40.00", "45.00"),
    "rasio_kekerasan_perempuan": ("38.00", "35.00"),
    "rasio_kekerasan_anak": ("60.00", "55.00"),
    "rasio_kekerasan_perempuan_anak": ("4.50", "4.20"),
}


def load_demo_figures(report: Any) -> None:
    now = utcnow()
    city = get_region_by_code(data.KABKOTA[0])
    province = get_region_by_code(data.PROVINCE[0])
    assert city is not None and province is not None
    sync_definitions()
    officer = db.session.scalars(select(User).where(User.email == DATA_OFFICER)).one()
    year = now.astimezone(JAKARTA).year
    for code, values in TARGETS.items():
        for target_year, value in zip((year - 1, year), values, strict=True):
            exists = db.session.scalar(
                select(IndicatorTarget.id).where(
                    IndicatorTarget.code == code,
                    IndicatorTarget.region_id == city.id,
                    IndicatorTarget.year == target_year,
                )
            )
            if exists is not None:
                report.add("target", "unchanged")
                continue
            set_target(code, city, target_year, decimal.Decimal(value), actor=officer)
            report.add("target", "created")

    month = previous_month(now)
    for period in (month.code, str(month.year)):
        done = db.session.scalar(
            select(IndicatorValue.id)
            .where(IndicatorValue.period == period, IndicatorValue.region_id == province.id)
            .limit(1)
        )
        if done is not None:
            report.add("rollup", "unchanged")
            continue
        rollup(period, region_code=province.code, actor=SystemActor("demo"), now=now)
        report.add("rollup", "created")
