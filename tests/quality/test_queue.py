"""The data-quality queue, the period scores and the verification: scope, ordering, Jakarta
month boundaries, hand-computed scores, refusals, conflicts, need-to-know and the role matrix."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.cases.intake import PerpetratorData
from app.cases.operations import ConflictError
from app.core.enums import Role, VerificationStatus
from app.core.errors import DomainError
from app.extensions import db
from app.quality.operations import verify_case
from app.quality.queries import (
    TAB_UNVERIFIED,
    TAB_VERIFIED_WITH_ISSUES,
    Period,
    Score,
    parse_period,
    quality_scores,
    queue_for,
)
from tests.factories import AgencyFactory, TaskForceFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as
from tests.quality.test_checks import good_case, victim

WIB = ZoneInfo("Asia/Jakarta")


def wib(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=WIB).astimezone(dt.UTC)


@pytest.fixture
def agency() -> Any:
    return AgencyFactory(name="UPTD Kota Uji")


@pytest.fixture
def other_agency() -> Any:
    return AgencyFactory(name="UPTD Lain")


@pytest.fixture
def analyst(agency: Any) -> Any:
    return UserFactory(roles=[(Role.ANALIS_DATA, agency)])


# --- periods and scores ------------------------------------------------------------------------


def test_periods_are_bounded_in_jakarta_time() -> None:
    january = parse_period("2025-01")
    assert january == Period(2025, 1)
    assert january.start == dt.datetime(2024, 12, 31, 17, 0, tzinfo=dt.UTC)
    assert january.end == dt.datetime(2025, 1, 31, 17, 0, tzinfo=dt.UTC)
    assert Period(2025, 12).end == wib(2026, 1, 1)
    year = parse_period("2025")
    assert (year.start, year.end) == (wib(2025, 1, 1), wib(2026, 1, 1))
    for bad in ("2025-13", "25-01", "januari", "", None, "2025-1"):
        assert parse_period(bad) is None


@pytest.mark.parametrize(
    ("passed", "total", "expected"),
    [(3, 4, "75.00"), (2, 3, "66.67"), (1, 3, "33.33"), (1, 800, "0.13"), (0, 5, "0.00")],
)
def test_score_percent_is_half_up_to_two_places(passed: int, total: int, expected: str) -> None:
    assert Score("timeliness", passed, total).percent == Decimal(expected)


def test_a_period_without_cases_has_no_percentage(agency: Any) -> None:
    [scores] = quality_scores([agency.id], *_bounds(Period(2024, 6)))
    assert scores.cases == 0 and scores.timeliness.percent is None


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    return period.start, period.end


def _january_world(agency: Any) -> dict[str, Any]:
    """Four cases registered in January 2025 (WIB), one in February:

    * jan_a and jan_b: the same NIK (a possible double registration) → uniqueness 2/4
    * jan_late: entered five days after receipt → timeliness 3/4
    * jan_last: 23:30 WIB on 31 January, no incident place → completeness 3/4
    * feb_first: 00:10 WIB on 1 February (still 31 January in UTC) → February
    """
    nik = "3273010101900009"
    incident = {"incident_date": dt.date(2025, 1, 2)}
    world = {
        "jan_a": good_case(
            agency, victims=[victim("Ani", nik=nik)], received_at=wib(2025, 1, 5, 9), **incident
        ),
        "jan_b": good_case(
            agency, victims=[victim("Budi", nik=nik)], received_at=wib(2025, 1, 10, 9), **incident
        ),
        "jan_late": good_case(agency, name="Citra", received_at=wib(2025, 1, 20, 9), **incident),
        "jan_last": good_case(
            agency,
            name="Dewi",
            received_at=wib(2025, 1, 31, 23, 30),
            incident_place=None,
            **incident,
        ),
        "feb_first": good_case(agency, name="Eka", received_at=wib(2025, 2, 1, 0, 10), **incident),
    }
    world["jan_late"].created_at = world["jan_late"].received_at + dt.timedelta(days=5)
    # not counted: a draft, and a case closed as a duplicate
    create_case(
        agency, draft=True, received_at=wib(2025, 1, 15, 9), victims=[victim("Fajar")], **incident
    )
    dup = good_case(agency, name="Gita", received_at=wib(2025, 1, 16, 9), **incident)
    dup.duplicate_of_id = world["jan_a"].id
    db.session.flush()
    return world


def test_scores_of_a_month_hand_computed(agency: Any, other_agency: Any) -> None:
    _january_world(agency)
    good_case(
        other_agency, name="Hana", received_at=wib(2025, 1, 7, 9), incident_date=dt.date(2025, 1, 2)
    )
    [jan] = quality_scores([agency.id], *_bounds(Period(2025, 1)))
    assert jan.agency_name == "UPTD Kota Uji" and jan.cases == 4
    assert (jan.timeliness.passed, jan.timeliness.total) == (3, 4)
    assert jan.timeliness.percent == Decimal("75.00")
    assert jan.completeness.percent == Decimal("75.00")
    assert (jan.uniqueness.passed, jan.uniqueness.percent) == (2, Decimal("50.00"))
    assert jan.validity.percent == Decimal("100.00")

    [feb] = quality_scores([agency.id], *_bounds(Period(2025, 2)))
    assert feb.cases == 1 and feb.completeness.percent == Decimal("100.00")

    year = quality_scores([agency.id, other_agency.id], *_bounds(Period(2025)))
    assert [(s.agency_name, s.cases) for s in year] == [("UPTD Kota Uji", 5), ("UPTD Lain", 1)]


# --- the queue ---------------------------------------------------------------------------------


def test_queue_holds_unverified_registered_cases_of_own_agencies_most_issues_first(
    agency: Any, other_agency: Any, analyst: Any
) -> None:
    clean = good_case(agency, name="Ani")
    one = good_case(agency, name="Budi", incident_place=None)
    two = good_case(agency, name="Citra", incident_place=None, risk="tinggi", ranah=None)
    two.incident_region_id = None
    verified = good_case(agency, name="Dewi")
    verify_case(verified, actor=analyst, expected_version=verified.version)
    create_case(agency, draft=True, victims=[victim("Eka")])
    good_case(other_agency, name="Fajar")
    db.session.flush()

    page = queue_for(analyst, TAB_UNVERIFIED)
    assert [r.case.id for r in page.items] == [two.id, one.id, clean.id]
    assert [len(r.issues) for r in page.items] == [2, 1, 0]
    assert queue_for(analyst, TAB_VERIFIED_WITH_ISSUES).items == []


def test_verified_case_with_issues_again_is_listed_in_its_own_tab(
    agency: Any, analyst: Any
) -> None:
    case = good_case(agency)
    verify_case(case, actor=analyst, expected_version=case.version)
    case.incident_place = None  # edited later: it stays verified
    db.session.flush()
    assert case.verification is VerificationStatus.TERVERIFIKASI
    [row] = queue_for(analyst, TAB_VERIFIED_WITH_ISSUES).items
    assert row.case.id == case.id
    assert [i.code for i in row.issues] == ["completeness.incident_place"]
    assert queue_for(analyst, TAB_UNVERIFIED).items == []


def test_queue_pages_by_25(agency: Any, analyst: Any) -> None:
    for n in range(26):
        good_case(agency, name=f"Korban {n}")
    first, second = queue_for(analyst, page=1), queue_for(analyst, page=2)
    assert (len(first.items), len(second.items), first.total, first.pages) == (25, 1, 26, 2)
    assert first.has_next and not second.has_next and second.prev_num == 1


# --- verification ------------------------------------------------------------------------------


def test_verify_is_refused_while_there_are_completeness_or_validity_issues(
    agency: Any, analyst: Any
) -> None:
    case = good_case(agency, incident_place=None)
    with pytest.raises(DomainError):
        verify_case(case, actor=analyst, expected_version=case.version)
    assert case.verification is VerificationStatus.BELUM_DIVERIFIKASI
    assert case.verified_at is None


def test_verify_without_blocking_issues(agency: Any, analyst: Any) -> None:
    good_case(agency, name="Siti Aminah")  # a possible duplicate does not block
    case = good_case(agency, name="Siti Aminah")
    case.created_at = case.received_at + dt.timedelta(days=9)  # nor does a late entry
    db.session.flush()
    version = case.version
    verify_case(case, actor=analyst, expected_version=version)
    assert case.verification is VerificationStatus.TERVERIFIKASI
    assert case.verified_by_id == analyst.id and case.verified_at is not None
    assert case.version == version + 1
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "case.verify", AuditEntry.object_id == str(case.id)
        )
    )
    assert entry.actor_id == analyst.id
    assert entry.changes["verification"] == ["belum_diverifikasi", "terverifikasi"]
    with pytest.raises(DomainError):
        verify_case(case, actor=analyst, expected_version=case.version)  # already verified


def test_verify_with_a_stale_version_conflicts(agency: Any, analyst: Any) -> None:
    case = good_case(agency)
    with pytest.raises(ConflictError):
        verify_case(case, actor=analyst, expected_version=case.version - 1)
    assert case.verification is VerificationStatus.BELUM_DIVERIFIKASI


def test_supervisor_of_the_agency_may_verify_others_may_not(agency: Any, other_agency: Any) -> None:
    case = good_case(agency)
    for outsider in (
        UserFactory(roles=[(Role.ANALIS_DATA, other_agency)]),
        UserFactory(roles=[(Role.MANAJER_KASUS, agency)]),
    ):
        with pytest.raises(DomainError):
            verify_case(case, actor=outsider, expected_version=case.version)
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    verify_case(case, actor=supervisor, expected_version=case.version)
    assert case.verified_by_id == supervisor.id


# --- the pages ---------------------------------------------------------------------------------


def test_verify_through_the_page(client: Any, agency: Any, analyst: Any) -> None:
    case = good_case(agency)
    login_as(client, analyst)
    response = client.post(f"/kualitas-data/{case.id}/verifikasi", data={"version": case.version})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/kualitas-data")
    db.session.refresh(case)
    assert case.verification is VerificationStatus.TERVERIFIKASI


def test_verify_refused_through_the_page(client: Any, agency: Any, analyst: Any) -> None:
    case = good_case(agency, incident_place=None)
    login_as(client, analyst)
    response = client.post(f"/kualitas-data/{case.id}/verifikasi", data={"version": case.version})
    assert response.status_code == 422
    assert 'id="verify-error"' in response.get_data(as_text=True)
    db.session.refresh(case)
    assert case.verification is VerificationStatus.BELUM_DIVERIFIKASI


def test_stale_verify_through_the_page(client: Any, agency: Any, analyst: Any) -> None:
    case = good_case(agency)
    login_as(client, analyst)
    response = client.post(
        f"/kualitas-data/{case.id}/verifikasi", data={"version": case.version - 1}
    )
    assert response.status_code == 409
    db.session.refresh(case)
    assert case.verification is VerificationStatus.BELUM_DIVERIFIKASI


def test_case_of_another_agency_is_not_found(
    client: Any, agency: Any, other_agency: Any, analyst: Any
) -> None:
    case = good_case(other_agency)
    draft = create_case(agency, draft=True, victims=[victim()])
    login_as(client, analyst)
    for target in (case, draft):
        response = client.post(f"/kualitas-data/{target.id}/verifikasi", data={"version": 1})
        assert response.status_code == 404
    db.session.refresh(case)
    assert case.verification is VerificationStatus.BELUM_DIVERIFIKASI


SECRETS = (
    "Wulandari Kusumawardhani",
    "3273019999990001",
    "081299998888",
    "Jalan Melati Tersembunyi",
    "zebrakuda",
    "Bambang Pelaporsaja",
    "081377776666",
    "Sukarjo Pelakuwan",
)


def test_the_queue_shows_no_identity(client: Any, agency: Any, analyst: Any) -> None:
    case = good_case(
        agency,
        victims=[
            victim(
                "Wulandari Kusumawardhani",
                nik="3273019999990001",
                phone="081299998888",
                address="Jalan Melati Tersembunyi 77",
            )
        ],
        kronologi="Korban bercerita tentang zebrakuda di rumah.",
        reporter_kind="pihak_ketiga",
        reporter_name="Bambang Pelaporsaja",
        reporter_phone="081377776666",
        incident_place=None,
        perpetrators=[PerpetratorData(name="Sukarjo Pelakuwan", relationships={1: "tetangga"})],
    )
    verified = good_case(agency, victims=[victim("Wulandari Kusumawardhani")])
    verify_case(verified, actor=analyst, expected_version=verified.version)
    verified.incident_place = None
    login_as(client, analyst)
    for tab in ("belum", "masalah"):
        response = client.get(f"/kualitas-data?tab={tab}&periode=2025-03")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert case.reference in html if tab == "belum" else verified.reference in html
        for secret in SECRETS:
            assert secret not in html, (tab, secret)
    assert "Wulandari" not in html


def test_reference_links_to_the_case_only_for_who_may_see_it(
    client: Any, agency: Any, analyst: Any
) -> None:
    case = good_case(agency)
    login_as(client, analyst)
    html = client.get("/kualitas-data").get_data(as_text=True)
    assert case.reference in html and f"/kasus/{case.id}" not in html

    both = UserFactory(roles=[(Role.ANALIS_DATA, agency), (Role.SUPERVISOR, agency)])
    client.post("/keluar")
    login_as(client, both)
    html = client.get("/kualitas-data").get_data(as_text=True)
    assert f'href="/kasus/{case.id}"' in html


def test_scores_table_on_the_page(client: Any, agency: Any, analyst: Any) -> None:
    _january_world(agency)
    login_as(client, analyst)
    response = client.get("/kualitas-data?periode=2025-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "UPTD Kota Uji" in html and "3/4" in html and "2/4" in html


@pytest.mark.parametrize(
    "role",
    [
        Role.PETUGAS_PENGADUAN,
        Role.MANAJER_KASUS,
        Role.PETUGAS_LAYANAN,
        Role.KOORDINATOR_SUBGT,
        Role.PIMPINAN,
        Role.ADMIN,
    ],
)
def test_roles_without_quality_review_are_forbidden(client: Any, agency: Any, role: Role) -> None:
    scope = TaskForceFactory().sub_task_forces[0] if role is Role.KOORDINATOR_SUBGT else agency
    user = UserFactory(roles=[(role, scope)])
    case = good_case(agency)
    login_as(client, user)
    assert client.get("/kualitas-data").status_code == 403
    response = client.post(f"/kualitas-data/{case.id}/verifikasi", data={"version": case.version})
    assert response.status_code == 403
    db.session.refresh(case)
    assert case.verification is VerificationStatus.BELUM_DIVERIFIKASI


def test_anonymous_is_sent_to_sign_in(client: Any, agency: Any) -> None:
    case = good_case(agency)
    for response in (
        client.get("/kualitas-data"),
        client.post(f"/kualitas-data/{case.id}/verifikasi", data={"version": case.version}),
    ):
        assert response.status_code == 302
        assert "/masuk" in response.headers["Location"]


def test_nav_entry_for_data_officers(client: Any, agency: Any, analyst: Any) -> None:
    login_as(client, analyst)
    assert 'href="/kualitas-data"' in client.get("/beranda").get_data(as_text=True)


def test_a_supervisor_verifies_from_the_queue(client: Any, agency: Any) -> None:
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    case = good_case(agency)
    login_as(client, supervisor)
    assert client.get("/kualitas-data").status_code == 200
    response = client.post(f"/kualitas-data/{case.id}/verifikasi", data={"version": case.version})
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.verification is VerificationStatus.TERVERIFIKASI
    assert case.verified_by_id == supervisor.id
