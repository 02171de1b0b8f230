"""Who may change a victim's assessment: the case manager or a supervisor (``may_manage``),
while the case is at the assessment stage. Whoever sees the case reads it."""

from __future__ import annotations

from app.auth.models import User
from app.cases.models import Case
from app.cases.permissions import may_manage
from app.core.enums import CaseState


def can_edit_assessment(user: User, case: Case) -> bool:
    return case.state is CaseState.ASESMEN and may_manage(user, case)
