"""Follow-ups (tindak lanjut): a date a user sets themselves to come back to a case or one of
its service tracks, with an optional short note; done or cancelled, never deleted."""

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
    from app.services.models import ServiceTrack

NOTE_MAX = 200

OPEN = "done_at IS NULL AND cancelled_at IS NULL"
"""A follow-up neither done nor cancelled."""


class FollowUp(Model):
    """A follow-up ``user_id`` scheduled on ``case_id`` (and ``track_id``) for ``due_on`` (a day
    in Asia/Jakarta). ``reminded_at``: when the reminder went out (once, on the day)."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        sa.CheckConstraint("done_at IS NULL OR cancelled_at IS NULL", name="done_or_cancelled"),
        # "Tugas saya" and the home counters: a user's open follow-ups up to a day
        sa.Index(
            "ix_follow_ups_user_open_due",
            "user_id",
            "due_on",
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        ),
        # the reminder job: the open follow-ups due by today not reminded yet
        sa.Index(
            "ix_follow_ups_to_remind",
            "due_on",
            postgresql_where=sa.text(f"{OPEN} AND reminded_at IS NULL"),
            sqlite_where=sa.text(f"{OPEN} AND reminded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    track_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("service_tracks.id", ondelete="RESTRICT"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    due_on: Mapped[dt.date]
    # free text about a case: encrypted like every note, never put in a notification or e-mail
    note: Mapped[str | None] = mapped_column(EncryptedText("follow_ups.note"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship()
    track: Mapped[ServiceTrack | None] = relationship()
    user: Mapped[User] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.done_at is None and self.cancelled_at is None
