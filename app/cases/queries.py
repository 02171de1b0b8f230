"""The read side of cases, always scoped to what the user may see (need-to-know).

* supervisor — every case of the agency;
* manajer_kasus — cases they manage, and complaints they registered that nobody manages yet;
* petugas_pengaduan — complaints they registered, until a case manager is assigned.
Other roles see no case through these queries (referrals and the Sub GT board come later with
their own, narrower views). Anything outside the scope is answered as not found.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    cast,
    false,
    func,
    inspect,
    intersect,
    literal,
    or_,
    select,
    tuple_,
    union,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import aliased, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.audit.models import AuditEntry
from app.audit.queries import VIEW_ACTIONS
from app.auth.models import RoleGrant, User
from app.cases.intake import JAKARTA
from app.cases.models import (
    Attachment,
    BreakGlassGrant,
    Case,
    CaseNote,
    CaseTypeEntry,
    ConsentEntry,
    Perpetrator,
    Person,
    Victim,
    VictimNameKey,
    VictimViolenceType,
)
from app.core.bounds import MAX_ID
from app.core.crypto import (
    NAME,
    blind_index_candidates,
    name_dob_index,
    name_index,
    name_matches,
    name_query,
    nik_index,
    nik_matches,
    normalise_name,
    normalise_nik,
)
from app.core.db import set_local, utcnow
from app.core.enums import CaseState, Risk, Role
from app.core.i18n import lazy_gettext as _l
from app.core.memo import read_each, read_once, seed
from app.deadlines.models import FIRST_RESPONSE_CODES, Deadline
from app.extensions import db
from app.regions.models import Region


def _grant_scope(user: User, grant: RoleGrant, entity: Any) -> ColumnElement[bool] | None:
    """The cases of ``entity`` (``Case`` or an alias) one grant lets the user work on: a
    supervisor's agency; a case manager's own cases and unassigned ones they registered; an
    intake officer's own registrations until a case manager is assigned. None for a grant that
    gives no case."""
    if grant.agency_id is None:
        return None
    if grant.role is Role.SUPERVISOR:
        return entity.agency_id == grant.agency_id  # type: ignore[no-any-return]
    if grant.role is Role.MANAJER_KASUS:
        return and_(
            entity.agency_id == grant.agency_id,
            or_(
                entity.case_manager_id == user.id,
                and_(entity.case_manager_id.is_(None), entity.registered_by_id == user.id),
            ),
        )
    if grant.role is Role.PETUGAS_PENGADUAN:
        return and_(
            entity.agency_id == grant.agency_id,
            entity.case_manager_id.is_(None),
            entity.registered_by_id == user.id,
        )
    return None


def _own_scope(user: User, entity: Any) -> Any:
    """The cases of ``entity`` (``Case`` or an alias) the user works on, through any grant."""
    clauses = [c for grant in user.grants if (c := _grant_scope(user, grant, entity)) is not None]
    return or_(*clauses) if clauses else false()


def scope_condition(user: Any, *, break_glass: bool = True) -> Any:
    """The cases the user may see: those they work on, and — read-only, for its history — the
    case of another agency that one of them was transferred from (pelimpahan), and — read-only,
    until it expires — a case opened with break-the-glass (``app.breakglass``). With
    ``break_glass=False``, the scope without those grants. The OR of ``_branch_conditions``."""
    return or_(false(), *_branch_conditions(user, Case, break_glass=break_glass))


def cases_visible_to(user: User) -> Select[tuple[Case]]:
    return select(Case).where(scope_condition(user))


def get_case_for(user: User, case_id: int, *, people: bool = True) -> Case | None:
    """The case, or None when it does not exist or the user may not see it. ``people=False``
    leaves its victims and perpetrators to ``load_people`` (the case page reads them with what
    it shows of each, once)."""
    loads = [selectinload(Case.types)]
    if people:
        loads += [selectinload(Case.victims), selectinload(Case.perpetrators)]
    return db.session.scalar(cases_visible_to(user).where(Case.id == case_id).options(*loads))


@dataclass
class CaseFilters:
    state: str | None = None
    case_type: str | None = None
    risk: str | None = None
    violence_type: str | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    case_manager_id: int | None = None
    search: str | None = None
    sort: str = "-received_at"
    overdue: bool = False  # only complaints whose first response is overdue


def first_response_overdue_condition(now: dt.datetime, entity: Any = Case) -> Any:
    """The case's first-response deadline (a stored row, domain.md §5) is past due and still
    open: not done, not cancelled. Imported history starts no clocks, so it is never overdue.

    The open first-response deadlines are few (``ix_deadlines_first_response_open`` holds only
    them): on PostgreSQL their cases are gathered first, once per statement, and found by id
    (``id = ANY(…)``), where a test of each case in the list's order reads every case of the
    scope whenever few are overdue. SQLite asks the same as ``IN``."""
    late = (
        Deadline.track_id.is_(None),
        Deadline.completed_at.is_(None),
        Deadline.cancelled_at.is_(None),
        # as constants: the partial index is used only for the very same list
        Deadline.code.in_(
            bindparam(
                "first_response_codes", FIRST_RESPONSE_CODES, expanding=True, literal_execute=True
            )
        ),
        Deadline.due_at < now,
    )
    return _among(entity, Deadline.case_id, *late)


def _among(entity: Any, case_id: Any, *conditions: Any) -> ColumnElement[bool]:
    """``entity`` is one of the cases ``case_id`` names in the rows matching ``conditions``: a
    few rows that should lead. On PostgreSQL their ids are gathered first, once per statement
    (an InitPlan), and the cases found by primary key (``id = ANY(…)``); as ``IN (SELECT …)``
    the planner may instead test every case of a part of the scope against them, having
    estimated those rows by their columns' statistics. SQLite asks ``IN``."""
    if db.session.get_bind().dialect.name != "postgresql":
        return entity.id.in_(select(case_id).where(*conditions))  # type: ignore[no-any-return]
    gathered = select(func.array_agg(case_id)).where(*conditions).scalar_subquery()
    return entity.id == any_(cast(gathered, ARRAY(Integer)))  # type: ignore[no-any-return]


def is_first_response_overdue(case_: Case, now: dt.datetime) -> bool:
    return bool(
        db.session.scalar(
            select(Case.id).where(Case.id == case_.id, first_response_overdue_condition(now))
        )
    )


def overdue_case_ids(case_ids: list[int], now: dt.datetime) -> set[int]:
    if not case_ids:
        return set()
    return set(
        db.session.scalars(
            select(Case.id).where(Case.id.in_(case_ids), first_response_overdue_condition(now))
        )
    )


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=JAKARTA).astimezone(dt.UTC)


def _filter_conditions(
    user: User, filters: CaseFilters, entity: Any, now: dt.datetime
) -> list[ColumnElement[bool]]:
    """``filters``, and the rule that a draft is listed only for its author (it is unfinished
    work, not yet a case of the agency), as conditions on ``entity`` (``Case`` or an alias)."""
    conditions: list[ColumnElement[bool]] = [
        or_(entity.state != CaseState.DRAFT, entity.registered_by_id == user.id)
    ]
    if filters.state:
        conditions.append(entity.state == filters.state)
    if filters.case_type:
        conditions.append(
            entity.id.in_(
                select(CaseTypeEntry.case_id).where(CaseTypeEntry.type == filters.case_type)
            )
        )
    if filters.risk:
        conditions.append(entity.risk == filters.risk)
    if filters.violence_type:
        conditions.append(
            entity.id.in_(
                select(Victim.case_id)
                .join(VictimViolenceType)
                .where(VictimViolenceType.type == filters.violence_type)
            )
        )
    if filters.received_from:
        conditions.append(entity.received_at >= _day_start(filters.received_from))
    if filters.received_to:
        conditions.append(
            entity.received_at < _day_start(filters.received_to + dt.timedelta(days=1))
        )
    if filters.case_manager_id:
        conditions.append(entity.case_manager_id == filters.case_manager_id)
    if filters.overdue:
        conditions.append(first_response_overdue_condition(now, entity))
    return conditions


RANK_EXACT = 0
RANK_WORDS = 1
RANK_SOUND = 2
"""How well a case matches a search, best first: its reference, a victim's NIK or full name
(exact); every word searched is a word of a victim's name (words); every word sounds like one
(sound: another spelling of it)."""


def _name_key_rows(alternatives: tuple[tuple[frozenset[str], ...], ...]) -> Any:
    """The (victim, case) pairs of the victims holding, for one of ``alternatives``, one of the
    name keys of each of its words (``app.core.crypto.NameQuery``): per word the victims
    holding one of its keys, intersected."""
    members = []
    for words in alternatives:
        per_word = [
            select(VictimNameKey.victim_id, VictimNameKey.case_id).where(
                VictimNameKey.digest.in_(sorted(keys))
            )
            for keys in words
        ]
        if len(per_word) == 1:
            members.append(per_word[0])
        else:
            # an INTERSECT inside the UNION as a subquery of its own: SQLite (the embedded
            # database) refuses a parenthesised compound SELECT as a member of another
            both = intersect(*per_word).subquery()
            members.append(select(both.c.victim_id, both.c.case_id))
    return (members[0] if len(members) == 1 else union(*members)).subquery()


def _name_key_cases(alternatives: tuple[tuple[frozenset[str], ...], ...]) -> Any:
    """The cases of the victims ``_name_key_rows`` finds."""
    return select(_name_key_rows(alternatives).c.case_id)


def _looks_like_nik(term: str) -> str | None:
    digits = normalise_nik(term)
    return digits if len(digits) == 16 and not re.search(r"[^\d\s.\-]", term) else None


def _search_alternatives(
    filters: CaseFilters, entity: Any
) -> list[tuple[ColumnElement[bool], int]]:
    """The ways a case matches the search term, each a condition on ``entity`` of its own (the
    term matches when any does) with its rank (``RANK_EXACT``…); none without a term. A
    reference by any part of it (a prefix, a number); a victim by a NIK of 16 digits, by the
    exact full name (blind index), by words of the name — each word of the term one of a victim's
    words (or two neighbours joined, "Nur Hayati" / "Nurhayati") — and by how the words sound
    (``app.core.crypto.name_query``: old and new spelling, doubled letters …). The name itself
    is never searchable: only keyed hashes. Apart, each has its index — the trigram index on the
    reference (PostgreSQL), the blind indexes — where their OR would make every case of the
    scope be read and tested; the scope still applies to each."""
    term = (filters.search or "").strip()
    if not term:
        return []
    found: list[tuple[ColumnElement[bool], int]] = [
        (entity.reference.ilike(f"%{_escape_like(term)}%", escape="\\"), RANK_EXACT),
    ]
    nik = _looks_like_nik(term)
    if nik:
        found.append(
            (
                entity.id.in_(select(Victim.case_id).where(nik_matches(Victim.nik_index, nik))),
                RANK_EXACT,
            )
        )
        return found
    found.append(
        (
            entity.id.in_(select(Victim.case_id).where(name_matches(Victim.name_index, term))),
            RANK_EXACT,
        )
    )
    query = name_query(term)
    if query is not None:
        found.append((entity.id.in_(_name_key_cases(query.by_token)), RANK_WORDS))
        found.append((entity.id.in_(_name_key_cases(query.by_sound)), RANK_SOUND))
    return found


def _branch_conditions(
    user: User, entity: Any, *, break_glass: bool = True, gathered: bool = False
) -> list[ColumnElement[bool]]:
    """``scope_condition`` cut into the parts that each have an index: one per grant of the user
    (agency, and the case manager or the registering officer), the cases of another agency that
    one of them was transferred from, the break-the-glass grants still running. Their union is
    exactly the scope; each part alone lets PostgreSQL walk an index in the list's order instead
    of testing the whole OR on every case of the country. ``gathered``: the transferred-from
    cases are gathered first (``_among``), for the list, whose filters could otherwise lead."""
    parts = [
        clause for grant in user.grants if (clause := _grant_scope(user, grant, entity)) is not None
    ]
    received = aliased(Case)
    taken_over = (received.transferred_from_id.is_not(None), _own_scope(user, received))
    if gathered:
        parts.append(_among(entity, received.transferred_from_id, *taken_over))
    else:
        parts.append(entity.id.in_(select(received.transferred_from_id).where(*taken_over)))
    if break_glass and user.id is not None:
        parts.append(
            entity.id.in_(
                select(BreakGlassGrant.case_id).where(
                    BreakGlassGrant.user_id == user.id, BreakGlassGrant.expires_at > utcnow()
                )
            )
        )
    return parts


# --- the order of the list and its keyset cursor ----------------------------------------------

# Each sort is a tuple of (key, kind) whose keys are never NULL (a NULL cannot be compared in a
# cursor), followed by the case id, newest first, so that every row has one place. A draft has no
# reference and no risk: it comes where PostgreSQL put them before (NULLs last going up, first
# going down).
KeyOf = Callable[[Any], ColumnElement[Any]]


def _risk_rank(entity: Any) -> ColumnElement[int]:
    return sql_case(
        (entity.risk == Risk.TINGGI, 3),
        (entity.risk == Risk.SEDANG, 2),
        (entity.risk == Risk.RENDAH, 1),
        else_=4,
    )


_SORT_KEYS: dict[str, tuple[tuple[KeyOf, str], ...]] = {
    "received_at": ((lambda e: e.received_at, "datetime"),),
    "reference": (
        (lambda e: sql_case((e.reference.is_(None), 1), else_=0), "int"),
        (lambda e: func.coalesce(e.reference, ""), "str"),
    ),
    "risk": ((_risk_rank, "int"),),
    "state": ((lambda e: e.state, "str"),),
}

SORTS: frozenset[str] = frozenset({name for key in _SORT_KEYS for name in (key, f"-{key}")})
"""The sorts the list offers: a column, newest or highest first with a ``-``."""


def _order(sort: str, entity: Any) -> list[tuple[ColumnElement[Any], str, bool]]:
    """(expression, kind, descending) of each key of ``sort``, the case id last."""
    name = sort if sort in SORTS else "-received_at"
    descending = name.startswith("-")
    keys = [(key(entity), kind, descending) for key, kind in _SORT_KEYS[name.lstrip("-")]]
    return [*keys, (entity.id, "int", True)]


def encode_cursor(values: Iterable[Any]) -> str:
    """The keyset of a row as an opaque token for an address: its sort keys and id."""
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(token: str | None, sort: str) -> list[Any] | None:
    """The keyset in ``token`` when it fits ``sort`` (as many values, each of its kind); else
    None: a damaged or foreign cursor shows the first page, like an impossible page number."""
    if not token or len(token) > 400:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return None
    kinds = [kind for _expr, kind, _desc in _order(sort, Case)]
    if not isinstance(raw, list) or len(raw) != len(kinds):
        return None
    values: list[Any] = []
    for value, kind in zip(raw, kinds, strict=True):
        parsed = _cursor_value(value, kind)
        if parsed is None:
            return None
        values.append(parsed)
    return values


_PLAIN_KINDS: dict[str, Callable[[Any], bool]] = {
    "int": lambda v: type(v) is int and 0 <= v <= MAX_ID,
    "str": lambda v: isinstance(v, str) and len(v) <= 100,
}


def _cursor_value(value: Any, kind: str) -> Any:
    """One value of a cursor, checked against its kind; None when it does not fit."""
    if kind == "datetime":
        if not isinstance(value, str):
            return None
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else None
    return value if _PLAIN_KINDS[kind](value) else None


def _after(
    order: list[tuple[ColumnElement[Any], str, bool]], values: list[Any]
) -> ColumnElement[bool]:
    """The rows that come after ``values`` in ``order``. When every key goes the same way, one
    row comparison (``(received_at, id) < (…, …)``), which an index walks; otherwise the
    lexicographic OR, led by the first key's bound so that an index on it still applies."""
    directions = {desc for _expr, _kind, desc in order}
    exprs = [expr for expr, _kind, _desc in order]
    if len(directions) == 1:
        if directions == {True}:
            return tuple_(*exprs) < tuple_(*values)
        return tuple_(*exprs) > tuple_(*values)
    alternatives = []
    for i, (expr, _kind, desc) in enumerate(order):
        equal = [order[j][0] == values[j] for j in range(i)]
        alternatives.append(and_(*equal, expr < values[i] if desc else expr > values[i]))
    first, _kind, desc = order[0]
    return and_(first <= values[0] if desc else first >= values[0], or_(*alternatives))


def _flipped(
    order: list[tuple[ColumnElement[Any], str, bool]],
) -> list[tuple[ColumnElement[Any], str, bool]]:
    return [(expr, kind, not desc) for expr, kind, desc in order]


def _order_by(order: list[tuple[ColumnElement[Any], str, bool]]) -> list[ColumnElement[Any]]:
    return [expr.desc() if desc else expr.asc() for expr, _kind, desc in order]


def _visible_ids(
    user: User,
    filters: CaseFilters,
    now: dt.datetime,
    *,
    sort: str | None = None,
    cursor: list[Any] | None = None,
    backwards: bool = False,
    limit: int | None = None,
    ranked: bool = False,
) -> Any:
    """The ids of the user's cases matching ``filters``: a UNION of one SELECT per part of the
    scope (``_branch_conditions``) — and, for a search, per way of matching the term
    (``_search_alternatives``) —, each with the filters and at most ``limit`` rows. With a
    ``sort``, each part also carries the sort keys (columns ``k0``, ``k1``…), takes its rows in
    that order after ``cursor`` (backwards: before it), so that it stops after ``limit`` rows of
    its index, and the page is cut from the union without touching any other case. ``ranked``
    (a search): each member also carries the rank of its way of matching (column ``rank``), so
    a case appears once per rank it matches at."""
    selects = []
    entity = aliased(Case)
    # a search asks each part of the scope once per way of matching the term
    alternatives: list[tuple[list[ColumnElement[bool]], int | None]] = [
        ([condition], rank) for condition, rank in _search_alternatives(filters, entity)
    ] or [([], None)]
    for part in _branch_conditions(user, entity, gathered=True):
        for alternative, rank in alternatives:
            selects.append(
                _part_ids(
                    entity,
                    [part, *_filter_conditions(user, filters, entity, now), *alternative],
                    sort=sort,
                    cursor=cursor,
                    backwards=backwards,
                    limit=limit,
                    rank=rank if ranked else None,
                )
            )
    return union(*selects).subquery()


def _part_ids(
    entity: Any,
    conditions: list[ColumnElement[bool]],
    *,
    sort: str | None,
    cursor: list[Any] | None,
    backwards: bool,
    limit: int | None,
    rank: int | None = None,
) -> Select[Any]:
    """One member of ``_visible_ids``' union: the ids (and sort keys, and ``rank`` when given)
    of the cases matching ``conditions``, in the order of ``sort`` after ``cursor``, at most
    ``limit``."""
    if sort is None:
        query = select(entity.id.label("id")).where(*conditions)
    else:
        order = _order(sort, entity)
        if backwards:
            order = _flipped(order)
        if cursor is not None:
            conditions = [*conditions, _after(order, cursor)]
        keys = [expr.label(f"k{i}") for i, (expr, _kind, _desc) in enumerate(order[:-1])]
        if rank is not None:
            keys.append(literal(rank).label("rank"))
        query = select(entity.id.label("id"), *keys).where(*conditions)
        query = query.order_by(*_order_by(order))
    if limit is not None:
        query = query.limit(limit)
    # each part as a subquery of its own: a compound SELECT may not order or limit its members
    # directly everywhere (SQLite)
    return select(query.subquery())


def list_cases_for(
    user: User, filters: CaseFilters, *, now: dt.datetime | None = None
) -> Select[tuple[Case]]:
    """All the user's cases matching ``filters``, in the order of ``filters.sort``."""
    ids = _visible_ids(user, filters, now or utcnow())
    return (
        select(Case)
        .where(Case.id.in_(select(ids.c.id)))
        .options(selectinload(Case.types), selectinload(Case.case_manager))
        .order_by(*_order_by(_order(filters.sort, Case)))
    )


COUNT_CAP = 500
"""The list counts the cases up to this many and says "more than" beyond: counting every case
of a big agency on every page costs more than the page itself, and a filter that probes another
table (violence type, case type) pays for each case counted — at 500, about as much as the page
(docs/scaling.md)."""


@dataclass(frozen=True)
class CasePage:
    """One page of the list. ``next_cursor``/``prev_cursor`` are the keysets of its last and
    first rows (None when there is no page that way); ``total`` is exact up to ``COUNT_CAP``,
    ``total_capped`` when there are more; ``number`` is the page number when the page was asked
    for by number (a search's pages, an old address), else None."""

    items: list[Case]
    total: int
    total_capped: bool
    per_page: int
    next_cursor: str | None
    prev_cursor: str | None
    number: int | None = None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_cursor is not None

    @property
    def pages(self) -> int | None:
        """How many pages, when the count is exact."""
        if self.total_capped:
            return None
        return max(1, -(-self.total // self.per_page))


def _capped_count(user: User, filters: CaseFilters, now: dt.datetime) -> tuple[int, bool]:
    """The number of matching cases, up to ``COUNT_CAP``, and whether there are more. Each part
    of the scope stops at ``COUNT_CAP + 1`` rows: their union holds more than the cap exactly
    when the whole does."""
    ids = _visible_ids(user, filters, now, limit=COUNT_CAP + 1)
    found = db.session.scalar(select(func.count()).select_from(ids)) or 0
    return min(found, COUNT_CAP), found > COUNT_CAP


def _custom_plans() -> None:
    """A search is planned for its own term, every time. The driver prepares a statement it has
    sent five times on a connection, and PostgreSQL then may keep one generic plan for every
    term: for ``reference ILIKE $1`` that plan cannot use the trigram index for the term given
    and reads far more (a search by reference took 110 ms instead of 30 ms at a million cases).
    Until the end of the request's transaction, on PostgreSQL only."""
    set_local(db.session, plan_cache_mode="force_custom_plan")


def page_of_cases_for(
    user: User,
    filters: CaseFilters,
    *,
    per_page: int,
    after: str | None = None,
    before: str | None = None,
    page: int | None = None,
    now: dt.datetime | None = None,
) -> CasePage:
    """One page of the user's cases: the rows after the cursor ``after``, or before ``before``
    (a keyset: deep pages cost what the first does), or the page ``page`` by number (an offset,
    for a search's pages and old addresses); the first page without any. A page past the end is
    empty, not an error."""
    now = now or utcnow()
    sort = filters.sort if filters.sort in SORTS else "-received_at"
    after_values = decode_cursor(after, sort)
    before_values = None if after_values else decode_cursor(before, sort)
    cursor = after_values or before_values
    backwards = before_values is not None
    offset = (page - 1) * per_page if cursor is None and page and page > 1 else 0
    # A search finds its matches through their indexes, for the page as for the count: one
    # query reads the keys of the matches up to the cap and gives both. Otherwise the page
    # and the count are two queries: a page's small LIMIT lets PostgreSQL walk the index and
    # probe each case's filters, where a LIMIT of the count's size makes it read a filter's table.
    searching = bool((filters.search or "").strip())
    counting = searching and cursor is None and offset + per_page <= COUNT_CAP
    # a search's pages (by number) put the best matches first (``RANK_EXACT``…), each rank in
    # the list's order
    ranked = searching and cursor is None
    if searching:
        _custom_plans()
    ids = _visible_ids(
        user,
        filters,
        now,
        sort=sort,
        cursor=cursor,
        backwards=backwards,
        limit=COUNT_CAP + 1 if counting else offset + per_page + 1,
        ranked=ranked,
    )
    order = _order(sort, Case)
    if backwards:
        order = _flipped(order)
    # the keys and ids of the page, cut from the union; only its cases are read in full
    in_union = [ids.c[f"k{i}"] for i in range(len(order) - 1)] + [ids.c.id]
    in_order = _order_by(
        [(c, kind, desc) for c, (_e, kind, desc) in zip(in_union, order, strict=True)]
    )
    if ranked:
        best = func.min(ids.c.rank).label("best")
        keyed_query = select(best, *in_union).group_by(*in_union).order_by(best, *in_order)
    else:
        keyed_query = select(*in_union).order_by(*in_order)
    if counting:
        matching = list(db.session.execute(keyed_query).tuples())
        total, capped = min(len(matching), COUNT_CAP), len(matching) > COUNT_CAP
        keyed = matching[offset : offset + per_page + 1]
    else:
        keyed = list(db.session.execute(keyed_query.offset(offset).limit(per_page + 1)).tuples())
        total, capped = _capped_count(user, filters, now)
    if ranked:
        keyed = [row[1:] for row in keyed]
    more = len(keyed) > per_page
    keyed = keyed[:per_page]
    if backwards:
        keyed.reverse()
    loaded = (
        {
            c.id: c
            for c in db.session.scalars(
                select(Case)
                .where(Case.id.in_([row[-1] for row in keyed]))
                .options(selectinload(Case.types), selectinload(Case.case_manager))
            )
        }
        if keyed
        else {}
    )
    items = [loaded[row[-1]] for row in keyed if row[-1] in loaded]
    if backwards:
        has_prev, has_next = more, True
    else:
        has_prev, has_next = cursor is not None or offset > 0, more
    return CasePage(
        items=items,
        total=total,
        total_capped=capped,
        per_page=per_page,
        next_cursor=encode_cursor(keyed[-1]) if has_next and keyed else None,
        prev_cursor=encode_cursor(keyed[0]) if has_prev and keyed else None,
        number=None if cursor else (page or 1),
    )


def victim_counts(case_ids: list[int]) -> dict[int, int]:
    """How many victims each of ``case_ids`` has (the list shows numbers, never names)."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        select(Victim.case_id, func.count(Victim.id))
        .where(Victim.case_id.in_(case_ids))
        .group_by(Victim.case_id)
    )
    return {case_id: count for case_id, count in rows}


def case_manager_choices(user: User) -> list[User]:
    """People who manage cases (case managers, supervisors) in the agencies where ``user``
    works on cases: the choices of the list's case-manager filter."""
    agency_ids = {
        g.agency_id
        for g in user.grants
        if g.agency_id is not None
        and g.role in (Role.PETUGAS_PENGADUAN, Role.MANAJER_KASUS, Role.SUPERVISOR)
    }
    if not agency_ids:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.id.in_(
                    select(RoleGrant.user_id).where(
                        RoleGrant.agency_id.in_(agency_ids),
                        RoleGrant.role.in_((Role.MANAJER_KASUS, Role.SUPERVISOR)),
                    )
                )
            )
            .order_by(User.name, User.id)
        )
    )


# --- one case: its parts and its history -----------------------------------------------------


def victim_of(case_: Case, victim_id: int) -> Victim | None:
    """The victim when it belongs to ``case_`` (a case already loaded through the scope)."""
    return next((v for v in case_.victims if v.id == victim_id), None)


def note_of(case_: Case, note_id: int) -> CaseNote | None:
    return db.session.scalar(
        select(CaseNote).where(CaseNote.id == note_id, CaseNote.case_id == case_.id)
    )


def attachment_of(case_: Case, attachment_id: int) -> Attachment | None:
    """The attachment when it belongs to ``case_``; another case's id is not found."""
    return db.session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case_.id)
    )


CONSENT_LEDGER = "consent_ledger"


def _read_ledgers(victim_ids: list[int]) -> dict[int, list[ConsentEntry]]:
    ledgers: dict[int, list[ConsentEntry]] = {victim_id: [] for victim_id in victim_ids}
    if victim_ids:
        for entry in db.session.scalars(
            select(ConsentEntry)
            .where(ConsentEntry.victim_id.in_(victim_ids))
            .order_by(ConsentEntry.id)
        ):
            ledgers[entry.victim_id].append(entry)
    return ledgers


def consent_ledgers(victim_ids: Iterable[int]) -> dict[int, list[ConsentEntry]]:
    """The consent ledgers of the victims, oldest entry first, read afresh (``Victim.consents``
    is a view-only relationship that may have been loaded before the latest entry was added);
    once per page while one is rendered (``app.core.memo``: ``load_people`` gives them)."""
    return read_each(CONSENT_LEDGER, victim_ids, _read_ledgers)


def load_people(case_: Case) -> None:
    """Load what the case page shows of the case's people, for all of them at once (a few
    statements, not a few per victim): each victim's violence types, AMPK categories, guardians,
    consent ledger and domicile, each perpetrator's relations."""
    victims = db.session.scalars(
        select(Victim)
        .where(Victim.case_id == case_.id)
        .order_by(Victim.position)
        .options(
            selectinload(Victim.violence_types),
            selectinload(Victim.ampk_categories),
            selectinload(Victim.guardians),
            selectinload(Victim.consents).joinedload(ConsentEntry.recorded_by),
            joinedload(Victim.domicile_region),  # one region per victim: in the same statement
        )
    ).all()
    # the ledgers just read, for the workflow's facts and the referral forms of this page
    seed(CONSENT_LEDGER, {v.id: list(v.consents) for v in victims})
    # a perpetrator's few relations in the same statement
    perpetrators = (
        db.session.scalars(
            select(Perpetrator)
            .where(Perpetrator.case_id == case_.id)
            .order_by(Perpetrator.position)
            .options(joinedload(Perpetrator.relations))
        )
        .unique()
        .all()
    )
    # the case's own lists, when it was read without them (``get_case_for(people=False)``): the
    # rows just read, in the relationships' order, instead of reading them again
    loaded = inspect(case_).unloaded
    if "victims" in loaded:
        set_committed_value(case_, "victims", list(victims))
    if "perpetrators" in loaded:
        set_committed_value(case_, "perpetrators", list(perpetrators))


def notes_of(case_: Case) -> list[CaseNote]:
    """The case's notes, oldest first (read once per page while one is rendered)."""
    return read_once(
        ("case_notes", case_.id),
        lambda: list(
            db.session.scalars(
                select(CaseNote)
                .where(CaseNote.case_id == case_.id)
                .options(joinedload(CaseNote.author))
                .order_by(CaseNote.at, CaseNote.id)
            )
        ),
    )


def attachments_of(case_: Case) -> list[Attachment]:
    """The case's attachments, oldest first (read once per page while one is rendered)."""
    return read_once(
        ("case_attachments", case_.id),
        lambda: list(
            db.session.scalars(
                select(Attachment)
                .where(Attachment.case_id == case_.id)
                .options(joinedload(Attachment.uploaded_by))
                .order_by(Attachment.at, Attachment.id)
            )
        ),
    )


@dataclass(frozen=True)
class HiddenShelter:
    """What a viewer of the case page may not learn about where a victim is sheltered: the
    tracks whose provider (and referrals) are hidden, and the agency codes whose consent
    purposes (``rujukan:<code>``) are masked. Empty for the people working on the case."""

    track_ids: frozenset[int] = frozenset()
    agency_codes: frozenset[str] = frozenset()

    def purpose_label(self, label: Callable[[str], str]) -> Callable[[str], str]:
        if not self.agency_codes:
            return label

        def masked(purpose: str) -> str:
            kind, _sep, code = purpose.partition(":")
            if kind == "rujukan" and code in self.agency_codes:
                return str(_l("Referral: a safe house (hidden)"))
            return label(purpose)

        return masked


def took_over(user: User, case_: Case) -> bool:
    """Whether one of the cases the user works on was transferred from ``case_`` (the people of
    the agency that took the case over)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.transferred_from_id == case_.id, _own_scope(user, Case))
        )
        or 0
    ) > 0


@dataclass(frozen=True)
class TimelineItem:
    """One thing that happened to a case. ``kind`` is ``transition``, ``note``, ``attachment``
    or ``consent``; ``obj`` is the row itself, ``track`` the service track a transition moved.
    Identity reveals and downloads are not here: they are in the audit trail."""

    at: dt.datetime
    kind: str
    actor: str
    obj: Any
    track: Any = None


_KIND_ORDER = {"transition": 0, "consent": 1, "attachment": 2, "note": 3}


def actor_name(user: User | None, fallback: str | None = None) -> str:
    """How the timeline names who did something: the user, else the recorded label."""
    if user is not None:
        return user.name
    return fallback or "system"


def timeline_of(case_: Case, more: Iterable[TimelineItem] = ()) -> list[TimelineItem]:
    """Everything that happened to the case, oldest first: ``more`` (the registration and later
    transitions of the case and of its service tracks, imported history included, which the
    workflow gives through ``app.cases.page.register_timeline_source``), consent decisions,
    attachments and notes."""
    items: list[TimelineItem] = list(more)
    for n in notes_of(case_):
        items.append(TimelineItem(n.at, "note", actor_name(n.author), n))
    for a in attachments_of(case_):
        items.append(TimelineItem(a.at, "attachment", actor_name(a.uploaded_by), a))
    # the victims' ledgers as the page loaded them (``load_people``)
    for c in (entry for victim in case_.victims for entry in victim.consents):
        # at the time of the decision (the ledger shows when it was recorded, and by whom)
        items.append(TimelineItem(c.at, "consent", actor_name(c.recorded_by), c))
    # What the intake itself wrote (its consent entries, a draft's files) is flushed moments
    # before the registration row: list it after the registration, at its own time.
    registered = min(
        (i.at for i in items if i.kind == "transition" and i.obj.event == "register"),
        default=None,
    )

    def order(i: TimelineItem) -> tuple[dt.datetime, int, int]:
        at = i.at
        if registered is not None and i.kind != "transition" and at < registered:
            at = registered
        return (at, _KIND_ORDER[i.kind], i.obj.id)

    items.sort(key=order)
    return items


@dataclass
class DuplicateHit:
    case: Case
    victim: Victim
    person_id: int | None
    matched_on: str  # "nik", "name_dob" or "name_sound"

    @property
    def likely(self) -> bool:
        """Likely the same person (same NIK, or same name and birth date); else possibly (a name
        that sounds the same, or the same name where a birth date is missing)."""
        return self.matched_on in ("nik", "name_dob")


def find_duplicates(
    agency_id: int,
    *,
    name: str | None,
    birth_date: dt.date | None,
    nik: str | None,
    exclude_case_id: int | None = None,
) -> list[DuplicateHit]:
    """Cases of the agency where the same person may be a victim, likely ones first: the same
    NIK, or the same full name and birth date (likely); a name whose every word sounds like a
    word of the other (``app.core.crypto.name_query``, as the search matches) with the same
    birth date, or the same full name where one of the two has no birth date (possible). Two
    birth dates that differ are two people. What the user is told of a case outside their own
    scope is for the caller to decide (the intake form says only "possible duplicate elsewhere
    — ask a supervisor").

    Matching goes through the blind indexes (under every blind-index key, so a reindexing in
    progress finds everyone); the birth date is encrypted, so victims found by name are
    compared on it after decryption."""
    conditions: list[tuple[str, ColumnElement[bool]]] = []
    if nik:
        conditions.append(("nik", nik_matches(Victim.nik_index, nik)))
    query_keys = name_query(name) if name and birth_date else None
    if name and birth_date:
        by_name = name_matches(Victim.name_index, name)
        if query_keys is not None:
            by_name = or_(by_name, Victim.id.in_(_name_key_victims(query_keys.by_sound)))
        conditions.append(("name", by_name))
    exact_name = set(blind_index_candidates(NAME, normalise_name(name))) if name else set()
    hits: list[DuplicateHit] = []
    seen: set[int] = set()
    for kind, condition in conditions:
        query = (
            select(Victim)
            .join(Case)
            .where(Case.agency_id == agency_id, condition, Case.state != CaseState.DRAFT)
            .order_by(Case.received_at.desc())
        )
        if exclude_case_id:
            query = query.where(Case.id != exclude_case_id)
        for victim in db.session.scalars(query):
            if victim.id in seen:
                continue
            if kind == "nik":
                matched_on = "nik"
            else:
                same_name = victim.name_index in exact_name
                if victim.birth_date == birth_date:
                    matched_on = "name_dob" if same_name else "name_sound"
                elif victim.birth_date is None and same_name:
                    matched_on = "name_sound"
                else:
                    continue
            seen.add(victim.id)
            hits.append(DuplicateHit(victim.case, victim, victim.person_id, matched_on))
    hits.sort(key=lambda h: not h.likely)  # stable: likely first, each newest first
    return hits


def _name_key_victims(alternatives: tuple[tuple[frozenset[str], ...], ...]) -> Any:
    """The victims holding, for one of ``alternatives``, a name key of each of its words."""
    return select(_name_key_rows(alternatives).c.victim_id)


def in_scope(user: User, case_ids: set[int]) -> set[int]:
    """Which of ``case_ids`` the user may see (``scope_condition``)."""
    if not case_ids:
        return set()
    return set(
        db.session.scalars(select(Case.id).where(Case.id.in_(case_ids), scope_condition(user)))
    )


def person_for_linking(agency_id: int, person_id: int) -> Person | None:
    person = db.session.get(Person, person_id)
    return person if person is not None and person.agency_id == agency_id else None


def victim_indexes(ids: list[int]) -> dict[int, dict[str, str | None]]:
    """The blind indexes victims ``ids`` should hold under the current blind-index key (what
    ``flask keys reindex`` writes; the intake writes the same in ``operations._sync_victims``)."""
    rows = db.session.execute(
        select(Victim.id, Victim.name, Victim.nik).where(Victim.id.in_(ids))
    ).all()
    return {
        victim_id: {
            "name_index": name_index(name) if name else None,
            "nik_index": nik_index(nik) if nik else None,
        }
        for victim_id, name, nik in rows
    }


def person_indexes(ids: list[int]) -> dict[int, dict[str, str | None]]:
    """The blind indexes persons ``ids`` should hold under the current blind-index key, from the
    first of their victim rows an index can be computed from (a person is made from the victim
    row that first names them; an erased row names nobody). A person none of whose rows holds an
    identity gets none; one without victim rows is left as it is."""
    wanted: dict[int, dict[str, str | None]] = {}
    rows = db.session.execute(
        select(Victim.person_id, Victim.name, Victim.nik, Victim.birth_date)
        .where(Victim.person_id.in_(ids))
        .order_by(Victim.person_id, Victim.id)
    ).all()
    for person_id, name, nik, born in rows:
        if person_id in wanted and any(wanted[person_id].values()):
            continue
        wanted[person_id] = {
            "name_dob_index": name_dob_index(name, born.isoformat()) if name and born else None,
            "nik_index": nik_index(nik) if nik else None,
        }
    return wanted


def known_region_codes(intake: Any) -> set[str]:
    """Which of the region codes an intake names exist (only those are looked up)."""
    wanted = {intake.incident_region_code} | {v.domicile_region_code for v in intake.victims}
    wanted = {code for code in wanted if code}
    if not wanted:
        return set()
    with db.session.no_autoflush:
        return set(db.session.scalars(select(Region.code).where(Region.code.in_(wanted))))


@dataclass(frozen=True)
class Access:
    """One view of the case's identifying data, from the audit trail."""

    at: dt.datetime
    action: str
    actor_id: int | None
    actor_name: str | None
    actor_label: str
    remote_addr: str | None
    changes: dict[str, Any]


def views_of_case(case_id: int, *, limit: int = 500) -> list[Access]:
    """Who saw identifying data of the case (opened its page, revealed a child's identity,
    downloaded a file, opened a referral of it, any ``*.view``), newest first."""
    rows = db.session.execute(
        select(AuditEntry, User.name)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(
            AuditEntry.object_type == "case",
            AuditEntry.object_id == str(case_id),
            or_(AuditEntry.action.in_(VIEW_ACTIONS), AuditEntry.action.like("%.view")),
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    ).all()
    return [
        Access(
            at=entry.at,
            action=entry.action,
            actor_id=entry.actor_id,
            actor_name=name,
            actor_label=entry.actor_label,
            remote_addr=entry.remote_addr,
            changes=entry.changes or {},
        )
        for entry, name in rows
    ]
