"""No identity leaves through a side door: a case's people go through registration, the case
page, a search, a workflow step, a referral with its notifications and e-mails, an error page
and a failing database statement — and their names, NIK and phone never appear in a log line,
a URL or redirect, an error page, a task's arguments, an outbox row, an e-mail, a notification
or the audit trail."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.cases.intake import ConsentData, VictimData
from app.cases.models import Victim
from app.cases.operations import add_consent
from app.core.db import utcnow
from app.core.enums import Role, ServiceType
from app.core.tasks import pending_tasks
from app.extensions import db
from app.notifications.mail import clear_outbox, outbox
from app.notifications.models import Notification
from app.notifications.tasks import send_email
from app.referrals.operations import Sharing, save_referral
from app.referrals.tasks import notify_referral
from app.workflow.tasks import notify_transition
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as

NAME = "Larasati Kusumawardhani Pramesti"
NIK = "3273016608950007"
PHONE = "081377712345"
SECRETS = (NAME, NIK, PHONE, "Larasati")


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.fixture
def world(app: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "memory")
    clear_outbox()
    uptd = AgencyFactory(services=[ServiceType.PENGADUAN])
    rsud = AgencyFactory(services=[ServiceType.REHABILITASI_KESEHATAN])
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, uptd)])
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, uptd)])
    nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)])
    case = create_case(
        uptd,
        actor=manager,
        case_manager=manager,
        risk="tinggi",  # the supervisors are told of a high-risk case
        victims=[
            VictimData(sex="P", name=NAME, nik=NIK, phone=PHONE, age=24, violence_types=["fisik"])
        ],
    )
    victim = case.victims[0]
    add_consent(
        victim,
        ConsentData(
            purpose=f"rujukan:{rsud.code}", decision="setuju", given_by="korban", at=utcnow()
        ),
        actor=manager,
    )
    track = create_track(case, victim, "rehabilitasi_kesehatan", provider=rsud, actor=manager)
    db.session.flush()
    return {
        "case": case,
        "manager": manager,
        "supervisor": supervisor,
        "nurse": nurse,
        "rsud": rsud,
        "track": track,
    }


def test_no_identity_leaves_through_logs_urls_tasks_mail_or_audit(
    client: Any, world: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    case, track = world["case"], world["track"]
    urls: list[str] = []
    pages: list[str] = []

    def seen(response: Any) -> Any:
        urls.append(response.request.url if response.request else "")
        urls.append(response.headers.get("Location", ""))
        pages.append(response.get_data(as_text=True))
        return response

    login_as(client, world["manager"])
    # the case page shows the name (it is theirs); its address does not carry it
    page = seen(client.get(f"/kasus/{case.id}"))
    assert NAME in page.get_data(as_text=True)
    pages.pop()
    # a search by the full name: the name travels in the body, never in an address
    found = seen(client.post("/kasus/cari", data={"q": NAME}))
    assert case.reference in found.get_data(as_text=True)
    pages.pop()
    # an old bookmark carrying a name: the answer sends it to an address without it
    old = client.get(f"/kasus?q={NAME}")
    assert old.status_code in (302, 303)
    urls.append(old.headers.get("Location", ""))
    # a step, a referral, an error page
    seen(
        client.post(
            f"/kasus/{case.id}/langkah/start_identification",
            data={"version": str(case.version)},
        )
    )
    seen(client.get("/kasus/99999999"))
    save_referral(
        track.id,
        to_agency=world["rsud"],
        sharing=Sharing(identity=True),
        message="Mohon ditangani",
        actor=world["manager"],
        send=True,
        expected_version=track.version,
    )

    # every task queued on the way, with its arguments — then run them (notifications, e-mails)
    tasks = pending_tasks(db.session)
    assert tasks
    for name, args, kwargs in tasks:
        assert not leaked(json.dumps([name, args, kwargs], default=str)), name
    for transition in db.session.scalars(
        sa.text("SELECT id FROM case_transitions WHERE case_id = :c"), {"c": case.id}
    ):
        notify_transition.run(transition)
    for referral_id in db.session.scalars(
        sa.text("SELECT id FROM referrals WHERE case_id = :c"), {"c": case.id}
    ):
        notify_referral.run(referral_id, "sent")
    notes = list(db.session.scalars(select(Notification)))
    assert notes
    for note in notes:
        send_email.run(note.id)
        assert not leaked(f"{note.kind} {note.reference} {note.key}")
    assert outbox()
    for message in outbox():
        assert not leaked(message.as_string()), message["Subject"]

    # what the outbox table holds when a broker is configured
    if db.session.execute(sa.text("SELECT to_regclass('outbox')")).scalar():
        rows = db.session.execute(sa.text("SELECT task_name, args, kwargs FROM outbox")).all()
        assert not leaked(json.dumps([list(r) for r in rows], default=str))

    # a failing write's error carries neither the parameters (hidden) nor the values (the
    # server's "failing row" detail holds ciphertext only)
    with pytest.raises(sa.exc.DBAPIError) as failure, db.session.begin_nested():
        db.session.add(Victim(name=NAME, nik=NIK, phone=PHONE, sex="P", is_child=False))
        db.session.flush()
    assert not leaked(str(failure.value))

    assert not leaked(" ".join(urls)), [u for u in urls if leaked(u)]
    assert not leaked(" ".join(pages))
    audit = json.dumps(
        [
            [e.action, e.object_type, e.object_id, e.changes]
            for e in db.session.scalars(select(AuditEntry))
        ],
        default=str,
    )
    assert not leaked(audit)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not leaked(logged), [line for line in logged.splitlines() if leaked(line)][:3]
