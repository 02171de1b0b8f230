"""The read side of "Tugas saya": one list per user of what is overdue, due today and due this
week, from four sources, each read in one statement whatever the data (the counters in one more):

* **deadlines** the user answers for ("Tenggat saya": ``deadlines.queries.answered_by``) on cases
  they may see;
* **plan target dates**: the open service tracks with a target date of the cases they manage;
* **referrals awaiting their answer**: sent to an agency whose referrals they receive, by the
  answer's deadline;
* **follow-ups** they set themselves, on cases they may still see (one on a case they lost
  access to is left out, and never reminded).

Every source is bounded by the end of the week and by an index (docs/scaling.md, "Tugas saya")."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, load_only

from app.agencies.models import Agency
from app.auth.models import User
from app.cases.models import Case
from app.cases.queries import scope_condition
from app.core.enums import ReferralState, ServiceType
from app.deadlines.models import Deadline
from app.deadlines.queries import answered_by
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.referrals.models import Referral
from app.referrals.permissions import receiving_agency_ids
from app.services.models import ServiceTrack
from app.tasks.calendar import Window, window
from app.tasks.models import FollowUp

BUCKETS = ("overdue", "today", "week")
SHOWN_PER_SOURCE = 100  # a source with more rows in the week shows its first ones, oldest due first


@dataclass(frozen=True)
class Item:
    """One thing to do: what (``kind``), on which case (by reference), due when."""

    kind: str  # deadline | target | referral | follow_up
    bucket: str
    due_day: dt.date
    due_at: dt.datetime | None  # a deadline's or referral answer's time; None for a date
    reference: str | None
    case_id: int | None  # None: the user cannot open the case (a referral: ``referral_id``)
    label: Any  # what is due, in words (a label or a vocabulary value to label)
    referral_id: int | None = None
    track_id: int | None = None
    follow_up: FollowUp | None = None


@dataclass
class MyTasks:
    items: dict[str, list[Item]] = field(default_factory=lambda: {b: [] for b in BUCKETS})
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    truncated: bool = False  # a source had more rows in the week than are shown


def _visible(user: User) -> Any:
    """The cases the user works on (not those seen read-only through emergency access)."""
    return scope_condition(user, break_glass=False)


def _bucket_time(w: Window, column: Any) -> Any:
    return sa.case(
        (column.is_(None), "today"),
        (column < w.now, "overdue"),
        (column < w.tomorrow_start, "today"),
        else_="week",
    )


def _bucket_day(w: Window, column: Any) -> Any:
    return sa.case((column < w.today, "overdue"), (column == w.today, "today"), else_="week")


# --- the four sources, each a query of the rows due before the week ends -----------------------


def _deadlines(user: User, w: Window) -> sa.Select[Any]:
    return (
        sa.select(Deadline)
        .join(Case, Case.id == Deadline.case_id)
        .where(answered_by(user), Deadline.due_at < w.week_end_start, _visible(user))
    )


def _targets(user: User, w: Window) -> sa.Select[Any]:
    return (
        sa.select(ServiceTrack)
        .join(Case, Case.id == ServiceTrack.case_id)
        .where(
            Case.case_manager_id == user.id,
            ServiceTrack.ended_at.is_(None),
            ServiceTrack.target_date.is_not(None),
            ServiceTrack.target_date < w.week_end,
            _visible(user),
        )
    )


def _answer_due() -> Any:
    """When the answer of a waiting referral is due: its track's open answer deadline."""
    return (
        sa.select(sa.func.min(Deadline.due_at))
        .where(
            Deadline.track_id == Referral.track_id,
            Deadline.code == DeadlineCode.REFERRAL_RESPONSE,
            Deadline.completed_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
        .scalar_subquery()
    )


def _referrals(user: User, w: Window, due: Any) -> sa.Select[Any] | None:
    agencies = receiving_agency_ids(user)
    if not agencies:
        return None
    return sa.select(Referral).where(
        Referral.to_agency_id.in_(agencies),
        Referral.state == ReferralState.DIKIRIM,
        sa.or_(due.is_(None), due < w.week_end_start),
    )


def _follow_ups(user: User, w: Window) -> sa.Select[Any]:
    return (
        sa.select(FollowUp)
        .join(Case, Case.id == FollowUp.case_id)
        .where(
            FollowUp.user_id == user.id,
            FollowUp.done_at.is_(None),
            FollowUp.cancelled_at.is_(None),
            FollowUp.due_on < w.week_end,
            _visible(user),
        )
    )


def task_counts(user: User, now: dt.datetime | None = None) -> dict[str, int]:
    """How many things are overdue, due today and due this week: one statement."""
    w = window(now)
    due = _answer_due()
    parts: list[Any] = [
        _deadlines(user, w).with_only_columns(_bucket_time(w, Deadline.due_at).label("bucket")),
        _targets(user, w).with_only_columns(
            _bucket_day(w, ServiceTrack.target_date).label("bucket")
        ),
        _follow_ups(user, w).with_only_columns(_bucket_day(w, FollowUp.due_on).label("bucket")),
    ]
    referrals = _referrals(user, w, due)
    if referrals is not None:
        parts.append(referrals.with_only_columns(_bucket_time(w, due).label("bucket")))
    rows = sa.union_all(*parts).subquery()
    counts = dict.fromkeys(BUCKETS, 0)
    for bucket, n in db.session.execute(
        sa.select(rows.c.bucket, sa.func.count()).group_by(rows.c.bucket)
    ):
        counts[bucket] = n
    return counts


def my_tasks(user: User, now: dt.datetime | None = None) -> MyTasks:
    """Everything of the four sources due before the week ends, by bucket and due time: one
    statement per source and one for the counts."""
    w = window(now)
    tasks = MyTasks(counts=task_counts(user, w.now))
    found: list[Item] = []
    seen = Counter[str]()

    deadlines = db.session.scalars(
        _deadlines(user, w)
        .options(contains_eager(Deadline.case).load_only(Case.reference))
        .order_by(Deadline.due_at, Deadline.id)
        .limit(SHOWN_PER_SOURCE + 1)
    ).all()
    for d in deadlines[:SHOWN_PER_SOURCE]:
        found.append(
            Item(
                "deadline",
                w.bucket_of_time(d.due_at),
                d.due_at.date(),
                d.due_at,
                d.case.reference,
                d.case_id,
                d.code,
            )
        )
    seen["deadline"] = len(deadlines)

    tracks = db.session.scalars(
        _targets(user, w)
        .options(contains_eager(ServiceTrack.case).load_only(Case.reference))
        .order_by(ServiceTrack.target_date, ServiceTrack.id)
        .limit(SHOWN_PER_SOURCE + 1)
    ).all()
    for t in tracks[:SHOWN_PER_SOURCE]:
        assert t.target_date is not None  # the query's condition
        found.append(
            Item(
                "target",
                w.bucket_of_day(t.target_date),
                t.target_date,
                None,
                t.case.reference,
                t.case_id,
                t.service_type,
                track_id=t.id,
            )
        )
    seen["target"] = len(tracks)

    due = _answer_due()
    referrals = _referrals(user, w, due)
    if referrals is not None:
        rows = db.session.execute(
            referrals.add_columns(due.label("due"))
            .options(
                load_only(Referral.case_id, Referral.track_id, Referral.from_agency_id),
                joinedload(Referral.track).load_only(ServiceTrack.service_type),
                joinedload(Referral.case).load_only(Case.reference),
                joinedload(Referral.from_agency).load_only(Agency.name),
            )
            .order_by(sa.nulls_first(due.asc()), Referral.id)
            .limit(SHOWN_PER_SOURCE + 1)
        ).all()
        for referral, due_at in rows[:SHOWN_PER_SOURCE]:
            found.append(
                Item(
                    "referral",
                    w.bucket_of_time(due_at),
                    (due_at or w.now).date(),
                    due_at,
                    referral.case.reference,
                    None,
                    referral.track.service_type,
                    referral_id=referral.id,
                )
            )
        seen["referral"] = len(rows)

    follow_ups = db.session.scalars(
        _follow_ups(user, w)
        .options(
            contains_eager(FollowUp.case).load_only(Case.reference),
            joinedload(FollowUp.track).load_only(ServiceTrack.service_type),
        )
        .order_by(FollowUp.due_on, FollowUp.id)
        .limit(SHOWN_PER_SOURCE + 1)
    ).all()
    for f in follow_ups[:SHOWN_PER_SOURCE]:
        found.append(
            Item(
                "follow_up",
                w.bucket_of_day(f.due_on),
                f.due_on,
                None,
                f.case.reference,
                f.case_id,
                f.track.service_type if f.track is not None else None,
                track_id=f.track_id,
                follow_up=f,
            )
        )
    seen["follow_up"] = len(follow_ups)

    tasks.truncated = any(n > SHOWN_PER_SOURCE for n in seen.values())
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    for item in sorted(found, key=lambda i: (i.due_day, i.due_at or far)):
        tasks.items[item.bucket].append(item)
    return tasks


# --- the case page -----------------------------------------------------------------------------


def follow_ups_on(user: User, case: Case) -> list[FollowUp]:
    """The user's open follow-ups on ``case`` (the case page shows them)."""
    return list(
        db.session.scalars(
            sa.select(FollowUp)
            .where(
                FollowUp.case_id == case.id,
                FollowUp.user_id == user.id,
                FollowUp.done_at.is_(None),
                FollowUp.cancelled_at.is_(None),
            )
            .options(joinedload(FollowUp.track).load_only(ServiceTrack.service_type))
            .order_by(FollowUp.due_on, FollowUp.id)
        )
    )


def open_tracks(case: Case) -> list[tuple[int, ServiceType]]:
    """The case's service tracks still running, as (id, service type): what a follow-up can be
    about besides the case itself."""
    return [
        (track_id, service)
        for track_id, service in db.session.execute(
            sa.select(ServiceTrack.id, ServiceTrack.service_type)
            .where(ServiceTrack.case_id == case.id, ServiceTrack.ended_at.is_(None))
            .order_by(ServiceTrack.id)
        )
    ]


def follow_up_for(user: User, follow_up_id: int) -> FollowUp | None:
    """The user's own follow-up on a case they may still see, else None (a 404)."""
    return db.session.scalar(
        sa.select(FollowUp)
        .join(Case, Case.id == FollowUp.case_id)
        .where(FollowUp.id == follow_up_id, FollowUp.user_id == user.id, _visible(user))
    )
