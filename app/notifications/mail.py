"""Sending e-mail: one function, ``send_message``, and the backends ``MAIL_BACKEND`` chooses.

- ``smtp``: the server of ``MAIL_SERVER``/``MAIL_PORT``, with STARTTLS (``MAIL_USE_TLS``) or
  SSL from the start (``MAIL_USE_SSL``), logging in when ``MAIL_USERNAME`` is set;
- ``console``: the message is written to the log (development);
- ``memory``: the message is kept in a list in this module, read with ``outbox()`` and emptied
  with ``clear_outbox()`` (tests);
- ``none``: nothing is sent.

Standard library only. The password is passed to the server and never logged; neither is the
body of a message outside the ``console`` backend.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30

_OUTBOX: list[EmailMessage] = []


def outbox() -> list[EmailMessage]:
    """The messages the ``memory`` backend has kept, oldest first (a copy of the list)."""
    return list(_OUTBOX)


def clear_outbox() -> None:
    _OUTBOX.clear()


def build_message(subject: str, body: str, to: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def _send_smtp(message: EmailMessage, config: Mapping[str, Any]) -> None:
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    if not host:
        raise RuntimeError("MAIL_BACKEND is smtp but MAIL_SERVER is not set")
    smtp: smtplib.SMTP
    if config["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(
            host, port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    with smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
    # no address, no subject: the log keeps ids only (the task logs the notification's)
    log.info("e-mail handed to %s:%s", host, port)


def _send_console(message: EmailMessage, config: Mapping[str, Any]) -> None:
    log.info(
        "e-mail (console backend, not sent)\nTo: %s\nSubject: %s\n\n%s",
        message["To"],
        message["Subject"],
        message.get_content(),
    )


def _send_memory(message: EmailMessage, config: Mapping[str, Any]) -> None:
    _OUTBOX.append(message)


def _send_none(message: EmailMessage, config: Mapping[str, Any]) -> None:
    return None


BACKENDS: dict[str, Callable[[EmailMessage, Mapping[str, Any]], None]] = {
    "smtp": _send_smtp,
    "console": _send_console,
    "memory": _send_memory,
    "none": _send_none,
}


def send_message(subject: str, body: str, to: str) -> bool:
    """Send a plain-text message to ``to`` with the configured backend; False when the backend
    is ``none`` (nothing was sent). Errors of the backend (e.g. SMTP) propagate."""
    config = current_app.config
    backend = config["MAIL_BACKEND"]
    if backend == "none":
        return False
    send = BACKENDS.get(backend)
    if send is None:
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}")
    send(build_message(subject, body, to, config["MAIL_FROM"]), config)
    return True
