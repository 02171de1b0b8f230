"""Who may set a follow-up on a case: whoever works on it (its case manager, a supervisor of its
agency, the intake officer of a complaint nobody manages yet), while the case is open."""

from __future__ import annotations

from app.auth.models import User
from app.cases.models import Case
from app.cases.permissions import can_edit_case
from app.core.enums import CaseState

ENDED = frozenset({CaseState.DRAFT, CaseState.TERMINASI, CaseState.DITUTUP, CaseState.DILIMPAHKAN})


def can_follow_up(user: User, case: Case) -> bool:
    return case.state not in ENDED and can_edit_case(user, case)
