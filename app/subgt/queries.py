"""The read side of the Sub GT review board: pseudonymised rows only.

A Sub GT coordinator reviews the service tracks of their Sub GT's domain (the service types that
map to its key, ``SERVICE_SUBTASKFORCE``) where the case's agency or the provider is a member
agency of the Sub GT. Everything here is built from explicit column selects into plain
dataclasses: a coordinator never receives a victim's name, NIK, birth date, contacts, address,
guardians, the kronologi, notes, transition reasons or referral texts — only the case reference,
the SIMFONI age band, sex and case types (domain.md §1.2).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from app.agencies.models import Agency, SubTaskForce, SubTaskForceMember, TaskForce
from app.auth.models import RoleGrant, User
from app.cases.models import Case, CaseTypeEntry, Victim
from app.core.bounds import NumberedPage
from app.core.db import set_local, utcnow
from app.core.enums import (
    SERVICE_SUBTASKFORCE,
    TRACK_ENDED,
    CaseType,
    ReferralState,
    Role,
    ServiceType,
    Sex,
    SubTaskForceKey,
    TrackState,
    age_band,
)
from app.deadlines.models import Deadline
from app.extensions import db
from app.referrals.models import CoordinationNote, Referral, ReferralEvent
from app.services.models import ServiceTrack
from app.workflow.models import CaseTransition


def services_of(key: SubTaskForceKey) -> list[ServiceType]:
    """The service types the Sub GT ``key`` reviews (domain.md §3)."""
    return [service for service, owner in SERVICE_SUBTASKFORCE.items() if owner is key]


@dataclass(frozen=True)
class Board:
    """One Sub GT the user coordinates: its key, region and member agencies."""

    id: int
    key: SubTaskForceKey
    task_force_name: str
    member_ids: frozenset[int]
    service_types: tuple[ServiceType, ...]


@dataclass(frozen=True)
class BoardFilters:
    """``state`` one track state; otherwise only tracks that have not ended, unless
    ``include_ended``."""

    service_type: ServiceType | None = None
    state: TrackState | None = None
    include_ended: bool = False
    provider_id: int | None = None
    overdue_only: bool = False


@dataclass(frozen=True)
class BoardRow:
    """A pseudonymised service track. Nothing here identifies the person."""

    track_id: int
    sub_task_force_id: int
    sub_task_force_key: SubTaskForceKey
    reference: str
    age_band: str
    sex: Sex
    case_types: tuple[CaseType, ...]
    service_type: ServiceType
    track_state: TrackState
    referral_state: ReferralState | None
    provider_name: str | None
    agency_name: str
    waiting_since: dt.datetime
    days_waiting: int
    overdue: bool
    stale_after: int | None = None
    """Set when the service is late only for having had no change for this many days (its
    service type's ``SUBGT_STALE_DAYS``); the row says so."""

    @property
    def waiting_for_answer(self) -> bool:
        return self.referral_state is ReferralState.DIKIRIM


@dataclass(frozen=True)
class Summary:
    total: int
    waiting_for_answer: int
    overdue: int


def boards_of(user: User) -> list[Board]:
    """The Sub GTs ``user`` coordinates (none when the account is inactive)."""
    if not user or not getattr(user, "active", False):
        return []
    ids = sorted(
        {
            g.sub_task_force_id
            for g in user.grants
            if g.role is Role.KOORDINATOR_SUBGT and g.sub_task_force_id is not None
        }
    )
    if not ids:
        return []
    members: dict[int, set[int]] = defaultdict(set)
    for stf_id, agency_id in db.session.execute(
        sa.select(SubTaskForceMember.sub_task_force_id, SubTaskForceMember.agency_id).where(
            SubTaskForceMember.sub_task_force_id.in_(ids)
        )
    ):
        members[stf_id].add(agency_id)
    boards = []
    # the task force's name with its Sub GT: one statement, not one per board
    for stf_id, stf_key, task_force_name in db.session.execute(
        sa.select(SubTaskForce.id, SubTaskForce.key, TaskForce.name)
        .join(TaskForce, TaskForce.id == SubTaskForce.task_force_id)
        .where(SubTaskForce.id.in_(ids))
        .order_by(SubTaskForce.id)
    ):
        key = SubTaskForceKey(stf_key)
        boards.append(
            Board(
                id=stf_id,
                key=key,
                task_force_name=task_force_name,
                member_ids=frozenset(members[stf_id]),
                service_types=tuple(services_of(key)),
            )
        )
    return boards


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).date()


def stale_days() -> dict[ServiceType, int]:
    """Days without a change after which an open service counts as late, per service type
    (``SUBGT_STALE_DAYS``)."""
    configured: dict[str, int] = current_app.config["SUBGT_STALE_DAYS"]
    return {ServiceType(service): days for service, days in configured.items()}


def _stale(rows: Any, boards: Iterable[Board], now: dt.datetime) -> sa.ColumnElement[bool]:
    """Whether a row of the union ``rows`` is an open service with no change (``waiting_since``)
    for its service type's days: one condition per distinct day count over the boards' service
    types, computed on the rows the union already read (no statement, no lookup more)."""
    days = stale_days()
    services = sorted({s for b in boards for s in b.service_types})
    by_days: dict[int, list[ServiceType]] = defaultdict(list)
    for service in services:
        by_days[days[service]].append(service)
    if not by_days:
        return sa.false()
    return sa.and_(
        rows.c.state.not_in(TRACK_ENDED),
        sa.or_(
            *(
                sa.and_(
                    rows.c.service_type.in_(group),
                    rows.c.waiting_since < now - dt.timedelta(days=count),
                )
                for count, group in sorted(by_days.items())
            )
        ),
    )


def _late(rows: Any, boards: Iterable[Board], now: dt.datetime) -> sa.ColumnElement[int]:
    """1 when a row counts as late ("Terlambat"): a missed deadline or target date, or no change
    for too long (``_stale``); else 0."""
    return sa.case((sa.or_(rows.c.overdue == 1, _stale(rows, boards, now)), 1), else_=0)


def _membership_parts(board: Board) -> list[sa.ColumnElement[bool]]:
    """The board's membership — the case's agency or the provider is a member — cut into two
    parts that exclude each other, each with an index: the tracks of the cases of member agencies
    (the cases by ``ix_cases_agency_id``, their tracks by ``ix_service_tracks_case_id``), and
    the tracks with a member provider on cases of other agencies
    (``ix_service_tracks_provider_open``, ``ix_service_tracks_provider_id`` with ended tracks).
    Their union is exactly the membership, every track once; as one OR on every row PostgreSQL
    could only read every open track of the Sub GT's services in the country."""
    members = sorted(board.member_ids)
    return [
        Case.agency_id.in_(members),
        sa.and_(ServiceTrack.provider_id.in_(members), Case.agency_id.not_in(members)),
    ]


def _board_select(
    board: Board,
    filters: BoardFilters,
    now: dt.datetime,
    track_ids: Iterable[int] | None = None,
) -> list[sa.Select[Any]]:
    """The tracks of one Sub GT's board (optionally of some tracks only) with what the board
    orders and counts by, computed in SQL: the latest sent referral's state, since when the
    track waits, and whether it is overdue. One select per part of the membership
    (``_membership_parts``), to be added up with UNION ALL; none when the board can hold
    nothing."""
    if not board.member_ids or not board.service_types:
        return []
    track = ServiceTrack
    referral_state = (
        sa.select(Referral.state)
        .where(Referral.track_id == track.id, Referral.state != ReferralState.DRAF)
        .order_by(Referral.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    referral_sent_at = (
        sa.select(Referral.sent_at)
        .where(Referral.track_id == track.id, Referral.state != ReferralState.DRAF)
        .order_by(Referral.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    last_step = (
        sa.select(sa.func.max(CaseTransition.at))
        .where(CaseTransition.track_id == track.id)
        .scalar_subquery()
    )
    late = (
        sa.select(Deadline.id)
        .where(
            Deadline.track_id == track.id,
            Deadline.completed_at.is_(None),
            Deadline.cancelled_at.is_(None),
            sa.or_(Deadline.due_at < now, Deadline.missed_at.is_not(None)),
        )
        .exists()
    )
    overdue = sa.or_(
        late,
        sa.and_(
            track.target_date.is_not(None),
            track.target_date < _today(now),
            track.state.not_in(TRACK_ENDED),
        ),
    )
    waiting_since = sa.case(
        (
            sa.and_(referral_state == ReferralState.DIKIRIM, referral_sent_at.is_not(None)),
            referral_sent_at,
        ),
        else_=sa.func.coalesce(last_step, track.created_at),
    )
    query = (
        sa.select(
            sa.literal(board.id).label("board_id"),
            track.id.label("track_id"),
            track.case_id,
            track.service_type,
            track.state,
            track.provider_id,
            Case.reference,
            Case.agency_id,
            Victim.sex,
            Victim.age_at_incident,
            referral_state.label("referral_state"),
            waiting_since.label("waiting_since"),
            sa.case((overdue, 1), else_=0).label("overdue"),
        )
        .join(Case, Case.id == track.case_id)
        .join(Victim, Victim.id == track.victim_id)
        .where(
            Case.reference.is_not(None),
            track.service_type.in_(board.service_types),
        )
    )
    if track_ids is not None:
        query = query.where(track.id.in_(list(track_ids)))
    if filters.service_type is not None:
        query = query.where(track.service_type == filters.service_type)
    if filters.state is not None:
        query = query.where(track.state == filters.state)
    elif not filters.include_ended:
        # the tracks that have not ended: those without an end (``ended_iff_ended_at``), as the
        # partial index of open tracks is defined
        query = query.where(track.ended_at.is_(None))
    if filters.provider_id is not None:
        query = query.where(track.provider_id == filters.provider_id)
    # ``overdue_only`` is applied on the union (``_late``), where staleness is known
    return [query.where(part) for part in _membership_parts(board)]


def _without_jit() -> None:
    """The board's statements read a bounded set of tracks with a few index lookups each; on a
    big board PostgreSQL's estimate passes ``jit_above_cost`` and compiling the statement costs
    more than running it (150 ms of 450 ms measured at a million cases)."""
    set_local(db.session, jit="off")


def _union(
    boards: Iterable[Board],
    filters: BoardFilters,
    now: dt.datetime,
    track_ids: Iterable[int] | None = None,
) -> Any:
    """The rows of every board as one subquery (a track on two boards is there twice)."""
    selects = [q for b in boards for q in _board_select(b, filters, now, track_ids=track_ids)]
    if not selects:
        return None
    return sa.union_all(*selects).subquery()


def _as_rows(raw: Sequence[Any], boards: dict[int, Board], now: dt.datetime) -> list[BoardRow]:
    """Board rows from the computed tracks ``raw``; the case types and agency names of these
    rows only, in two statements."""
    if not raw:
        return []
    types: dict[int, list[CaseType]] = defaultdict(list)
    for case_id, case_type in db.session.execute(
        sa.select(CaseTypeEntry.case_id, CaseTypeEntry.type)
        .where(CaseTypeEntry.case_id.in_({t.case_id for t in raw}))
        .order_by(CaseTypeEntry.type)
    ):
        types[case_id].append(CaseType(case_type))
    agency_ids = {t.agency_id for t in raw} | {t.provider_id for t in raw if t.provider_id}
    names = dict(
        db.session.execute(sa.select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids)))
        .tuples()
        .all()
    )
    days = stale_days()
    rows = []
    for t in raw:
        board = boards[t.board_id]
        since = t.waiting_since
        service, state = ServiceType(t.service_type), TrackState(t.state)
        # the rule of ``_stale``, for the rows read
        stale = state not in TRACK_ENDED and since < now - dt.timedelta(days=days[service])
        rows.append(
            BoardRow(
                track_id=t.track_id,
                sub_task_force_id=board.id,
                sub_task_force_key=board.key,
                reference=t.reference,
                age_band=age_band(t.age_at_incident),
                sex=Sex(t.sex),
                case_types=tuple(types.get(t.case_id, ())),
                service_type=service,
                track_state=state,
                referral_state=ReferralState(t.referral_state) if t.referral_state else None,
                provider_name=names.get(t.provider_id) if t.provider_id else None,
                agency_name=names.get(t.agency_id, ""),
                waiting_since=since,
                days_waiting=max(0, (now - since).days),
                overdue=bool(t.overdue) or stale,
                stale_after=days[service] if stale and not t.overdue else None,
            )
        )
    return rows


def _rows(
    board: Board,
    filters: BoardFilters,
    now: dt.datetime,
    track_ids: Iterable[int] | None = None,
) -> list[BoardRow]:
    """The rows of one Sub GT's board (optionally of some tracks only), unordered."""
    selects = _board_select(board, filters, now, track_ids=track_ids)
    if not selects:
        return []
    return _as_rows(db.session.execute(sa.union_all(*selects)).all(), {board.id: board}, now)


@dataclass(frozen=True)
class BoardPage(NumberedPage[BoardRow]):
    """One page of the board: its rows, the number of rows of every page, and the page."""

    summary: Summary | None = None
    """The counters of every row of these filters (not only the page's), when it has rows."""


def board_page(
    user: User,
    filters: BoardFilters,
    now: dt.datetime,
    *,
    page: int = 1,
    per_page: int | None = None,
    boards: list[Board] | None = None,
) -> BoardPage:
    """One page of every row of every Sub GT ``user`` coordinates, filtered; overdue first,
    then the longest waiting. A track on two of the user's boards (two regions) appears once per
    board. The order, the page and the number of rows are computed in SQL; only the page's rows
    are read. ``per_page=None``: every row on one page."""
    boards = boards_of(user) if boards is None else boards
    rows = _union(boards, filters, now)
    if rows is None:
        return BoardPage(items=[], total=0, page=page, per_page=per_page or 1)
    _without_jit()
    waiting = sa.case((rows.c.referral_state == ReferralState.DIKIRIM, 1), else_=0)
    late = _late(rows, boards, now)
    query = sa.select(
        rows,
        sa.func.count().over().label("total"),
        sa.func.sum(waiting).over().label("waiting_total"),
        sa.func.sum(late).over().label("overdue_total"),
    ).order_by(late.desc(), rows.c.waiting_since, rows.c.track_id, rows.c.board_id)
    if filters.overdue_only:
        query = query.where(late == 1)
    if per_page is not None:
        query = query.offset((page - 1) * per_page).limit(per_page)
    raw = db.session.execute(query).all()
    counted = (
        Summary(
            total=raw[0].total,
            waiting_for_answer=int(raw[0].waiting_total),
            overdue=int(raw[0].overdue_total),
        )
        if raw
        else None
    )
    if counted is None and page > 1:
        counted = board_summary(user, now, filters=filters, boards=boards)
    total = counted.total if counted else 0
    return BoardPage(
        items=_as_rows(raw, {b.id: b for b in boards}, now),
        total=total,
        page=page,
        per_page=per_page or max(1, total),
        summary=counted,
    )


def board(user: User, filters: BoardFilters, now: dt.datetime) -> list[BoardRow]:
    """Every row of every Sub GT ``user`` coordinates, filtered; overdue first, then the longest
    waiting. A track on two of the user's boards (two regions) appears once per board."""
    return board_page(user, filters, now).items


def summary(rows: Iterable[BoardRow]) -> Summary:
    rows = list(rows)
    return Summary(
        total=len(rows),
        waiting_for_answer=sum(1 for r in rows if r.waiting_for_answer),
        overdue=sum(1 for r in rows if r.overdue),
    )


def board_summary(
    user: User,
    now: dt.datetime,
    *,
    filters: BoardFilters | None = None,
    boards: list[Board] | None = None,
) -> Summary:
    """The counters of the board (``summary`` of every row) computed in SQL: the rows, those
    waiting for an answer to a referral, those overdue."""
    boards = boards_of(user) if boards is None else boards
    rows = _union(boards, filters or BoardFilters(), now)
    if rows is None:
        return Summary(total=0, waiting_for_answer=0, overdue=0)
    _without_jit()
    late = _late(rows, boards, now)
    query = sa.select(
        sa.func.count(),
        sa.func.coalesce(
            sa.func.sum(sa.case((rows.c.referral_state == ReferralState.DIKIRIM, 1), else_=0)),
            0,
        ),
        sa.func.coalesce(sa.func.sum(late), 0),
    )
    if filters is not None and filters.overdue_only:
        query = query.where(late == 1)
    total, waiting, overdue = db.session.execute(query).one()
    return Summary(total=total, waiting_for_answer=waiting, overdue=overdue)


def reviewable_track(user: User, track_id: int) -> tuple[ServiceTrack, SubTaskForce] | None:
    """The track and the (first) Sub GT of the user on whose board it is; ``None`` (404) when it
    is on none of them. The track object carries no identity (the victim is never loaded)."""
    for b in boards_of(user):
        if _rows(b, BoardFilters(include_ended=True), utcnow(), track_ids=[track_id]):
            track = db.session.get(ServiceTrack, track_id)
            stf = db.session.get(SubTaskForce, b.id)
            if track is not None and stf is not None:
                return track, stf
    return None


def on_board(sub_task_force: SubTaskForce, track: ServiceTrack) -> bool:
    """Whether ``track`` is in ``sub_task_force``'s domain (its service and member agencies)."""
    key = SubTaskForceKey(sub_task_force.key)
    if SERVICE_SUBTASKFORCE.get(ServiceType(track.service_type)) is not key:
        return False
    members = set(
        db.session.scalars(
            sa.select(SubTaskForceMember.agency_id).where(
                SubTaskForceMember.sub_task_force_id == sub_task_force.id
            )
        )
    )
    agency_id = db.session.scalar(sa.select(Case.agency_id).where(Case.id == track.case_id))
    return agency_id in members or (track.provider_id is not None and track.provider_id in members)


def coordinates(user: User, sub_task_force: SubTaskForce) -> bool:
    return any(b.id == sub_task_force.id for b in boards_of(user))


# --- the history of one row -------------------------------------------------------------------


@dataclass(frozen=True)
class StepItem:
    """A transition of the track: no reason (it may name people)."""

    at: dt.datetime
    event: str
    from_state: TrackState | None
    to_state: TrackState
    agency_name: str | None
    by_system: bool


@dataclass(frozen=True)
class ReferralItem:
    """Something that happened to a referral of the track: never its text."""

    at: dt.datetime
    kind: str
    to_agency_name: str
    agency_name: str | None


@dataclass(frozen=True)
class NoteItem:
    id: int
    at: dt.datetime
    author_name: str | None
    sub_task_force_key: SubTaskForceKey
    body: str
    escalated: bool


@dataclass(frozen=True)
class TrackHistory:
    row: BoardRow
    steps: list[StepItem]
    referral_events: list[ReferralItem]
    notes: list[NoteItem]


def _state(value: str | None) -> TrackState | None:
    try:
        return TrackState(value) if value else None
    except ValueError:
        return None


def track_history(user: User, track_id: int, now: dt.datetime) -> TrackHistory | None:
    """The row with its transitions, referral events and coordination notes; ``None`` (404)
    unless the track is on one of the user's boards."""
    row: BoardRow | None = None
    for b in boards_of(user):
        found = _rows(b, BoardFilters(include_ended=True), now, track_ids=[track_id])
        if found:
            row = found[0]
            break
    if row is None:
        return None

    case_agency_id, provider_id = db.session.execute(
        sa.select(Case.agency_id, ServiceTrack.provider_id)
        .join(Case, Case.id == ServiceTrack.case_id)
        .where(ServiceTrack.id == track_id)
    ).one()
    referrals = db.session.execute(
        sa.select(Referral.id, Referral.from_agency_id, Referral.to_agency_id).where(
            Referral.track_id == track_id
        )
    ).all()
    involved: list[int] = [case_agency_id]
    for agency_id in [provider_id, *(r.to_agency_id for r in referrals)]:
        if agency_id is not None and agency_id not in involved:
            involved.append(agency_id)
    names = dict(
        db.session.execute(sa.select(Agency.id, Agency.name).where(Agency.id.in_(involved)))
        .tuples()
        .all()
    )

    transitions = db.session.execute(
        sa.select(
            CaseTransition.at,
            CaseTransition.event,
            CaseTransition.from_state,
            CaseTransition.to_state,
            CaseTransition.actor_id,
        )
        .where(CaseTransition.track_id == track_id)
        .order_by(CaseTransition.at, CaseTransition.id)
    ).all()
    # the acting agency: the involved agency (the case's first, then the provider's) where the
    # actor holds a role
    actor_ids = {t.actor_id for t in transitions if t.actor_id is not None}
    actor_agencies: dict[int, set[int]] = defaultdict(set)
    if actor_ids:
        for user_id, agency_id in db.session.execute(
            sa.select(RoleGrant.user_id, RoleGrant.agency_id).where(
                RoleGrant.user_id.in_(actor_ids), RoleGrant.agency_id.in_(involved)
            )
        ):
            actor_agencies[user_id].add(agency_id)

    def acting(actor_id: int | None) -> str | None:
        if actor_id is None:
            return None
        held = actor_agencies.get(actor_id, set())
        return next((names.get(a) for a in involved if a in held), None)

    steps = [
        StepItem(
            at=t.at,
            event=t.event,
            from_state=_state(t.from_state),
            to_state=_state(t.to_state) or TrackState.DIRENCANAKAN,
            agency_name=acting(t.actor_id),
            by_system=t.actor_id is None,
        )
        for t in transitions
    ]

    to_agency = {r.id: r.to_agency_id for r in referrals}
    event_agencies: set[int] = set()
    events: Sequence[sa.Row[tuple[dt.datetime, str, int, int | None]]] = []
    if referrals:
        events = db.session.execute(
            sa.select(
                ReferralEvent.at,
                ReferralEvent.kind,
                ReferralEvent.referral_id,
                ReferralEvent.agency_id,
            )
            .where(ReferralEvent.referral_id.in_(list(to_agency)), ReferralEvent.kind != "draft")
            .order_by(ReferralEvent.at, ReferralEvent.id)
        ).all()
        event_agencies = {e.agency_id for e in events if e.agency_id is not None} - set(names)
    if event_agencies:
        names.update(
            db.session.execute(
                sa.select(Agency.id, Agency.name).where(Agency.id.in_(event_agencies))
            )
            .tuples()
            .all()
        )
    referral_events = [
        ReferralItem(
            at=e.at,
            kind=e.kind,
            to_agency_name=names.get(to_agency[e.referral_id], ""),
            agency_name=names.get(e.agency_id) if e.agency_id is not None else None,
        )
        for e in events
    ]

    notes = [
        NoteItem(
            id=n.id,
            at=n.at,
            author_name=n.author_name,
            sub_task_force_key=SubTaskForceKey(n.key),
            body=n.body,
            escalated=n.escalated,
        )
        for n in db.session.execute(
            sa.select(
                CoordinationNote.id,
                CoordinationNote.at,
                CoordinationNote.body,
                CoordinationNote.escalated,
                User.name.label("author_name"),
                SubTaskForce.key,
            )
            .join(SubTaskForce, SubTaskForce.id == CoordinationNote.sub_task_force_id)
            .outerjoin(User, User.id == CoordinationNote.author_id)
            .where(CoordinationNote.track_id == track_id)
            .order_by(CoordinationNote.at, CoordinationNote.id)
        )
    ]
    return TrackHistory(row=row, steps=steps, referral_events=referral_events, notes=notes)


def board_agencies(boards: Iterable[Board]) -> list[tuple[int, str]]:
    """(id, name) of the member agencies of the boards, by name: the provider filter."""
    ids = set().union(*(b.member_ids for b in boards))
    if not ids:
        return []
    return [
        (agency_id, name)
        for agency_id, name in db.session.execute(
            sa.select(Agency.id, Agency.name).where(Agency.id.in_(ids)).order_by(Agency.name)
        )
    ]
