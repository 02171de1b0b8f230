"""The read side of cases, always scoped to what the user may see (need-to-know).

* supervisor — every case of the agency;
* manajer_kasus — cases they manage, and complaints they registered that nobody manages yet;
* petugas_pengaduan — complaints they registered, until a case manager is assigned.
Other roles see no case through these queries (referrals and the Sub GT board come later with
their own, narrower views). Anything outside the scope is answered as not found.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import selectinload

from app.cases.intake import JAKARTA
from app.cases.models import Case, CaseTypeEntry, Person, Victim, VictimViolenceType
from app.core.crypto import name_dob_index, name_index, nik_index
from app.core.enums import CaseState, Role
from app.extensions import db


def scope_condition(user: Any) -> Any:
    clauses = []
    for grant in user.grants:
        if grant.agency_id is None:
            continue
        if grant.role is Role.SUPERVISOR:
            clauses.append(Case.agency_id == grant.agency_id)
        elif grant.role is Role.MANAJER_KASUS:
            clauses.append(
                and_(
                    Case.agency_id == grant.agency_id,
                    or_(
                        Case.case_manager_id == user.id,
                        and_(Case.case_manager_id.is_(None), Case.registered_by_id == user.id),
                    ),
                )
            )
        elif grant.role is Role.PETUGAS_PENGADUAN:
            clauses.append(
                and_(
                    Case.agency_id == grant.agency_id,
                    Case.case_manager_id.is_(None),
                    Case.registered_by_id == user.id,
                )
            )
    return or_(*clauses) if clauses else false()


def cases_visible_to(user: Any) -> Select[tuple[Case]]:
    return select(Case).where(scope_condition(user))


def get_case_for(user: Any, case_id: int) -> Case | None:
    """The case, or None when it does not exist or the user may not see it."""
    return db.session.scalar(
        cases_visible_to(user)
        .where(Case.id == case_id)
        .options(
            selectinload(Case.victims), selectinload(Case.perpetrators), selectinload(Case.types)
        )
    )


@dataclass
class CaseFilters:
    state: str | None = None
    case_type: str | None = None
    risk: str | None = None
    violence_type: str | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    case_manager_id: int | None = None
    search: str | None = None
    sort: str = "-received_at"


SORTS = {
    "received_at": Case.received_at.asc(),
    "-received_at": Case.received_at.desc(),
    "reference": Case.reference.asc(),
    "-reference": Case.reference.desc(),
    "risk": Case.risk.asc(),
    "state": Case.state.asc(),
}


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=JAKARTA).astimezone(dt.UTC)


def list_cases_for(user: Any, filters: CaseFilters) -> Select[tuple[Case]]:
    query = cases_visible_to(user)
    if filters.state:
        query = query.where(Case.state == filters.state)
    if filters.case_type:
        query = query.where(
            Case.id.in_(
                select(CaseTypeEntry.case_id).where(CaseTypeEntry.type == filters.case_type)
            )
        )
    if filters.risk:
        query = query.where(Case.risk == filters.risk)
    if filters.violence_type:
        query = query.where(
            Case.id.in_(
                select(Victim.case_id)
                .join(VictimViolenceType)
                .where(VictimViolenceType.type == filters.violence_type)
            )
        )
    if filters.received_from:
        query = query.where(Case.received_at >= _day_start(filters.received_from))
    if filters.received_to:
        query = query.where(
            Case.received_at < _day_start(filters.received_to + dt.timedelta(days=1))
        )
    if filters.case_manager_id:
        query = query.where(Case.case_manager_id == filters.case_manager_id)
    if filters.search:
        term = filters.search.strip()
        query = query.where(
            or_(
                Case.reference.ilike(f"%{term}%"),
                Case.id.in_(select(Victim.case_id).where(Victim.name_index == name_index(term))),
            )
        )
    order = SORTS.get(filters.sort, SORTS["-received_at"])
    return query.order_by(order, Case.id.desc())


@dataclass
class DuplicateHit:
    case: Case
    victim: Victim
    person_id: int | None
    matched_on: str  # "nik" or "name_dob"


def find_duplicates(
    agency_id: int,
    *,
    name: str | None,
    birth_date: dt.date | None,
    nik: str | None,
    exclude_case_id: int | None = None,
) -> list[DuplicateHit]:
    """Cases of the agency where the same person (NIK, or normalised name + birth date) is a
    victim. The agency's own intake staff may be told the reference even when the case is not in
    their own scope: the duplicate check is there to stop a second file for one person."""
    conditions = []
    if nik:
        conditions.append(("nik", Victim.nik_index == nik_index(nik)))
    if name and birth_date:
        conditions.append(
            (
                "name_dob",
                and_(Victim.name_index == name_index(name), Victim.birth_date == birth_date),
            )
        )
    hits: list[DuplicateHit] = []
    seen: set[int] = set()
    for matched_on, condition in conditions:
        query = (
            select(Victim)
            .join(Case)
            .where(Case.agency_id == agency_id, condition, Case.state != CaseState.DRAFT)
            .order_by(Case.received_at.desc())
        )
        if exclude_case_id:
            query = query.where(Case.id != exclude_case_id)
        for victim in db.session.scalars(query):
            if victim.id not in seen:
                seen.add(victim.id)
                hits.append(DuplicateHit(victim.case, victim, victim.person_id, matched_on))
    return hits


def person_for_linking(agency_id: int, person_id: int) -> Person | None:
    person = db.session.get(Person, person_id)
    return person if person is not None and person.agency_id == agency_id else None


__all__ = ["name_dob_index"]
