"""Verifying a case (domain.md §7): the only code here that changes state."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy.orm.exc import StaleDataError

from app.audit.operations import record
from app.cases.models import Case
from app.cases.operations import ConflictError
from app.core.db import utcnow
from app.core.enums import CaseState, VerificationStatus
from app.core.errors import DomainError
from app.core.i18n import lazy_gettext as _l
from app.extensions import db
from app.quality.checks import blocking_issues
from app.quality.permissions import can_verify_case

if TYPE_CHECKING:
    from app.auth.models import User

_CASE_CHANGED = _l(
    "Someone else changed this case in the meantime. Nothing was saved: reload the page and try "
    "again."
)


def verify_case(
    case: Case, *, actor: User, expected_version: int, now: dt.datetime | None = None
) -> Case:
    """Mark a registered case verified (``terverifikasi``) by an analis_data or supervisor of
    its agency. Refused while it has completeness or validity issues; a late entry or a possible
    duplicate does not block. Editing the case later leaves it verified (the queue lists such
    cases again when they have issues)."""
    if not can_verify_case(actor, case):
        raise DomainError(
            _l("Only a data officer or a supervisor of the case's agency may verify it.")
        )
    if case.state is CaseState.DRAFT:
        raise DomainError(_l("A draft cannot be verified: it is not registered yet."))
    if case.version != expected_version:
        raise ConflictError(_CASE_CHANGED, changes={})
    if case.verification is VerificationStatus.TERVERIFIKASI:
        raise DomainError(_l("This case is already verified."))
    now = now or utcnow()
    issues = blocking_issues(case, now=now)
    if issues:
        raise DomainError(
            _l(
                "The case cannot be verified while it has completeness or validity issues "
                "(%(n)d): fix them in the case first.",
                n=len(issues),
            )
        )
    before = case.verification
    # in a savepoint, so a concurrent save leaves the request's session usable
    savepoint = db.session.begin_nested()
    case.verification = VerificationStatus.TERVERIFIKASI
    case.verified_at = now
    case.verified_by_id = actor.id
    try:
        db.session.flush()
    except StaleDataError:
        savepoint.rollback()
        raise ConflictError(_CASE_CHANGED, changes={}) from None
    savepoint.commit()
    record(
        actor,
        "case.verify",
        "case",
        case.id,
        {"verification": [before.value, case.verification.value], "verified_at": now},
    )
    return case
