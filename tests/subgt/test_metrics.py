"""Referral metrics (app/referrals/metrics.py) against hand-computed figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from app.audit.operations import SystemActor
from app.core.enums import ReferralState, ServiceType, SubTaskForceKey
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.referrals.metrics import median_hours, percentage, referral_metrics
from app.referrals.models import Referral
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory
from tests.factories.cases import create_case

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
END = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
SENT = dt.datetime(2025, 3, 10, 1, 0, tzinfo=dt.UTC)
ACTOR = SystemActor("test")


@pytest.fixture
def agencies() -> dict[str, Any]:
    return {
        "uptd": AgencyFactory(services=[ServiceType.PENGADUAN]),
        "a": AgencyFactory(name="A Rumah Sakit", services=[ServiceType.REHABILITASI_KESEHATAN]),
        "b": AgencyFactory(name="B LBH", services=[ServiceType.BANTUAN_HUKUM]),
    }


def referral(
    uptd: Any,
    to: Any,
    service: ServiceType,
    *,
    state: ReferralState,
    sent_at: dt.datetime = SENT,
    accepted_after: dt.timedelta | None = None,
    missed: bool = False,
) -> Referral:
    """A referral written straight into the tables (with its answer deadline), so the times
    are exact."""
    case = create_case(uptd)
    track = create_track(case, case.victims[0], service, provider=None, actor=ACTOR)
    row = Referral(
        case_id=case.id,
        track_id=track.id,
        from_agency_id=uptd.id,
        to_agency_id=to.id,
        state=state,
        sent_at=None if state is ReferralState.DRAF else sent_at,
        accepted_at=sent_at + accepted_after if accepted_after is not None else None,
        override_reason="Uji metrik rujukan",
        decline_reason="Tidak ada dokter" if state is ReferralState.DITOLAK else None,
    )
    db.session.add(row)
    due = sent_at + dt.timedelta(days=2)
    db.session.add(
        Deadline(
            code=DeadlineCode.REFERRAL_RESPONSE,
            case_id=case.id,
            track_id=track.id,
            started_at=sent_at,
            due_at=due,
            responsible_agency_id=to.id,
            missed_at=due if missed else None,
        )
    )
    db.session.flush()
    return row


def test_hand_computed_figures_per_agency(agencies: dict[str, Any]):
    uptd, a = agencies["uptd"], agencies["a"]
    health = ServiceType.REHABILITASI_KESEHATAN
    for hours in (2, 10, 4):
        referral(
            uptd, a, health, state=ReferralState.DITERIMA, accepted_after=dt.timedelta(hours=hours)
        )
    referral(uptd, a, health, state=ReferralState.DITOLAK)
    referral(uptd, a, health, state=ReferralState.DIKIRIM, missed=True)
    # not counted: a draft, and one sent before the period
    referral(uptd, a, health, state=ReferralState.DRAF)
    referral(uptd, a, health, state=ReferralState.DITOLAK, sent_at=START - dt.timedelta(seconds=1))

    (row,) = referral_metrics(START, END, by="agency")
    assert (row.agency_id, row.agency_name, row.subgt_key) == (a.id, "A Rumah Sakit", None)
    assert (row.sent, row.accepted, row.declined, row.overdue) == (5, 3, 1, 1)
    assert row.decline_rate == Decimal("25.00")
    assert row.median_hours_to_accept == Decimal("4.00")
    # the end of the period is excluded, its start included
    assert referral_metrics(SENT + dt.timedelta(seconds=1), END, by="agency") == []
    assert referral_metrics(SENT, SENT + dt.timedelta(seconds=1), by="agency")[0].sent == 5


def test_grouping_by_sub_gt_and_limiting_to_agencies(agencies: dict[str, Any]):
    uptd, a, b = agencies["uptd"], agencies["a"], agencies["b"]
    referral(uptd, a, ServiceType.REHABILITASI_KESEHATAN, state=ReferralState.DIKIRIM)
    referral(
        uptd,
        b,
        ServiceType.BANTUAN_HUKUM,
        state=ReferralState.DITERIMA,
        accepted_after=dt.timedelta(hours=1),
        missed=True,
    )
    referral(uptd, b, ServiceType.BANTUAN_HUKUM, state=ReferralState.DITOLAK)

    rows = referral_metrics(START, END, by="subgt")
    assert [r.subgt_key for r in rows] == [
        SubTaskForceKey.REHABILITASI_KESEHATAN,
        SubTaskForceKey.PENEGAKAN_HUKUM,
    ]
    health, legal = rows
    assert (health.sent, health.accepted, health.declined, health.overdue) == (1, 0, 0, 0)
    assert health.decline_rate is None and health.median_hours_to_accept is None
    assert (legal.sent, legal.accepted, legal.declined, legal.overdue) == (2, 1, 1, 1)
    assert legal.decline_rate == Decimal("50.00")
    assert legal.median_hours_to_accept == Decimal("1.00")
    assert legal.agency_id is None

    by_agency = referral_metrics(START, END, by="agency")
    assert [r.agency_name for r in by_agency] == ["A Rumah Sakit", "B LBH"]
    only_b = referral_metrics(START, END, by="agency", agency_ids=[b.id])
    assert [r.agency_id for r in only_b] == [b.id]
    assert referral_metrics(START, END, by="subgt", agency_ids=[a.id])[0].sent == 1
    assert referral_metrics(START, END, by="agency", agency_ids=[]) == []


def test_rounding_is_half_up(agencies: dict[str, Any]):
    # 2 h 7 min 30 s = 2.125 h: half-up gives 2.13 (banker's rounding would give 2.12)
    referral(
        agencies["uptd"],
        agencies["a"],
        ServiceType.REHABILITASI_KESEHATAN,
        state=ReferralState.DITERIMA,
        accepted_after=dt.timedelta(hours=2, minutes=7, seconds=30),
    )
    (row,) = referral_metrics(START, END, by="agency")
    assert row.median_hours_to_accept == Decimal("2.13")
    assert percentage(1, 32) == Decimal("3.13")  # 3.125 %
    assert percentage(1, 3) == Decimal("33.33")
    assert percentage(2, 3) == Decimal("66.67")
    assert percentage(0, 0) is None
    assert median_hours([dt.timedelta(hours=1), dt.timedelta(hours=2)]) == Decimal("1.50")
    assert median_hours([]) is None


def test_a_referral_counts_once_as_overdue_and_a_later_one_keeps_its_own_deadline(
    agencies: dict[str, Any],
):
    uptd, a = agencies["uptd"], agencies["a"]
    first = referral(uptd, a, ServiceType.REHABILITASI_KESEHATAN, state=ReferralState.DITOLAK)
    # a second missed deadline row of the same referral still counts it once
    db.session.add(
        Deadline(
            code=DeadlineCode.REFERRAL_RESPONSE,
            case_id=first.case_id,
            track_id=first.track_id,
            started_at=SENT,
            due_at=SENT + dt.timedelta(days=2),
            responsible_agency_id=a.id,
            missed_at=SENT + dt.timedelta(days=2),
        )
    )
    # the track is referred again later; its answer was in time
    db.session.add(
        Referral(
            case_id=first.case_id,
            track_id=first.track_id,
            from_agency_id=uptd.id,
            to_agency_id=a.id,
            state=ReferralState.DITERIMA,
            sent_at=SENT + dt.timedelta(days=5),
            accepted_at=SENT + dt.timedelta(days=5, hours=3),
            override_reason="Uji metrik rujukan",
        )
    )
    db.session.flush()
    (row,) = referral_metrics(START, END, by="agency")
    assert (row.sent, row.declined, row.accepted, row.overdue) == (2, 1, 1, 1)
    assert row.median_hours_to_accept == Decimal("3.00")
