"""A form sent twice creates once (issue #14, item 20).

* Every form that creates a record carries a one-time ``idempotency_key``; sending it again (a
  double click, "send again", a second tab) creates nothing and leads to what the first sending
  created, with the notice "Formulir ini sudah dikirim." (app/core/idempotency.py).
* Four intakes of one NIK sent at the same moment register the person once: the registration
  locks the NIK of the agency and looks again (app/cases/operations.py, ``recheck_duplicate_niks``);
  the others are sent back to the form to decide whether it is the same person.
"""

from __future__ import annotations

import io
import re
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from app.cases.intake import VictimData
from app.cases.models import Attachment, Case, CaseNote, ConsentEntry, Person, Victim
from app.core.crypto import nik_index
from app.core.enums import Role, ServiceType
from app.core.errors import DomainError
from app.core.idempotency import FormSubmission
from app.extensions import db
from app.privacy.models import DataSubjectRequest
from app.workflow import registration as ops
from app.workflow.models import CaseTransfer
from tests.factories import TEST_PASSWORD, AgencyFactory, UserFactory
from tests.factories.cases import INTAKE_FORM, create_case, make_intake
from tests.factories.files import png_bytes
from tests.fixtures import login_as

ALREADY_SENT = "Formulir ini sudah dikirim."
NIK = "3273014105940001"  # the default victim: a woman born on 1 May 1994
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')

# Every view that creates a record from a form; each takes its form once per key.
CREATE_ENDPOINTS = [
    "intake.new",
    "intake.quick",
    "intake.edit",
    "cases.add_note",
    "cases.add_consent",
    "cases.upload_attachment",
    "workflow.plan_service",
    "workflow.request_transfer",
    "referrals.send",
    "referrals.note",
    "referrals.sender_note",
    "subgt.add_note",
    "privacy.record_request",
    "indicators.report_create",
    "indicators.start_rollup",
    "breakglass.request_access",
    "agencies.create",
    "agencies.task_force_create",
    "auth.user_create",
    "regions.create",
    "regions.population_create",
]


def with_nik(**changes: Any) -> VictimData:
    """A victim known by her NIK only (as an intake of a person registered elsewhere)."""
    return VictimData(sex="P", nik=NIK, age=30, violence_types=["fisik"], **changes)


def count(model: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def keys_on(page: Any) -> list[str]:
    return KEY.findall(page.get_data(as_text=True))


@pytest.fixture
def agency() -> Any:
    return AgencyFactory(services=[ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN])


@pytest.fixture
def manager(agency: Any) -> Any:
    return UserFactory(roles=[(Role.MANAJER_KASUS, agency), (Role.SUPERVISOR, agency)])


@pytest.fixture
def case(agency: Any, manager: Any) -> Any:
    return create_case(agency, actor=manager, case_manager=manager)


def anonymous_intake(**changes: Any) -> MultiDict[str, str]:
    """The common complaint with a victim whose name and birth date are not known (no
    duplicate check can match her: only the form's key tells a second sending apart)."""
    data = {k: v for k, v in INTAKE_FORM.items() if k not in ("victims-0-name",)}
    data.pop("victims-0-birth_date")
    data["victims-0-age"] = "30"
    data.update(changes)
    form = MultiDict()
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            form.add(key, item)
    return form


# --- the key on every create form -----------------------------------------------------------------


def test_every_create_view_takes_its_form_once(app: Any) -> None:
    missing = [
        e for e in CREATE_ENDPOINTS if not getattr(app.view_functions[e], "once_per_form", 0)
    ]
    assert missing == []


def test_the_create_forms_of_the_case_page_and_the_intake_carry_a_fresh_key(
    client: FlaskClient, officer: Any, manager: Any, case: Any
) -> None:
    login_as(client, officer)
    first, second = keys_on(client.get("/kasus/baru")), keys_on(client.get("/kasus/baru"))
    assert len(first) == 1 and len(second) == 1 and first != second
    client.post("/keluar")
    login_as(client, manager)
    page = client.get(f"/kasus/{case.id}").get_data(as_text=True)
    for endpoint in ("catatan", "persetujuan", "lampiran", "pelimpahan"):
        form = re.search(rf'<form[^>]*action="[^"]*/{endpoint}[^"]*"[^>]*>(.*?)</form>', page, re.S)
        assert form is not None, endpoint
        assert 'name="idempotency_key"' in form.group(1), endpoint
    assert len(set(KEY.findall(page))) == len(KEY.findall(page))  # one key per form


# --- the intake sent twice -----------------------------------------------------------------------


def test_the_intake_form_sent_twice_registers_one_case(client: FlaskClient, officer: Any) -> None:
    login_as(client, officer)
    (key,) = keys_on(client.get("/kasus/baru"))
    before = count(Case)
    first = client.post("/kasus/baru", data=anonymous_intake(idempotency_key=key))
    assert first.status_code == 302, first.get_data(as_text=True)[:1000]
    assert re.fullmatch(r"/kasus/\d+", first.location)
    second = client.post("/kasus/baru", data=anonymous_intake(idempotency_key=key))
    assert second.status_code == 302
    assert second.location == first.location  # to the case the first sending registered
    assert count(Case) == before + 1
    shown = client.get(second.location).get_data(as_text=True)
    assert ALREADY_SENT in shown
    # a new form (a new key) is a new complaint
    (other,) = keys_on(client.get("/kasus/baru"))
    third = client.post("/kasus/baru", data=anonymous_intake(idempotency_key=other))
    assert third.status_code == 302 and third.location != first.location
    assert count(Case) == before + 2


def test_a_refused_sending_keeps_no_claim_on_its_key(client: FlaskClient, officer: Any) -> None:
    login_as(client, officer)
    (key,) = keys_on(client.get("/kasus/baru"))
    refused = client.post("/kasus/baru", data=anonymous_intake(idempotency_key=key, risk=""))
    assert refused.status_code == 422
    assert count(FormSubmission) == 0
    accepted = client.post("/kasus/baru", data=anonymous_intake(idempotency_key=key))
    assert accepted.status_code == 302
    assert ALREADY_SENT not in client.get(accepted.location).get_data(as_text=True)


def test_a_page_that_only_asks_again_keeps_no_claim(client: FlaskClient, officer: Any) -> None:
    """A row button or the duplicate check answers 200 with the form again: nothing was
    created, so the key is not taken."""
    login_as(client, officer)
    (key,) = keys_on(client.get("/kasus/baru"))
    again = client.post(
        "/kasus/baru", data=anonymous_intake(idempotency_key=key, action="check_duplicates")
    )
    assert again.status_code == 200
    assert count(FormSubmission) == 0


def test_a_key_is_per_user(client: FlaskClient, officer: Any, agency: Any) -> None:
    colleague = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])
    login_as(client, officer)
    (key,) = keys_on(client.get("/kasus/baru"))
    assert client.post("/kasus/baru", data=anonymous_intake(idempotency_key=key)).status_code == 302
    client.post("/keluar")
    login_as(client, colleague)
    before = count(Case)
    response = client.post("/kasus/baru", data=anonymous_intake(idempotency_key=key))
    assert response.status_code == 302
    assert count(Case) == before + 1  # another person's key is not this person's form


@pytest.mark.parametrize("key", ["pendek", "x" * 65, "<script>", "a b c d e f g h i j"])
def test_a_key_we_did_not_make_is_refused(client: FlaskClient, officer: Any, key: str) -> None:
    login_as(client, officer)
    before = count(Case)
    response = client.post("/kasus/baru", data=anonymous_intake(idempotency_key=key))
    assert response.status_code == 400
    assert count(Case) == before


# --- the other create forms of the case page -----------------------------------------------------


def _case_forms(case: Any) -> dict[str, tuple[str, dict[str, Any], Any]]:
    victim = case.victims[0]
    prefix = f"consent{victim.id}-"
    return {
        "note": (f"/kasus/{case.id}/catatan", {"body": "Korban dihubungi."}, CaseNote),
        "consent": (
            f"/kasus/{case.id}/korban/{victim.id}/persetujuan",
            {
                prefix + "purpose": "layanan",
                prefix + "decision": "setuju",
                prefix + "given_by": "korban",
                prefix + "at": "2025-03-15T10:00",
            },
            ConsentEntry,
        ),
        "attachment": (f"/kasus/{case.id}/lampiran", {"description": "Foto."}, Attachment),
        "privacy request": (
            f"/kasus/{case.id}/korban/{victim.id}/hak-subjek",
            {"kind": "akses", "requester": "Korban sendiri", "received_at": "2025-03-15T10:00"},
            DataSubjectRequest,
        ),
        "transfer request": (
            f"/kasus/{case.id}/pelimpahan",
            {"reason": "Korban pindah domisili ke kota lain.", "version": str(case.version)},
            CaseTransfer,
        ),
    }


@pytest.mark.parametrize(
    "name", ["note", "consent", "attachment", "privacy request", "transfer request"]
)
def test_a_create_form_of_the_case_page_sent_twice_creates_once(
    app: Any,
    client: FlaskClient,
    manager: Any,
    case: Any,
    name: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    receiving = AgencyFactory(services=[ServiceType.PENGADUAN])
    login_as(client, manager)
    url, data, model = _case_forms(case)[name]
    if name == "transfer request":
        data = {**data, "to_agency": str(receiving.id)}
    key = keys_on(client.get(f"/kasus/{case.id}"))[0]
    before = count(model)

    def send() -> Any:
        form = {**data, "idempotency_key": key}
        if name == "attachment":
            form["file"] = (io.BytesIO(png_bytes()), "bukti.png")
        return client.post(url, data=form, content_type="multipart/form-data")

    first = send()
    assert first.status_code == 302, first.get_data(as_text=True)[:1500]
    second = send()
    assert second.status_code == 302 and second.location == first.location
    assert count(model) == before + 1
    assert ALREADY_SENT in client.get(second.location).get_data(as_text=True)


# --- one NIK registered twice at once -------------------------------------------------------------


def test_a_registered_nik_without_a_decision_is_refused_by_the_registration(agency: Any) -> None:
    """The duplicate question of the intake form, asked again by the operation: a victim whose
    NIK a registered case of the agency has must be linked to that person or declared another."""
    elsewhere = AgencyFactory()
    actor = UserFactory(roles=[(Role.SUPERVISOR, agency), (Role.SUPERVISOR, elsewhere)])
    first = create_case(agency, victims=[with_nik()])
    db.session.flush()
    person = first.victims[0].person
    undecided = make_intake(victims=[with_nik()])
    with pytest.raises(DomainError) as info:
        ops.register_case(undecided, agency=agency, actor=actor, recheck_duplicates=True)
    assert info.value.field == "victims-0-nik"
    linked = make_intake(victims=[with_nik(link_person_id=person.id)])
    assert ops.register_case(linked, agency=agency, actor=actor, recheck_duplicates=True)
    other = make_intake(victims=[with_nik(new_person=True)])
    assert ops.register_case(other, agency=agency, actor=actor, recheck_duplicates=True)
    # another agency's registrations are not this agency's duplicates; a draft is not asked
    assert ops.register_case(undecided, agency=elsewhere, actor=actor, recheck_duplicates=True)
    assert ops.register_case(
        undecided, agency=agency, actor=actor, draft=True, recheck_duplicates=True
    )
    # without the recheck (an import, a transfer taken over) nothing is asked, as before
    assert ops.register_case(undecided, agency=agency, actor=actor)


def test_the_intake_form_asks_again_when_the_nik_was_registered_meanwhile(
    client: FlaskClient, officer: Any, agency: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form's own duplicate check saw nothing; the person was registered by someone else
    before this intake was saved: refused beside the NIK (422), nothing saved."""
    login_as(client, officer)
    original = ops.register_case

    def meanwhile(*args: Any, **kwargs: Any) -> Any:  # the same officer, on another device
        original(make_intake(victims=[with_nik()]), agency=agency, actor=officer)
        db.session.flush()
        return original(*args, **kwargs)

    monkeypatch.setattr(ops, "register_case", meanwhile)
    response = client.post("/kasus/baru", data=anonymous_intake(**{"victims-0-nik": NIK}))
    assert response.status_code == 422
    assert "Sudah ada kasus terdaftar di lembaga ini dengan korban ber-NIK ini" in (
        response.get_data(as_text=True)
    )


def _max_ids() -> dict[str, int]:
    return {
        t.name: db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(t.c.id), 0))) or 0
        for t in db.metadata.sorted_tables
        if "id" in t.c
    }


def _delete_after(snapshot: dict[str, int]) -> None:
    """Remove every row the concurrency test committed (it runs outside the rolled-back
    transaction): rows with an id past the snapshot, and the rows of tables without an id that
    hang off them. As a superuser, past the append-only triggers of the audit log."""
    s = db.session
    s.execute(sa.text("SET LOCAL session_replication_role = replica"))
    hanging = {
        "agency_services": ("agency_id", "agencies"),
        "case_counters": ("agency_id", "agencies"),
        "case_types": ("case_id", "cases"),
        "perpetrator_relations": ("perpetrator_id", "perpetrators"),
        "victim_ampk_categories": ("victim_id", "victims"),
        "victim_name_keys": ("victim_id", "victims"),
        "victim_violence_types": ("victim_id", "victims"),
    }
    for table, (column, parent) in hanging.items():
        s.execute(
            sa.text(f"DELETE FROM {table} WHERE {column} > :n"),
            {"n": snapshot[parent]},
        )
    for name, last in snapshot.items():
        s.execute(sa.text(f"DELETE FROM {name} WHERE id > :n"), {"n": last})
    s.commit()


@pytest.mark.postgres
@pytest.mark.demo_database  # outside the rolled-back transaction: real, concurrent sessions
def test_four_intakes_of_one_nik_sent_at_once_register_one_person(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        snapshot = _max_ids()
        db.session.remove()
    try:
        with app.app_context():
            agency = AgencyFactory(services=[ServiceType.PENGADUAN])
            # four of the agency's supervisors, who see each other's registrations (an intake
            # officer's match outside her own scope is only "possible duplicate elsewhere" and
            # registers another person, for the data-quality queue:
            # tests/cases/test_identity_views_recorded.py)
            supervisors = [UserFactory(roles=[(Role.SUPERVISOR, agency)]) for _ in range(4)]
            db.session.commit()
            agency_id, emails = agency.id, [s.email for s in supervisors]
            db.session.remove()

        # every request has passed the form's own duplicate check (nothing registered yet) when
        # the four registrations start together
        together = threading.Barrier(4)
        original = ops.register_case

        def at_once(*args: Any, **kwargs: Any) -> Any:
            together.wait(timeout=30)
            return original(*args, **kwargs)

        monkeypatch.setattr(ops, "register_case", at_once)
        answers: list[tuple[int, str]] = []
        errors: list[BaseException] = []

        clients = []
        for email in emails:  # signed in one after the other: only the intakes race
            client = app.test_client()
            signed_in = client.post("/masuk", data={"email": email, "password": TEST_PASSWORD})
            assert signed_in.status_code == 302
            clients.append(client)

        def intake(client: FlaskClient) -> None:
            try:
                response = client.post("/kasus/baru", data={**INTAKE_FORM, "victims-0-nik": NIK})
                answers.append((response.status_code, response.get_data(as_text=True)))
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=intake, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in threads)
        assert not errors, errors
        assert sorted(status for status, _ in answers) == [302, 422, 422, 422]
        for status, page in answers:
            if status == 422:
                assert "Sudah ada kasus terdaftar di lembaga ini dengan korban ber-NIK ini" in page
        with app.app_context():
            persons = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Person)
                .where(Person.agency_id == agency_id, Person.nik_index == nik_index(NIK))
            )
            cases = db.session.scalar(
                sa.select(sa.func.count()).select_from(Case).where(Case.agency_id == agency_id)
            )
            victims = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Victim)
                .join(Case)
                .where(Case.agency_id == agency_id)
            )
            assert (persons, cases, victims) == (1, 1, 1)
            db.session.remove()
    finally:
        with app.app_context():
            _delete_after(snapshot)
            db.session.remove()
