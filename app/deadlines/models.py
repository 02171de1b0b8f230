"""Agency overrides of the service standards, and the deadlines themselves (domain.md §5)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, enum_type, utcnow
from app.deadlines.rules import FIRST_RESPONSE_BY_RISK, DeadlineCode
from app.extensions import Model

if TYPE_CHECKING:
    from app.agencies.models import Agency
    from app.auth.models import User
    from app.cases.models import Case
    from app.services.models import ServiceTrack

FIRST_RESPONSE_CODES = [code.value for code in FIRST_RESPONSE_BY_RISK.values()]
OPEN_FIRST_RESPONSE = (
    "track_id IS NULL AND completed_at IS NULL AND cancelled_at IS NULL AND code IN ({})".format(
        ", ".join(f"'{code}'" for code in FIRST_RESPONSE_CODES)
    )
)
"""A first-response deadline of a case that is neither done nor cancelled: a complaint still
waiting for its first response (the few rows of ``ix_deadlines_first_response_open``)."""


class DeadlineRule(Model):
    """One agency's local standard for one rule: only the limit differs from the national default
    (``app.deadlines.rules.DEFAULT_RULES``), on the default's clock. A limit looser than the
    default carries the admin's ``reason``."""

    __tablename__ = "deadline_rules"
    __table_args__ = (
        sa.UniqueConstraint("agency_id", "code"),
        sa.CheckConstraint('"limit" > 0', name="limit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[DeadlineCode] = mapped_column(enum_type(DeadlineCode, "deadline_rule_code"))
    limit: Mapped[int]
    reason: Mapped[str | None] = mapped_column(sa.String(1000))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship()
    created_by: Mapped[User | None] = relationship()


class Deadline(Model):
    """Something that must happen by ``due_at``.

    ``completed_at``: when the action was done (at any time). ``met_at``: done in time.
    ``missed_at``: the due time passed without it (set to ``due_at``), either by the periodic check
    or when the action is recorded late. ``notified_at`` / ``escalated_at``: when the periodic
    check told the responsible person / the agency's supervisors; each happens once.
    """

    __tablename__ = "deadlines"
    __table_args__ = (
        sa.CheckConstraint("met_at IS NULL OR missed_at IS NULL", name="not_met_and_missed"),
        sa.CheckConstraint(
            "met_at IS NULL OR completed_at IS NOT NULL", name="met_only_when_completed"
        ),
        sa.CheckConstraint(
            "notified_at IS NULL OR missed_at IS NOT NULL", name="notified_if_missed"
        ),
        sa.CheckConstraint(
            "escalated_at IS NULL OR missed_at IS NOT NULL", name="escalated_if_missed"
        ),
        sa.CheckConstraint(
            "cancelled_at IS NULL OR completed_at IS NULL", name="cancelled_or_completed"
        ),
        sa.Index("ix_deadlines_open_due", "completed_at", "due_at"),
        # the complaints still waiting for their first response: few rows, which the list's
        # overdue filter starts from and the overdue marks look up by case
        sa.Index(
            "ix_deadlines_first_response_open",
            "case_id",
            postgresql_where=sa.text(OPEN_FIRST_RESPONSE),
            sqlite_where=sa.text(OPEN_FIRST_RESPONSE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[DeadlineCode] = mapped_column(enum_type(DeadlineCode, "deadline_code"))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    track_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("service_tracks.id", ondelete="RESTRICT"), index=True
    )
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    responsible_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    responsible_agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    met_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    missed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # the case ended (closed, transferred) before the action was due: nobody is chased any more
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()
    track: Mapped[ServiceTrack | None] = relationship()
    responsible_user: Mapped[User | None] = relationship()
    responsible_agency: Mapped[Agency] = relationship()

    def __repr__(self) -> str:
        return f"<Deadline {self.id} {self.code} case={self.case_id} due={self.due_at}>"

    @property
    def is_open(self) -> bool:
        return self.completed_at is None and self.cancelled_at is None

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return self.is_open and self.due_at < (now or utcnow())
