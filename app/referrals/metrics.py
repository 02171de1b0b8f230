"""Referral metrics per receiving agency or per Sub GT (domain.md §6.4), for the Sub GT board
and, later, the operational indicators.

Definitions, over the referrals **sent** in the half-open period ``[start, end)`` (``sent_at``;
drafts are never sent and so never counted):

- ``sent``: the number of those referrals.
- ``accepted``: those ever accepted (``accepted_at`` set), whatever happened afterwards.
- ``declined``: those the receiving agency declined (state ``ditolak``).
- ``decline_rate``: declined / (accepted + declined) * 100 — the share of the answers that were
  a refusal. ``None`` when nothing was answered. Withdrawn referrals and those still waiting
  are no answer.
- ``overdue``: those whose ``referral_response`` deadline was missed (``missed_at`` set: the
  answer came late, or has not come by the time the deadline check ran). A referral counts once
  even if several of its track's deadlines were missed; a deadline belongs to the referral of
  the same track sent last at or before the deadline's clock started.
- ``median_hours_to_accept``: the median of the hours from ``sent_at`` to ``accepted_at`` over
  the accepted referrals (the mean of the two middle values for an even number). ``None`` when
  none was accepted.

Rates and medians are ``Decimal`` rounded half-up to 2 places (never binary floats).

Grouping: ``by="agency"`` gives one row per receiving agency; ``by="subgt"`` one row per Sub GT
key the track's service maps to (``SERVICE_SUBTASKFORCE``), with ``subgt_key`` ``None`` for the
services no Sub GT reviews, so the rows always add up to every referral counted. ``agency_ids``
limits both to referrals received by those agencies. Rows with nothing sent are not returned.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import sqlalchemy as sa

from app.agencies.models import Agency
from app.core.enums import SERVICE_SUBTASKFORCE, ReferralState, SubTaskForceKey
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.referrals.models import Referral
from app.services.models import ServiceTrack

TWO_PLACES = Decimal("0.01")
SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True)
class MetricRow:
    """One group's figures. ``agency_id``/``agency_name`` are set when grouped by agency,
    ``subgt_key`` when grouped by Sub GT (``None`` there: services without a Sub GT)."""

    agency_id: int | None
    agency_name: str | None
    subgt_key: SubTaskForceKey | None
    sent: int
    accepted: int
    declined: int
    decline_rate: Decimal | None
    overdue: int
    median_hours_to_accept: Decimal | None


def round_half_up(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def percentage(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator * 100, half-up to 2 places; ``None`` when the denominator is 0."""
    if denominator == 0:
        return None
    return round_half_up(Decimal(numerator) * 100 / Decimal(denominator))


def median_hours(durations: Iterable[dt.timedelta]) -> Decimal | None:
    """The median of ``durations`` in hours, half-up to 2 places; ``None`` when empty."""
    hours = sorted(
        Decimal(d.days * 86400 + d.seconds) / SECONDS_PER_HOUR
        + Decimal(d.microseconds) / (SECONDS_PER_HOUR * 1_000_000)
        for d in durations
    )
    if not hours:
        return None
    return round_half_up(Decimal(statistics.median(hours)))


def _plain(column: Any) -> Any:
    """A timestamp as the driver gives it: only compared with and subtracted from timestamps
    read the same way (all of them aware on PostgreSQL, all naive UTC on SQLite), without
    converting each of a year's values to UTC."""
    return sa.type_coerce(column, sa.DateTime(timezone=True))


def _value(service: object) -> str:
    return str(getattr(service, "value", service))


@dataclass
class _Group:
    sent: int = 0
    accepted: int = 0
    declined: int = 0
    overdue: int = 0
    waits: list[dt.timedelta] = field(default_factory=list)


def _missed_referrals(tracks: sa.Select[tuple[int]]) -> set[int]:
    """Ids of the referrals of ``tracks`` (a subquery selecting the tracks of the referrals
    counted: a year's referrals have tens of thousands) whose answer deadline was missed."""
    # every sent referral of those tracks, so a deadline goes to the right one even when a later
    # referral of the same track falls outside the period
    all_sent: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    connection = db.session.connection()
    missed_where = [
        Deadline.code == DeadlineCode.REFERRAL_RESPONSE,
        Deadline.track_id.in_(tracks),
        Deadline.missed_at.is_not(None),
    ]
    deadlines = (
        connection.execute(
            sa.select(Deadline.track_id, _plain(Deadline.started_at)).where(*missed_where)
        )
        .tuples()
        .all()
    )
    if not deadlines:
        return set()
    # only the tracks with a missed deadline matter (a few of a year's referrals)
    for referral_id, track_id, sent_at in (
        connection.execute(
            sa.select(Referral.id, Referral.track_id, _plain(Referral.sent_at)).where(
                Referral.track_id.in_(sa.select(Deadline.track_id).where(*missed_where)),
                Referral.sent_at.is_not(None),
            )
        )
        .tuples()
        .all()
    ):
        all_sent[track_id].append((sent_at, referral_id))
    missed: set[int] = set()
    for track_id, started_at in deadlines:
        if track_id not in all_sent:
            continue
        earlier = [item for item in all_sent[track_id] if item[0] <= started_at]
        if earlier:
            missed.add(max(earlier)[1])
    return missed


def referral_metrics(
    start: dt.datetime,
    end: dt.datetime,
    *,
    by: Literal["agency", "subgt"],
    agency_ids: Iterable[int] | None = None,
) -> list[MetricRow]:
    """The referral figures of the referrals sent in ``[start, end)`` (see the module's
    docstring), per receiving agency (ordered by name) or per Sub GT key (in the order of the
    Sub GTs, then the services without one)."""
    if by not in ("agency", "subgt"):
        raise ValueError(f"by must be 'agency' or 'subgt', not {by!r}")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("naive datetime given for a period")
    where = [
        Referral.sent_at.is_not(None),
        Referral.sent_at >= start,
        Referral.sent_at < end,
        Referral.state != ReferralState.DRAF,
    ]
    if agency_ids is not None:
        wanted = sorted(set(agency_ids))
        if not wanted:
            return []
        where.append(Referral.to_agency_id.in_(wanted))
    query = (
        sa.select(
            Referral.id,
            Referral.track_id,
            _plain(Referral.sent_at),
            _plain(Referral.accepted_at),
            Referral.state == ReferralState.DITOLAK,
            Referral.to_agency_id,
            sa.type_coerce(ServiceTrack.service_type, sa.String),
        )
        .join(ServiceTrack, ServiceTrack.id == Referral.track_id)
        .where(*where)
    )
    tracks = sa.select(Referral.track_id).where(*where)
    missed = _missed_referrals(tracks)
    # plain tuples, read in batches: a year's referrals are hundreds of thousands
    rows = db.session.connection().execute(query.execution_options(yield_per=20_000)).tuples()

    groups: dict[int | SubTaskForceKey | None, _Group] = defaultdict(_Group)
    subgt_of = {service.value: key for service, key in SERVICE_SUBTASKFORCE.items()}
    for referral_id, _track_id, sent_at, accepted_at, declined, to_agency_id, service in rows:
        key: int | SubTaskForceKey | None = (
            to_agency_id if by == "agency" else subgt_of.get(_value(service))
        )
        group = groups[key]
        group.sent += 1
        if accepted_at is not None:
            group.accepted += 1
            group.waits.append(accepted_at - sent_at)
        if declined:
            group.declined += 1
        if referral_id in missed:
            group.overdue += 1

    names: dict[int, str] = {}
    if by == "agency" and groups:
        names = dict(
            db.session.execute(
                sa.select(Agency.id, Agency.name).where(
                    Agency.id.in_([k for k in groups if isinstance(k, int)])
                )
            )
            .tuples()
            .all()
        )

    def make(key: int | SubTaskForceKey | None, g: _Group) -> MetricRow:
        agency_id = key if isinstance(key, int) else None
        return MetricRow(
            agency_id=agency_id,
            agency_name=names.get(agency_id) if agency_id is not None else None,
            subgt_key=key if isinstance(key, SubTaskForceKey) else None,
            sent=g.sent,
            accepted=g.accepted,
            declined=g.declined,
            decline_rate=percentage(g.declined, g.accepted + g.declined),
            overdue=g.overdue,
            median_hours_to_accept=median_hours(g.waits),
        )

    result = [make(key, g) for key, g in groups.items()]
    if by == "agency":
        return sorted(result, key=lambda r: ((r.agency_name or "").lower(), r.agency_id or 0))
    order = {key: i for i, key in enumerate(SubTaskForceKey)}
    return sorted(
        result, key=lambda r: order[r.subgt_key] if r.subgt_key is not None else len(order)
    )
