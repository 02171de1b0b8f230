"""An agency with its staff and a case with two victims, for the data-subject rights tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.cases.intake import VictimData
from app.core.enums import CaseState, Role, ServiceType, TrackState
from app.extensions import db
from app.services.models import ServiceTrack
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case

NAME = "Sri Wahyuni Lestari"
OTHER = "Dewi Anggraini Putri"


@pytest.fixture
def agency() -> Any:
    return AgencyFactory(code="UPTD-P")


@pytest.fixture
def staff(agency: Any) -> dict[str, Any]:
    other = AgencyFactory(code="UPTD-Q")
    return {
        "supervisor": UserFactory(roles=[(Role.SUPERVISOR, agency)]),
        "manager": UserFactory(roles=[(Role.MANAJER_KASUS, agency)]),
        "intake": UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)]),
        "other_supervisor": UserFactory(roles=[(Role.SUPERVISOR, other)]),
        "other_agency": other,
    }


def victim(name: str, nik: str, **extra: Any) -> VictimData:
    values: dict[str, Any] = {
        "sex": "P",
        "name": name,
        "nik": nik,
        "birth_date": dt.date(1990, 4, 2),
        "phone": "081234567890",
        "address": "Jl. Melati 7",
        "violence_types": ["fisik"],
    }
    values.update(extra)
    return VictimData(**values)


@pytest.fixture
def case(agency: Any, staff: dict[str, Any]) -> Any:
    """Registered by the intake officer, nobody manages it yet (the officer still sees it);
    two victims: ours (K1) and another (K2)."""
    return create_case(
        agency,
        actor=staff["intake"],
        victims=[victim(NAME, "3273010101900001"), victim(OTHER, "3273010101900002")],
    )


def close(case: Any, at: dt.datetime | None = None) -> None:
    case.state = CaseState.DITUTUP
    case.closed_at = at or dt.datetime.now(dt.UTC)
    case.closed_reason = "selesai"
    db.session.flush()


def law_track(case: Any, victim: Any, *, ended: bool) -> ServiceTrack:
    now = dt.datetime.now(dt.UTC)
    track = ServiceTrack(
        case_id=case.id,
        victim_id=victim.id,
        service_type=ServiceType.PENEGAKAN_HUKUM,
        state=TrackState.SELESAI if ended else TrackState.DIRENCANAKAN,
        ended_at=now if ended else None,
    )
    db.session.add(track)
    db.session.flush()
    return track


def end(track: ServiceTrack) -> None:
    track.state = TrackState.SELESAI
    track.ended_at = dt.datetime.now(dt.UTC)
    db.session.flush()
