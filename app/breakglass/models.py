"""A break-the-glass request that named no case. The grant itself (who opened which case outside
their scope, why, and until when) is part of the case's access rules: ``app.cases.models.
BreakGlassGrant``, which the case scope reads. The reasons (and a reference typed in vain, which
may be a name) are encrypted in those two tables only: the audit log records the id."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, utcnow
from app.core.encryption import EncryptedText
from app.extensions import Model

if TYPE_CHECKING:
    from app.auth.models import User


class BreakGlassAttempt(Model):
    """A request for break-the-glass access whose reference named no case: who, when, from where,
    the reference typed and the reason given, for the requester's agency's weekly review."""

    __tablename__ = "break_glass_attempts"
    __table_args__ = (
        sa.Index("ix_break_glass_attempts_user_at", "user_id", "at"),
        sa.Index("ix_break_glass_attempts_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reference: Mapped[str] = mapped_column(EncryptedText("break_glass_attempts.reference"))
    reason: Mapped[str] = mapped_column(EncryptedText("break_glass_attempts.reason"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(sa.String(45))

    user: Mapped[User] = relationship(lazy="joined")
