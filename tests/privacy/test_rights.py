"""Data-subject rights (UU 27/2022): requests with their 3x24-hour clock, the export of one
person's data, restriction, erasure refused while legal proceedings are open, retention."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from urllib.parse import unquote_plus

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.sessions import SESSION_REAUTH_AT
from app.cases.models import Person, Victim
from app.core.crypto import name_index
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.privacy import operations as ops
from app.privacy import queries
from app.privacy.models import DataSubjectRequest, RequestKind, RequestOutcome, VictimErasure
from tests.factories.cases import create_case
from tests.fixtures import login_as
from tests.privacy.conftest import NAME, OTHER, close, end, law_track, victim


def url(case, v, tail=""):
    return f"/kasus/{case.id}/korban/{v.id}/hak-subjek{tail}"


def make_request(case, v, kind, staff):
    return ops.record_request(
        case,
        v,
        kind=kind,
        requester="korban sendiri, datang langsung",
        received_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        actor=staff["supervisor"],
    )


REF_RE = re.compile(r">([A-Z0-9-]+-\d{4}-\d{5})<")


# --- requests ------------------------------------------------------------------------------


def test_a_request_without_a_requester_or_with_an_overlong_one_is_refused(case, staff):
    """The operation checks what the form checks: nothing is written either way."""
    import pytest

    from app.core.errors import DomainError

    before = db.session.scalar(select(db.func.count()).select_from(DataSubjectRequest))
    for requester in ("   ", "x" * (ops.REQUESTER_LIMIT + 1)):
        with pytest.raises(DomainError) as refused:
            ops.record_request(
                case,
                case.victims[0],
                kind=RequestKind.PEMBATASAN,
                requester=requester,
                received_at=dt.datetime.now(dt.UTC),
                actor=staff["supervisor"],
            )
        assert refused.value.field == "requester"
    after = db.session.scalar(select(db.func.count()).select_from(DataSubjectRequest))
    assert after == before


def test_recording_a_request_opens_the_3x24_hour_deadline(client, case, staff):
    k1 = case.victims[0]
    login_as(client, staff["supervisor"])
    assert client.get(url(case, k1)).status_code == 200
    response = client.post(
        url(case, k1),
        data={
            "kind": "pembatasan",
            "requester": "korban sendiri, datang langsung",
            "received_at": "2025-03-20T10:00",
        },
    )
    assert response.status_code == 302
    req = db.session.scalar(select(DataSubjectRequest))
    assert req.kind is RequestKind.PEMBATASAN and req.victim_id == k1.id and req.is_open
    assert req.received_at == dt.datetime(2025, 3, 20, 3, tzinfo=dt.UTC)  # 10:00 WIB
    deadline = db.session.get(Deadline, req.deadline_id)
    assert deadline.code == DeadlineCode.DATA_SUBJECT_RESTRICTION.value
    assert deadline.responsible_agency_id == case.agency_id
    assert deadline.due_at - deadline.started_at == dt.timedelta(hours=72)
    html = client.get(url(case, k1)).get_data(as_text=True)
    assert "korban sendiri, datang langsung" in html


def test_only_the_agency_s_supervisors_reach_the_page(client, app, case, staff):
    k1 = case.victims[0]
    login_as(client, staff["other_supervisor"])
    assert client.get(url(case, k1)).status_code == 404  # out of scope
    for who in ("manager", "intake"):
        other = app.test_client()
        login_as(other, staff[who])
        assert other.get(url(case, k1)).status_code == 403
    mine = app.test_client()
    login_as(mine, staff["supervisor"])
    assert mine.get(f"/kasus/{case.id}/korban/999999/hak-subjek").status_code == 404


# --- access (export) -----------------------------------------------------------------------


def test_export_holds_the_person_s_data_and_no_one_else_s(client, agency, case, staff):
    k1 = case.victims[0]
    # the same person in a second case of the agency (linked by the duplicate check)
    second = create_case(agency, actor=staff["intake"], victims=[victim(NAME, "3273010101900001")])
    if second.victims[0].person_id != k1.person_id:
        second.victims[0].person_id = k1.person_id
    elsewhere = create_case(
        staff["other_agency"],
        actor=staff["other_supervisor"],
        victims=[victim(NAME, "3273010101900001")],
    )
    req = make_request(case, k1, "akses", staff)
    login_as(client, staff["supervisor"])
    response = client.post(url(case, k1, f"/{req.id}/ekspor"))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and NAME.split()[0] not in disposition
    body = response.get_data(as_text=True)
    data = json.loads(body)
    assert data["request"]["id"] == req.id
    assert {r["case"]["reference"] for r in data["records"]} == {case.reference, second.reference}
    assert elsewhere.reference not in body  # another agency's file is not this agency's data
    assert all(r["victim"]["name"] == NAME for r in data["records"])
    assert "3273010101900001" in body and "Jl. Melati 7" in body
    assert OTHER not in body and "3273010101900002" not in body  # never the other victim
    assert "Joko" not in body  # nor the perpetrator
    # the two-victim case's chronology and notes are withheld, the single-victim one's given
    by_ref = {r["case"]["reference"]: r["case"] for r in data["records"]}
    assert by_ref[case.reference]["kronologi"] is None and by_ref[case.reference]["withheld"]
    assert by_ref[second.reference]["kronologi"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.export"))
    assert entry.changes["request"] == req.id and entry.actor_id == staff["supervisor"].id
    assert NAME not in json.dumps(entry.changes)
    db.session.refresh(req)
    assert req.outcome is RequestOutcome.DIPENUHI


def test_export_needs_a_recent_authentication(client, case, staff):
    k1 = case.victims[0]
    req = make_request(case, k1, "akses", staff)
    login_as(client, staff["supervisor"])
    with client.session_transaction() as sess:
        sess[SESSION_REAUTH_AT] = int(time.time()) - 10 * 60
    response = client.post(url(case, k1, f"/{req.id}/ekspor"))
    assert response.status_code == 302 and "/masuk/ulang" in response.headers["Location"]
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.export")) is None
    )


# --- restriction ---------------------------------------------------------------------------


def test_restriction_hides_the_identity_from_the_intake_officer_until_lifted(client, case, staff):
    k1, k2 = case.victims
    req = make_request(case, k1, "pembatasan", staff)
    assert queries.may_see_identity(staff["intake"], case, k1)
    login_as(client, staff["supervisor"])
    assert client.post(url(case, k1, f"/{req.id}/batasi")).status_code == 302
    assert queries.is_restricted(k1) and not queries.is_restricted(k2)
    assert not queries.may_see_identity(staff["intake"], case, k1)
    assert queries.may_see_identity(staff["intake"], case, k2)  # only the restricted victim
    assert queries.may_see_identity(staff["supervisor"], case, k1)
    case.case_manager_id = staff["manager"].id
    assert queries.may_see_identity(staff["manager"], case, k1)
    # left out of the indicators: the filter the indicators add
    restricted = db.session.scalars(select(Victim.id).where(queries.restricted_condition()))
    assert set(restricted) == {k1.id}

    assert client.post(url(case, k1, "/cabut-pembatasan"), data={}).status_code == 422
    response = client.post(
        url(case, k1, "/cabut-pembatasan"), data={"lift-reason": "permintaan dicabut korban"}
    )
    assert response.status_code == 302
    assert not queries.is_restricted(k1)
    case.case_manager_id = None
    assert queries.may_see_identity(staff["intake"], case, k1)
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"privacy.restrict", "privacy.lift_restriction"} <= actions


def test_restricted_identity_is_not_on_the_intake_officer_s_case_page(client, app, case, staff):
    k1 = case.victims[0]
    req = make_request(case, k1, "pembatasan", staff)
    ops.restrict(k1, req, actor=staff["supervisor"])
    login_as(client, staff["intake"])
    html = client.get(f"/kasus/{case.id}").get_data(as_text=True)
    assert NAME not in html and OTHER in html


# --- erasure -------------------------------------------------------------------------------


def test_erasure_refused_while_proceedings_are_open_then_done(client, case, staff):
    k1, k2 = case.victims
    close(case)
    track = law_track(case, k1, ended=False)
    req = make_request(case, k1, "penghapusan", staff)
    login_as(client, staff["supervisor"])
    response = client.post(url(case, k1, f"/{req.id}/hapus"), follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Legal proceedings are open" in html or "Proses hukum" in html
    db.session.refresh(req)
    assert req.outcome is RequestOutcome.DITOLAK and case.reference in req.reason
    db.session.refresh(k1)
    assert k1.name == NAME  # nothing erased

    end(track)
    again = make_request(case, k1, "penghapusan", staff)
    person_id = k1.person_id
    assert client.post(url(case, k1, f"/{again.id}/hapus")).status_code == 302
    db.session.expire_all()
    k1 = db.session.get(Victim, k1.id)
    assert (k1.name, k1.nik, k1.phone, k1.address, k1.birth_date) == (None,) * 5
    assert k1.name_index is None and k1.nik_index is None
    assert k1.sex.value == "P" and k1.age_at_incident is not None  # statistics kept
    assert [t.type.value for t in k1.violence_types] == ["fisik"]
    if person_id is not None:
        person = db.session.get(Person, person_id)
        assert person.name_dob_index is None and person.nik_index is None
    assert db.session.get(Victim, k2.id).name == OTHER  # the other victim untouched
    assert db.session.scalar(select(VictimErasure).where(VictimErasure.victim_id == k1.id))
    assert db.session.get(DataSubjectRequest, again.id).outcome is RequestOutcome.DIPENUHI
    # the search no longer finds the name; the case itself is still there
    assert db.session.scalar(select(Victim).where(Victim.name_index == name_index(NAME))) is None
    html = client.post("/kasus/cari", data={"q": NAME}).get_data(as_text=True)
    assert case.reference not in html
    assert client.get(f"/kasus/{case.id}").status_code == 200


def test_erasure_refused_while_the_case_is_open(case, staff):
    k1 = case.victims[0]
    req = make_request(case, k1, "penghapusan", staff)
    result = ops.erase_for_request(k1, req, actor=staff["supervisor"])
    assert result.erased == 0 and case.reference in result.refused_reason
    assert req.outcome is RequestOutcome.DITOLAK and req.reason == result.refused_reason


# --- retention -----------------------------------------------------------------------------


def test_retention_dry_run_lists_and_the_real_run_erases_only_the_eligible(app, agency, staff):
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=365 * 11)
    old = create_case(
        agency, actor=staff["intake"], victims=[victim("Ani Old", "3273010101900011")]
    )
    recent = create_case(
        agency, actor=staff["intake"], victims=[victim("Ina Recent", "3273010101900012")]
    )
    proceeding = create_case(
        agency, actor=staff["intake"], victims=[victim("Uni Court", "3273010101900013")]
    )
    still_open = create_case(
        agency, actor=staff["intake"], victims=[victim("Eni Open", "3273010101900014")]
    )
    close(old, long_ago)
    close(recent, dt.datetime.now(dt.UTC) - dt.timedelta(days=365 * 2))
    close(proceeding, long_ago)
    law_track(proceeding, proceeding.victims[0], ended=False)
    db.session.commit()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["privacy", "retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1 victims in 1 cases" in result.output
    for name in ("Ani", "Ina", "Uni", "Eni"):
        assert name not in result.output
    db.session.expire_all()
    assert db.session.get(Victim, old.victims[0].id).name == "Ani Old"  # unchanged

    result = runner.invoke(args=["privacy", "retention"])
    assert result.exit_code == 0, result.output
    assert "erased the identity of 1 victims" in result.output and "Ani" not in result.output
    db.session.expire_all()
    assert db.session.get(Victim, old.victims[0].id).name is None
    assert db.session.get(Victim, recent.victims[0].id).name == "Ina Recent"
    assert db.session.get(Victim, proceeding.victims[0].id).name == "Uni Court"
    assert db.session.get(Victim, still_open.victims[0].id).name == "Eni Open"
    # a second run finds nothing left to do
    assert "erased the identity of 0 victims" in runner.invoke(args=["privacy", "retention"]).output


# --- no identity in URLs -------------------------------------------------------------------


def test_a_searched_name_never_appears_in_a_url(client, agency, staff):
    for _ in range(26):  # two pages of results for the search
        create_case(agency, actor=staff["intake"], victims=[victim(NAME, "3273010101900001")])
    login_as(client, staff["supervisor"])
    seen_urls: list[str] = []
    pages = []
    for data in (
        {"q": NAME},
        {"q": NAME, "page": "2"},
        {"q": NAME, "sort_to": "reference"},
        {"q": NAME, "risk": "sedang"},
    ):
        response = client.post("/kasus/cari", data=data)
        assert response.status_code == 200  # rendered directly, no redirect
        seen_urls.append(response.request.full_path)
        seen_urls.extend(response.headers.getlist("Location"))
        html = response.get_data(as_text=True)
        pages.append(html)
        seen_urls.extend(re.findall(r'(?:href|action|src)="([^"]*)"', html))
    assert len(REF_RE.findall(pages[0])) == 25 and len(REF_RE.findall(pages[1])) == 1
    assert all(p.startswith(("/", "#", "http")) or p == "" for p in seen_urls)
    for part in NAME.lower().split():
        assert not any(part in unquote_plus(u).lower() for u in seen_urls), part
    # the name is in the form's value only, sent back in the body of the next post
    assert NAME in pages[0]
    assert pages[0].count(NAME) == 1


def test_erasure_leaves_no_break_the_glass_reason_behind(case, staff):
    """Why someone opened the case with break-the-glass names the victim more often than not:
    erasure empties it on the grant, and the audit log never held it (issue #14 item 12)."""
    from app.breakglass.operations import request_access
    from app.cases.models import BreakGlassGrant
    from app.core.enums import Role
    from tests.factories import AgencyFactory, UserFactory

    k1 = case.victims[0]
    close(case)
    outsider = UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory())])
    reason = f"{NAME} datang malam ini ke kantor kami, butuh rujukan segera."
    granted = request_access(outsider, case.reference, reason).grant
    assert granted is not None and granted.reason == reason

    req = make_request(case, k1, "penghapusan", staff)
    assert ops.erase_for_request(k1, req, actor=staff["supervisor"]).erased
    db.session.flush()
    db.session.expire_all()
    grant = db.session.get(BreakGlassGrant, granted.id)
    assert grant.reason == ops.ERASED
    assert (grant.user_id, grant.case_id) == (outsider.id, case.id)  # the access stays on record
    for entry in db.session.scalars(select(AuditEntry)):
        assert NAME.split()[0] not in f"{entry.object_id} {entry.changes}", entry.action
    erased = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.erase"))
    assert erased.changes["break_glass_reasons"] == 1
