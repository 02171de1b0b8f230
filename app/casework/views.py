"""The printable case summary (issue #17): a small form from the case page (the sections, the
child identities to reveal), answered with the PDF. Scoped as the case page is (a case outside
the user's scope: 404), made only within minutes of a sign-in or re-authentication (as the other
exports), audited as an export (``case.summary_export``, and a reveal per identity shown), and
counted per user against ``CASE_SUMMARY_RATE_LIMIT``. The PDF is made in memory per request and
never stored."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask import current_app, render_template
from flask_login import current_user

from app.auth.sessions import require_recent_auth
from app.cases.models import Case
from app.cases.routing import case_route
from app.casework import bp
from app.casework.forms import DEFAULT_SECTIONS, SummaryForm
from app.casework.operations import record_summary_export
from app.casework.summary import SECTION_KEYS, build_summary, revealable
from app.casework.summary_pdf import render_summary_pdf
from app.core import ratelimit
from app.core.db import utcnow
from app.core.i18n import gettext as _
from app.core.web import send_private_stream

if TYPE_CHECKING:
    from app.auth.models import User

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _form(user: User, case: Case, **kwargs: Any) -> SummaryForm:
    choices = [(str(v.id), f"{v.label} ({v.initials})") for v in revealable(user, case)]
    return SummaryForm(revealable=choices, **kwargs)


def _page(case: Case, form: SummaryForm, *, status: int = 200, error: str | None = None) -> Any:
    return (
        render_template("casework/summary.html", case=case, form=form, error=error),
        status,
    )


def download_name(case: Case) -> str:
    reference = _UNSAFE.sub("-", case.reference or str(case.id)).strip("-")
    return f"ringkasan-kasus-{reference}.pdf"


@bp.route("/kasus/<int:case_id>/ringkasan")
@case_route("cases:view_own")
def summary_form(case: Case) -> Any:
    form = _form(_me(), case, formdata=None)
    form.sections.data = list(DEFAULT_SECTIONS)
    return _page(case, form)


@bp.route("/kasus/<int:case_id>/ringkasan", methods=["POST"])
@case_route("cases:view_own")
@require_recent_auth()  # identities and a chronology leave the system on paper
def summary_pdf(case: Case) -> Any:
    user = _me()
    form = _form(user, case)
    if not form.validate_on_submit():
        return _page(case, form, status=422)
    limit = current_app.config["CASE_SUMMARY_RATE_LIMIT"]
    if not ratelimit.hit(limit, "case-summary", f"user:{user.id}"):
        error = _("You have printed many summaries in a short time. Try again later.")
        return _page(case, form, status=429, error=error)
    sections = [key for key in SECTION_KEYS if key in set(form.sections.data)]
    chosen = {int(v) for v in form.reveal.data or ()}
    revealed = [v for v in case.victims if v.id in chosen]
    now = utcnow()
    content = render_summary_pdf(
        build_summary(user, case, sections, revealed=frozenset(chosen), now=now)
    )
    record_summary_export(case, sections=sections, revealed=revealed, size=len(content), actor=user)
    return send_private_stream(
        [content], mimetype="application/pdf", download_name=download_name(case), size=len(content)
    )
