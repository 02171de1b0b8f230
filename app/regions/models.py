"""Regions (wilayah, Kemendagri codes) and population figures."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, enum_type, utcnow
from app.core.enums import RegionLevel, Sex
from app.extensions import Model

# Length of a Kemendagri code at each level: 32, 32.73, 32.73.01, 32.73.01.1001
CODE_LENGTH = {
    RegionLevel.PROVINSI: 2,
    RegionLevel.KABKOTA: 5,
    RegionLevel.KECAMATAN: 8,
    RegionLevel.DESA: 13,
}


class Region(Model):
    __tablename__ = "regions"
    __table_args__ = (
        sa.CheckConstraint(
            "(level = 'provinsi') = (parent_id IS NULL)", name="parent_unless_provinsi"
        ),
        sa.CheckConstraint(
            "(level = 'provinsi' AND length(code) = 2)"
            " OR (level = 'kabkota' AND length(code) = 5)"
            " OR (level = 'kecamatan' AND length(code) = 8)"
            " OR (level = 'desa' AND length(code) = 13)",
            name="code_length_matches_level",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(13), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[RegionLevel] = mapped_column(enum_type(RegionLevel, "region_level"))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("regions.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    parent: Mapped[Region | None] = relationship(remote_side="Region.id", back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent", order_by="Region.code")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Region {self.code}>"

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


class Population(Model):
    """Residents of a region in one year, by sex and age range (``age_to`` None = open-ended)."""

    __tablename__ = "population"
    __table_args__ = (
        sa.UniqueConstraint("region_id", "year", "sex", "age_from"),
        sa.CheckConstraint("count >= 0", name="count_not_negative"),
        sa.CheckConstraint("age_from >= 0 AND age_from <= 150", name="age_from_range"),
        sa.CheckConstraint("age_to IS NULL OR age_to >= age_from", name="age_to_after_from"),
        sa.CheckConstraint("year BETWEEN 1900 AND 2200", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(
        sa.ForeignKey("regions.id", ondelete="RESTRICT"), index=True
    )
    year: Mapped[int]
    sex: Mapped[Sex] = mapped_column(enum_type(Sex, "population_sex"))
    age_from: Mapped[int]
    age_to: Mapped[int | None]
    count: Mapped[int] = mapped_column(sa.BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship()

    @property
    def age_label(self) -> str:
        return f"{self.age_from}+" if self.age_to is None else f"{self.age_from}\u2013{self.age_to}"
