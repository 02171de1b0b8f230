"""The request hook recording every page opened under a break-the-glass grant."""

from __future__ import annotations

from flask import Response, request
from flask_login import current_user

from app.audit.operations import record
from app.breakglass.queries import active_grant, in_own_scope


def record_view_under_grant(response: Response) -> Response:
    """A page of a case (any GET answered 200 whose route names ``case_id``) opened by a user
    who sees that case only through a running grant is recorded as ``break_glass.view``, every
    time, in the request's transaction: an error here fails the request, so nothing is shown
    that is not recorded. (``case.view`` is written as well, once per ten minutes.)"""
    if request.method != "GET" or response.status_code != 200:
        return response
    case_id = (request.view_args or {}).get("case_id")
    if not isinstance(case_id, int) or not current_user.is_authenticated:
        return response
    user = current_user._get_current_object()
    grant = active_grant(user, case_id)
    if grant is None or in_own_scope(user, case_id):
        return response
    record(
        user,
        "break_glass.view",
        "case",
        case_id,
        {"grant": grant.id, "endpoint": request.endpoint, "path": request.path[:500]},
    )
    return response
