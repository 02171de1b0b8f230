"""Who may work on data quality: the data officers (analis_data) and supervisors of an agency."""

from __future__ import annotations

from app.auth.grants import agencies_where
from app.auth.models import User
from app.cases.models import Case

REVIEW = "quality:review"
"""Held by the analis_data and the supervisors of an agency (domain.md §7)."""


def quality_agency_ids(user: User) -> set[int]:
    """The agencies whose cases ``user`` checks and verifies."""
    return agencies_where(user, REVIEW)


def can_verify_case(user: User, case: Case) -> bool:
    return case.agency_id in quality_agency_ids(user)
