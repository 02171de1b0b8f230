"""Request hooks of the audit log: views of identifying pages, and refusals.

* A page showing identifying data opened (``VIEWED_PAGES``: the case page, the intake form of a
  case, a victim's assessment; answered 200) is recorded in the request's transaction — the case
  page as ``case.view`` once per user and case per ``VIEW_WINDOW``, the intake form and the
  assessment every time they are opened.
* An entry that must be kept whatever the answer (``record_whatever_the_answer``: the duplicate
  check, whose result a refused form shows too) is written in the request's transaction when
  it succeeds, else in one of its own once the request's is rolled back.
* A 403 or 404 answered to a signed-in user on a known route is recorded as ``access.denied``
  (method, path without its query string, status) in a short transaction of its own: the
  request's is rolled back.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Flask, Response, g, request
from flask_login import current_user

from app.audit.operations import VIEW_WINDOW, record, record_apart, record_view
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ViewedPage:
    """How the opening of a page is recorded: the action, the object (its type and the view
    argument naming it), view arguments kept in the entry too, and the window within which the
    same user opening it again is not recorded again (zero: every time)."""

    action: str
    object_type: str
    argument: str
    details: tuple[str, ...] = ()
    within: dt.timedelta = VIEW_WINDOW


EVERY_TIME = dt.timedelta(0)
VIEWED_PAGES: dict[str, ViewedPage] = {
    "cases.detail": ViewedPage("case.view", "case", "case_id"),
    # the intake form shows every identity of the case (a child's too) in its fields
    "intake.edit": ViewedPage("intake_form.view", "case", "case_id", within=EVERY_TIME),
    # health, psychological and social findings of one victim
    "assessments.edit": ViewedPage(
        "assessment.view", "case", "case_id", details=("victim_id",), within=EVERY_TIME
    ),
}
DENIED_STATUSES = frozenset({403, 404})
_PENDING = "audit_whatever_the_answer"


def _signed_in_user_id() -> int | None:
    try:
        if not current_user or not current_user.is_authenticated:
            return None
        identity = sa.inspect(current_user._get_current_object()).identity
    except Exception:  # no ORM user, or its session unusable
        log.exception("audit: could not tell who was refused")
        return None
    return int(identity[0]) if identity else None


def record_page_view(response: Response) -> Response:
    page = VIEWED_PAGES.get(request.endpoint or "")
    if (
        page is None
        or request.method != "GET"
        or response.status_code != 200
        or not current_user.is_authenticated
    ):
        return response
    arguments = request.view_args or {}
    object_id = arguments.get(page.argument)
    if object_id is not None:
        # in the request's transaction: an error here fails the request (nothing is shown
        # that is not recorded)
        details = {name: arguments.get(name) for name in page.details} or None
        record_view(
            current_user._get_current_object(),
            page.action,
            page.object_type,
            object_id,
            details,
            within=page.within,
        )
    return response


def record_whatever_the_answer(
    actor: User, action: str, object_type: str, object_id: object, changes: dict[str, Any]
) -> None:
    """Record an entry when the request ends, whatever its answer: for a look-up whose result
    is shown even when the rest of the request is refused (a form sent back with its errors)."""
    g.setdefault(_PENDING, []).append((actor, actor.id, action, object_type, object_id, changes))


def record_pending(response: Response) -> Response:
    pending = g.pop(_PENDING, [])
    if not pending:
        return response
    if response.status_code < 400:
        # kept with the request's work, by the commit point
        for actor, _, action, object_type, object_id, changes in pending:
            record(actor, action, object_type, object_id, changes)
        return response
    # the request's work is rolled back: end its transaction first (it may hold the chain
    # lock), then write the entries apart
    db.session.rollback()
    for _, actor_id, action, object_type, object_id, changes in pending:
        record_apart(actor_id, "user", action, object_type, object_id, changes)
    return response


def record_denial(response: Response) -> Response:
    if (
        response.status_code not in DENIED_STATUSES
        or request.endpoint is None  # an unknown address: no route, nothing refused
        or request.endpoint == "static"
    ):
        return response
    user_id = _signed_in_user_id()
    if user_id is None:
        return response
    try:
        # The request's work is dropped anyway (any status >= 400 is rolled back); end its
        # transaction now, so it holds no chain lock while the refusal is written apart.
        db.session.rollback()
        record_apart(
            user_id,
            "user",
            "access.denied",
            "route",
            request.endpoint,
            {"method": request.method, "path": request.path[:500], "status": response.status_code},
        )
    except Exception:  # a refusal stays a refusal even when it cannot be written
        log.exception("audit: could not record a refusal")
    return response


def init_request_hooks(app: Flask) -> None:
    # Flask runs after_request functions in reverse order of registration: these, registered
    # after the request's commit point (app.core.web), run before it, inside its transaction.
    app.after_request(record_denial)
    app.after_request(record_page_view)
    app.after_request(record_pending)
