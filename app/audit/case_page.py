"""What the audit trail adds to the case page (``app.cases.page``): for the supervisors of the
case's agency, the way to who has seen the case."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from app.cases.page import Link, PageView, Section, register_section
from app.core.enums import CaseState

SUPERVISE = "cases:supervise"


def access_section(view: PageView) -> Section | None:
    case = view.case
    if case.state == CaseState.DRAFT or SUPERVISE not in view.user.permissions_at(case.agency_id):
        return None
    return Section(
        links=(Link(url_for("audit.case_access", case_id=case.id), _("Who has seen this case")),)
    )


def register_sections() -> None:
    register_section("audit.access", 15, access_section)
