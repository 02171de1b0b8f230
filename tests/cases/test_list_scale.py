"""The case list at scale: keyset pages in every sort, a capped count, the scope cut into
index-backed parts with exactly the same cases, and a number of SQL statements that does not
grow with the data."""

import datetime as dt
import re

import pytest
from sqlalchemy import or_, select

from app.cases import queries
from app.cases.models import BreakGlassGrant, Case
from app.core.db import utcnow
from app.core.enums import CaseState, Role
from app.extensions import db
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as
from tests.sql_count import count_statements

REF = re.compile(r">([A-Z0-9-]+-\d{4}-\d{5})<")
NEXT = re.compile(r'rel="next" href="([^"]+)"')
PREV = re.compile(r'rel="prev" href="([^"]+)"')


def references(response):
    assert response.status_code == 200, response.status_code
    return REF.findall(response.get_data(as_text=True))


def link(pattern, response):
    found = pattern.search(response.get_data(as_text=True))
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def agency():
    return AgencyFactory(code="UPTD-K")


@pytest.fixture
def supervisor(agency):
    return UserFactory(roles=[(Role.SUPERVISOR, agency)])


@pytest.fixture
def many(agency, supervisor):
    """33 cases: received on a few days (several on the same moment, so that the id decides),
    every risk, a few moved on to another state."""
    base = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    risks = ("tinggi", "sedang", "rendah")
    made = []
    for i in range(33):
        case = create_case(
            agency,
            actor=supervisor,
            received_at=base + dt.timedelta(days=i // 4),
            risk=risks[i % 3],
        )
        if i % 5 == 0:
            case.state = CaseState.IDENTIFIKASI
        made.append(case)
    db.session.flush()
    return made


@pytest.mark.parametrize("sort", sorted(queries.SORTS))
def test_next_and_previous_walk_every_sort_in_its_order(client, supervisor, many, sort):
    login_as(client, supervisor)
    expected = [
        c.reference
        for c in db.session.scalars(
            queries.list_cases_for(supervisor, queries.CaseFilters(sort=sort))
        )
    ]
    assert len(expected) == 33

    pages = [client.get(f"/kasus?sort={sort}")]
    while (url := link(NEXT, pages[-1])) is not None:
        assert "after=" in url and f"sort={sort}" in url
        pages.append(client.get(url))
    assert [len(references(p)) for p in pages] == [25, 8]
    assert [r for p in pages for r in references(p)] == expected
    assert link(PREV, pages[0]) is None

    back = client.get(link(PREV, pages[-1]))
    assert references(back) == references(pages[0])
    assert link(PREV, back) is None and link(NEXT, back) is not None


def test_the_default_order_is_newest_first_and_ties_go_by_the_newest_id(client, supervisor, many):
    login_as(client, supervisor)
    first = client.get("/kasus")
    second = client.get(link(NEXT, first))
    shown = references(first) + references(second)
    newest_first = sorted(many, key=lambda c: (c.received_at, c.id), reverse=True)
    assert shown == [c.reference for c in newest_first]


def test_a_damaged_or_foreign_cursor_shows_the_first_page(client, supervisor, many):
    login_as(client, supervisor)
    first = references(client.get("/kasus"))
    cursor = link(NEXT, client.get("/kasus")).split("after=")[1]
    for bad in ("x", "%%%", "W10", "WyJhIiwgMV0", "9" * 500, cursor + "A"):
        assert references(client.get("/kasus", query_string={"after": bad})) == first, bad
    # a cursor of one sort given to another is not applied either
    assert references(client.get(f"/kasus?sort=reference&after={cursor}")) == references(
        client.get("/kasus?sort=reference")
    )


def test_filters_survive_the_page_links(client, supervisor, many):
    login_as(client, supervisor)
    first = client.get("/kasus?risk=tinggi&sort=received_at")
    assert len(references(first)) == 11 and link(NEXT, first) is None
    first = client.get("/kasus?state=diterima")
    url = link(NEXT, first)
    assert url is not None and "state=diterima" in url
    shown = references(first) + references(client.get(url))
    assert sorted(shown) == sorted(c.reference for c in many if c.state == CaseState.DITERIMA)


def test_the_count_is_capped(client, supervisor, many, monkeypatch):
    login_as(client, supervisor)
    assert "33 kasus" in client.get("/kasus").get_data(as_text=True)
    monkeypatch.setattr(queries, "COUNT_CAP", 30)
    html = client.get("/kasus").get_data(as_text=True)
    assert "Lebih dari 30 kasus" in html and "33 kasus" not in html
    page = queries.page_of_cases_for(supervisor, queries.CaseFilters(), per_page=25)
    assert (page.total, page.total_capped, page.pages) == (30, True, None)
    monkeypatch.setattr(queries, "COUNT_CAP", 33)
    page = queries.page_of_cases_for(supervisor, queries.CaseFilters(), per_page=25)
    assert (page.total, page.total_capped, page.pages) == (33, False, 2)


def test_the_union_of_the_scope_parts_is_exactly_the_scope(agency):
    """Every kind of visibility at once: a supervisor of one agency who is case manager in
    another, a case that agency took over by transfer, break-the-glass grants running and
    expired, drafts of someone else."""
    other, third = AgencyFactory(code="UPTD-L"), AgencyFactory(code="UPTD-M")
    user = UserFactory(roles=[(Role.SUPERVISOR, agency), (Role.MANAJER_KASUS, other)])
    colleague = UserFactory(roles=[(Role.MANAJER_KASUS, other), (Role.SUPERVISOR, third)])
    mine = [create_case(agency) for _ in range(2)]
    create_case(agency, draft=True)  # nobody's draft: not listed
    managed = create_case(other, actor=colleague, case_manager=user)
    create_case(other, actor=colleague, case_manager=colleague)  # not theirs
    origin = create_case(third, actor=colleague)
    taken_over = create_case(agency)
    taken_over.transferred_from_id = origin.id
    glass, expired = create_case(third, actor=colleague), create_case(third, actor=colleague)
    now = utcnow()
    for case, until in ((glass, now + dt.timedelta(hours=1)), (expired, now - dt.timedelta(1))):
        db.session.add(
            BreakGlassGrant(
                user_id=user.id,
                case_id=case.id,
                reason="Korban datang ke IGD.",
                granted_at=now - dt.timedelta(hours=2),
                expires_at=until,
            )
        )
    db.session.flush()

    for who in (user, colleague):
        by_or = set(
            db.session.scalars(
                select(Case.id).where(
                    queries.scope_condition(who),
                    or_(Case.state != CaseState.DRAFT, Case.registered_by_id == who.id),
                )
            )
        )
        listed = {
            c.id for c in db.session.scalars(queries.list_cases_for(who, queries.CaseFilters()))
        }
        paged = queries.page_of_cases_for(who, queries.CaseFilters(), per_page=100)
        assert listed == by_or == {c.id for c in paged.items}
    assert listed  # the colleague sees something
    user_sees = {
        c.id for c in queries.page_of_cases_for(user, queries.CaseFilters(), per_page=100).items
    }
    assert user_sees == {*(c.id for c in mine), managed.id, taken_over.id, origin.id, glass.id}


def _statements(client, requests, seen=None):
    counts = []
    for method, url, data in requests:
        # once before: what the test left pending (its audit entries, sealed at the next commit)
        # and what a session does once are not the page's
        client.open(url, method=method, data=data)
        with count_statements() as counted:
            response = client.open(url, method=method, data=data)
        assert response.status_code == 200, (url, response.status_code)
        # the test's savepoints around the request left out
        statements = counted.own
        counts.append(len(statements))
        if seen is not None:
            seen.append(statements)
    return counts


def test_the_list_runs_the_same_statements_whatever_the_number_of_cases(client, agency, supervisor):
    for _ in range(26):  # two pages
        create_case(agency, actor=supervisor)
    login_as(client, supervisor)

    def requests():
        first = client.get("/kasus")
        page_two = link(NEXT, first)
        return [
            ("GET", "/kasus", None),
            ("GET", "/kasus?risk=sedang&overdue=y", None),
            ("GET", "/kasus?violence_type=fisik&sort=-risk", None),
            ("POST", "/kasus/cari", {"q": "UPTD-K"}),
            ("POST", "/kasus/cari", {"q": "Siti Aminah"}),
            ("GET", page_two, None),
        ]

    seen_few: list[list[str]] = []
    seen_many: list[list[str]] = []
    few = _statements(client, requests(), seen_few)
    for _ in range(40):
        create_case(agency, actor=supervisor)
    many = _statements(client, requests(), seen_many)
    # on a difference, the statements of the request that differs, to say why
    differing = [(f, m) for f, m in zip(seen_few, seen_many, strict=True) if len(f) != len(m)]
    assert many == few, (few, many, differing)
    assert max(many) <= 12, many
