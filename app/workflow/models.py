"""The append-only history of case and service-track states."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, enum_type, utcnow
from app.core.db_roles import APP_ACCESS, APPEND_ONLY
from app.core.encryption import EncryptedJSON, EncryptedText
from app.core.enums import TransferState
from app.extensions import Model

if TYPE_CHECKING:
    from app.agencies.models import Agency
    from app.auth.models import User
    from app.cases.models import Case
    from app.services.models import ServiceTrack


class CaseTransition(Model):
    """One change of state of a case (``track_id`` NULL) or of one of its service tracks.

    ``kind`` is ``workflow`` for a transition made in the application and ``import`` for history
    brought in by ``flask cases import``. Rows are only ever inserted: the database refuses
    anything else (migration 21bb479f935a; the application's role may only insert).
    """

    __tablename__ = "case_transitions"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('workflow', 'import')", name="kind_known"),
        {"info": {APP_ACCESS: APPEND_ONLY}},
    )

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
    reason: Mapped[str | None] = mapped_column(EncryptedText("case_transitions.reason"))
    # approvals, a track's outcome in words, a transfer's target: encrypted as a whole
    data: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("case_transitions.data"), default=dict
    )

    actor: Mapped[User | None] = relationship()
    # a case registered in the same flush has no id yet when its first row is written
    case: Mapped[Case] = relationship(foreign_keys=[case_id])
    # likewise a track an import's batch writes with its first row (engine.import_tracks)
    track: Mapped[ServiceTrack | None] = relationship(foreign_keys=[track_id])


class CaseTransfer(Model):
    """A request to hand a case over to another agency (*pelimpahan*, domain.md §4).

    The receiving agency sees the request (reference, case types, risk, the reason; no person)
    and accepts or declines it. On acceptance the case moves to ``dilimpahkan`` and the receiving
    agency gets a case of its own (``new_case_id``, channel ``pelimpahan_masuk``) with the same
    people; the sending agency keeps read access to the case it wrote. One open request per case.
    """

    __tablename__ = "case_transfers"
    __table_args__ = (
        sa.CheckConstraint("from_agency_id <> to_agency_id", name="to_another_agency"),
        sa.CheckConstraint(
            "(state = 'menunggu') = (decided_at IS NULL)", name="decided_unless_waiting"
        ),
        sa.CheckConstraint("state <> 'diterima' OR new_case_id IS NOT NULL", name="accepted_case"),
        sa.Index(
            "uq_case_transfers_one_open",
            "case_id",
            unique=True,
            postgresql_where=sa.text("state = 'menunggu'"),
            sqlite_where=sa.text("state = 'menunggu'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    from_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id", ondelete="RESTRICT"))
    to_agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    state: Mapped[TransferState] = mapped_column(
        enum_type(TransferState, "transfer_state"), default=TransferState.MENUNGGU
    )
    reason: Mapped[str] = mapped_column(EncryptedText("case_transfers.reason"))
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(
        EncryptedText("case_transfers.decision_reason")
    )
    new_case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship(foreign_keys=[case_id])
    new_case: Mapped[Case | None] = relationship(foreign_keys=[new_case_id])
    from_agency: Mapped[Agency] = relationship(foreign_keys=[from_agency_id])
    to_agency: Mapped[Agency] = relationship(foreign_keys=[to_agency_id])
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}
