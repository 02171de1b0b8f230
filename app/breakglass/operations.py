"""Asking for break-the-glass access. Called by the view inside the request's transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask import has_request_context, request

from app.audit.operations import record
from app.auth.grants import supervisors_of
from app.auth.models import User
from app.breakglass.models import BreakGlassAttempt
from app.breakglass.queries import active_grant, in_own_scope
from app.cases.models import BreakGlassGrant, Case
from app.core.db import utcnow
from app.core.enums import CaseState
from app.core.errors import DomainError
from app.core.i18n import lazy_gettext as _l
from app.extensions import db
from app.notifications.operations import notify

GRANT_DURATION = dt.timedelta(hours=3)
MIN_REASON_LENGTH = 20
MAX_REASON_LENGTH = 2000
NOTIFICATION_KIND = "break_glass_used"


@dataclass(frozen=True)
class Outcome:
    """What came of a request. ``case_id``: the case the user may now open (None: nothing to
    open — an unknown reference, told apart from nothing else). ``grant``: the grant written by
    this request (None when the case was already open to the user)."""

    case_id: int | None
    grant: BreakGlassGrant | None = None


def _clean_reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if len(text) < MIN_REASON_LENGTH:
        raise DomainError(
            _l("Write the reason in at least %(min)d characters.", min=MIN_REASON_LENGTH),
            field="reason",
        )
    if len(text) > MAX_REASON_LENGTH:
        raise DomainError(
            _l("Keep the reason under %(max)d characters.", max=MAX_REASON_LENGTH), field="reason"
        )
    return text


def _client_ip() -> str | None:
    if not has_request_context() or not request.remote_addr:
        return None
    return request.remote_addr[:45]


def _case_by_reference(reference: str) -> Case | None:
    """A registered case by its reference (any letter case); a draft has none and is never
    found."""
    wanted = {reference, reference.upper()}
    return db.session.scalar(
        sa.select(Case).where(Case.reference.in_(wanted), Case.state != CaseState.DRAFT)
    )


def request_access(
    user: User, reference: str, reason: str, *, now: dt.datetime | None = None
) -> Outcome:
    """Open the case named ``reference`` to ``user`` read-only for ``GRANT_DURATION``.

    The reason is checked first, whatever the reference. An unknown reference writes no grant:
    the attempt is kept (``BreakGlassAttempt``, reference and reason encrypted), recorded
    (``break_glass.no_match``, with its id) and the caller answers as neutrally as for any other
    outcome. A case already in the user's scope, or already opened by a grant still running, is
    simply opened again: no new grant. Otherwise the grant is written, recorded
    (``break_glass.grant``, with the grant's id — never the reason) and the supervisors of the
    case's agency are notified, all in the caller's transaction."""
    text = _clean_reason(reason)
    reference = " ".join((reference or "").split())[:60]
    case = _case_by_reference(reference) if reference else None
    if case is None:
        # the reason — and the reference typed, which may be a name — are kept encrypted on the
        # attempt; the audit entry (plaintext, hash-chained, never erased) holds its id only
        attempt = BreakGlassAttempt(
            user_id=user.id,
            reference=reference or "-",
            reason=text,
            at=now or utcnow(),
            ip=_client_ip(),
        )
        db.session.add(attempt)
        db.session.flush()
        record(
            user, "break_glass.no_match", "break_glass_attempt", attempt.id, {"attempt": attempt.id}
        )
        return Outcome(case_id=None)
    if in_own_scope(user, case.id) or active_grant(user, case.id) is not None:
        return Outcome(case_id=case.id)

    granted_at = now or utcnow()
    grant = BreakGlassGrant(
        user_id=user.id,
        case_id=case.id,
        reason=text,
        granted_at=granted_at,
        expires_at=granted_at + GRANT_DURATION,
        ip=_client_ip(),
    )
    db.session.add(grant)
    db.session.flush()
    record(  # the reason stays encrypted on the grant: the audit log is plaintext and permanent
        user,
        "break_glass.grant",
        "case",
        case.id,
        {
            "grant": grant.id,
            "reference": case.reference,
            "expires_at": grant.expires_at.isoformat(),
        },
    )
    for supervisor in supervisors_of(case.agency_id):
        if supervisor.id != user.id:
            notify(
                supervisor,
                NOTIFICATION_KIND,
                case_id=case.id,
                reference=case.reference,
                key=f"break_glass:{grant.id}",
            )
    return Outcome(case_id=case.id, grant=grant)
