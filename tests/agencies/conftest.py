"""Shared helpers for the agency tests."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask_babel import force_locale

from app.audit.operations import SystemActor
from app.extensions import db
from tests.factories import KabkotaFactory, KecamatanFactory, ProvinceFactory


@pytest.fixture
def actor() -> SystemActor:
    return SystemActor("test")


@pytest.fixture
def english(app: Any) -> Iterator[None]:
    """Messages in English whatever the default locale and the catalogue hold; the CLI
    commands speak the configured default locale."""
    with force_locale("en"):
        original = app.config["DEFAULT_LOCALE"]
        app.config["DEFAULT_LOCALE"] = "en"
        try:
            yield
        finally:
            app.config["DEFAULT_LOCALE"] = original


@pytest.fixture
def en_client(admin_client: Any) -> Any:
    """The signed-in administrator, with English chosen as the language."""
    response = admin_client.post("/bahasa", data={"locale": "en"})
    assert response.status_code == 302
    return admin_client


@pytest.fixture
def place() -> Any:
    """A province (91) with two regencies/cities (91.71, 91.03) and a district under 91.71,
    committed to the test's outer transaction so a rollback in the code under test keeps them.
    The codes lie outside the range the factories' sequences produce."""

    province = ProvinceFactory(code="91", name="Papua Uji")
    kota = KabkotaFactory(code="91.71", name="Kota Jayapura Uji", parent=province)
    place = SimpleNamespace(
        province=province,
        kota=kota,
        kabupaten=KabkotaFactory(code="91.03", name="Kabupaten Jayapura Uji", parent=province),
        kecamatan=KecamatanFactory(code="91.71.01", name="Abepura Uji", parent=kota),
    )
    db.session.commit()
    return place
