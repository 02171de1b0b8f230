"""The write side of agencies and task forces: the only code that changes them.

Every function checks its rules first (raising ``DomainError`` with a translatable message and
the form field it belongs to), then changes state, flushes and writes the audit entry. None of
them commits: the request, the CLI command or the task that called them does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.agencies.models import Agency, AgencyService, SubTaskForce, SubTaskForceMember, TaskForce
from app.agencies.queries import (
    TASK_FORCE_LEVELS,
    agency_may_join,
    get_agency_by_code,
    get_task_force_for_region,
)
from app.audit.operations import SystemActor, record
from app.core.db import IdPool, model_diff, utcnow
from app.core.enums import AgencyType, ServiceType, SubTaskForceKey
from app.core.errors import DomainError
from app.core.i18n import lazy_gettext as _l
from app.extensions import db
from app.regions.models import Region
from app.regions.queries import get_region_by_code

if TYPE_CHECKING:
    from app.auth.models import User

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
NAME_MAX = 200


# --- checks ---------------------------------------------------------------------------------


def _check_code(code: str) -> str:
    code = (code or "").strip()
    if not code:
        raise DomainError(_l("Enter the agency code."), field="code")
    if not CODE_RE.match(code):
        raise DomainError(
            _l(
                "The agency code %(code)s is not valid: use 2 to 40 capital letters, digits and "
                "dashes, starting with a letter or digit (e.g. UPTDPPA-3273).",
                code=repr(code),
            ),
            field="code",
        )
    return code


def _check_name(name: str, *, field: str = "name") -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_l("Enter a name."), field=field)
    if len(name) > NAME_MAX:
        raise DomainError(
            _l("The name must be at most %(n)d characters long.", n=NAME_MAX), field=field
        )
    return name


def _check_type(value: AgencyType | str) -> AgencyType:
    try:
        return AgencyType(value)
    except ValueError:
        raise DomainError(
            _l("Unknown agency type %(value)s.", value=repr(str(value))), field="type"
        ) from None


class ImportBook:
    """What one file of ``flask agencies import`` reads, read once: the regions and the agencies
    (with their services) by code, kept up to date as the rows are applied. New agencies take
    their ids from the sequence (``IdPool``), so the file is written together at its end
    (``write_batch``: the new rows inserted table by table), its audit entries sealed together."""

    def __init__(self) -> None:
        with db.session.no_autoflush:
            self.regions: dict[str, Region] = {
                r.code: r for r in db.session.scalars(select(Region))
            }
            self.agencies: dict[str, Agency] = {
                a.code: a
                for a in db.session.scalars(
                    select(Agency).options(selectinload(Agency.services), joinedload(Agency.region))
                )
            }
        self.ids = IdPool(db.session)


def _check_region(region: Region | str | None, book: ImportBook | None = None) -> Region:
    if isinstance(region, Region):
        return region
    code = (region or "").strip()
    if not code:
        raise DomainError(_l("Enter the region's Kemendagri code."), field="region")
    found = book.regions.get(code) if book is not None else get_region_by_code(code)
    if found is None:
        raise DomainError(
            _l("There is no region with the code %(code)s.", code=repr(code)), field="region"
        )
    return found


def _check_services(services: Iterable[ServiceType | str] | None) -> list[ServiceType]:
    """The service types, validated, without duplicates, in the order given."""
    result: list[ServiceType] = []
    for value in services or []:
        try:
            service_type = ServiceType(value)
        except ValueError:
            raise DomainError(
                _l("Unknown service type %(value)s.", value=repr(str(value))), field="services"
            ) from None
        if service_type not in result:
            result.append(service_type)
    return result


def _snapshot(agency: Agency) -> dict[str, Any]:
    return {
        "code": agency.code,
        "name": agency.name,
        "type": agency.type.value if agency.type else None,
        "region": agency.region.code if agency.region else None,
        "services": sorted(s.service_type.value for s in agency.services),
        "active": agency.active,
    }


def _sync_services(agency: Agency, wanted: list[ServiceType]) -> None:
    """Make the agency's service rows exactly ``wanted`` (keeping rows that stay)."""
    for row in list(agency.services):
        if row.service_type not in wanted:
            agency.services.remove(row)
    present = {row.service_type for row in agency.services}
    for service_type in wanted:
        if service_type not in present:
            agency.services.append(AgencyService(service_type=service_type))


def _flush_checking_version() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise DomainError(_STALE) from None


_STALE = _l(
    "Someone else changed this agency while you were editing. Reload the page and try again."
)


def _apply(
    agency: Agency,
    *,
    name: str,
    type_: AgencyType,
    region: Region,
    services: list[ServiceType],
    active: bool,
    actor: User | SystemActor,
    flush: bool = True,
) -> bool:
    """Set the fields of an existing agency; audit and return True when anything changed.
    ``flush=False`` (an import's book): the version is checked when the file is written."""
    before = _snapshot(agency)
    agency.name = name
    agency.type = type_
    agency.region = region
    agency.active = active
    _sync_services(agency, services)
    after = _snapshot(agency)
    changes = model_diff(before, after)
    if not changes:
        return False
    # Also when only the service rows changed: bump the agency's version so that a concurrent
    # edit of the services is caught like any other.
    agency.updated_at = utcnow()
    if flush:
        _flush_checking_version()
    record(actor, "agency.update", "agency", agency.id, changes)
    return True


def _create(
    code: str,
    *,
    name: str,
    type_: AgencyType,
    region: Region,
    services: list[ServiceType],
    actor: User | SystemActor,
    book: ImportBook | None = None,
) -> Agency:
    agency = Agency(code=code, name=name, type=type_, region=region, active=True)
    for service_type in services:
        agency.services.append(AgencyService(service_type=service_type))
    db.session.add(agency)
    if book is None:
        db.session.flush()
    else:
        book.ids.give(agency)
        book.agencies[code] = agency
    record(actor, "agency.create", "agency", agency.id, _snapshot(agency))
    return agency


# --- agencies -------------------------------------------------------------------------------


def upsert_agency(
    code: str,
    name: str,
    type: AgencyType | str,
    region_code: str,
    services: Iterable[ServiceType | str],
    *,
    actor: User | SystemActor,
    book: ImportBook | None = None,
) -> tuple[Agency, str]:
    """Create the agency ``code`` or bring it in line with the given values (imports).

    Returns the agency and ``"created"``, ``"updated"`` or ``"unchanged"``. The agency's
    services become exactly ``services``; whether it is active is left as it is. ``book``: the
    look-ups of a whole file (``flask agencies import``), read once.
    """
    code = _check_code(code)
    name = _check_name(name)
    type_ = _check_type(type)
    region = _check_region(region_code, book)
    wanted = _check_services(services)
    agency = book.agencies.get(code) if book is not None else get_agency_by_code(code)
    if agency is None:
        return _create(
            code, name=name, type_=type_, region=region, services=wanted, actor=actor, book=book
        ), "created"
    changed = _apply(
        agency,
        name=name,
        type_=type_,
        region=region,
        services=wanted,
        active=agency.active,
        actor=actor,
        flush=book is None,
    )
    return agency, "updated" if changed else "unchanged"


def create_agency(
    code: str,
    name: str,
    type: AgencyType | str,
    region: Region | str,
    services: Iterable[ServiceType | str],
    *,
    actor: User | SystemActor,
) -> Agency:
    """A new agency (admin form); refused when the code is already taken."""
    code = _check_code(code)
    name = _check_name(name)
    type_ = _check_type(type)
    region_obj = _check_region(region)
    wanted = _check_services(services)
    if get_agency_by_code(code) is not None:
        raise DomainError(
            _l("Another agency already has the code %(code)s.", code=code), field="code"
        )
    return _create(code, name=name, type_=type_, region=region_obj, services=wanted, actor=actor)


def update_agency(
    agency: Agency,
    *,
    name: str,
    type: AgencyType | str,
    region: Region | str,
    services: Iterable[ServiceType | str],
    active: bool,
    expected_version: int,
    actor: User | SystemActor,
) -> Agency:
    """Save the admin form of an agency. The code never changes (cases carry it in their
    references). Agencies are deactivated, never deleted: history refers to them."""
    if agency.version != expected_version:
        raise DomainError(_STALE)
    name = _check_name(name)
    type_ = _check_type(type)
    region_obj = _check_region(region)
    wanted = _check_services(services)
    # in a savepoint: a concurrent change found at the flush (refused) leaves the agency as
    # stored, and the session usable for the page that shows the refusal
    with db.session.begin_nested():
        _apply(
            agency,
            name=name,
            type_=type_,
            region=region_obj,
            services=wanted,
            active=bool(active),
            actor=actor,
        )
    return agency


# --- task forces ----------------------------------------------------------------------------


def create_task_force(
    region: Region | str, *, name: str | None = None, actor: User | SystemActor
) -> TaskForce:
    """The GT P2TPPO of a kabupaten/kota or province, with its six Sub GTs."""
    region_obj = _check_region(region)
    if region_obj.level not in TASK_FORCE_LEVELS:
        raise DomainError(
            _l("A task force (GT P2TPPO) is formed for a province or a regency/city only."),
            field="region",
        )
    if get_task_force_for_region(region_obj) is not None:
        raise DomainError(
            _l("%(region)s already has a task force.", region=region_obj.label), field="region"
        )
    name = _check_name(name) if name and name.strip() else f"GT P2TPPO {region_obj.name}"[:NAME_MAX]
    task_force = TaskForce(region=region_obj, name=name)
    for key in SubTaskForceKey:
        task_force.sub_task_forces.append(SubTaskForce(key=key))
    db.session.add(task_force)
    db.session.flush()
    record(
        actor,
        "task_force.create",
        "task_force",
        task_force.id,
        {
            "region": region_obj.code,
            "name": name,
            "sub_task_forces": [s.key.value for s in task_force.sub_task_forces],
        },
    )
    return task_force


def _member_row(sub_task_force: SubTaskForce, agency: Agency) -> SubTaskForceMember | None:
    return next((m for m in sub_task_force.members if m.agency_id == agency.id), None)


def add_member(
    sub_task_force: SubTaskForce, agency: Agency, *, actor: User | SystemActor
) -> SubTaskForceMember:
    """Make ``agency`` a member of the Sub GT.

    The agency must be located in the task force's region or a region under it, unless it is
    of national or abroad reach (Indonesian missions, LPSK, BP2MI, immigration).
    """
    task_force = sub_task_force.task_force
    if not agency.active:
        raise DomainError(
            _l("%(agency)s is deactivated and cannot join a Sub GT.", agency=agency.code),
            field="agency",
        )
    if not agency_may_join(agency, task_force):
        raise DomainError(
            _l(
                "%(agency)s is located in %(agency_region)s, outside %(region)s: only agencies "
                "of the task force's region (and national or overseas agencies) may join.",
                agency=agency.code,
                agency_region=agency.region.label,
                region=task_force.region.label,
            ),
            field="agency",
        )
    if _member_row(sub_task_force, agency) is not None:
        raise DomainError(
            _l("%(agency)s is already a member of this Sub GT.", agency=agency.code),
            field="agency",
        )
    member = SubTaskForceMember(agency=agency)
    sub_task_force.members.append(member)
    db.session.flush()
    record(
        actor,
        "sub_task_force.add_member",
        "sub_task_force",
        sub_task_force.id,
        {
            "task_force": task_force.region.code,
            "key": sub_task_force.key.value,
            "agency": agency.code,
        },
    )
    return member


def remove_member(
    sub_task_force: SubTaskForce, agency: Agency, *, actor: User | SystemActor
) -> None:
    member = _member_row(sub_task_force, agency)
    if member is None:
        raise DomainError(
            _l("%(agency)s is not a member of this Sub GT.", agency=agency.code), field="agency"
        )
    sub_task_force.members.remove(member)
    if member in agency.memberships:
        agency.memberships.remove(member)
    db.session.flush()
    record(
        actor,
        "sub_task_force.remove_member",
        "sub_task_force",
        sub_task_force.id,
        {
            "task_force": sub_task_force.task_force.region.code,
            "key": sub_task_force.key.value,
            "agency": agency.code,
        },
    )
