"""A step refused on the case page: the page is shown again (422) with the refusal beside the
step, through the case page's registry (``app.cases.page.render_case_page``) — the casework
panel reads ``workflow_error`` from it. Used by the routes of the steps posted from that page
(the workflow's, the referrals')."""

from __future__ import annotations

from app.cases.models import Case
from app.cases.page import render_case_page
from app.core.errors import DomainError
from app.core.forms import Form, field_error
from app.core.i18n import gettext as _

PageResponse = tuple[str, int]


def form_errors(form: Form) -> str:
    """The form's own errors as one sentence (field label: errors), or that it expired."""
    return " ".join(
        f"{getattr(form, name).label.text}: {' '.join(str(e) for e in errors)}"
        for name, errors in form.errors.items()
        if name != "csrf_token"
    ) or _("The form has expired. Reload the page and try again.")


def refused_on_case_page(
    case: Case, where: str, form: Form, error: DomainError | None = None
) -> PageResponse:
    """Show the case page again (422) with the refusal at ``where`` (an event, ``plan``,
    ``track-<id>-<event>``, ``transfer`` or ``assign``): the operation's ``error`` goes on the
    form field it names (``field_error``) and its message beside the step; without one, the
    form's own errors are the reason. The request's writes are not kept (the operations ran
    ``all_or_nothing``; the commit point rolls back a 422)."""
    if error is not None:
        field_error(form, error)
        message = str(error.message)
    else:
        message = form_errors(form)
    return render_case_page(
        case, status=422, workflow_error={"where": where, "message": message, "form": form}
    )
