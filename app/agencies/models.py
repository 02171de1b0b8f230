"""Agencies (lembaga), the services they provide, and the TPPO task force with its Sub GTs."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, enum_type, utcnow
from app.core.enums import AgencyType, ServiceType, SubTaskForceKey
from app.extensions import Model

if TYPE_CHECKING:
    from app.regions.models import Region


class Agency(Model):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[AgencyType] = mapped_column(enum_type(AgencyType, "agency_type"))
    region_id: Mapped[int] = mapped_column(
        sa.ForeignKey("regions.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    region: Mapped[Region] = relationship()
    services: Mapped[list[AgencyService]] = relationship(
        back_populates="agency", cascade="all, delete-orphan", order_by="AgencyService.service_type"
    )
    memberships: Mapped[list[SubTaskForceMember]] = relationship(
        back_populates="agency", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"

    @property
    def service_types(self) -> list[ServiceType]:
        return [s.service_type for s in self.services]

    def provides(self, service_type: ServiceType) -> bool:
        return service_type in self.service_types


class AgencyService(Model):
    """A service type an agency declares it provides; referrals go only to such agencies."""

    __tablename__ = "agency_services"

    agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True
    )
    service_type: Mapped[ServiceType] = mapped_column(
        enum_type(ServiceType, "service_type"), primary_key=True
    )

    agency: Mapped[Agency] = relationship(back_populates="services")


class TaskForce(Model):
    """Gugus Tugas Pencegahan dan Penanganan TPPO of one kabupaten/kota or province."""

    __tablename__ = "task_forces"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(
        sa.ForeignKey("regions.id", ondelete="RESTRICT"), unique=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region] = relationship()
    sub_task_forces: Mapped[list[SubTaskForce]] = relationship(
        back_populates="task_force", cascade="all, delete-orphan", order_by="SubTaskForce.id"
    )


class SubTaskForce(Model):
    __tablename__ = "sub_task_forces"
    __table_args__ = (sa.UniqueConstraint("task_force_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_force_id: Mapped[int] = mapped_column(
        sa.ForeignKey("task_forces.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[SubTaskForceKey] = mapped_column(enum_type(SubTaskForceKey, "sub_task_force_key"))

    task_force: Mapped[TaskForce] = relationship(back_populates="sub_task_forces")
    members: Mapped[list[SubTaskForceMember]] = relationship(
        back_populates="sub_task_force", cascade="all, delete-orphan"
    )

    @property
    def region_code(self) -> str:
        return self.task_force.region.code


class SubTaskForceMember(Model):
    __tablename__ = "sub_task_force_members"

    sub_task_force_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sub_task_forces.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    sub_task_force: Mapped[SubTaskForce] = relationship(back_populates="members")
    agency: Mapped[Agency] = relationship(back_populates="memberships")
