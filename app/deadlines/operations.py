"""Changing deadlines and agency standards. Called inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa

from app.audit.operations import record
from app.auth.models import User
from app.core.db import utcnow
from app.core.enums import CaseType, Role, ServiceType
from app.core.errors import DomainError
from app.core.i18n import lazy_gettext as _l
from app.deadlines.models import Deadline, DeadlineRule
from app.deadlines.rules import DEFAULT_RULES, FIRST_RESPONSE_BY_RISK, DeadlineCode, Rule
from app.extensions import db

if TYPE_CHECKING:
    from app.agencies.models import Agency
    from app.auth.models import User
    from app.cases.models import Case
    from app.services.models import ServiceTrack


def _code(code: DeadlineCode | str) -> DeadlineCode:
    try:
        return DeadlineCode(code)
    except ValueError:
        raise DomainError(_l("Unknown deadline rule %(code)s.", code=str(code))) from None


def effective_rule(code: DeadlineCode | str, agency: Agency | None) -> Rule:
    """The agency's own standard for ``code`` when it has one, else the national default.

    An override stricter than or equal to the default applies; a looser one applies only with the
    reason an admin gave (``set_agency_override`` never stores one without)."""
    default = DEFAULT_RULES[_code(code)]
    if agency is None or agency.id is None:
        return default
    override = db.session.scalar(
        sa.select(DeadlineRule).where(
            DeadlineRule.agency_id == agency.id, DeadlineRule.code == default.code
        )
    )
    if override is None or (override.limit > default.limit and not override.reason):
        return default
    return Rule(
        code=default.code,
        clock=default.clock,
        limit=override.limit,
        description=default.description,
        applies_to=default.applies_to,
        agency_id=agency.id,
        reason=override.reason,
    )


def set_agency_override(
    agency: Agency,
    code: DeadlineCode | str,
    limit: int,
    *,
    actor: User,
    reason: str | None = None,
) -> DeadlineRule:
    """Set ``agency``'s local standard for ``code`` (same clock as the national default).

    Stricter or equal: anyone calling this may. Looser: only an admin, and only with a reason."""
    default = DEFAULT_RULES[_code(code)]
    if limit <= 0:
        raise DomainError(_l("The limit must be greater than zero."), field="limit")
    reason = (reason or "").strip() or None
    if limit > default.limit:
        if Role.ADMIN not in actor.role_set:
            raise DomainError(
                _l("A local standard may only be stricter than or equal to the national one."),
                field="limit",
            )
        if reason is None:
            raise DomainError(
                _l("A standard looser than the national one needs a reason."),
                field="reason",
            )
    rule = db.session.scalar(
        sa.select(DeadlineRule).where(
            DeadlineRule.agency_id == agency.id, DeadlineRule.code == default.code
        )
    )
    before = {"limit": rule.limit, "reason": rule.reason} if rule else {}
    if rule is None:
        rule = DeadlineRule(agency_id=agency.id, code=default.code)
        db.session.add(rule)
    rule.limit = limit
    rule.reason = reason
    rule.created_by_id = actor.id
    rule.created_at = utcnow()
    db.session.flush()
    record(
        actor,
        "deadline_rule.set",
        "deadline_rule",
        rule.id,
        {
            "agency_id": agency.id,
            "code": default.code.value,
            "clock": default.clock.value,
            "default": default.limit,
            "limit": [before.get("limit"), limit],
            "reason": [before.get("reason"), reason],
        },
    )
    return rule


def open_deadline(
    code: DeadlineCode | str,
    *,
    case: Case,
    start: dt.datetime,
    agency: Agency,
    responsible_user: User | None = None,
    track: ServiceTrack | None = None,
) -> Deadline:
    """A new deadline for ``case`` under ``agency``'s effective rule, its clock started at
    ``start`` (timezone-aware)."""
    rule = effective_rule(code, agency)
    deadline = Deadline(
        code=rule.code,
        case_id=case.id,
        track_id=track.id if track is not None else None,
        started_at=start,
        due_at=rule.due_from(start),
        responsible_user_id=responsible_user.id if responsible_user is not None else None,
        responsible_agency_id=agency.id,
    )
    db.session.add(deadline)
    db.session.flush()
    return deadline


def meet_deadline(deadline: Deadline, at: dt.datetime) -> Deadline:
    """Record that the action was done at ``at``. In time: ``met_at``. Late: the miss is recorded
    (``missed_at``) and nobody is chased any more. Recording it again changes nothing."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given for a deadline")
    if deadline.completed_at is not None:
        return deadline
    deadline.completed_at = at
    if deadline.missed_at is None:
        if at <= deadline.due_at:
            deadline.met_at = at
        else:
            deadline.missed_at = deadline.due_at
    db.session.flush()
    return deadline


def deadlines_for_registration(case: Case, *, at: dt.datetime | None = None) -> list[Deadline]:
    """The deadlines a registered case starts with: the first response by its risk level and,
    for a ``tpks`` case, the report to the police — owned by the case's agency and its case
    manager, clocks started at ``at`` (now). Calling it again adds nothing already there."""
    if case.risk is None:
        raise DomainError(_l("A case without a risk level cannot be given deadlines yet."))

    start = at or utcnow()
    manager = db.session.get(User, case.case_manager_id) if case.case_manager_id else None
    codes = [FIRST_RESPONSE_BY_RISK[case.risk.value]]
    if CaseType.TPKS in case.case_types:
        codes.append(DeadlineCode.POLICE_REPORT_TPKS)
    existing = set(
        db.session.scalars(
            sa.select(Deadline.code).where(
                Deadline.case_id == case.id,
                Deadline.track_id.is_(None),
                Deadline.code.in_(codes),
            )
        )
    )
    return [
        open_deadline(
            code,
            case=case,
            start=start,
            agency=case.agency,
            responsible_user=manager,
        )
        for code in codes
        if code not in existing
    ]


def meet_first_response(case: Case, *, at: dt.datetime) -> list[Deadline]:
    """The case's open first-response deadline is done at ``at`` (the first step on the case)."""
    open_ones = db.session.scalars(
        sa.select(Deadline).where(
            Deadline.case_id == case.id,
            Deadline.track_id.is_(None),
            Deadline.completed_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.code.in_(list(FIRST_RESPONSE_BY_RISK.values())),
        )
    )
    return [meet_deadline(deadline, at) for deadline in open_ones]


def meet_open(
    case: Case,
    codes: Iterable[DeadlineCode],
    *,
    at: dt.datetime,
    track: ServiceTrack | None = None,
) -> list[Deadline]:
    """The case's open deadlines of ``codes`` (of ``track`` when given, else those of the case
    itself) are done at ``at``."""
    where = [
        Deadline.case_id == case.id,
        Deadline.completed_at.is_(None),
        Deadline.cancelled_at.is_(None),
        Deadline.code.in_(list(codes)),
    ]
    where.append(
        Deadline.track_id == track.id if track is not None else Deadline.track_id.is_(None)
    )
    return [meet_deadline(d, at) for d in db.session.scalars(sa.select(Deadline).where(*where))]


def cancel_open(
    case: Case,
    *,
    at: dt.datetime,
    track: ServiceTrack | None = None,
    codes: Iterable[DeadlineCode] | None = None,
) -> int:
    """Nobody is chased any more for what the case (or one of its tracks) still owed: the case
    was closed or transferred, the track ended, or (``codes``) one awaited answer is no longer
    awaited (a referral withdrawn). A deadline already missed keeps its miss; it is only no
    longer open."""
    where = [
        Deadline.case_id == case.id,
        Deadline.completed_at.is_(None),
        Deadline.cancelled_at.is_(None),
    ]
    if track is not None:
        where.append(Deadline.track_id == track.id)
    if codes is not None:
        where.append(Deadline.code.in_(list(codes)))
    open_ones = list(db.session.scalars(sa.select(Deadline).where(*where)))
    for deadline in open_ones:
        deadline.cancelled_at = at
    db.session.flush()
    return len(open_ones)


# TPPO services that must start within 7 days of the request (UU 21/2007 Pasal 52)
TPPO_TIMED_SERVICES = frozenset(
    {
        ServiceType.REHABILITASI_KESEHATAN,
        ServiceType.REHABILITASI_SOSIAL,
        ServiceType.PEMULANGAN,
        ServiceType.REINTEGRASI_SOSIAL,
    }
)


def deadlines_for_track(track: ServiceTrack, *, at: dt.datetime) -> list[Deadline]:
    """A planned service of a trafficking case that UU 21/2007 times (rehabilitation, return,
    reintegration) must start within 7 days of the request: the plan is the request. Owned by
    the case's agency and its case manager."""
    case = track.case
    if CaseType.TPPO not in case.case_types or track.service_type not in TPPO_TIMED_SERVICES:
        return []

    manager = db.session.get(User, case.case_manager_id) if case.case_manager_id else None
    return [
        open_deadline(
            DeadlineCode.TPPO_SERVICE_START,
            case=case,
            start=at,
            agency=case.agency,
            responsible_user=manager,
            track=track,
        )
    ]
