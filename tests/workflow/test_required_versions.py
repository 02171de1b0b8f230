"""Optimistic locking is required on every step (issue #14, item 21): a case or track step, a
plan entry, a referral step and a transfer step must send the version of the record the person
saw. Missing, empty, not a number, or a number no record can have (0, 10^20): refused with
"Formulir sudah usang, muat ulang halaman." (422), nothing changes — never a 500, never taken as
"whatever the record is now". The operations refuse the same way, whoever calls them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.core.enums import Role, ServiceType
from app.core.errors import DomainError
from app.extensions import db
from app.referrals import operations as referral_ops
from app.workflow import operations as engine
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as
from tests.security.test_access_table import _state_query, state

STALE = "Formulir sudah usang, muat ulang halaman."
BAD_VERSIONS = [None, "", "abc", "0", "-1", str(10**20), str(2**31), "\u00b2"]
REASON = "Korban pindah domisili ke wilayah lembaga penerima."


@dataclass
class World:
    case: Any  # at the assessment stage, with the tracks below
    own_track: Any  # planned, provided by the case's own agency
    referred_track: Any  # referred to the hospital
    referral: Any
    moving: Any  # another case, with a pending transfer to the receiving agency
    transfer: Any
    manager: Any
    supervisor: Any
    nurse: Any  # of the hospital the referral went to
    receiver: Any  # a supervisor of the agency the transfer is asked of
    receiving: Any


@pytest.fixture
def w() -> World:
    services = [ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN, ServiceType.REHABILITASI_SOSIAL]
    agency = AgencyFactory(services=services)
    hospital = AgencyFactory(services=services)
    receiving = AgencyFactory(services=services)
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, hospital)])
    receiver = UserFactory(roles=[(Role.SUPERVISOR, receiving)])
    case = create_case(agency, actor=manager, case_manager=manager)
    for event in ("start_identification", "start_assessment"):
        engine.apply_case_event(case.id, event, actor=manager, expected_version=case.version)
    victim = case.victims[0]
    own_track = engine.plan_service(
        case.id,
        victim.id,
        ServiceType.PENDAMPINGAN,
        provider=None,
        target_date=None,
        actor=manager,
        expected_version=case.version,
    )
    referred_track = engine.plan_service(
        case.id,
        victim.id,
        ServiceType.REHABILITASI_SOSIAL,
        provider=None,
        target_date=None,
        actor=manager,
        expected_version=case.version,
    )
    referral = referral_ops.save_referral(
        referred_track.id,
        to_agency=hospital,
        sharing=referral_ops.Sharing(incident=True),
        message="Mohon layanan.",
        actor=manager,
        send=True,
        consent_now=referral_ops.ConsentNow("korban"),
        expected_version=referred_track.version,
    )
    moving = create_case(agency, actor=manager, case_manager=manager)
    transfer = engine.request_transfer(
        moving.id, receiving, REASON, actor=manager, expected_version=moving.version
    )
    db.session.flush()
    return World(
        case,
        own_track,
        referred_track,
        referral,
        moving,
        transfer,
        manager,
        supervisor,
        nurse,
        receiver,
        receiving,
    )


# --- every step route: (who, url, the rest of the form) ----------------------------------------


def _routes(w: World) -> dict[str, tuple[Any, str, dict[str, Any]]]:
    c, t = w.case.id, w.own_track.id
    return {
        "case step": (w.manager, f"/kasus/{c}/langkah/propose_plan", {}),
        "plan": (
            w.manager,
            f"/kasus/{c}/rencana",
            {"victim": w.case.victims[0].id, "service_type": "bantuan_hukum"},
        ),
        "track step": (w.manager, f"/kasus/{c}/layanan/{t}/start", {}),
        "assign": (w.supervisor, f"/kasus/{c}/manajer", {"case_manager": w.supervisor.id}),
        "transfer request": (
            w.manager,
            f"/kasus/{c}/pelimpahan",
            {"to_agency": w.receiving.id, "reason": REASON},
        ),
        "transfer withdraw": (
            w.manager,
            f"/kasus/{w.moving.id}/pelimpahan/{w.transfer.id}/tarik",
            {},
        ),
        "transfer accept": (w.receiver, f"/pelimpahan/{w.transfer.id}/terima", {}),
        "transfer decline": (
            w.receiver,
            f"/pelimpahan/{w.transfer.id}/tolak",
            {"decision_reason": "Bukan wilayah kami sama sekali."},
        ),
        "referral send": (
            w.manager,
            f"/kasus/{c}/layanan/{t}/rujukan",
            {"to_agency": w.receiving.id, "action": "draft", "message": "Mohon."},
        ),
        "referral withdraw": (
            w.manager,
            f"/kasus/{c}/rujukan/{w.referral.id}/tarik",
            {"reason": "Salah kirim."},
        ),
        "referral accept": (w.nurse, f"/rujukan/{w.referral.id}/terima", {}),
        "referral decline": (w.nurse, f"/rujukan/{w.referral.id}/tolak", {"reason": "Penuh."}),
    }


ROUTE_NAMES = [
    "case step",
    "plan",
    "track step",
    "assign",
    "transfer request",
    "transfer withdraw",
    "transfer accept",
    "transfer decline",
    "referral send",
    "referral withdraw",
    "referral accept",
    "referral decline",
]


def test_the_route_list_names_every_step(w: World) -> None:
    assert sorted(_routes(w)) == sorted(ROUTE_NAMES)


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_step_without_a_possible_version_is_refused_and_changes_nothing(
    client: Any, w: World, name: str
) -> None:
    """Every bad version of ``BAD_VERSIONS`` in turn, on one world: a refused request changes
    nothing, so the next version meets the same world (each request is compared with the state
    just before it). A failure names every version that failed."""
    who, url, data = _routes(w)[name]
    login_as(client, who)
    query = _state_query()
    before = state(query)
    failures = []
    for version in BAD_VERSIONS:
        form = data if version is None else {**data, "version": version}
        try:
            response = client.post(url, data=form)
        except Exception as error:
            error.add_note(f"{name} version={version!r}")
            raise
        body = response.get_data(as_text=True)
        db.session.expire_all()
        after = state(query)
        problems = []
        if response.status_code != 422:
            problems.append(f"status {response.status_code}")
        if STALE not in body:
            problems.append("no stale-form message")
        if after != before:
            problems.append(f"changed {sorted(k for k in before if before[k] != after[k])}")
        if problems:
            failures.append(f"{name} version={version!r}: {'; '.join(problems)}")
        before = after  # nothing happens between this request's end and the next one's start
    assert not failures, "\n".join(failures)


def test_with_the_version_the_page_shows_the_same_steps_go_through(client: Any, w: World) -> None:
    """The refusals above are about the version only: sent with it, each step is taken."""
    versions = {
        "case step": w.case,
        "track step": w.own_track,
        "transfer withdraw": w.transfer,
        "referral accept": w.referral,
    }
    routes = _routes(w)
    for name, record in versions.items():
        who, url, data = routes[name]
        client.post("/keluar")
        login_as(client, who)
        if name == "case step":
            w.case.assessment_completed_at = w.case.received_at
            db.session.flush()
        response = client.post(url, data={**data, "version": str(record.version)})
        assert response.status_code == 302, (name, response.get_data(as_text=True)[:600])


# --- the operations ---------------------------------------------------------------------------


def _operations(w: World) -> dict[str, Callable[[Any], Any]]:
    c = w.case
    return {
        "apply_case_event": lambda v: engine.apply_case_event(
            c.id, "propose_plan", actor=w.manager, expected_version=v
        ),
        "apply_track_event": lambda v: engine.apply_track_event(
            w.own_track.id, "start", actor=w.manager, expected_version=v
        ),
        "plan_service": lambda v: engine.plan_service(
            c.id,
            c.victims[0].id,
            ServiceType.BANTUAN_HUKUM,
            provider=None,
            target_date=None,
            actor=w.manager,
            expected_version=v,
        ),
        "assign_case_manager": lambda v: engine.assign_case_manager(
            c.id, w.supervisor, actor=w.supervisor, expected_version=v
        ),
        "request_transfer": lambda v: engine.request_transfer(
            c.id, w.receiving, REASON, actor=w.manager, expected_version=v
        ),
        "withdraw_transfer": lambda v: engine.withdraw_transfer(
            w.transfer.id, actor=w.manager, expected_version=v
        ),
        "accept_transfer": lambda v: engine.accept_transfer(
            w.transfer.id, actor=w.receiver, expected_version=v
        ),
        "decline_transfer": lambda v: engine.decline_transfer(
            w.transfer.id, REASON, actor=w.receiver, expected_version=v
        ),
        "save_referral": lambda v: referral_ops.save_referral(
            w.own_track.id,
            to_agency=w.receiving,
            sharing=referral_ops.Sharing(),
            message=None,
            actor=w.manager,
            send=False,
            expected_version=v,
        ),
        "withdraw_referral": lambda v: referral_ops.withdraw_referral(
            w.referral.id, "Salah kirim.", actor=w.manager, expected_version=v
        ),
        "accept_referral": lambda v: referral_ops.accept_referral(
            w.referral.id, actor=w.nurse, expected_version=v
        ),
        "decline_referral": lambda v: referral_ops.decline_referral(
            w.referral.id, "Penuh.", actor=w.nurse, expected_version=v
        ),
        "start_referral": lambda v: referral_ops.start_referral(
            w.referral.id, actor=w.nurse, expected_version=v
        ),
        "complete_referral": lambda v: referral_ops.complete_referral(
            w.referral.id, "Selesai.", actor=w.nurse, expected_version=v
        ),
    }


OPERATIONS = [
    (engine, "apply_case_event"),
    (engine, "apply_track_event"),
    (engine, "plan_service"),
    (engine, "assign_case_manager"),
    (engine, "request_transfer"),
    (engine, "withdraw_transfer"),
    (engine, "accept_transfer"),
    (engine, "decline_transfer"),
    (referral_ops, "save_referral"),
    (referral_ops, "withdraw_referral"),
    (referral_ops, "accept_referral"),
    (referral_ops, "decline_referral"),
    (referral_ops, "start_referral"),
    (referral_ops, "complete_referral"),
]


@pytest.mark.parametrize(("module", "name"), OPERATIONS, ids=[n for _, n in OPERATIONS])
def test_the_operation_requires_the_version_in_its_signature(module: Any, name: str) -> None:
    parameter = inspect.signature(getattr(module, name)).parameters["expected_version"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is inspect.Parameter.empty


OPERATION_BAD_VERSIONS = [None, 0, -1, 10**20, 2**31, True, "3"]


@pytest.mark.parametrize("name", [n for _, n in OPERATIONS])
def test_the_operation_refuses_a_missing_or_impossible_version(w: World, name: str) -> None:
    """Every version of ``OPERATION_BAD_VERSIONS`` in turn, on one world (a refusal changes
    nothing); a failure names every version that failed."""
    call = _operations(w)[name]
    query = _state_query()
    before = state(query)
    failures = []
    for version in OPERATION_BAD_VERSIONS:
        try:
            call(version)
        except DomainError as error:
            message: str | None = str(error.message)
        except Exception as error:
            error.add_note(f"{name} version={version!r}")
            raise
        else:
            message = None
        db.session.expire_all()
        after = state(query)
        problems = []
        if message is None:
            problems.append("no DomainError raised")
        elif message != STALE:
            problems.append(f"message {message!r}")
        if after != before:
            problems.append(f"changed {sorted(k for k in before if before[k] != after[k])}")
        if problems:
            failures.append(f"{name} version={version!r}: {'; '.join(problems)}")
        before = after  # nothing happens between this request's end and the next one's start
    assert not failures, "\n".join(failures)
