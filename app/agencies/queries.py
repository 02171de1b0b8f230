"""The read side of agencies and task forces."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.agencies.models import Agency, SubTaskForce, TaskForce
from app.core.labels import label
from app.extensions import db
from app.regions.models import Region


def get_agency_by_code(code: str) -> Agency | None:
    return db.session.scalar(select(Agency).where(Agency.code == code))


def agency_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(select(Agency.id, Agency.code, Agency.name).order_by(Agency.code))
    return [(str(row.id), f"{row.code} — {row.name}") for row in rows]


def sub_task_force_choices() -> list[tuple[str, str]]:
    rows = db.session.scalars(
        select(SubTaskForce)
        .join(SubTaskForce.task_force)
        .join(TaskForce.region)
        .options(joinedload(SubTaskForce.task_force).joinedload(TaskForce.region))
        .order_by(Region.code, SubTaskForce.id)
    )
    return [(str(s.id), f"{s.task_force.region.code} — {label(s.key)}") for s in rows]


def get_sub_task_force(region_code: str, key: str) -> SubTaskForce | None:
    return db.session.scalar(
        select(SubTaskForce)
        .join(SubTaskForce.task_force)
        .join(TaskForce.region)
        .where(Region.code == region_code, SubTaskForce.key == key)
    )
