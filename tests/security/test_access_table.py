"""The access matrix of ``access_table.py`` (issue #7, item 1), request by request.

One test per group of routes: on the module's world (built once), it signs in one user per role
and sends the request of every cell inside a savepoint that is rolled back afterwards, so one
cell's write never changes the next cell's world. Failures list every failing cell of the group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from app.agencies.models import SubTaskForceMember
from app.audit.models import AuditEntry
from app.cases import operations as case_ops
from app.core.enums import Role, ServiceType, SubTaskForceKey
from app.core.permissions import route_permission
from app.extensions import db
from app.indicators.models import ReportJob
from app.referrals import operations as referral_ops
from app.workflow import operations as engine
from tests.conftest import rolled_back_session
from tests.factories import AgencyFactory, PopulationFactory, TaskForceFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as
from tests.security.access_table import (
    ANONYMOUS,
    DENIED,
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    PNG,
    REACHED,
    REASON,
    TABLE,
    cell_count,
)

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
SERVICES = [ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN, ServiceType.REHABILITASI_SOSIAL]
OVERRIDE = "Korban dalam bahaya; persetujuan akan dicatat kemudian."


def app_routes(app: Any) -> dict[tuple[str, str], Any]:
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) & METHODS):
            found[(rule.rule, method)] = rule
    return found


# --- the world ---------------------------------------------------------------------------------


@dataclass
class Bundle:
    case: Any
    victim: Any
    attachment: Any
    referred: Any  # a track referred to another agency
    referral: Any
    planned: Any  # a planned track, not referred
    moving: Any  # another case of the same agency, with a pending transfer request
    transfer: Any
    privacy_request: Any = None  # a data-subject request of the victim
    follow_up: Any = None  # a follow-up its case manager (the intake officer's: theirs) set


@dataclass
class World:
    a: Any
    b: Any
    c: Any
    users: dict[Role, Any]
    colleague_manager: Any
    c_manager: Any
    bundles: dict[str, Bundle]
    intake: Bundle  # the intake officer's own (unassigned) complaint
    task_force: Any
    sub_task_force: Any
    population: Any
    report_jobs: dict[str, Any]
    rollup_jobs: dict[str, Any]
    indicator_code: str
    png: bytes = PNG

    def bundle(self, scope: str, role: Role) -> Bundle:
        if scope == "own" and role is Role.PETUGAS_PENGADUAN:
            return self.intake
        return self.bundles[scope]


def _bundle(
    agency: Any, *, registrar: Any, manager: Any, supervisor: Any, refer_to: Any, transfer_to: Any
) -> Bundle:
    case = create_case(agency, actor=registrar, case_manager=manager)
    db.session.flush()
    victim = case.victims[0]
    attachment = case_ops.add_attachment(case, "bukti.png", PNG, actor=manager)
    case_ops.add_note(case, "Catatan kasus.", actor=manager)
    engine.apply_case_event(
        case.id, "start_identification", actor=manager, expected_version=case.version
    )
    engine.apply_case_event(
        case.id, "start_assessment", actor=manager, expected_version=case.version
    )
    referred = engine.plan_service(
        case.id,
        victim.id,
        ServiceType.REHABILITASI_SOSIAL,
        provider=None,
        target_date=None,
        actor=manager,
        expected_version=case.version,
    )
    referral = referral_ops.save_referral(
        referred.id,
        to_agency=refer_to,
        sharing=referral_ops.Sharing(
            identity=True, incident=True, assessment=True, attachment_ids=(attachment.id,)
        ),
        message="Mohon layanan rehabilitasi sosial.",
        actor=supervisor,
        send=True,
        override_reason=OVERRIDE,
        expected_version=referred.version,
    )
    planned = engine.plan_service(
        case.id,
        victim.id,
        ServiceType.PENDAMPINGAN,
        provider=None,
        target_date=None,
        actor=manager,
        expected_version=case.version,
    )
    moving = create_case(agency, actor=registrar, case_manager=manager)
    db.session.flush()
    transfer = engine.request_transfer(
        moving.id, transfer_to, REASON, actor=manager, expected_version=moving.version
    )
    db.session.flush()
    privacy_request = _privacy_request(case, victim, supervisor)
    return Bundle(
        case,
        victim,
        attachment,
        referred,
        referral,
        planned,
        moving,
        transfer,
        privacy_request,
        _follow_up(case, manager),
    )


def _follow_up(case: Any, owner: Any) -> Any:
    from app.tasks.calendar import jakarta_today
    from app.tasks.operations import schedule_follow_up

    return schedule_follow_up(case, actor=owner, due_on=jakarta_today())


def _privacy_request(case: Any, victim: Any, actor: Any) -> Any:
    import datetime as dt

    from app.privacy import operations as privacy_ops

    request = privacy_ops.record_request(
        case,
        victim,
        kind="akses",
        requester="Korban sendiri",
        received_at=dt.datetime.now(dt.UTC),
        actor=actor,
    )
    db.session.flush()
    return request


def build_world() -> World:
    from app.indicators.definitions import sync_definitions
    from app.indicators.models import IndicatorDefinition

    a, b, c = (AgencyFactory(services=SERVICES) for _ in range(3))
    task_force = TaskForceFactory(region=a.region)
    sub_task_force = next(
        s
        for s in task_force.sub_task_forces
        if s.key == SubTaskForceKey.REHSOS_PEMULANGAN_REINTEGRASI
    )
    db.session.add(SubTaskForceMember(sub_task_force_id=sub_task_force.id, agency_id=a.id))
    users = {
        role: UserFactory(roles=[(role, sub_task_force if role.scoped_to_subtaskforce else a)])
        for role in Role
    }
    colleague_manager = UserFactory(roles=[(Role.MANAJER_KASUS, a)])
    colleague_intake = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, a)])
    staff = {
        agency.id: (
            UserFactory(roles=[(Role.MANAJER_KASUS, agency)]),
            UserFactory(roles=[(Role.SUPERVISOR, agency)]),
        )
        for agency in (b, c)
    }
    sup = users[Role.SUPERVISOR]
    bundles = {
        "own": _bundle(
            a,
            registrar=colleague_intake,
            manager=users[Role.MANAJER_KASUS],
            supervisor=sup,
            refer_to=b,
            transfer_to=c,
        ),
        "same_agency": _bundle(
            a,
            registrar=colleague_intake,
            manager=colleague_manager,
            supervisor=sup,
            refer_to=b,
            transfer_to=c,
        ),
        "referred_to": _bundle(
            b,
            registrar=staff[b.id][0],
            manager=staff[b.id][0],
            supervisor=staff[b.id][1],
            refer_to=a,
            transfer_to=a,
        ),
        "unrelated": _bundle(
            c,
            registrar=staff[c.id][0],
            manager=staff[c.id][0],
            supervisor=staff[c.id][1],
            refer_to=b,
            transfer_to=b,
        ),
    }
    intake_officer = users[Role.PETUGAS_PENGADUAN]
    intake_case = create_case(a, actor=intake_officer)
    db.session.flush()
    own = bundles["own"]
    intake = Bundle(
        intake_case,
        intake_case.victims[0],
        case_ops.add_attachment(intake_case, "bukti.png", PNG, actor=intake_officer),
        own.referred,
        own.referral,
        own.planned,
        own.moving,
        own.transfer,
        own.privacy_request,
        _follow_up(intake_case, intake_officer),
    )
    colleague_analyst = UserFactory(roles=[(Role.ANALIS_DATA, a)])
    report_jobs, rollup_jobs = {}, {}
    for scope, agency in (("own", a), ("unrelated", c)):
        requester = colleague_analyst if agency is a else staff[c.id][1]
        report_jobs[scope] = ReportJob(
            kind="report",
            region_id=agency.region_id,
            period="2025-01",
            requested_by_id=requester.id,
        )
        rollup_jobs[scope] = ReportJob(
            kind="rollup",
            region_id=agency.region_id,
            period="2025-01",
            requested_by_id=requester.id,
        )
        db.session.add_all([report_jobs[scope], rollup_jobs[scope]])
    population = PopulationFactory(region=c.region)
    if not db.session.scalar(sa.select(sa.func.count()).select_from(IndicatorDefinition)):
        sync_definitions()
    code = db.session.scalar(
        sa.select(IndicatorDefinition.code).order_by(IndicatorDefinition.code).limit(1)
    )
    db.session.flush()
    return World(
        a=a,
        b=b,
        c=c,
        users=users,
        colleague_manager=colleague_manager,
        c_manager=staff[c.id][0],
        bundles=bundles,
        intake=intake,
        task_force=task_force,
        sub_task_force=sub_task_force,
        population=population,
        report_jobs=report_jobs,
        rollup_jobs=rollup_jobs,
        indicator_code=code,
    )


# --- what a refused request must not change ------------------------------------------------------


def _state_query() -> Any:
    """One statement: per table its row count, and the sum of ``version`` where there is one;
    audit entries other than ``access.denied`` (refusals are counted apart)."""
    columns = []
    for table in db.metadata.sorted_tables:
        count = sa.select(sa.func.count()).select_from(table)
        if table.name == "audit_entries":
            count = count.where(table.c.action != "access.denied")
        columns.append(count.scalar_subquery().label(f"{table.name}_rows"))
        if "version" in table.c:
            total = sa.select(sa.func.coalesce(sa.func.sum(table.c.version), 0))
            columns.append(total.scalar_subquery().label(f"{table.name}_versions"))
    return sa.select(*columns)


def state(query: Any) -> dict[str, Any]:
    return dict(db.session.execute(query).one()._mapping)


DENIED_COLUMN = "access_denied_entries"


def _cell_query() -> Any:
    """The state query with, in the same statement, the number of ``access.denied`` entries."""
    denied = (
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "access.denied")
        .scalar_subquery()
        .label(DENIED_COLUMN)
    )
    return _state_query().add_columns(denied)


# --- the tests -----------------------------------------------------------------------------------


def test_every_route_of_the_app_is_in_the_table_and_nothing_else(app):
    routes = app_routes(app)
    missing = sorted(set(routes) - set(TABLE))
    stale = sorted(set(TABLE) - set(routes))
    assert not missing, f"routes without an access-table entry: {missing}"
    assert not stale, f"access-table entries for routes that no longer exist: {stale}"
    wrong = []
    for key, rule in routes.items():
        declared = route_permission(app.view_functions[rule.endpoint])
        if declared != TABLE[key].permission:
            wrong.append((key, TABLE[key].permission, declared))
    assert not wrong, f"the table's permission differs from the view's (table, view): {wrong}"
    assert cell_count() > 1000


@dataclass
class Shared:
    world: World
    clean: dict[str, Any]  # its state: row counts, versions and access.denied entries


@pytest.fixture(scope="module")
def shared(app, tmp_path_factory):
    """The world, built once per module (per worker, the expensive part) in a transaction of its
    own that is rolled back at the end: this module does not use the suite's transaction per
    test (``db_session`` below). No test changes it: every cell runs in a savepoint rolled back
    after it, and each test checks the world's state unchanged at its start and at its end.
    The world's attachments are stored in a directory of the module's; the files a cell uploads
    stay there under random names no row points to once the cell is rolled back."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(app.config, "UPLOAD_DIR", str(tmp_path_factory.mktemp("access-table")))
        # one sign-in per role in each test, from one address
        patch.setitem(app.config, "LOGIN_RATE_LIMIT", "1000 per minute")
        with rolled_back_session(app):
            world = build_world()
            db.session.commit()
            clean = state(_cell_query())
            db.session.commit()
            yield Shared(world, clean)


@pytest.fixture(autouse=True)
def db_session(app):
    """Instead of the suite's fixture of that name: the cells run in the module's transaction
    (``shared``)."""
    from app.extensions import limiter

    with app.app_context():
        limiter.reset()
    yield None


def _outcome_problem(
    entry: Any, expected: str, response: Any, denied: int, changed: list[str]
) -> str | None:
    status = response.status_code
    location = urlparse(response.headers.get("Location", "")).path
    to_login = status in (301, 302, 303) and location == "/masuk"
    if to_login and entry.to_sign_in and expected in (OK, REACHED):
        return None
    if expected == LOGIN:
        if not to_login:
            return f"expected a redirect to /masuk, got {status} {location}"
        if changed or denied:
            return f"an anonymous request changed {changed or 'the audit log'}"
        return None
    if expected in DENIED:
        want = 403 if expected == FORBIDDEN else 404
        if status not in (403, 404):
            return f"LEAK? expected {want}, got {status} {location}"
        problems = []
        if status != want:
            problems.append(f"expected {want}, got {status}")
        if denied != 1:
            problems.append(f"{denied} access.denied entries written (want 1)")
        if changed:
            problems.append(f"a refused request changed {changed}")
        return "; ".join(problems) or None
    if status in (401, 403, 404) or to_login:
        return f"expected {expected}, got {status} {location}"
    if expected == OK and status >= 400:
        return f"expected ok, got {status}"
    if expected == REACHED and status >= 500:
        return f"expected reached, got {status}"
    if denied:
        return "an allowed request wrote access.denied"
    return None


# A group of cells shares one world (the world is the expensive part). The routes under one first
# path segment (``/kasus``, ``/admin`` …) form a group; a segment with more cells than this is cut
# into parts of about equal size (``kasus-1`` …), so pytest-xdist can spread them.
CELLS_PER_GROUP = 250


def _group(rule: str) -> str:
    return rule.split("/")[1] or "root"


def _groups() -> dict[str, list[tuple[str, str]]]:
    by_segment: dict[str, list[tuple[str, str]]] = {}
    for key in sorted(TABLE):
        by_segment.setdefault(_group(key[0]), []).append(key)
    groups: dict[str, list[tuple[str, str]]] = {}
    for segment, keys in by_segment.items():
        total = sum(len(TABLE[key].cells()) for key in keys)
        parts = -(-total // CELLS_PER_GROUP)
        if parts == 1:
            groups[segment] = keys
            continue
        done, part = 0, 1
        for key in keys:
            groups.setdefault(f"{segment}-{part}", []).append(key)
            done += len(TABLE[key].cells())
            if done >= total * part / parts and part < parts:
                part += 1
    return groups


GROUPS = _groups()


def test_the_groups_hold_every_route_once():
    grouped = [key for keys in GROUPS.values() for key in keys]
    assert sorted(grouped) == sorted(TABLE)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_every_cell(app, shared, group):
    """The routes of one group, on the module's world; every cell runs in a savepoint rolled
    back after it, so the world is the same before every cell: its state (row counts, versions
    and ``access.denied`` entries) is taken once, each cell's state after its request is
    compared with it, and the world is checked unchanged at the test's start and end."""
    world = shared.world
    clients: dict[Role | None, Any] = {}
    for role in Role:
        clients[role] = app.test_client()
        login_as(clients[role], world.users[role])
    clients[None] = app.test_client()
    db.session.commit()
    connection = db.session.get_bind()
    query = _cell_query()
    clean = state(query)
    db.session.commit()
    assert clean == shared.clean, [k for k in clean if clean[k] != shared.clean[k]]

    # every cell's request first, while the world's records are loaded (each cell's rollback
    # expires them; the world is the same before every cell, so are the requests)
    cells = []
    for key in GROUPS[group]:
        entry = TABLE[key]
        for role, scope in entry.cells():
            # the anonymous visitor asks for the own-scope record
            at = "own" if scope in (ANONYMOUS, "-") else scope
            url = entry.url(world, at, role or Role.ADMIN)
            data = entry.data(world, at, role or Role.ADMIN) if entry.data else None
            cells.append((entry, role, scope, url, data))

    failures = []
    for entry, role, scope, url, data in cells:
        problem = _run_cell(entry, role, scope, url, data, clients, connection, query, clean)
        if problem:
            who = role.value if role else ANONYMOUS
            expected = entry.expected(role, scope)
            failures.append(f"  {entry.method} {url} [{who} / {scope}] {expected}: {problem}")
    assert not failures, f"{len(failures)} cells fail\n" + "\n".join(failures)
    after = state(query)
    db.session.commit()
    assert after == clean, [k for k in clean if clean[k] != after[k]]


def _run_cell(
    entry: Any,
    role: Role | None,
    scope: str,
    url: str,
    data: Any,
    clients: Any,
    connection: Any,
    query: Any,
    clean: dict[str, Any],
) -> str | None:
    """One request in a savepoint; ``clean`` is the world's state before every cell."""
    expected = entry.expected(role, scope)
    db.session.commit()  # the session holds no transaction outside the savepoint below
    savepoint = connection.begin_nested()
    try:
        response = clients[role].open(url, method=entry.method, data=data)
        db.session.rollback()
        after = state(query)
        denied = after[DENIED_COLUMN] - clean[DENIED_COLUMN]
        changed = sorted(k for k in clean if k != DENIED_COLUMN and clean[k] != after[k])
        db.session.rollback()
    finally:
        savepoint.rollback()
        db.session.expire_all()
    return _outcome_problem(entry, expected, response, denied, changed)


def test_the_matrix_is_large_and_names_every_outcome():
    outcomes = {
        entry.expected(role, scope) for entry in TABLE.values() for role, scope in entry.cells()
    }
    assert outcomes == {OK, REACHED, FORBIDDEN, NOT_FOUND, LOGIN}
