"""A data subject's requests, the restrictions of a victim's identity and the erasures done."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, enum_type, utcnow
from app.core.db_roles import APP_ACCESS, APPEND_ONLY
from app.core.encryption import EncryptedText
from app.extensions import Model

if TYPE_CHECKING:
    from app.auth.models import User
    from app.cases.models import Case, Victim


class RequestKind(enum.StrEnum):
    AKSES = "akses"  # a copy of the data held (export)
    PEMBATASAN = "pembatasan"  # restriction of processing
    PENGHAPUSAN = "penghapusan"  # erasure


class RequestOutcome(enum.StrEnum):
    DIPENUHI = "dipenuhi"  # done
    DITOLAK = "ditolak"  # refused, with the reason


class ErasureBasis(enum.StrEnum):
    PERMINTAAN = "permintaan"  # a data-subject request
    RETENSI = "retensi"  # the retention period ended


class DataSubjectRequest(Model):
    """A request of the person behind ``victim`` (all of that person's victim rows in the
    agency when the victim is linked to a ``Person``). ``requester`` says who asked and how,
    without more identity than needed ("korban sendiri, datang langsung")."""

    __tablename__ = "data_subject_requests"
    __table_args__ = (
        sa.CheckConstraint("(decided_at IS NULL) = (outcome IS NULL)", name="decided_iff_outcome"),
        sa.CheckConstraint("outcome IS NULL OR reason IS NOT NULL", name="decided_with_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    victim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("victims.id", ondelete="RESTRICT"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("persons.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[RequestKind] = mapped_column(enum_type(RequestKind, "data_request_kind"))
    requester: Mapped[str] = mapped_column(EncryptedText("data_subject_requests.requester"))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    deadline_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("deadlines.id", ondelete="RESTRICT")
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    outcome: Mapped[RequestOutcome | None] = mapped_column(
        enum_type(RequestOutcome, "data_request_outcome")
    )
    reason: Mapped[str | None] = mapped_column(EncryptedText("data_subject_requests.reason"))

    case: Mapped[Case] = relationship()
    victim: Mapped[Victim] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def is_open(self) -> bool:
        return self.decided_at is None


class VictimRestriction(Model):
    """The victim's identity is restricted from ``restricted_at`` until ``lifted_at``: left out
    of the indicators, shown only to the case manager and the agency's supervisors."""

    __tablename__ = "victim_restrictions"
    __table_args__ = (
        sa.CheckConstraint(
            "(lifted_at IS NULL) = (lifted_by_id IS NULL AND lift_reason IS NULL)",
            name="lifted_with_reason",
        ),
        sa.Index(
            "uq_victim_restrictions_one_active",
            "victim_id",
            unique=True,
            postgresql_where=sa.text("lifted_at IS NULL"),
            sqlite_where=sa.text("lifted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    victim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("victims.id", ondelete="RESTRICT"), index=True
    )
    request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("data_subject_requests.id", ondelete="RESTRICT")
    )
    restricted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    restricted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    lifted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    lift_reason: Mapped[str | None] = mapped_column(
        EncryptedText("victim_restrictions.lift_reason")
    )
    # the restriction of the same person in the case this one was transferred from: the
    # restriction follows the person to the agency that takes the case over
    carried_from_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("victim_restrictions.id", ondelete="RESTRICT")
    )

    victim: Mapped[Victim] = relationship()
    carried_from: Mapped[VictimRestriction | None] = relationship(
        remote_side="VictimRestriction.id"
    )


class VictimErasure(Model):
    """The victim's identifying fields were erased at ``erased_at``; its statistical fields
    (sex, age, types) and the case history stay."""

    __tablename__ = "victim_erasures"
    # an erasure is never undone; the consent ledger relies on it (consent_entries)
    __table_args__ = ({"info": {APP_ACCESS: APPEND_ONLY}},)

    id: Mapped[int] = mapped_column(primary_key=True)
    victim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("victims.id", ondelete="RESTRICT"), unique=True
    )
    basis: Mapped[ErasureBasis] = mapped_column(enum_type(ErasureBasis, "erasure_basis"))
    request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("data_subject_requests.id", ondelete="RESTRICT")
    )
    erased_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    erased_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
