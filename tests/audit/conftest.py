"""Helpers of the audit tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.extensions import db


def bypass_triggers() -> None:
    """As a superuser, in this (rolled-back) transaction only: skip the append-only triggers,
    the way an attacker holding the database would."""
    db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))


def raw(sql: str, **params: Any) -> Any:
    return db.session.execute(sa.text(sql), params)
