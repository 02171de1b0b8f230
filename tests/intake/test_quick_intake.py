"""The quick intake (``/kasus/cepat``): only what the first minutes need, registered through the
same operation as the full form (reference, deadlines, audit, duplicate check, one transaction,
one submission per form); what is left for later is listed on the case page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.cases.completeness import still_missing
from app.cases.models import Case, ConsentEntry, Perpetrator, Victim
from app.core.enums import CaseState, Role, ServiceType
from app.deadlines.models import Deadline
from app.extensions import db
from tests.cases.test_intake_views import (
    browser_form,
    errors_of,
    errors_summary,
    latest_case,
    msg,
    text_of,
    value_of,
)
from tests.factories import AgencyFactory
from tests.fixtures import login_as, staff

QUICK = "/kasus/cepat"


@pytest.fixture
def agency() -> Any:
    return AgencyFactory(code="UPTDPPA-3273")


@pytest.fixture
def officer_client(client: FlaskClient, officer: Any) -> FlaskClient:
    login_as(client, officer)
    return client


def quick_post(page: str, **changes: Any) -> Any:
    """The quick form as a browser sends it after the counselor filled in two victims and one
    perpetrator (the rows added beforehand)."""
    values: dict[str, Any] = {
        "risk": "sedang",
        "case_types": ["ktp"],
        "channel": "datang_langsung",
        "victims__0__name": "Sri Lestari",
        "victims__0__sex": "P",
        "victims__0__age": "34",
        "victims__0__consents__0__decision": "setuju",
        "victims__1__name": "R.",
        "victims__1__sex": "P",
        "victims__1__age": "27",
        "victims__1__consents__0__decision": "menolak",
        "perpetrators__0__relationships__0": "tetangga",
        "action": "register",
    }
    values.update(changes)
    return browser_form(page, **values)


def two_rows(client: FlaskClient) -> str:
    """The quick page after "add a victim" and "add a perpetrator" (without JavaScript)."""
    page = client.get(QUICK).get_data(as_text=True)
    page = client.post(QUICK, data=browser_form(page, add_victim="")).get_data(as_text=True)
    return client.post(QUICK, data=browser_form(page, add_perpetrator="")).get_data(as_text=True)


def test_the_quick_page_asks_only_the_first_minutes(officer_client):
    response = officer_client.get(QUICK)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # domain.md §2.1: triage (risk, competence), case types, channel, reporter, time received
    for name in ("risk", "kewenangan", "case_types", "channel", "reporter_kind", "received_at"):
        assert f'name="{name}"' in page, name
    for name in ("reporter_name", "victims-0-name"):
        assert f'name="{name}"' in page, name
    for name in ("victims-0-sex", "victims-0-age", "victims-0-birth_date"):
        assert f'name="{name}"' in page, name
    assert 'name="victims-0-consents-0-decision"' in page
    assert value_of(page, "victims-0-consents-0-purpose") == "layanan"
    # left for later: nothing of the incident, the chronology, identity papers or violence
    for name in ("kronologi", "incident_date", "victims-0-nik", "victims-0-violence_types"):
        assert f'name="{name}"' not in page, name
    assert 'name="perpetrators-0-name"' not in page  # a perpetrator is one tap away
    assert 'id="full-form"' in page and 'formaction="/kasus/baru"' in page


def test_register_two_victims_and_a_perpetrator(officer_client, officer):
    page = two_rows(officer_client)
    response = officer_client.post(QUICK, data=quick_post(page))
    assert response.status_code == 302, errors_summary(response)
    case = latest_case()
    assert response.location.endswith(f"/kasus/{case.id}")
    assert case.state is CaseState.DITERIMA
    assert case.reference and case.reference.startswith("UPTDPPA-3273-")
    assert case.registered_by_id == officer.id
    first, second = case.victims
    assert (first.name, first.age_at_incident, first.sex.value) == ("Sri Lestari", 34, "P")
    assert (second.name, second.age_at_incident) == ("R.", 27)
    assert first.violence_types == [] and second.violence_types == []
    (perpetrator,) = case.perpetrators
    assert perpetrator.name is None
    assert [(r.victim_id, r.relationship_.value) for r in perpetrator.relations] == [
        (first.id, "tetangga")
    ]
    decisions = db.session.scalars(select(ConsentEntry).order_by(ConsentEntry.id)).all()
    assert [(c.victim_id, c.purpose, c.decision.value, c.given_by.value) for c in decisions] == [
        (first.id, "layanan", "setuju", "korban"),
        (second.id, "layanan", "menolak", "korban"),
    ]
    # the clocks started as for the full form: the first response for a medium risk
    deadlines = db.session.scalars(select(Deadline).where(Deadline.case_id == case.id)).all()
    assert deadlines, "the registration starts the case's deadlines"
    audit = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "case.register", AuditEntry.object_id == str(case.id)
        )
    ).all()
    assert len(audit) == 1


def test_the_case_page_lists_what_is_still_missing(officer_client):
    page = two_rows(officer_client)
    response = officer_client.post(QUICK, data=quick_post(page))
    case = latest_case()
    page = officer_client.get(response.location).get_data(as_text=True)
    checklist = text_of(page, "belum-lengkap") or ""
    assert msg("Still to complete") in checklist
    for expected in (
        msg("Chronology (kronologi)"),
        msg("Incident: %(what)s", what=", ".join([msg("date"), msg("place"), msg("region")])),
        msg("Victim %(n)d: %(what)s", n=1, what=", ".join([msg("types of violence"), msg("NIK")])),
        msg("Perpetrator %(k)d: relationship to victim %(n)s", k=1, n="2"),
    ):
        assert expected in checklist, expected
    # both decided (victim 2 refused): a decision is recorded, nothing to ask again
    assert msg("consent to services") not in checklist
    assert f'href="/kasus/{case.id}/ubah#victims-0-violence_types"' in page
    assert f'href="/kasus/{case.id}/ubah#kronologi"' in page
    # the victims are named by their position, never by name
    assert "Sri Lestari" not in checklist


def test_a_victim_without_consent_is_listed(officer_client):
    page = two_rows(officer_client)
    officer_client.post(QUICK, data=quick_post(page, victims__1__consents__0__decision=None))
    first, second = (m.text for m in still_missing(latest_case()) if m.anchor.startswith("victims"))
    assert msg("consent to services") not in first
    assert msg("Victim %(n)d: %(what)s", n=2, what=msg("types of violence")) in second
    assert msg("consent to services") in second


def test_a_case_from_the_full_form_lists_no_violence_types(agency, officer, create_case):
    case = create_case(agency, actor=officer)
    assert all(msg("types of violence") not in m.text for m in still_missing(case))


def test_bad_input_says_what_to_correct_and_saves_nothing(officer_client):
    page = two_rows(officer_client)
    before = db.session.query(Case).count()
    victims = db.session.query(Victim).count()
    data = quick_post(
        page,
        risk=None,
        channel=None,
        victims__0__sex=None,
        victims__1__age=None,
        victims__1__birth_date="2090-01-01",
    )
    response = officer_client.post(QUICK, data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = text_of(page, "intake-errors") or ""
    assert msg("Nothing was saved. Please correct:") in summary
    assert msg("Choose the risk level.") in errors_of(page, "risk")
    assert msg("This field is required.") in errors_of(page, "channel")
    assert msg("Choose the victim's sex.") in errors_of(page, "victims-0-sex")
    assert errors_of(page, "victims-1-birth_date")
    # what was typed stays
    assert value_of(page, "victims-0-name") == "Sri Lestari"
    assert db.session.query(Case).count() == before
    assert db.session.query(Victim).count() == victims
    assert db.session.query(Perpetrator).count() == 0


def test_a_third_party_reporter_is_named(officer_client):
    page = two_rows(officer_client)
    response = officer_client.post(QUICK, data=quick_post(page, reporter_kind="pihak_ketiga"))
    assert response.status_code == 422
    assert msg("Give the name of the person reporting.") in errors_of(
        response.get_data(as_text=True), "reporter_name"
    )
    data = quick_post(page, reporter_kind="pihak_ketiga", reporter_name="Ibu Sumi")
    assert officer_client.post(QUICK, data=data).status_code == 302
    assert latest_case().reporter_name == "Ibu Sumi"


def test_a_guardian_who_decides_is_named(officer_client):
    page = two_rows(officer_client)
    data = quick_post(page, victims__0__consents__0__given_by="wali")
    response = officer_client.post(QUICK, data=data)
    assert response.status_code == 422
    assert msg("Name the guardian who decided.") in errors_of(
        response.get_data(as_text=True), "victims-0-consents-0-given_by_name"
    )


def test_sent_twice_registers_once(officer_client):
    page = two_rows(officer_client)
    data = quick_post(page)
    first = officer_client.post(QUICK, data=data)
    second = officer_client.post(QUICK, data=data)
    assert first.status_code == 302 and second.status_code == 302
    assert second.location == first.location
    assert db.session.query(Case).filter(Case.reference.isnot(None)).count() == 1


def test_the_full_form_takes_over_what_was_typed(officer_client):
    page = two_rows(officer_client)
    data = quick_post(page, action="")
    response = officer_client.post("/kasus/baru", data=data)
    assert response.status_code == 200
    full = response.get_data(as_text=True)
    assert value_of(full, "victims-1-name") == "R."
    assert 'name="kronologi"' in full
    assert db.session.query(Case).count() == 0


def test_the_duplicate_check_asks_about_the_same_person(
    officer_client, create_case, agency, officer
):
    existing = create_case(agency, actor=officer)
    known = existing.victims[0]
    page = officer_client.get(QUICK).get_data(as_text=True)
    data = browser_form(
        page,
        risk="rendah",
        case_types=["ktp"],
        channel="telepon",
        victims__0__name=known.name,
        victims__0__birth_date=known.birth_date.isoformat(),
        victims__0__sex=known.sex.value,
        action="register",
    )
    response = officer_client.post(QUICK, data=data)
    assert response.status_code == 200
    assert existing.reference in response.get_data(as_text=True)
    assert latest_case().id == existing.id  # nothing registered until the user decides


@pytest.mark.parametrize("role", [Role.PETUGAS_LAYANAN, Role.ANALIS_DATA])
def test_only_people_who_take_complaints(client, agency, role):
    user = staff(agency, role)
    login_as(client, user)
    assert client.get(QUICK).status_code in (403, 404)


def test_csrf_is_required(app, officer, agency):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        login_as(client, officer)
        response = client.post(
            QUICK, data={"risk": "sedang", "channel": "telepon", "action": "register"}
        )
        assert response.status_code == 400
        assert db.session.query(Case).count() == 0
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_the_received_time_is_now_in_jakarta(officer_client):
    page = officer_client.get(QUICK).get_data(as_text=True)
    shown = dt.datetime.fromisoformat(value_of(page, "received_at") or "")
    assert shown.year >= 2025


def test_a_quick_case_can_be_transferred_before_it_is_complete(agency, manager):
    """A case registered without its victims' types of violence is taken over by the receiving
    agency as it is: the accepted transfer registers the same people."""
    from app.cases.intake import VictimData
    from app.workflow.operations import accept_transfer, request_transfer
    from app.workflow.registration import register_case
    from tests.factories.cases import make_intake

    case = register_case(
        make_intake(victims=[VictimData(sex="P", name="T.", age=30)]),
        agency=agency,
        actor=manager,
        quick=True,
    )
    case.case_manager_id = manager.id
    db.session.flush()
    receiving = AgencyFactory(services=[ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN])
    transfer = request_transfer(
        case.id, receiving, "Korban pindah", actor=manager, expected_version=case.version
    )
    accepted = accept_transfer(
        transfer.id,
        actor=staff(receiving, Role.SUPERVISOR),
        expected_version=transfer.version,
    )
    new = accepted.new_case
    assert new is not None and new.agency_id == receiving.id
    assert [(v.name, v.violence_types) for v in new.victims] == [("T.", [])]
