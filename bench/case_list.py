"""Benchmark: the case list's queries on a large table (prints figures; no assertion).

Reads the database at ``BENCH_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/simpul_caselist_big``), migrated with ``flask db upgrade``
and filled by ``bench/case_list_fill.sql``::

    createdb simpul_caselist_big
    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/simpul_caselist_big
    flask --app wsgi db upgrade
    psql -v cases=1000000 -v agencies=8000 -f bench/case_list_fill.sql simpul_caselist_big
    python bench/case_list.py [repetitions]

For the supervisor of the biggest agency, of a median-sized one and a case manager of the
biggest, it times what the list view asks of the database for one page — ``page_of_cases_for``
(page, capped count), the victims per case and the overdue marks — for the default list, each
filter, each sort, a page 40 pages deep (by cursor and by number), and the searches (a whole
reference, the start of one, an exact name). Times are of the query layer, without HTTP or
rendering (``make bench`` measures whole pages).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/simpul_caselist_big"
)
PER_PAGE = 25


def timed(run: Callable[[], Any], repetitions: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds of ``repetitions`` runs, after one run to warm up."""
    run()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95


def main() -> int:
    repetitions = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    os.environ["DATABASE_URL"] = URL
    os.environ.pop("REDIS_URL", None)

    import sqlalchemy as sa

    from app import create_app
    from app.auth.models import RoleGrant, User
    from app.cases import queries
    from app.cases.models import Case
    from app.core.db import utcnow
    from app.core.enums import Role
    from app.extensions import db

    app = create_app()
    with app.app_context():
        cases = db.session.scalar(sa.select(sa.func.count()).select_from(Case)) or 0
        if cases < 1000:
            print(f"{URL}: {cases} cases; fill it with bench/case_list_fill.sql first")
            return 1
        sizes = db.session.execute(
            sa.select(Case.agency_id, sa.func.count())
            .group_by(Case.agency_id)
            .order_by(sa.func.count().desc())
        ).all()
        biggest, median = sizes[0], sizes[len(sizes) // 2]

        def grantee(agency_id: int, role: Role) -> User:
            user = db.session.scalar(
                sa.select(User)
                .join(RoleGrant, RoleGrant.user_id == User.id)
                .where(RoleGrant.agency_id == agency_id, RoleGrant.role == role)
                .limit(1)
            )
            assert user is not None, (agency_id, role)
            return user

        big_supervisor = grantee(biggest[0], Role.SUPERVISOR)
        median_supervisor = grantee(median[0], Role.SUPERVISOR)
        big_manager = grantee(biggest[0], Role.MANAJER_KASUS)
        reference = db.session.scalar(
            sa.select(Case.reference)
            .where(Case.agency_id == biggest[0], Case.reference.is_not(None))
            .order_by(Case.id)
            .offset(biggest[1] // 2)
            .limit(1)
        )
        assert reference is not None
        print(
            f"{cases:,} cases in {len(sizes):,} agencies; biggest agency {biggest[1]:,} cases, "
            f"median {median[1]:,}; {repetitions} runs each, after one to warm up"
        )
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")

        def one_page(user: User, **kwargs: Any) -> Callable[[], Any]:
            page_kwargs = {k: kwargs.pop(k) for k in ("after", "page") if k in kwargs}

            def run() -> None:
                now = utcnow()
                page = queries.page_of_cases_for(
                    user, queries.CaseFilters(**kwargs), per_page=PER_PAGE, now=now, **page_kwargs
                )
                ids = [c.id for c in page.items]
                queries.victim_counts(ids)
                queries.overdue_case_ids(ids, now)
                db.session.rollback()  # a fresh transaction, as each request has

            return run

        def cursor_of_page(user: User, pages: int) -> str | None:
            cursor = None
            for _ in range(pages - 1):
                cursor = queries.page_of_cases_for(
                    user, queries.CaseFilters(), per_page=PER_PAGE, after=cursor
                ).next_cursor
            return cursor

        deep = cursor_of_page(big_supervisor, 40)
        scenarios: list[tuple[str, Callable[[], Any], int]] = [
            ("default, biggest agency's supervisor", one_page(big_supervisor), 150),
            ("default, median agency's supervisor", one_page(median_supervisor), 150),
            ("default, biggest agency's case manager", one_page(big_manager), 150),
            ("filter state=asesmen", one_page(big_supervisor, state="asesmen"), 150),
            ("filter risk=tinggi", one_page(big_supervisor, risk="tinggi"), 150),
            ("filter case_type=tppo", one_page(big_supervisor, case_type="tppo"), 150),
            (
                "filter violence_type=seksual",
                one_page(big_supervisor, violence_type="seksual"),
                150,
            ),
            ("filter overdue", one_page(big_supervisor, overdue=True), 150),
            (
                "filter received in one month",
                one_page(
                    big_supervisor,
                    received_from=utcnow().date().replace(day=1),
                    received_to=utcnow().date(),
                ),
                150,
            ),
            ("sort reference", one_page(big_supervisor, sort="reference"), 150),
            ("sort -risk", one_page(big_supervisor, sort="-risk"), 150),
            ("sort state", one_page(big_supervisor, sort="state"), 150),
            ("page 40 by cursor", one_page(big_supervisor, after=deep), 150),
            ("page 40 by number", one_page(big_supervisor, page=40), 150),
            ("search a whole reference", one_page(big_supervisor, search=reference), 100),
            (
                "search the start of a reference",
                one_page(big_supervisor, search=reference[: reference.rindex("-") + 3]),
                100,
            ),
            ("search an exact name", one_page(big_supervisor, search="Siti Aminah"), 100),
        ]
        width = max(len(name) for name, _run, _target in scenarios)
        print(f"{'query':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  target p95")
        for name, run, target in scenarios:
            p50, p95 = timed(run, repetitions)
            mark = "ok" if p95 <= target else "MISSED"
            print(f"{name:<{width}}  {p50:8.1f}  {p95:8.1f}  {target} {mark}")

        coordinator = db.session.scalar(
            sa.select(User).where(User.email == "koordinator@bench.invalid")
        )
        if coordinator is not None:
            bench_board(coordinator, repetitions)
    return 0


def bench_board(coordinator: Any, repetitions: int) -> None:
    """The Sub GT board's queries for the coordinator the fill script made."""
    from app.core.db import utcnow
    from app.extensions import db
    from app.subgt import queries
    from app.subgt.views import PER_PAGE as BOARD_PER_PAGE

    boards = queries.boards_of(coordinator)
    filters = queries.BoardFilters()
    rows = queries.board_summary(coordinator, utcnow(), boards=boards).total
    print(f"Sub GT board: {rows:,} rows, pages of {BOARD_PER_PAGE}")

    def run(page: int) -> Callable[[], Any]:
        def go() -> None:
            now = utcnow()
            found = queries.board_page(
                coordinator, filters, now, page=page, per_page=BOARD_PER_PAGE, boards=boards
            )
            if found.summary is None:  # as the view: the page's counters when it has rows
                queries.board_summary(coordinator, now, boards=boards)
            db.session.rollback()

        return go

    def every_row() -> None:
        queries.board(coordinator, filters, utcnow())
        db.session.rollback()

    for name, go in (
        ("board page 1 + counters", run(1)),
        ("board last page + counters", run(max(1, -(-rows // BOARD_PER_PAGE)))),
        ("every row at once (as before)", every_row),
    ):
        p50, p95 = timed(go, repetitions)
        print(f"{name:<40}  {p50:8.1f}  {p95:8.1f}  300 {'ok' if p95 <= 300 else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
