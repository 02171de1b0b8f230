"""A break-the-glass grant: who opened which case outside their scope, why, and until when; and
a request that named no case. The reasons (and a reference typed in vain, which may be a name)
are encrypted here and only here: the audit log records the grant's or the attempt's id."""

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
    from app.cases.models import Case


class BreakGlassGrant(Model):
    """Read-only access of one user to one case until ``expires_at``. Rows are never changed —
    but for the reason, emptied when the identity of a victim of the case is erased: an expired
    grant stays as the record of the access (the audit log holds its id)."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (
        sa.Index("ix_break_glass_grants_user_expires", "user_id", "expires_at"),
        sa.Index("ix_break_glass_grants_case", "case_id"),
        sa.Index("ix_break_glass_grants_granted_at", "granted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(EncryptedText("break_glass_grants.reason"))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(sa.String(45))

    user: Mapped[User] = relationship(lazy="joined")
    case: Mapped[Case] = relationship(lazy="joined")


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
