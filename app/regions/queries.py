"""The read side of regions and population."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.regions.models import Region


def get_region_by_code(code: str) -> Region | None:
    return db.session.scalar(select(Region).where(Region.code == code))
