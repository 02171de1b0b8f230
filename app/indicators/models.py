"""Indicators (domain.md §6): definitions as versioned data, computed values, period closes,
revisions after a close, yearly targets, and report jobs."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, utcnow
from app.extensions import Model

if TYPE_CHECKING:
    from app.auth.models import User
    from app.regions.models import Region


class IndicatorDefinition(Model):
    """One version of an indicator's definition. A released version is never changed: a new
    version gets a new row with its own ``valid_from``."""

    __tablename__ = "indicator_definitions"
    __table_args__ = (
        sa.UniqueConstraint("code", "version"),
        sa.CheckConstraint("direction IN ('higher', 'lower', 'none')", name="direction_known"),
        sa.CheckConstraint("scale > 0", name="scale_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(80), index=True)
    version: Mapped[int] = mapped_column(default=1)
    name_id: Mapped[str] = mapped_column(sa.String(300))
    name_en: Mapped[str] = mapped_column(sa.String(300))
    numerator: Mapped[str] = mapped_column(sa.String(300))  # what is counted, in words
    denominator: Mapped[str | None] = mapped_column(sa.String(300))
    scale: Mapped[int] = mapped_column(default=1)  # 1 = a count, 100 = %, 100000 = per 100.000
    unit: Mapped[str] = mapped_column(sa.String(40))
    direction: Mapped[str] = mapped_column(sa.String(10))
    group: Mapped[str] = mapped_column(sa.String(40))  # perempuan, anak, perempuan_anak, semua
    rounding: Mapped[int] = mapped_column(default=2)  # decimal places, half-up
    valid_from: Mapped[dt.date]
    method: Mapped[str] = mapped_column(sa.String(60))  # which computation (see compute.py)
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    headline: Mapped[bool] = mapped_column(default=False)


class IndicatorValue(Model):
    """The value of one indicator (definition version) for one region and period, and one
    breakdown category (``""`` for the whole). Numerator and denominator are stored exactly; the
    value is derived from them. ``numerator`` NULL: not computable, ``reason`` says why."""

    __tablename__ = "indicator_values"
    __table_args__ = (
        # region_id NULL is the national value: NULLs are not distinct here
        sa.UniqueConstraint(
            "definition_id",
            "region_id",
            "period",
            "breakdown",
            postgresql_nulls_not_distinct=True,
        ),
        sa.Index("ix_indicator_values_region_period", "region_id", "period"),
        # a period's values of every region (the national rollup reads them to compare):
        # docs/scaling.md "Indexes and their query plans — rollup"
        sa.Index("ix_indicator_values_period", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("indicator_definitions.id", ondelete="RESTRICT"), index=True
    )
    region_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("regions.id", ondelete="RESTRICT")
    )  # NULL: national
    period: Mapped[str] = mapped_column(sa.String(10))  # 2025, 2025-S1, 2025-Q3, 2025-07
    breakdown: Mapped[str] = mapped_column(sa.String(80), default="")
    numerator: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(20, 4))
    denominator: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(20, 4))
    reason: Mapped[str | None] = mapped_column(sa.String(300))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    definition: Mapped[IndicatorDefinition] = relationship()
    region: Mapped[Region | None] = relationship()


class ReferralFigure(Model):
    """The referral figures of one receiving agency for one period (``referrals.metrics``, by
    agency), stored at rollup so that the dashboard reads them instead of counting referrals.
    The decline rate is derived from ``declined`` and ``accepted``; the median is stored as
    ``referral_metrics`` gives it (hours, half-up to 2 places; NULL: none accepted)."""

    __tablename__ = "indicator_referral_figures"
    __table_args__ = (sa.UniqueConstraint("period", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(10))
    agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    sent: Mapped[int]
    accepted: Mapped[int]
    declined: Mapped[int]
    overdue: Mapped[int]
    median_hours: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(20, 2))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PeriodClose(Model):
    """A data officer closed a period for a region: its values are frozen; later corrections
    are revisions."""

    __tablename__ = "period_closes"
    __table_args__ = (
        sa.UniqueConstraint("region_id", "period", postgresql_nulls_not_distinct=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regions.id", ondelete="RESTRICT"))
    period: Mapped[str] = mapped_column(sa.String(10))
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))

    region: Mapped[Region | None] = relationship()
    closed_by: Mapped[User | None] = relationship()


class IndicatorRevision(Model):
    """A correction of a closed value: the new numerator and denominator, the difference, who
    and why. The original value row stays as it was; the latest revision is the current
    figure. Rows are only ever inserted."""

    __tablename__ = "indicator_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    value_id: Mapped[int] = mapped_column(
        sa.ForeignKey("indicator_values.id", ondelete="RESTRICT"), index=True
    )
    numerator: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(20, 4))
    denominator: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(20, 4))
    reason_null: Mapped[str | None] = mapped_column(sa.String(300))  # why no value, if none
    why: Mapped[str] = mapped_column(sa.String(1000))
    revised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revised_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )

    value: Mapped[IndicatorValue] = relationship()
    revised_by: Mapped[User | None] = relationship()


class IndicatorTarget(Model):
    """The yearly target of an indicator for a region (``value`` in the indicator's unit)."""

    __tablename__ = "indicator_targets"
    __table_args__ = (sa.UniqueConstraint("code", "region_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(80))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id", ondelete="RESTRICT"))
    year: Mapped[int]
    value: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(20, 4))
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region] = relationship()


class ReportJob(Model):
    """A monthly report generated in the background (XLSX or PDF), with its progress."""

    __tablename__ = "report_jobs"
    __table_args__ = (
        sa.CheckConstraint("format IN ('xlsx', 'pdf')", name="format_known"),
        sa.CheckConstraint(
            "state IN ('antre', 'berjalan', 'selesai', 'gagal')", name="state_known"
        ),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default="report")  # report | rollup
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regions.id", ondelete="RESTRICT"))
    period: Mapped[str] = mapped_column(sa.String(10))
    format: Mapped[str] = mapped_column(sa.String(10), default="xlsx")
    state: Mapped[str] = mapped_column(sa.String(10), default="antre")
    progress: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(sa.String(500))
    stored_name: Mapped[str | None] = mapped_column(sa.String(80))
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the last sign of life of the worker running it (each progress step); None: never started
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    region: Mapped[Region | None] = relationship()
    requested_by: Mapped[User | None] = relationship()

    @property
    def finished(self) -> bool:
        return self.state in ("selesai", "gagal")

    def stalled(self, now: dt.datetime, after: dt.timedelta) -> bool:
        """Queued or running, with no sign of life for ``after``: its worker died or never came
        (a restarted embedded server forgets the jobs it had queued)."""
        if self.finished:
            return False
        last = self.heartbeat_at or self.requested_at
        return last is not None and now - last > after

    def shown_state(self, now: dt.datetime, after: dt.timedelta) -> str:
        """The state a page shows: the stored one, or ``macet`` (stalled)."""
        return "macet" if self.stalled(now, after) else self.state
