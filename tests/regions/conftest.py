"""Shared setup of the region tests.

Codes start at 91: the factories make provinces 11..70, so these never collide with them.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from app.audit.operations import SystemActor
from app.core.enums import RegionLevel
from app.regions import operations as ops


@pytest.fixture
def actor() -> SystemActor:
    return SystemActor("test")


@pytest.fixture
def tree(actor: Any) -> SimpleNamespace:
    """91 → 91.71 → 91.71.01 → 91.71.01.1001, plus a second kabupaten 91.72."""
    prov, _ = ops.upsert_region("91", "Provinsi Uji", RegionLevel.PROVINSI, None, actor=actor)
    kab, _ = ops.upsert_region("91.71", "Kota Uji", RegionLevel.KABKOTA, "91", actor=actor)
    kab2, _ = ops.upsert_region("91.72", "Kabupaten Lain", RegionLevel.KABKOTA, "91", actor=actor)
    kec, _ = ops.upsert_region(
        "91.71.01", "Kecamatan Uji", RegionLevel.KECAMATAN, "91.71", actor=actor
    )
    desa, _ = ops.upsert_region(
        "91.71.01.1001", "Desa Uji", RegionLevel.DESA, "91.71.01", actor=actor
    )
    return SimpleNamespace(prov=prov, kab=kab, kab2=kab2, kec=kec, desa=desa)
