"""SQL statements per request on the home page and the indicator dashboard: a ceiling that does not
grow with the data (rendered with few rows, then with many more: the same count). The case list
and the Sub GT board have theirs beside their other tests (tests/cases/test_list_scale.py,
tests/subgt/test_board_scale.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from app.core.enums import Role
from app.extensions import db
from app.indicators.definitions import sync_definitions
from app.indicators.models import IndicatorDefinition, IndicatorValue
from tests.factories import AgencyFactory, KabkotaFactory, KecamatanFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as
from tests.sql_count import count_statements


def statements(client: FlaskClient, url: str) -> int:
    """The statements of one request, the test's savepoints around it left out. The same request
    goes once before: what the test left pending (its audit entries, sealed at the next commit)
    and what a session does once are not the page's."""
    client.get(url)
    with count_statements() as counted:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(counted.own)


def test_the_home_page_does_not_grow_with_the_deadlines(client: FlaskClient) -> None:
    agency = AgencyFactory()
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    for _ in range(2):  # each complaint starts a first-response deadline of the agency
        create_case(agency, actor=supervisor)
    login_as(client, supervisor)
    few = statements(client, "/beranda")
    for _ in range(30):
        create_case(agency, actor=supervisor)
    many = statements(client, "/beranda")
    assert many == few and many <= 12, (few, many)
    shown = client.get("/beranda").get_data(as_text=True)
    assert shown.count('<li class="list-group-item px-0') == 20  # MY_DEADLINES_SHOWN


@pytest.mark.postgres
def test_the_dashboard_does_not_grow_with_the_cases_or_the_regions(client: FlaskClient) -> None:
    sync_definitions()
    kab = KabkotaFactory(name="Kabupaten Ukur")
    agency = AgencyFactory(region=kab)
    analyst = UserFactory(roles=[(Role.ANALIS_DATA, agency)])
    definitions = list(
        db.session.scalars(sa.select(IndicatorDefinition).order_by(IndicatorDefinition.id))
    )

    def store(region: Any) -> None:
        for d in definitions:
            db.session.add(
                IndicatorValue(
                    definition_id=d.id,
                    region_id=region.id,
                    period="2025",
                    breakdown="",
                    numerator=Decimal(12),
                    denominator=Decimal(40),
                )
            )
        db.session.flush()

    store(kab)
    store(KecamatanFactory(parent=kab))
    login_as(client, analyst)
    url = f"/indikator?region={kab.code}&period=2025"
    few = statements(client, url)
    for _ in range(5):
        store(KecamatanFactory(parent=kab))
    for _ in range(10):
        create_case(agency)
    many = statements(client, url)
    assert many == few and many <= 40, (few, many)


@pytest.mark.postgres
def test_the_dashboard_does_not_grow_with_the_months_of_its_trend(client: FlaskClient) -> None:
    """The year's figures and the twelve months of its trend are read together: a month with
    values costs no statement of its own."""
    sync_definitions()
    kab = KabkotaFactory(name="Kabupaten Tren")
    agency = AgencyFactory(region=kab)
    analyst = UserFactory(roles=[(Role.ANALIS_DATA, agency)])
    definitions = list(
        db.session.scalars(sa.select(IndicatorDefinition).order_by(IndicatorDefinition.id))
    )

    def store(period: str) -> None:
        for d in definitions:
            db.session.add(
                IndicatorValue(
                    definition_id=d.id,
                    region_id=kab.id,
                    period=period,
                    breakdown="",
                    numerator=Decimal(12),
                    denominator=Decimal(40),
                )
            )
        db.session.flush()

    store("2025")
    store("2025-01")
    login_as(client, analyst)
    url = f"/indikator?region={kab.code}&period=2025"
    few = statements(client, url)
    for month in range(2, 13):
        store(f"2025-{month:02d}")
    many = statements(client, url)
    assert many == few <= 16, (few, many)
    shown = client.get(url).get_data(as_text=True)
    assert shown.count('<tr><th scope="row" class="fw-normal">') >= 12  # a row a month
