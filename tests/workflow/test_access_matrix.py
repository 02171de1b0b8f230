"""Who may use the workflow routes: every route for every kind of user who must not.

A user whose roles do not carry the route's permission at all is forbidden (403, from
``@requires``); a user who holds it but not on this case (another agency, not their case, not
the receiving agency of the transfer) does not find it (404). Never a 200 or a redirect, and
nothing is written. Anonymous visitors are sent to the sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from app.assessments.models import Assessment, AssessmentFinding
from app.audit.models import AuditEntry
from app.cases.models import Case, ConsentEntry
from app.core.enums import AssessmentArea, Role, ServiceType
from app.extensions import db
from app.services.models import ServiceTrack
from app.workflow import operations as engine
from app.workflow.models import CaseTransfer, CaseTransition
from tests.factories import AgencyFactory, TaskForceFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as

VIEW = "cases:view_own"
MANAGE = "cases:manage"
SUPERVISE = "cases:supervise"
REASON = "Korban pindah domisili ke wilayah lembaga lain."


@dataclass
class World:
    agency: Any  # the case's agency (A)
    receiving: Any  # the agency the transfer is addressed to (B)
    other: Any  # a third agency (C)
    manager: Any
    supervisor: Any
    intake_officer: Any
    case: Any  # at the assessment stage, one planned track, a transfer to B waiting
    fresh_case: Any  # just registered, no transfer: the one a transfer is requested for
    track: Any
    transfer: Any

    @property
    def victim(self) -> Any:
        return self.case.victims[0]


@pytest.fixture
def world() -> World:
    services = [ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN, ServiceType.REHABILITASI_SOSIAL]
    agency = AgencyFactory(services=services)
    receiving = AgencyFactory(services=services)
    other = AgencyFactory(services=services)
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    intake_officer = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])
    case = create_case(agency, actor=intake_officer, case_manager=manager)
    fresh_case = create_case(agency, actor=intake_officer, case_manager=manager)
    db.session.flush()
    engine.apply_case_event(
        case.id, "start_identification", actor=manager, expected_version=case.version
    )
    engine.apply_case_event(
        case.id, "start_assessment", actor=manager, expected_version=case.version
    )
    track = engine.plan_service(
        case.id,
        case.victims[0].id,
        ServiceType.REHABILITASI_SOSIAL,
        provider=None,
        target_date=None,
        actor=manager,
        expected_version=case.version,
    )
    transfer = engine.request_transfer(
        case.id, receiving, REASON, actor=manager, expected_version=case.version
    )
    db.session.flush()
    return World(
        agency=agency,
        receiving=receiving,
        other=other,
        manager=manager,
        supervisor=supervisor,
        intake_officer=intake_officer,
        case=case,
        fresh_case=fresh_case,
        track=track,
        transfer=transfer,
    )


# --- the routes --------------------------------------------------------------------------------


def _assessment_data(w: World) -> dict[str, str]:
    data = {"version": "", "summary": "Ringkasan asesmen.", "complete": "y"}
    for area in AssessmentArea:
        data[f"{area.value}-level"] = "rendah"
        data[f"{area.value}-needs"] = ""
        data[f"{area.value}-risks"] = ""
    return data


@dataclass(frozen=True)
class Route:
    method: str
    permission: str  # what the route's @requires asks for
    url: Callable[[World], str]
    data: Callable[[World], dict[str, str]] | None = None


ROUTES: dict[str, Route] = {
    "case_step": Route(
        "post",
        VIEW,
        lambda w: f"/kasus/{w.case.id}/langkah/close",
        lambda w: {
            "version": str(w.case.version),
            "closure_kind": "lainnya",
            "reason": "Ditutup oleh orang yang tidak berwenang.",
        },
    ),
    "plan": Route(
        "post",
        VIEW,
        lambda w: f"/kasus/{w.case.id}/rencana",
        lambda w: {
            "version": str(w.case.version),
            "victim": str(w.victim.id),
            "service_type": ServiceType.PENDAMPINGAN.value,
            "provider": "",
            "target_date": "",
        },
    ),
    "track_step": Route(
        "post",
        VIEW,
        lambda w: f"/kasus/{w.case.id}/layanan/{w.track.id}/decline_by_victim",
        lambda w: {
            "version": str(w.track.version),
            "given_by": "korban",
            "given_by_name": "",
            "reason": "",
        },
    ),
    "transfer_request": Route(
        "post",
        MANAGE,
        lambda w: f"/kasus/{w.fresh_case.id}/pelimpahan",
        lambda w: {
            "version": str(w.fresh_case.version),
            "to_agency": str(w.receiving.id),
            "reason": REASON,
        },
    ),
    "transfer_withdraw": Route(
        "post",
        MANAGE,
        lambda w: f"/kasus/{w.case.id}/pelimpahan/{w.transfer.id}/tarik",
        lambda w: {"version": str(w.transfer.version)},
    ),
    "transfer_inbox": Route("get", SUPERVISE, lambda w: "/pelimpahan"),
    "transfer_accept": Route(
        "post",
        SUPERVISE,
        lambda w: f"/pelimpahan/{w.transfer.id}/terima",
        lambda w: {"version": str(w.transfer.version)},
    ),
    "transfer_decline": Route(
        "post",
        SUPERVISE,
        lambda w: f"/pelimpahan/{w.transfer.id}/tolak",
        lambda w: {"version": str(w.transfer.version), "decision_reason": REASON},
    ),
    "assessment_view": Route(
        "get", VIEW, lambda w: f"/kasus/{w.case.id}/korban/{w.victim.id}/asesmen"
    ),
    "assessment_save": Route(
        "post",
        VIEW,
        lambda w: f"/kasus/{w.case.id}/korban/{w.victim.id}/asesmen",
        _assessment_data,
    ),
}

CASE_ROUTES = [name for name in ROUTES if not name.startswith("transfer_")] + [
    "transfer_request",
    "transfer_withdraw",
]
ANSWER_ROUTES = ["transfer_inbox", "transfer_accept", "transfer_decline"]


# --- the users who must not --------------------------------------------------------------------


def _sub_gt_coordinator(w: World) -> Any:
    task_force = TaskForceFactory(region=w.agency.region)
    return UserFactory(roles=[(Role.KOORDINATOR_SUBGT, task_force.sub_task_forces[0])])


@dataclass(frozen=True)
class Outsider:
    make: Callable[[World], Any]
    permissions: frozenset[str]  # what the user's roles carry, anywhere
    routes: tuple[str, ...] = tuple(ROUTES)  # the routes they must not use


def _at(role: Role, where: str) -> Callable[[World], Any]:
    return lambda w: UserFactory(roles=[(role, getattr(w, where))])


CASE_ROLES = {
    Role.PETUGAS_PENGADUAN: frozenset({VIEW}),
    Role.MANAJER_KASUS: frozenset({VIEW, MANAGE}),
    Role.SUPERVISOR: frozenset({VIEW, MANAGE, SUPERVISE}),
}

OUTSIDERS: dict[str, Outsider] = {
    # (a) another agency, each case role
    **{
        f"other_agency_{role.value}": Outsider(_at(role, "other"), permissions)
        for role, permissions in CASE_ROLES.items()
    },
    # (b) the same agency (or its Sub GT), roles without any case permission
    "same_agency_petugas_layanan": Outsider(_at(Role.PETUGAS_LAYANAN, "agency"), frozenset()),
    "same_region_koordinator_subgt": Outsider(_sub_gt_coordinator, frozenset()),
    "same_agency_analis_data": Outsider(_at(Role.ANALIS_DATA, "agency"), frozenset()),
    "same_agency_pimpinan": Outsider(_at(Role.PIMPINAN, "agency"), frozenset()),
    "same_agency_admin": Outsider(_at(Role.ADMIN, "agency"), frozenset()),
    # the same agency's case roles, on a case that is not theirs
    "same_agency_other_manajer_kasus": Outsider(
        _at(Role.MANAJER_KASUS, "agency"), CASE_ROLES[Role.MANAJER_KASUS]
    ),
    "registering_petugas_pengaduan_after_assignment": Outsider(
        lambda w: w.intake_officer, CASE_ROLES[Role.PETUGAS_PENGADUAN]
    ),
    # the receiving agency before it accepts: not the sender's case
    **{
        f"receiving_agency_{role.value}": Outsider(
            _at(role, "receiving"),
            permissions,
            tuple(CASE_ROUTES) if role is Role.SUPERVISOR else tuple(ROUTES),
        )
        for role, permissions in CASE_ROLES.items()
    },
    # the sending agency does not answer its own transfer
    "sending_agency_supervisor": Outsider(
        lambda w: w.supervisor, CASE_ROLES[Role.SUPERVISOR], ("transfer_accept", "transfer_decline")
    ),
    "sending_case_manager": Outsider(
        lambda w: w.manager, CASE_ROLES[Role.MANAJER_KASUS], tuple(ANSWER_ROUTES)
    ),
}

# --- helpers -----------------------------------------------------------------------------------


def snapshot(w: World) -> tuple[Any, ...]:
    counts = (
        *(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (
                CaseTransition,
                ServiceTrack,
                CaseTransfer,
                Assessment,
                AssessmentFinding,
                ConsentEntry,
                Case,
            )
        ),
        # refusals are recorded (access.denied); nothing else may be
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action != "access.denied")
        ),
    )
    cases = tuple(
        db.session.execute(
            select(Case.id, Case.state, Case.version, Case.closed_at)
            .where(Case.id.in_([w.case.id, w.fresh_case.id]))
            .order_by(Case.id)
        ).all()
    )
    track = db.session.execute(
        select(ServiceTrack.state, ServiceTrack.version).where(ServiceTrack.id == w.track.id)
    ).one()
    transfer = db.session.execute(
        select(CaseTransfer.state, CaseTransfer.version).where(CaseTransfer.id == w.transfer.id)
    ).one()
    return counts, cases, tuple(track), tuple(transfer)


def call(client: Any, route: Route, w: World) -> Any:
    url = route.url(w)
    if route.method == "get":
        return client.get(url)
    return client.post(url, data=route.data(w) if route.data else {})


# --- the matrix --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", list(OUTSIDERS))
def test_a_user_without_business_on_the_case_is_refused(client, world, who):
    """Every route the outsider must not use, in turn, on one world: a refused request changes
    nothing (checked after each request), so the next route meets the same world. A failure
    names every (route, outsider) that failed."""
    outsider = OUTSIDERS[who]
    login_as(client, outsider.make(world))
    before = snapshot(world)
    failures = []
    for route_name in outsider.routes:
        route = ROUTES[route_name]
        try:
            response = call(client, route, world)
        except Exception as error:
            error.add_note(f"{route_name}-{who}")
            raise
        html = response.get_data(as_text=True)
        problems = []
        if route.permission not in outsider.permissions:
            expected = 403
        elif route_name == "transfer_inbox":
            # a supervisor's own inbox opens; the transfer addressed to another agency is not in it
            expected = 200
            if f'id="transfer-{world.transfer.id}"' in html:
                problems.append("the transfer is in the inbox")
            if world.case.reference in html:
                problems.append("the case's reference is in the inbox")
        else:
            expected = 404
        if response.status_code != expected:
            problems.append(f"status {response.status_code}, expected {expected}")
        if response.status_code == 302:
            problems.append("a redirect")
        if "Siti Aminah" in html:
            problems.append("the victim's name is shown")
        after = snapshot(world)
        if after != before:
            problems.append(f"changed {before} to {after}")
        if problems:
            failures.append(f"{route_name}-{who}: {'; '.join(problems)}")
        before = after  # nothing happens between this request's end and the next one's start
    assert not failures, "\n".join(failures)


def test_an_anonymous_visitor_is_sent_to_sign_in(client, world):
    """Every route in turn, on one world (a request sent to sign in changes nothing)."""
    before = snapshot(world)
    failures = []
    for route_name, route in ROUTES.items():
        try:
            response = call(client, route, world)
        except Exception as error:
            error.add_note(route_name)
            raise
        problems = []
        if response.status_code != 302:
            problems.append(f"status {response.status_code}")
        elif urlparse(response.headers["Location"]).path != "/masuk":
            problems.append(f"sent to {response.headers['Location']}")
        after = snapshot(world)
        if after != before:
            problems.append(f"changed {before} to {after}")
        if problems:
            failures.append(f"{route_name}: {'; '.join(problems)}")
        before = after
    assert not failures, "\n".join(failures)


# --- the control: the same requests go through for the people whose business it is ------------

ALLOWED: dict[str, Callable[[World], Any]] = {
    "case_step": lambda w: w.supervisor,
    "plan": lambda w: w.manager,
    "track_step": lambda w: w.manager,
    "transfer_request": lambda w: w.manager,
    "transfer_withdraw": lambda w: w.manager,
    "transfer_inbox": lambda w: UserFactory(roles=[(Role.SUPERVISOR, w.receiving)]),
    "transfer_accept": lambda w: UserFactory(roles=[(Role.SUPERVISOR, w.receiving)]),
    "transfer_decline": lambda w: UserFactory(roles=[(Role.SUPERVISOR, w.receiving)]),
    "assessment_view": lambda w: w.manager,
    "assessment_save": lambda w: w.manager,
}


@pytest.mark.parametrize("route_name", list(ROUTES))
def test_the_same_request_goes_through_for_the_right_person(client, world, route_name):
    """The matrix's requests are well-formed: refused above only because of who sends them."""
    route = ROUTES[route_name]
    login_as(client, ALLOWED[route_name](world))
    before = snapshot(world)

    response = call(client, route, world)

    if route.method == "get":
        assert response.status_code == 200
        if route_name == "transfer_inbox":
            assert f'id="transfer-{world.transfer.id}"' in response.get_data(as_text=True)
    else:
        assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
        assert snapshot(world) != before
