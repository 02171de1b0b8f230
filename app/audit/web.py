"""Request hooks of the audit log: views of identifying pages, and refusals.

* A case page opened (``cases.detail`` answered 200) is recorded as ``case.view`` in the
  request's transaction, once per user and case per ``VIEW_WINDOW``.
* A 403 or 404 answered to a signed-in user on a known route is recorded as ``access.denied``
  (method, path without its query string, status) in a short transaction of its own: the
  request's is rolled back.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, Response, request
from flask_login import current_user

from app.audit.operations import record_apart, record_view
from app.extensions import db

log = logging.getLogger(__name__)

# endpoint: (action, object type, the view argument naming the object)
VIEWED_PAGES: dict[str, tuple[str, str, str]] = {
    "cases.detail": ("case.view", "case", "case_id"),
}
DENIED_STATUSES = frozenset({403, 404})


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
    action, object_type, argument = page
    object_id = (request.view_args or {}).get(argument)
    if object_id is not None:
        # in the request's transaction: an error here fails the request (nothing is shown
        # that is not recorded)
        record_view(current_user._get_current_object(), action, object_type, object_id)
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
