"""A break-the-glass grant: who opened which case outside their scope, why, and until when."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, utcnow
from app.core.encryption import EncryptedText
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User
    from app.cases.models import Case


class BreakGlassGrant(db.Model):
    """Read-only access of one user to one case until ``expires_at``. Rows are never changed:
    an expired grant stays as the record of the access (and the audit log holds it too)."""

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
