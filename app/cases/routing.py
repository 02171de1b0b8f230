"""``case_route``: the decorator every route about one case uses. It declares the route's
permission, loads the case once through the user's scope (``queries.get_case_for``) and, when
``can`` is given, checks the user may do this on this case. A case outside the scope and a
refused action both answer 404, so nothing is revealed."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from flask import abort
from flask_login import current_user

from app.cases import queries
from app.core.permissions import requires

if TYPE_CHECKING:
    from app.auth.models import User
    from app.cases.models import Case

P = ParamSpec("P")
R = TypeVar("R")

CasePredicate = Callable[["User", "Case"], bool]


def case_route(
    permission: str = "cases:view_own", *, can: CasePredicate | None = None, people: bool = True
) -> Callable[[Callable[Concatenate[Case, P], R]], Callable[..., R]]:
    """Decorate a view taking ``case`` (instead of the URL's ``case_id``)::

    @bp.route("/kasus/<int:case_id>/catatan", methods=["POST"])
    @case_route("cases:view_own", can=permissions.can_add_note)
    def add_note(case: Case) -> Response: ...

    ``people=False``: the case's victims and perpetrators are not read with it (a view that
    reads them itself, as the case page does with ``queries.load_people``).
    """

    def decorate(view: Callable[Concatenate[Case, P], R]) -> Callable[..., R]:
        @wraps(view)
        def load(*args: Any, case_id: int, **kwargs: Any) -> R:
            user = current_user._get_current_object()
            case = queries.get_case_for(user, case_id, people=people)
            if case is None or (can is not None and not can(user, case)):
                abort(404)
            return view(case, *args, **kwargs)

        return requires(permission)(load)

    return decorate
