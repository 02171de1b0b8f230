"""Users and their role grants (domain.md §1.2)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, enum_type, utcnow
from app.core.encryption import EncryptedText
from app.core.enums import Role
from app.core.permissions import permissions_for_roles
from app.extensions import Model

if TYPE_CHECKING:
    from app.agencies.models import Agency, SubTaskForce


class User(Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("locale IS NULL OR locale IN ('id', 'en')", name="locale_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    # Bumped whenever existing sessions must end (disable, password change): the session id
    # carries it, so an old cookie no longer loads the user.
    session_generation: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Consecutive failed sign-in steps (password or code); reset on a complete sign-in. At the
    # threshold the account is locked until ``locked_until``. Both are written with plain UPDATE
    # statements (app.auth.lockout), outside the version counter: concurrent failures must
    # count, not conflict.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # TOTP second factor (RFC 6238). The secret (base32) is kept while enrolment is pending;
    # the factor is in force once ``totp_enabled_at`` is set. ``totp_last_step`` is the time
    # step of the last code accepted: a code is accepted once, and never an older one.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("users.totp_secret"))
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    version: Mapped[int] = mapped_column(default=1)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        foreign_keys="RoleGrant.user_id",
        order_by="RoleGrant.id",
    )
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RecoveryCode.id"
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<User {self.id}>"

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation}"

    # Roles and permissions
    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(g.role for g in self.grants)

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_for_roles(self.role_set) if self.active else frozenset()

    def has_permission(self, permission: str) -> bool:
        return permission in self.permissions

    def permissions_at(self, agency_id: int | None) -> frozenset[str]:
        """The permissions of the roles held at one agency (none when inactive)."""
        if not self.active or agency_id is None:
            return frozenset()
        return permissions_for_roles(g.role for g in self.grants if g.agency_id == agency_id)

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None and self.totp_secret is not None

    def agencies_with(self, *roles: Role) -> list[Agency]:
        return [g.agency for g in self.grants if g.role in roles and g.agency is not None]


class RoleGrant(Model):
    """A role held at one agency, or (Sub GT coordinators) at one Sub GT."""

    __tablename__ = "role_grants"
    __table_args__ = (
        sa.CheckConstraint(
            "(role = 'koordinator_subgt' AND sub_task_force_id IS NOT NULL AND agency_id IS NULL)"
            " OR (role <> 'koordinator_subgt' AND agency_id IS NOT NULL"
            " AND sub_task_force_id IS NULL)",
            name="scope_matches_role",
        ),
        sa.UniqueConstraint("user_id", "role", "agency_id"),
        sa.UniqueConstraint("user_id", "role", "sub_task_force_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    agency_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    sub_task_force_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sub_task_forces.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])
    agency: Mapped[Agency | None] = relationship()
    sub_task_force: Mapped[SubTaskForce | None] = relationship()


class RecoveryCode(Model):
    """A single-use recovery code for the second factor, kept only as a salted SHA-256 hash
    (the codes are random, 50 bits each, so a slow hash adds nothing)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="recovery_codes")
