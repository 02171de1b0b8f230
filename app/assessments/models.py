"""One assessment per victim, with one finding per area (physical … spiritual)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, enum_type, utcnow
from app.core.encryption import EncryptedText
from app.core.enums import AssessmentArea, NeedLevel
from app.extensions import Model

if TYPE_CHECKING:
    from app.auth.models import User
    from app.cases.models import Case, Victim


class Assessment(Model):
    """The biopsikososial assessment of one victim of a case.

    It is edited while the case is at the assessment stage; ``completed_at`` is set when the
    person completing it has given every area a level and a summary. The case's
    ``assessment_completed_at`` follows: set when every victim's assessment is complete.
    """

    __tablename__ = "assessments"
    __table_args__ = (
        sa.CheckConstraint(
            "(completed_at IS NULL) = (completed_by_id IS NULL)", name="completed_by_whom"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    victim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("victims.id", ondelete="CASCADE"), unique=True
    )
    # health, psychological and social findings: specific personal data, encrypted at rest
    summary: Mapped[str | None] = mapped_column(EncryptedText("assessments.summary"))
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship()
    victim: Mapped[Victim] = relationship()
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    findings: Mapped[list[AssessmentFinding]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="AssessmentFinding.id"
    )

    __mapper_args__ = {"version_id_col": version}

    def finding(self, area: AssessmentArea | str) -> AssessmentFinding | None:
        return next((f for f in self.findings if f.area == area), None)


class AssessmentFinding(Model):
    """What the assessment found in one area: the needs, the risks and how pressing they are."""

    __tablename__ = "assessment_findings"
    __table_args__ = (sa.UniqueConstraint("assessment_id", "area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    area: Mapped[AssessmentArea] = mapped_column(enum_type(AssessmentArea, "assessment_area"))
    level: Mapped[NeedLevel | None] = mapped_column(enum_type(NeedLevel, "need_level"))
    needs: Mapped[str | None] = mapped_column(EncryptedText("assessment_findings.needs"))
    risks: Mapped[str | None] = mapped_column(EncryptedText("assessment_findings.risks"))

    assessment: Mapped[Assessment] = relationship(back_populates="findings")
