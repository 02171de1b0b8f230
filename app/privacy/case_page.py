"""What privacy adds to the case page (``app.cases.page``): a restricted victim's identity only
for the case manager and the supervisors, and the way to a victim's data-subject rights."""

from __future__ import annotations

from flask import url_for

from app.cases.page import Link, PageView, Section, register_identity_rule, register_section
from app.cases.permissions import may_supervise
from app.core.enums import CaseState
from app.core.i18n import gettext as _
from app.privacy.queries import may_see_identity


def rights_section(view: PageView) -> Section | None:
    """A button on each victim's card, for the agency's supervisors once the case is
    registered."""
    case = view.case
    if case.state == CaseState.DRAFT or not may_supervise(view.user, case):
        return None
    text = _("Data-subject rights")
    return Section(
        victim_links={
            v.id: Link(url_for("privacy.page", case_id=case.id, victim_id=v.id), text)
            for v in case.victims
        }
    )


def register_sections() -> None:
    register_identity_rule("privacy.restriction", may_see_identity)
    register_section("privacy.rights", 25, rights_section)
