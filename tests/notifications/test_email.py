"""E-mail copies of notifications: queued after commit, sent once, in the recipient's language,
naming a case by reference only; the backends and the mail settings."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import socketserver
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from app import create_app
from app.cases.intake import ConsentData, VictimData
from app.config import ConfigError, load_settings, resolve_mail_settings
from app.core.enums import Role, ServiceType
from app.core.tasks import pending_tasks
from app.extensions import db
from app.notifications.mail import clear_outbox, outbox, send_message
from app.notifications.models import Notification
from app.notifications.operations import notify
from app.notifications.tasks import send_email
from app.workflow.facts import PLAN_APPROVED
from app.workflow.operations import apply_case_event, request_transfer
from app.workflow.tasks import notify_transfer, notify_transition
from app.workflow.tracks import create_track
from tests.conftest import database_url
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case
from tests.fixtures import production_keys

GOOD_SECRET = "x8Jq2v-LkP0s_9dTz3Wm7yRb1Nc4Hf6Ga5Ue8Io0Qw"
TASK = "notifications.send_email"


@pytest.fixture
def mailbox(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "memory")
    clear_outbox()
    yield outbox
    clear_outbox()


@pytest.fixture
def restore_celery(app: Any) -> Iterator[None]:
    """Another app built in a test rebinds the shared Celery app; give it back afterwards."""
    from app import celery_init_app

    yield
    celery_init_app(app)


def queued(note: Notification) -> bool:
    return (TASK, (note.id,), {}) in pending_tasks(db.session)


def body(message: EmailMessage) -> str:
    return str(message.get_content())


# --- queued after commit, sent once --------------------------------------------------------


def test_a_notification_is_emailed_once(mailbox):
    user = UserFactory(locale="en")
    note = notify(user, "case_reopened", reference="UPTD-2025-00042")
    assert queued(note)
    assert note.emailed_at is None

    assert send_email.run(note.id) is True
    assert send_email.run(note.id) is False  # a retried or duplicated task sends nothing more
    (message,) = mailbox()
    assert message["To"] == user.email
    assert message["From"] == "Simpul <noreply@localhost>"
    assert note.emailed_at is not None


def test_a_committed_notification_queues_its_email_and_a_rolled_back_one_nothing(app, monkeypatch):
    sent: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setitem(
        app.extensions, "simpul_dispatch", lambda name, args, kwargs: sent.append((name, args))
    )
    user = UserFactory()
    db.session.commit()

    dropped = notify(user, "case_reopened", reference="UPTD-2025-00001")
    assert queued(dropped)
    db.session.rollback()
    assert pending_tasks(db.session) == []
    db.session.commit()
    assert sent == []

    kept = notify(user, "case_reopened", reference="UPTD-2025-00002")
    assert sent == []  # not before the commit
    db.session.commit()
    assert sent == [(TASK, (kept.id,))]


def test_nothing_is_sent_to_an_inactive_user_or_one_without_an_address(mailbox):
    inactive = UserFactory(active=False)
    no_address = UserFactory()
    no_address.email = ""
    db.session.flush()
    notes = [
        notify(u, "case_reopened", reference="UPTD-2025-00003") for u in (inactive, no_address)
    ]
    for note in notes:
        assert send_email.run(note.id) is False
        assert note.emailed_at is None
    assert mailbox() == []


def test_nothing_is_sent_with_the_none_backend(app, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "none")
    note = notify(UserFactory(), "case_reopened", reference="UPTD-2025-00004")
    assert send_email.run(note.id) is False
    assert note.emailed_at is None
    assert mailbox() == []
    assert send_message("subject", "body", "someone@contoh.go.id") is False


def test_a_missing_notification_is_skipped(mailbox):
    assert send_email.run(2_000_000_000) is False
    assert mailbox() == []


# --- what the message says -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "subject", "case_line"),
    [
        ("en", "[Simpul] High-risk case registered", "Case: UPTD-2025-00005"),
        ("id", "[Simpul] Kasus risiko tinggi didaftarkan", "UPTD-2025-00005"),
        (None, "[Simpul] Kasus risiko tinggi didaftarkan", "UPTD-2025-00005"),  # DEFAULT_LOCALE
    ],
)
def test_the_message_is_in_the_recipients_language(mailbox, locale, subject, case_line):
    note = notify(UserFactory(locale=locale), "high_risk_case", reference="UPTD-2025-00005")
    send_email.run(note.id)
    (message,) = mailbox()
    assert message["Subject"] == subject
    text = body(message)
    assert text.startswith(subject.removeprefix("[Simpul] ") + "\n")
    assert case_line in text
    if locale == "en":
        assert "details are shown only in Simpul" in text


def test_the_link_leads_to_the_case_or_the_notifications_on_base_url(app, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://simpul.example.go.id")
    agency = AgencyFactory()
    user = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    case = create_case(agency, actor=user)
    db.session.flush()
    about_case = notify(user, "case_reopened", case_id=case.id, reference=case.reference)
    transfer = notify(user, "transfer_requested", reference=case.reference)
    referral = notify(user, "referral_received", reference=case.reference, key="referral:7:sent")
    other = notify(user, "deadline_missed", reference=case.reference)
    for note in (about_case, transfer, referral, other):
        send_email.run(note.id)
    first, second, third, fourth = mailbox()
    assert f"https://simpul.example.go.id/kasus/{case.id}\n" in body(first)
    # the receiving agency cannot open the case: its inbox, or the referral's page
    assert "https://simpul.example.go.id/pelimpahan\n" in body(second)
    assert "https://simpul.example.go.id/rujukan/7\n" in body(third)
    assert "https://simpul.example.go.id/notifikasi\n" in body(fourth)


# --- never a person's identity -------------------------------------------------------------

VICTIM_NAME = "Kirana Zulaikha Wiratmaja"
VICTIM_NIK = "3273019988776655"
VICTIM_PHONE = "0812-9944-7711"
VICTIM_ADDRESS = "Gang Kenari Tersembunyi No. 77"
PERPETRATOR_NAME = "Bramantyo Sukmajaya"


def test_no_email_names_the_victim(mailbox):
    from app.cases.intake import PerpetratorData

    agency = AgencyFactory(
        services=[ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN, ServiceType.BANTUAN_HUKUM]
    )
    receiving = AgencyFactory(services=[ServiceType.PENGADUAN])
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency)], locale="en")
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    receiving_supervisor = UserFactory(roles=[(Role.SUPERVISOR, receiving)], locale="en")
    victim = VictimData(
        sex="P",
        name=VICTIM_NAME,
        nik=VICTIM_NIK,
        phone=VICTIM_PHONE,
        address=VICTIM_ADDRESS,
        birth_date=dt.date(1994, 5, 1),
        violence_types=["fisik", "psikis"],
        consents=[
            ConsentData(purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED)
        ],
    )
    case = create_case(
        agency,
        actor=manager,
        case_manager=manager,
        risk="tinggi",
        victims=[victim],
        perpetrators=[
            PerpetratorData(
                name=PERPETRATOR_NAME, sex="L", age=35, relationships={1: "suami_istri"}
            )
        ],
    )
    db.session.flush()
    assert case.reference
    # workflow steps that tell someone: a plan proposed, approved; a transfer requested
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    apply_case_event(case.id, "start_emergency", actor=manager, expected_version=case.version)
    apply_case_event(
        case.id,
        "start_assessment",
        actor=manager,
        approvals=frozenset({"emergency_handled"}),
        reason="Korban sudah aman di rumah aman.",
        expected_version=case.version,
    )
    case.assessment_completed_at = RECEIVED + dt.timedelta(days=2)
    db.session.flush()  # saved, as by the assessment page
    proposed = apply_case_event(
        case.id, "propose_plan", actor=manager, expected_version=case.version
    )
    notify_transition.run(proposed.id)
    create_track(case, case.victims[0], "pendampingan", provider=None, actor=manager)
    approved = apply_case_event(
        case.id,
        "start_intervention",
        actor=supervisor,
        approvals=frozenset({PLAN_APPROVED}),
        expected_version=case.version,
    )
    notify_transition.run(approved.id)
    transfer = request_transfer(
        case.id, receiving, "Korban pindah", actor=manager, expected_version=case.version
    )
    notify_transfer.run(transfer.id)

    notes = list(
        db.session.scalars(
            select(Notification)
            .where(Notification.reference == case.reference)
            .order_by(Notification.id)
        )
    )
    assert {n.kind for n in notes} >= {
        "high_risk_case",
        "plan_awaiting_approval",
        "plan_approved",
        "transfer_requested",
    }
    assert {n.user_id for n in notes} >= {manager.id, supervisor.id, receiving_supervisor.id}
    for note in notes:
        assert queued(note)
        assert send_email.run(note.id) is True

    messages = mailbox()
    assert len(messages) == len(notes)
    secrets = [VICTIM_NAME, VICTIM_NIK, VICTIM_PHONE, VICTIM_ADDRESS, PERPETRATOR_NAME]
    secrets += [VICTIM_NIK[-6:], VICTIM_PHONE.replace("-", ""), "Kirana", "Wiratmaja"]
    for message in messages:
        whole = f"{message['Subject']}\n{body(message)}\n{message.as_string()}"
        assert case.reference in body(message)
        for secret in secrets:
            assert secret.lower() not in whole.lower(), (message["Subject"], secret)


# --- backends --------------------------------------------------------------------------------


class _SMTPStub(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    server: _SMTPServer

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        session: dict[str, Any] = {"commands": [], "data": b""}
        self.server.sessions.append(session)
        self.reply("220 stub.localhost ESMTP")
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").rstrip("\r\n")
            session["commands"].append(command)
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-stub.localhost\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 stub.localhost")
            elif verb == "AUTH":
                self.reply("235 2.7.0 Authentication successful")
            elif verb in {"MAIL", "RCPT", "RSET", "NOOP"}:
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                chunks = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    chunks.append(chunk)
                session["data"] = b"".join(chunks)
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    sessions: list[dict[str, Any]]


@pytest.fixture
def smtp_server() -> Iterator[_SMTPServer]:
    server = _SMTPServer(("127.0.0.1", 0), _SMTPStub)
    server.sessions = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_smtp_backend_talks_to_the_server(app, monkeypatch, smtp_server, caplog):
    port = smtp_server.server_address[1]
    for name, value in {
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": "simpul-relay",
        "MAIL_PASSWORD": "pw-Qz81-never-in-logs",
        "MAIL_FROM": "Simpul <noreply@simpul.example.go.id>",
    }.items():
        monkeypatch.setitem(app.config, name, value)
    monkeypatch.setattr(logging.getLogger("app.notifications.mail"), "disabled", False)
    user = UserFactory(locale="en")
    note = notify(user, "deadline_missed", reference="UPTD-2025-00006")
    with caplog.at_level(logging.DEBUG):
        assert send_email.run(note.id) is True
    assert f"e-mail handed to 127.0.0.1:{port}" in caplog.text
    assert user.email not in caplog.text

    (session,) = smtp_server.sessions
    verbs = [c.split(" ", 1)[0].upper() for c in session["commands"]]
    assert verbs == ["EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"]
    auth = base64.b64decode(session["commands"][1].split()[-1])
    assert auth == b"\0simpul-relay\0pw-Qz81-never-in-logs"
    assert session["commands"][2].upper().startswith("MAIL FROM:<NOREPLY@SIMPUL.EXAMPLE.GO.ID>")
    assert session["commands"][3].lower().startswith(f"rcpt to:<{user.email}>")
    data = session["data"].decode()
    assert "Subject: [Simpul] A deadline was missed" in data
    assert "Case: UPTD-2025-00006" in data
    assert "pw-Qz81-never-in-logs" not in caplog.text
    assert note.emailed_at is not None


def test_a_failing_smtp_server_leaves_the_notification_to_retry(app, monkeypatch, mailbox):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", 9)  # discard: nothing listens
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    note = notify(UserFactory(), "case_reopened", reference="UPTD-2025-00007")
    with pytest.raises(OSError):
        send_email.run(note.id)
    assert note.emailed_at is None  # the task fails and is retried later; nothing is lost
    assert send_email.autoretry_for == (OSError,)


def test_the_console_backend_logs_the_message(app, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "console")
    monkeypatch.setitem(app.config, "MAIL_PASSWORD", "pw-Qz81-never-in-logs")
    # the migrations' logging.config.fileConfig (run by the session's app fixture) disables the
    # loggers that existed before it; a worker process never runs it
    monkeypatch.setattr(logging.getLogger("app.notifications.mail"), "disabled", False)
    note = notify(UserFactory(locale="en"), "case_terminated", reference="UPTD-2025-00008")
    with caplog.at_level(logging.INFO, logger="app.notifications.mail"):
        assert send_email.run(note.id) is True
    assert "[Simpul] The case was terminated" in caplog.text
    assert "UPTD-2025-00008" in caplog.text
    assert "pw-Qz81-never-in-logs" not in caplog.text


# --- settings --------------------------------------------------------------------------------


def test_production_refuses_smtp_without_a_server(restore_celery):
    with pytest.raises(ConfigError, match="MAIL_SERVER"):
        create_app(
            {
                "APP_ENV": "production",
                "SECRET_KEY": GOOD_SECRET,
                "DATABASE_URL": database_url(),
                "MAIL_SERVER": None,
            }
        )


def test_production_defaults_to_smtp(restore_celery):
    prod = create_app(
        {
            **production_keys(),
            "APP_ENV": "production",
            "SECRET_KEY": GOOD_SECRET,
            "DATABASE_URL": database_url(),
            "BASE_URL": "https://simpul.example.go.id/",
        }
    )
    assert prod.config["MAIL_BACKEND"] == "smtp"
    assert prod.config["BASE_URL"] == "https://simpul.example.go.id"


def test_defaults_outside_production():
    values = load_settings({})
    assert values["MAIL_PORT"] == 587
    assert values["MAIL_USE_TLS"] is True
    assert values["MAIL_USE_SSL"] is False
    assert values["MAIL_FROM"] == "Simpul <noreply@localhost>"
    assert values["BASE_URL"] == "http://127.0.0.1:5000"
    for env in ("development", "testing"):
        config = dict(values, APP_ENV=env)
        resolve_mail_settings(config)
        assert config["MAIL_BACKEND"] == "console"


def test_the_testing_app_does_not_send_by_default(app):
    assert app.config["MAIL_BACKEND"] in ("console", "memory")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MAIL_BACKEND": "carrier-pigeon"}, "MAIL_BACKEND"),
        ({"MAIL_USE_TLS": "true", "MAIL_USE_SSL": "true"}, "MAIL_USE_SSL"),
        ({"BASE_URL": "simpul.example.go.id"}, "BASE_URL"),
    ],
)
def test_bad_mail_settings_are_refused(environ, message):
    config = load_settings(environ)
    with pytest.raises(ConfigError, match=message):
        resolve_mail_settings(config)


def test_mail_switches_are_parsed():
    values = load_settings({"MAIL_USE_TLS": "false", "MAIL_USE_SSL": "yes", "MAIL_PORT": "465"})
    assert (values["MAIL_USE_TLS"], values["MAIL_USE_SSL"], values["MAIL_PORT"]) == (
        False,
        True,
        465,
    )
    with pytest.raises(ConfigError, match="MAIL_USE_TLS"):
        load_settings({"MAIL_USE_TLS": "maybe"})
