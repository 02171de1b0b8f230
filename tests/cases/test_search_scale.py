"""The list's search and overdue filter, asked the index-backed way (each way of matching the
term on its own; the open deadlines leading), find exactly what the plain conditions find: the
same cases for every kind of user and term, nothing outside the scope, drafts only for their
author."""

import datetime as dt

import pytest
from sqlalchemy import false, or_, select, text

from app.cases import queries
from app.cases.intake import VictimData
from app.cases.models import BreakGlassGrant, Case, Victim
from app.core.crypto import name_matches, name_query
from app.core.db import utcnow
from app.core.enums import CaseState, Role
from app.deadlines.models import Deadline
from app.deadlines.rules import FIRST_RESPONSE_BY_RISK, DeadlineCode
from app.extensions import db
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case


def adult(name):
    return VictimData(sex="P", name=name, age=30, violence_types=["fisik"])


def _plain_search(user, term):
    """The search as one condition: the term's ways ORed (reference, full name, the words of
    the name by how they sound — which every word spelled the same also does), then the
    scope."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    words = name_query(term)
    by_words = (
        Case.id.in_(queries._name_key_cases(words.by_sound)) if words is not None else false()
    )
    return set(
        db.session.scalars(
            select(Case.id).where(
                queries.scope_condition(user),
                or_(Case.state != CaseState.DRAFT, Case.registered_by_id == user.id),
                or_(
                    Case.reference.ilike(f"%{escaped}%", escape="\\"),
                    Case.id.in_(
                        select(Victim.case_id).where(name_matches(Victim.name_index, term))
                    ),
                    by_words,
                ),
            )
        )
    )


def _plain_overdue(user, now):
    """Overdue as a test on each case: does it have an open first-response deadline past due."""
    late = (
        select(Deadline.id)
        .where(
            Deadline.case_id == Case.id,
            Deadline.track_id.is_(None),
            Deadline.code.in_(list(FIRST_RESPONSE_BY_RISK.values())),
            Deadline.completed_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.due_at < now,
        )
        .exists()
    )
    return set(
        db.session.scalars(
            select(Case.id).where(
                queries.scope_condition(user),
                or_(Case.state != CaseState.DRAFT, Case.registered_by_id == user.id),
                late,
            )
        )
    )


def _listed(user, filters, now=None):
    page = queries.page_of_cases_for(user, filters, per_page=200, now=now)
    listed = {c.id for c in db.session.scalars(queries.list_cases_for(user, filters, now=now))}
    assert {c.id for c in page.items} == listed
    assert (page.total, page.total_capped) == (len(listed), False)
    return listed


@pytest.fixture
def world():
    """Two agencies whose references share their numbers, victims of the same name in both, a
    draft of each of two people, a case taken over by transfer and a break-the-glass grant."""
    mine, theirs, third = (AgencyFactory(code=code) for code in ("UPTD-K", "UPTD-L", "UPTD-M"))
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, mine)])
    intake = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, mine)])
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, mine)])
    stranger = UserFactory(roles=[(Role.SUPERVISOR, theirs), (Role.SUPERVISOR, third)])
    named = create_case(mine, actor=intake, victims=[adult(name="Maria Ulfa Susanti")])
    create_case(mine, actor=intake, victims=[adult(name="Maria Ulfa")])
    managed = create_case(mine, actor=intake, case_manager=manager)
    create_case(mine, actor=intake, draft=True, victims=[adult(name="Maria Ulfa Susanti")])
    create_case(mine, actor=supervisor, draft=True)
    create_case(theirs, actor=stranger, victims=[adult(name="Maria Ulfa Susanti")])
    origin = create_case(theirs, actor=stranger, victims=[adult(name="Maria Ulfa Susanti")])
    taken_over = create_case(mine, actor=intake)
    taken_over.transferred_from_id = origin.id
    glass = create_case(third, actor=stranger, victims=[adult(name="Maria Ulfa Susanti")])
    expired = create_case(third, actor=stranger)
    now = utcnow()
    for case, until in ((glass, now + dt.timedelta(hours=1)), (expired, now - dt.timedelta(1))):
        db.session.add(
            BreakGlassGrant(
                user_id=supervisor.id,
                case_id=case.id,
                reason="Korban datang ke IGD.",
                granted_at=now - dt.timedelta(hours=2),
                expires_at=until,
            )
        )
    db.session.flush()
    return {
        "users": (supervisor, intake, manager, stranger),
        "named": named,
        "managed": managed,
        "origin": origin,
        "glass": glass,
    }


def test_the_search_finds_what_the_plain_condition_finds_for_every_user_and_term(world):
    named, origin = world["named"], world["origin"]
    terms = [
        named.reference,  # a whole reference
        named.reference.lower(),  # in any case
        named.reference[:-6],  # its start: the agency and the year
        named.reference[-5:],  # its number: the same in the other agencies
        named.reference[4:9],  # a part from the middle
        origin.reference,  # a case of another agency, seen through the transfer
        world["glass"].reference,  # … through a break-the-glass grant
        "UPTD-M",  # another agency's references: the running grant's case only
        "00",  # shorter than a trigram
        "-",
        "%",  # wildcards are plain characters
        "_",
        "maria  ulfa SUSANTI",  # an exact full name, however written
        "Maria",  # never a part of a name
        "nobody of that name",
    ]
    for user in world["users"]:
        for term in terms:
            filters = queries.CaseFilters(search=term)
            assert _listed(user, filters) == _plain_search(user, term), (user.id, term)


def test_the_search_keeps_to_the_scope_and_to_the_author_s_drafts(world):
    supervisor, intake, manager, stranger = world["users"]
    name = "Maria Ulfa Susanti"
    found = _listed(supervisor, queries.CaseFilters(search=name))
    # their own agency's case, the case taken over by transfer, the running grant's case; not
    # the other agency's, nor the intake officer's draft
    assert found == {world["named"].id, world["origin"].id, world["glass"].id}
    # the intake officer: their registrations — the case and their draft — and the case the
    # one they registered was transferred from
    assert len(_listed(intake, queries.CaseFilters(search=name))) == 3
    assert {world["named"].id, world["origin"].id} < _listed(
        intake, queries.CaseFilters(search=name)
    )
    assert _listed(manager, queries.CaseFilters(search=name)) == set()
    assert _listed(manager, queries.CaseFilters(search=world["managed"].reference)) == {
        world["managed"].id
    }
    # a reference outside the scope is not found
    assert _listed(stranger, queries.CaseFilters(search=world["named"].reference)) == set()


def test_the_search_combines_with_the_filters_and_the_count(world):
    supervisor = world["users"][0]
    prefix = world["named"].reference[:-6]
    everything = _listed(supervisor, queries.CaseFilters(search=prefix))
    assert len(everything) == 4  # the agency's cases of the year, drafts of others left out
    risky = _listed(supervisor, queries.CaseFilters(search=prefix, risk="tinggi"))
    assert risky == set()
    assert _listed(supervisor, queries.CaseFilters(search=prefix, risk="sedang")) == everything


def _deadline(case, code, *, due, completed=False, cancelled=False):
    now = utcnow()
    row = Deadline(
        code=code,
        case_id=case.id,
        started_at=due - dt.timedelta(hours=1),
        due_at=due,
        responsible_agency_id=case.agency_id,
        completed_at=now if completed else None,
        cancelled_at=now if cancelled else None,
    )
    db.session.add(row)
    return row


def test_the_overdue_filter_finds_what_testing_each_case_finds(world):
    supervisor, intake, _manager, _stranger = world["users"]
    mine = world["named"].agency
    now = utcnow()
    past, future = now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
    # every case's first-response clock runs from its registration: put them all out of play
    for deadline in db.session.scalars(select(Deadline)):
        deadline.completed_at = now
    late = create_case(mine, actor=intake, risk="tinggi")
    early = create_case(mine, actor=intake, risk="rendah")
    done = create_case(mine, actor=intake)
    cancelled = create_case(mine, actor=intake)
    other_kind = create_case(mine, actor=intake)
    draft = create_case(mine, actor=intake, draft=True)
    for case in (late, early, done, cancelled, other_kind, draft):
        for deadline in db.session.scalars(select(Deadline).where(Deadline.case_id == case.id)):
            deadline.completed_at = now
    _deadline(late, DeadlineCode.FIRST_RESPONSE_TINGGI, due=past)
    _deadline(early, DeadlineCode.FIRST_RESPONSE_RENDAH, due=future)
    _deadline(done, DeadlineCode.FIRST_RESPONSE_SEDANG, due=past, completed=True)
    _deadline(cancelled, DeadlineCode.FIRST_RESPONSE_SEDANG, due=past, cancelled=True)
    _deadline(other_kind, DeadlineCode.POLICE_REPORT_TPKS, due=past)
    _deadline(draft, DeadlineCode.FIRST_RESPONSE_SEDANG, due=past)
    _deadline(world["origin"], DeadlineCode.FIRST_RESPONSE_SEDANG, due=past)
    db.session.flush()

    for user in world["users"]:
        for filters in (
            queries.CaseFilters(overdue=True),
            queries.CaseFilters(overdue=True, risk="tinggi"),
            queries.CaseFilters(overdue=True, search=late.reference[:-6]),
        ):
            expected = _plain_overdue(user, now)
            if filters.risk:
                expected = {i for i in expected if db.session.get(Case, i).risk == "tinggi"}
            if filters.search:
                expected &= _plain_search(user, filters.search)
            assert _listed(user, filters, now=now) == expected, (user.id, filters)
    assert _listed(supervisor, queries.CaseFilters(overdue=True), now=now) == {
        late.id,
        world["origin"].id,
    }
    assert _listed(intake, queries.CaseFilters(overdue=True), now=now) == {
        late.id,
        draft.id,
        world["origin"].id,
    }
    ids = [late.id, early.id, done.id, cancelled.id, other_kind.id]
    assert queries.overdue_case_ids(ids, now) == {late.id}
    assert queries.is_first_response_overdue(late, now)
    assert not queries.is_first_response_overdue(early, now)


@pytest.mark.postgres  # plan caching of prepared statements is PostgreSQL's
def test_a_search_is_planned_for_its_own_term(world):
    """The driver prepares a statement sent five times on one connection, after which
    PostgreSQL may plan it once for every term: a generic plan cannot use the trigram index for
    the term given. A search asks for plans of its own term; a list without a term leaves the
    setting alone."""
    supervisor = world["users"][0]

    def mode():
        return db.session.execute(text("SHOW plan_cache_mode")).scalar_one()

    for _ in range(7):  # past the driver's preparing threshold
        queries.page_of_cases_for(supervisor, queries.CaseFilters(), per_page=25)
    assert mode() == "auto"
    for term in ("UPTD-K", "Maria Ulfa Susanti", "UPTD-K", "UPTD-K", "UPTD-K", "UPTD-K"):
        page = queries.page_of_cases_for(supervisor, queries.CaseFilters(search=term), per_page=25)
        assert page.items
        assert mode() == "force_custom_plan"
