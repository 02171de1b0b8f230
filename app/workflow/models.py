"""The append-only history of case and service-track states."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User


class CaseTransition(db.Model):
    """One change of state of a case (``track_id`` NULL) or of one of its service tracks.

    ``kind`` is ``workflow`` for a transition made in the application and ``import`` for history
    brought in by ``flask cases import``. Rows are only ever inserted.
    """

    __tablename__ = "case_transitions"
    __table_args__ = (sa.CheckConstraint("kind IN ('workflow', 'import')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    track_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("service_tracks.id", ondelete="RESTRICT"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    actor_label: Mapped[str] = mapped_column(sa.String(40), default="user")
    kind: Mapped[str] = mapped_column(sa.String(10), default="workflow")
    event: Mapped[str] = mapped_column(sa.String(60))
    from_state: Mapped[str | None] = mapped_column(sa.String(40))
    to_state: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str | None] = mapped_column(sa.String(1000))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship()
