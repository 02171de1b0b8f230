"""Referrals (rujukan) between agencies, their append-only events, and the Sub GT's
coordination notes."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, enum_type, utcnow
from app.core.db_roles import APP_ACCESS, APPEND_ONLY
from app.core.encryption import EncryptedText
from app.core.enums import ReferralState
from app.extensions import Model, db

if TYPE_CHECKING:
    from app.agencies.models import Agency, SubTaskForce
    from app.auth.models import User
    from app.cases.models import Attachment, Case
    from app.services.models import ServiceTrack


class Referral(Model):
    """One referral of a service track to a provider agency.

    Its state follows the ``referral`` workflow (``workflows/referral_v1.py``); each step also
    moves the track through the engine. What the receiver may see is fixed when it is sent:
    ``share_identity``, ``share_incident`` (the sender's ``incident_summary``, never the case's
    chronology), ``share_assessment`` and the attachments in ``referral_attachments``. At most
    one referral of a track is open (not ended) at a time.
    """

    __tablename__ = "referrals"
    __table_args__ = (
        sa.CheckConstraint("from_agency_id <> to_agency_id", name="to_another_agency"),
        sa.CheckConstraint(
            "state <> 'ditolak' OR decline_reason IS NOT NULL", name="declined_with_reason"
        ),
        sa.CheckConstraint(
            "state <> 'selesai' OR outcome IS NOT NULL", name="completed_with_outcome"
        ),
        sa.CheckConstraint(
            "state <> 'ditarik' OR withdraw_reason IS NOT NULL", name="withdrawn_with_reason"
        ),
        sa.CheckConstraint("state = 'draf' OR sent_at IS NOT NULL", name="sent_unless_draft"),
        sa.CheckConstraint(
            "consent_entry_id IS NOT NULL OR override_reason IS NOT NULL OR state = 'draf'",
            name="consent_or_override",
        ),
        sa.Index(
            "uq_referrals_one_open_per_track",
            "track_id",
            unique=True,
            postgresql_where=sa.text("state IN ('draf', 'dikirim', 'diterima', 'berjalan')"),
            sqlite_where=sa.text("state IN ('draf', 'dikirim', 'diterima', 'berjalan')"),
        ),
        sa.Index("ix_referrals_to_agency_state", "to_agency_id", "state"),
        # the referrals sent in a period (indicator rollups, their referral figures):
        # docs/scaling.md "Indexes and their query plans — rollup"
        sa.Index("ix_referrals_sent_at", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    track_id: Mapped[int] = mapped_column(
        sa.ForeignKey("service_tracks.id", ondelete="RESTRICT"), index=True
    )
    from_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id", ondelete="RESTRICT"))
    to_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id", ondelete="RESTRICT"))
    state: Mapped[ReferralState] = mapped_column(
        enum_type(ReferralState, "referral_state"), default=ReferralState.DRAF
    )
    message: Mapped[str | None] = mapped_column(EncryptedText("referrals.message"))
    # what happened, in the sender's words for this receiver (shared with the incident section);
    # never the case's chronology, which speaks of the whole case and often of other people
    incident_summary: Mapped[str | None] = mapped_column(
        EncryptedText("referrals.incident_summary")
    )
    share_identity: Mapped[bool] = mapped_column(default=False)
    share_incident: Mapped[bool] = mapped_column(default=False)
    share_assessment: Mapped[bool] = mapped_column(default=False)
    # the consent in force when it was sent (rujukan:<agency code>), or a supervisor's override
    consent_entry_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("consent_entries.id", ondelete="RESTRICT")
    )
    override_reason: Mapped[str | None] = mapped_column(EncryptedText("referrals.override_reason"))
    override_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )

    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(EncryptedText("referrals.decline_reason"))
    outcome: Mapped[str | None] = mapped_column(EncryptedText("referrals.outcome"))
    withdraw_reason: Mapped[str | None] = mapped_column(EncryptedText("referrals.withdraw_reason"))
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship()
    track: Mapped[ServiceTrack] = relationship()
    from_agency: Mapped[Agency] = relationship(foreign_keys=[from_agency_id])
    to_agency: Mapped[Agency] = relationship(foreign_keys=[to_agency_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    attachments: Mapped[list[Attachment]] = relationship(
        secondary="referral_attachments", order_by="Attachment.id"
    )
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id", viewonly=True
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.state in (
            ReferralState.DIKIRIM,
            ReferralState.DITERIMA,
            ReferralState.BERJALAN,
        )


referral_attachments = sa.Table(
    "referral_attachments",
    db.metadata,
    sa.Column("referral_id", sa.ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "attachment_id", sa.ForeignKey("attachments.id", ondelete="RESTRICT"), primary_key=True
    ),
)


class ReferralEvent(Model):
    """Something that happened to a referral: a step (``kind`` = the event), a progress note
    (``note``) or the receiver opening it (``opened``). Rows are only ever inserted."""

    __tablename__ = "referral_events"
    # the database refuses UPDATE, DELETE and TRUNCATE (migration 21bb479f935a)
    __table_args__ = ({"info": {APP_ACCESS: APPEND_ONLY}},)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        sa.ForeignKey("referrals.id", ondelete="RESTRICT"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    from_state: Mapped[str | None] = mapped_column(sa.String(20))
    to_state: Mapped[str | None] = mapped_column(sa.String(20))
    text: Mapped[str | None] = mapped_column(EncryptedText("referral_events.text"))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    referral: Mapped[Referral] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    agency: Mapped[Agency | None] = relationship()


class CoordinationNote(Model):
    """A Sub GT coordinator's note on a service track (never about a person's identity);
    ``escalated`` notes told the supervisors of the agencies involved. Append-only."""

    __tablename__ = "coordination_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    sub_task_force_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sub_task_forces.id", ondelete="RESTRICT"), index=True
    )
    track_id: Mapped[int] = mapped_column(
        sa.ForeignKey("service_tracks.id", ondelete="RESTRICT"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(EncryptedText("coordination_notes.body"))
    escalated: Mapped[bool] = mapped_column(default=False)

    sub_task_force: Mapped[SubTaskForce] = relationship()
    track: Mapped[ServiceTrack] = relationship()
    author: Mapped[User | None] = relationship()
