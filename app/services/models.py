"""Service tracks (domain.md §3.1): one per victim and planned service type, each with its own
state, running in parallel."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, enum_type, utcnow
from app.core.encryption import EncryptedText
from app.core.enums import AgencyType, ServiceType, TrackState
from app.extensions import Model

if TYPE_CHECKING:
    from app.agencies.models import Agency
    from app.cases.models import Case, Victim

# The version of the ``track`` workflow a track planned now follows.
TRACK_WORKFLOW_VERSION = 2


class ServiceTrack(Model):
    __tablename__ = "service_tracks"
    __table_args__ = (
        sa.UniqueConstraint("victim_id", "service_type"),
        sa.CheckConstraint(
            "(state IN ('selesai', 'ditolak_korban', 'tidak_tersedia', 'dibatalkan'))"
            " = (ended_at IS NOT NULL)",
            name="ended_iff_ended_at",
        ),
        sa.CheckConstraint(
            "started_at IS NULL OR ended_at IS NULL OR ended_at >= started_at",
            name="ends_after_start",
        ),
        # the Sub GT board reads the open tracks of its services with a member provider: of a
        # provider's tracks over the years, few are open
        sa.Index(
            "ix_service_tracks_provider_open",
            "provider_id",
            "service_type",
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    victim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("victims.id", ondelete="CASCADE"), index=True
    )
    service_type: Mapped[ServiceType] = mapped_column(enum_type(ServiceType, "track_service_type"))
    provider_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    state: Mapped[TrackState] = mapped_column(enum_type(TrackState, "track_state"))
    # the version of the ``track`` workflow the track follows (pinned when it is planned)
    workflow_version: Mapped[int] = mapped_column(
        default=TRACK_WORKFLOW_VERSION, server_default="1"
    )
    target_date: Mapped[dt.date | None]
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(EncryptedText("service_tracks.end_reason"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # when the track entered the intervention plan: the indicators count it as planned from then
    # (domain.md §6.1); an imported history sets it from the record, never the import time
    planned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship()
    victim: Mapped[Victim] = relationship()
    provider: Mapped[Agency | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_shelter(self) -> bool:
        """The track says where the victim is sheltered: temporary shelter, or any service at a
        safe house (domain.md §3.3: only its own staff and the people working on the case may
        know the shelter)."""
        return self.service_type is ServiceType.PENAMPUNGAN_SEMENTARA or (
            self.provider is not None and self.provider.type is AgencyType.RUMAH_AMAN
        )
