"""The e-mail copy of a notification: ``notifications.send_email(notification_id)``.

``notify()`` queues the task when the transaction that made the notification commits. The task
locks the row (``SELECT … FOR UPDATE SKIP LOCKED``: a second worker holding the same id skips it
instead of waiting and sending it again), sends the message, stamps ``emailed_at`` and the task's
commit (``FlaskTask``) makes the stamp permanent. A notification already stamped is skipped, so
the task is idempotent.

Delivery is at least once: the message is sent before the commit, so a crash (or a lost database
connection) between the two leaves ``emailed_at`` empty and the redelivered task sends it again.
A mail server that cannot be reached or refuses the message makes the task fail and retry later
(``autoretry_for``), with ``emailed_at`` still empty. The
other order — commit the stamp, then send — would turn such a crash into an e-mail silently never
sent, and a repeated "a case needs you" message is the lesser harm.

What the message says: the kind of event, the case reference (for a role granted at the agency:
the staff account's e-mail address) and a link into the application, in the recipient's language.
Never a person's name, NIK, address, phone or any other detail of the case: e-mail leaves our
control, and details are shown only in the application after sign-in.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from app.auth.models import User
from app.core.db import utcnow
from app.core.i18n import gettext as _
from app.core.tasks import task
from app.extensions import db
from app.notifications.labels import ABOUT_ACCOUNT, kind_label, link_endpoint
from app.notifications.mail import send_message
from app.notifications.models import Notification

log = logging.getLogger(__name__)


def link_path(note: Notification) -> str:
    """The page the message leads to (see ``labels.link_endpoint``)."""
    urls = current_app.url_map.bind("localhost")
    endpoint, values = link_endpoint(note.kind, note.case_id, note.key)
    return urls.build(endpoint, values)


def compose(note: Notification, locale: str) -> tuple[str, str]:
    """Subject and body of the e-mail copy of ``note`` in ``locale``: kind, reference, link."""
    link = current_app.config["BASE_URL"].rstrip("/") + link_path(note)
    with force_locale(locale):
        label = kind_label(note.kind)
        lines = [label, ""]
        if note.reference and note.kind in ABOUT_ACCOUNT:
            lines.append(_("Account: %(reference)s", reference=note.reference))
        elif note.reference:
            lines.append(_("Case: %(reference)s", reference=note.reference))
        lines.append(_("Open: %(link)s", link=link))
        lines += [
            "",
            _("For the protection of the people involved, the details are shown only in Simpul."),
            _("This message was sent automatically; please do not reply."),
        ]
    return f"[Simpul] {label}", "\n".join(lines) + "\n"


@task(
    name="notifications.send_email",
    # an unreachable or refusing mail server (smtplib's errors are OSErrors): try again later,
    # backing off up to ten minutes, six times; emailed_at stays empty until one attempt succeeds
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
)
def send_email(notification_id: int) -> bool:
    """Send the e-mail copy of notification ``notification_id`` once; True when it was sent."""
    note = db.session.scalars(
        sa.select(Notification)
        .where(Notification.id == notification_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    if note is None or note.emailed_at is not None:
        return False  # gone, locked by another worker that is sending it, or already sent
    if current_app.config["MAIL_BACKEND"] == "none":
        return False
    user = db.session.get(User, note.user_id)
    if user is None or not user.active or not user.email:
        return False
    locale = user.locale or current_app.config["DEFAULT_LOCALE"]
    subject, body = compose(note, locale)
    if not send_message(subject, body, user.email):
        return False
    note.emailed_at = utcnow()
    db.session.flush()
    log.info("notification %s e-mailed to user %s", note.id, user.id)
    return True
