"""Break-the-glass: a written reason and a fresh re-authentication open a case outside one's
scope read-only for three hours; the owning agency's supervisors are notified; every grant and
every page opened under it is in the audit log and on the weekly access review."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.breakglass.models import BreakGlassAttempt
from app.breakglass.operations import GRANT_DURATION
from app.breakglass.queries import week_label
from app.cases import operations as case_ops
from app.cases.models import Attachment, BreakGlassGrant, Case, CaseNote, ConsentEntry
from app.cases.queries import get_case_for
from app.core.db import utcnow
from app.core.enums import CaseState, Role
from app.extensions import db
from app.notifications.models import Notification
from app.workflow.models import CaseTransition
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.factories.files import png_bytes
from tests.fixtures import login_as

PNG = png_bytes()
REASON = "Korban datang malam hari ke UPTD kami dan butuh rujukan segera."
NEUTRAL = "If this case exists, access has been granted or refused."


@pytest.fixture(autouse=True)
def uploads(app: Any, tmp_path: Any, monkeypatch: Any) -> Any:
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def agency_a() -> Any:
    return AgencyFactory(code="UPTD-A")


@pytest.fixture
def agency_b() -> Any:
    return AgencyFactory(code="UPTD-B")


@pytest.fixture
def supervisor_a(agency_a: Any) -> Any:
    return UserFactory(roles=[(Role.SUPERVISOR, agency_a)])


@pytest.fixture
def supervisor_b(agency_b: Any) -> Any:
    return UserFactory(roles=[(Role.SUPERVISOR, agency_b)])


@pytest.fixture
def case_b(agency_b: Any, supervisor_b: Any) -> Any:
    case = create_case(agency_b, actor=supervisor_b)
    case_ops.add_attachment(case, "bukti.png", PNG, actor=supervisor_b)
    case_ops.add_note(case, "Catatan lembaga B.", actor=supervisor_b)
    return case


@pytest.fixture
def officer(agency_a: Any) -> Any:
    return UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency_a)])


def english(client: Any) -> Any:
    client.post("/bahasa", data={"locale": "en"})
    return client


def signed_in(client: Any, user: Any) -> Any:
    login_as(client, user)
    return english(client)


def ask(client: Any, reference: str, reason: str = REASON) -> Any:
    return client.post("/akses-darurat", data={"reference": reference, "reason": reason})


def count(model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def actions(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def expire(grant_id: int) -> None:
    grant = db.session.get(BreakGlassGrant, grant_id)
    grant.granted_at = utcnow() - GRANT_DURATION - dt.timedelta(minutes=1)
    grant.expires_at = utcnow() - dt.timedelta(minutes=1)
    db.session.commit()


# --- asking ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.PETUGAS_PENGADUAN, Role.MANAJER_KASUS, Role.SUPERVISOR])
def test_a_grant_opens_the_case_read_only(client, agency_a, case_b, supervisor_b, role):
    user = UserFactory(roles=[(role, agency_a)])
    signed_in(client, user)
    assert client.get(f"/kasus/{case_b.id}").status_code == 404

    response = ask(client, case_b.reference)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/kasus/{case_b.id}")
    grant = db.session.scalar(select(BreakGlassGrant).where(BreakGlassGrant.user_id == user.id))
    assert grant.case_id == case_b.id and grant.reason == REASON
    assert grant.expires_at - grant.granted_at == dt.timedelta(hours=3)
    assert grant.ip
    page = client.get(f"/kasus/{case_b.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Catatan lembaga B." in html
    # read-only: no form of the case page posts anywhere under the case
    assert f'action="/kasus/{case_b.id}/' not in html
    assert "Emergency access granted" in html  # the flashed notice, with its end time


def test_the_supervisors_are_notified_once_and_it_is_audited(
    client, officer, case_b, supervisor_b, agency_b
):
    second = UserFactory(roles=[(Role.SUPERVISOR, agency_b)])
    manager_b = UserFactory(roles=[(Role.MANAJER_KASUS, agency_b)])
    signed_in(client, officer)

    ask(client, case_b.reference)
    ask(client, case_b.reference)  # while the grant runs: opened again, no second grant
    client.get(f"/kasus/{case_b.id}")
    client.get(f"/kasus/{case_b.id}")

    assert count(BreakGlassGrant) == 1
    grant = db.session.scalar(select(BreakGlassGrant))
    notes = list(
        db.session.scalars(select(Notification).where(Notification.kind == "break_glass_used"))
    )
    assert sorted(n.user_id for n in notes) == sorted([supervisor_b.id, second.id])
    assert all(n.case_id == case_b.id and n.reference == case_b.reference for n in notes)
    assert manager_b.id not in {n.user_id for n in notes}
    [granted] = actions("break_glass.grant")
    assert granted.actor_id == officer.id
    assert (granted.object_type, granted.object_id) == ("case", str(case_b.id))
    # the grant's id, never its reason: that stays encrypted on the grant (issue #14 item 12)
    assert granted.changes == {
        "grant": grant.id,
        "reference": case_b.reference,
        "expires_at": grant.expires_at.isoformat(),
    }
    views = actions("break_glass.view")
    assert len(views) == 2  # every view, not once per ten minutes
    assert {v.changes["endpoint"] for v in views} == {"cases.detail"}
    assert all(v.changes["grant"] == grant.id for v in views)


def test_a_download_under_a_grant_is_recorded(client, officer, case_b):
    signed_in(client, officer)
    ask(client, case_b.reference)
    attachment_id = db.session.scalar(select(Attachment.id).where(Attachment.case_id == case_b.id))

    assert client.get(f"/kasus/{case_b.id}/lampiran/{attachment_id}").status_code == 200

    [view] = actions("break_glass.view")
    assert view.changes["endpoint"] == "cases.download_attachment"


def test_a_reason_too_short_grants_nothing(client, officer, case_b):
    signed_in(client, officer)

    response = ask(client, case_b.reference, reason="Butuh segera.")

    assert response.status_code == 422
    assert "at least 20 characters" in response.get_data(as_text=True)
    assert count(BreakGlassGrant) == 0
    assert count(Notification) == 0
    assert client.get(f"/kasus/{case_b.id}").status_code == 404


def test_a_reason_of_spaces_is_too_short(client, officer, case_b):
    signed_in(client, officer)

    response = ask(client, case_b.reference, reason="a" + " " * 40 + "b")

    assert response.status_code == 422
    assert count(BreakGlassGrant) == 0


def test_without_a_recent_re_authentication_the_user_confirms_first(client, officer, case_b):
    signed_in(client, officer)
    with client.session_transaction() as session:
        session["reauth_at"] = int(utcnow().timestamp()) - 3600

    form = client.get("/akses-darurat")
    posted = ask(client, case_b.reference)

    for response in (form, posted):
        assert response.status_code == 302
        assert "/masuk/ulang" in response.headers["Location"]
    assert count(BreakGlassGrant) == 0
    assert actions("break_glass.no_match") == []


def test_an_unknown_reference_is_answered_neutrally_and_recorded(client, officer, case_b):
    signed_in(client, officer)

    response = ask(client, "UPTD-B-2025-99999")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/akses-darurat")
    assert NEUTRAL in client.get("/akses-darurat").get_data(as_text=True)
    assert count(BreakGlassGrant) == 0
    assert count(Notification) == 0
    [entry] = actions("break_glass.no_match")
    assert entry.actor_id == officer.id
    # the attempt's id only: the reference typed (perhaps a name) and the reason are kept
    # encrypted on the attempt
    attempt = db.session.scalar(select(BreakGlassAttempt))
    assert (attempt.user_id, attempt.reference, attempt.reason) == (
        officer.id,
        "UPTD-B-2025-99999",
        REASON,
    )
    assert (entry.object_type, entry.object_id) == ("break_glass_attempt", str(attempt.id))
    assert entry.changes == {"attempt": attempt.id}


def test_no_reason_reaches_the_audit_log(client, officer, case_b):
    """The audit log is plaintext, hash-chained and never erased: a reason there was the only
    identity readable in a dump, and outlived an erasure (issue #14 item 12)."""
    reason = "Korban bernama Sekar Wulandari datang ke UPTD kami malam ini."
    signed_in(client, officer)
    ask(client, case_b.reference, reason=reason)
    ask(client, "Sekar Wulandari", reason=reason)  # a name typed where a reference belongs

    grant = db.session.scalar(select(BreakGlassGrant))
    attempt = db.session.scalar(select(BreakGlassAttempt))
    assert grant.reason == reason and attempt.reference == "Sekar Wulandari"
    entries = db.session.scalars(select(AuditEntry)).all()
    assert {"break_glass.grant", "break_glass.no_match"} <= {e.action for e in entries}
    for entry in entries:
        text = f"{entry.object_id} {entry.changes}"
        assert "Sekar" not in text and "malam ini" not in text, entry.action
    for table, column, row_id in (
        ("break_glass_grants", "reason", grant.id),
        ("break_glass_attempts", "reason", attempt.id),
        ("break_glass_attempts", "reference", attempt.id),
    ):
        t = db.metadata.tables[table]
        stored = db.session.scalar(
            select(sa.type_coerce(t.c[column], sa.Text)).where(t.c.id == row_id)
        )
        assert stored.startswith("enc1:") and "Sekar" not in stored


def test_a_draft_is_never_found(client, officer, agency_b, supervisor_b):
    draft = create_case(agency_b, actor=supervisor_b, draft=True)
    signed_in(client, officer)

    ask(client, str(draft.id))

    assert count(BreakGlassGrant) == 0
    assert len(actions("break_glass.no_match")) == 1


def test_a_case_already_in_scope_is_just_opened(client, supervisor_b, case_b):
    signed_in(client, supervisor_b)

    response = ask(client, case_b.reference)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/kasus/{case_b.id}")
    assert count(BreakGlassGrant) == 0
    assert count(Notification, Notification.kind == "break_glass_used") == 0
    assert actions("break_glass.grant") == []
    client.get(f"/kasus/{case_b.id}")
    assert actions("break_glass.view") == []  # seen in one's own scope: not under a grant


def test_other_roles_cannot_ask(client, agency_a, case_b):
    for role in (Role.PETUGAS_LAYANAN, Role.ANALIS_DATA, Role.ADMIN):
        user = UserFactory(roles=[(role, agency_a)])
        client.post("/keluar")
        signed_in(client, user)
        assert client.get("/akses-darurat").status_code == 403, role
        assert ask(client, case_b.reference).status_code == 403, role
    assert count(BreakGlassGrant) == 0


# --- read-only, and for three hours --------------------------------------------------------------


def test_every_write_is_still_refused_under_a_grant(client, officer, case_b, uploads):
    signed_in(client, officer)
    ask(client, case_b.reference)
    victim_id = case_b.victims[0].id
    base = f"/kasus/{case_b.id}"
    prefix = f"consent{victim_id}"
    before = (count(Attachment), count(CaseNote), count(ConsentEntry), count(CaseTransition))
    stored = sorted(uploads.iterdir())
    posts = [
        (f"{base}/catatan", {"body": "Tidak boleh tersimpan."}),
        (f"{base}/lampiran", {"file": (io.BytesIO(PNG), "foto.png")}),
        (
            f"{base}/korban/{victim_id}/persetujuan",
            {
                f"{prefix}-purpose": "dokumentasi",
                f"{prefix}-decision": "setuju",
                f"{prefix}-given_by": "korban",
                f"{prefix}-at": "2025-03-14T10:00",
            },
        ),
        (f"{base}/korban/{victim_id}/identitas", {}),
        (f"{base}/ubah", {}),
    ]
    for url, data in posts:
        response = client.post(url, data=data, content_type="multipart/form-data")
        assert response.status_code == 404, url
    assert client.get(f"{base}/ubah").status_code == 404  # the intake form: not even shown
    assert client.get(f"{base}/akses").status_code in (403, 404)  # for its own supervisors
    # the workflow refuses the step itself (the page answers 422 and nothing moves)
    step = client.post(f"{base}/langkah/start_identification", data={"version": "1"})
    assert step.status_code in (404, 422)
    assert client.post(f"{base}/rencana", data={}).status_code in (404, 422)
    assert client.post(f"{base}/manajer", data={}).status_code in (403, 404)
    assert client.post(f"{base}/pelimpahan", data={}).status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(Case, case_b.id).state is CaseState.DITERIMA
    assert (
        count(Attachment),
        count(CaseNote),
        count(ConsentEntry),
        count(CaseTransition),
    ) == before
    assert sorted(uploads.iterdir()) == stored


def test_the_permissions_deny_a_grantee(app, officer, case_b):
    from app.breakglass.operations import request_access
    from app.cases import permissions
    from app.workflow import permissions as wf

    with app.test_request_context():
        request_access(officer, case_b.reference, REASON)
        assert get_case_for(officer, case_b.id) is not None
        assert not permissions.can_edit_case(officer, case_b)
        assert not permissions.can_add_note(officer, case_b)
        assert not permissions.can_reveal_identity(officer, case_b)
        for permission in ("cases:manage", "cases:supervise", "cases:view_own", "cases:create"):
            assert not wf.may_take_case_step(officer, case_b, permission)
        assert not wf.may_manage(officer, case_b)
        assert not wf.may_supervise(officer, case_b)


def test_after_three_hours_the_case_is_not_found_again(client, officer, case_b):
    signed_in(client, officer)
    ask(client, case_b.reference)
    grant_id = db.session.scalar(select(BreakGlassGrant.id))
    assert client.get(f"/kasus/{case_b.id}").status_code == 200

    expire(grant_id)

    assert client.get(f"/kasus/{case_b.id}").status_code == 404
    assert get_case_for(officer, case_b.id) is None
    assert len(actions("break_glass.view")) == 1  # the refused request is no view


def test_a_new_grant_after_expiry_notifies_again(client, officer, case_b, supervisor_b):
    signed_in(client, officer)
    ask(client, case_b.reference)
    expire(db.session.scalar(select(BreakGlassGrant.id)))

    ask(client, case_b.reference)

    assert count(BreakGlassGrant) == 2
    assert count(Notification, Notification.user_id == supervisor_b.id) == 2


# --- the weekly review -----------------------------------------------------------------------


def test_the_review_lists_grants_to_the_agency_s_cases(client, app, officer, case_b, supervisor_b):
    signed_in(client, officer)
    ask(client, case_b.reference)
    client.get(f"/kasus/{case_b.id}")
    ask(client, "UPTD-B-2025-99999")  # named no case: on officer's own agency's review
    week = week_label(utcnow().astimezone(dt.timezone(dt.timedelta(hours=7))).date())

    reviewer = app.test_client()
    signed_in(reviewer, supervisor_b)
    response = reviewer.get(f"/akses-darurat/tinjauan?minggu={week}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert officer.name in html and REASON in html and case_b.reference in html
    assert "Opened the case page" in html
    assert "UPTD-B-2025-99999" not in html  # officer is not B's staff

    earlier = reviewer.get("/akses-darurat/tinjauan?minggu=2020-W01").get_data(as_text=True)
    assert REASON not in earlier


def test_the_review_lists_what_the_own_staff_did_elsewhere(
    client, app, officer, case_b, supervisor_a
):
    signed_in(client, officer)
    ask(client, case_b.reference)
    ask(client, "UPTD-B-2025-99999")

    reviewer = app.test_client()
    signed_in(reviewer, supervisor_a)
    html = reviewer.get("/akses-darurat/tinjauan").get_data(as_text=True)

    assert officer.name in html and case_b.reference in html and REASON in html
    assert "UPTD-B-2025-99999" in html  # the staff's attempt that named no case


def test_the_review_is_for_supervisors_only(client, officer, agency_b):
    signed_in(client, officer)
    assert client.get("/akses-darurat/tinjauan").status_code == 403
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency_b)])
    client.post("/keluar")
    signed_in(client, manager)
    assert client.get("/akses-darurat/tinjauan").status_code == 403


def test_a_third_agency_s_supervisor_sees_nothing(client, app, officer, case_b):
    third = UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory(code="UPTD-C"))])
    signed_in(client, officer)
    ask(client, case_b.reference)

    reviewer = app.test_client()
    signed_in(reviewer, third)
    html = reviewer.get("/akses-darurat/tinjauan").get_data(as_text=True)

    assert REASON not in html and case_b.reference not in html


def test_a_malformed_week_shows_the_current_one(client, supervisor_b):
    signed_in(client, supervisor_b)
    response = client.get("/akses-darurat/tinjauan?minggu=kemarin")
    assert response.status_code == 200
    assert "YYYY-Www" in response.get_data(as_text=True)
