"""The cross-cutting audit trail. Rows are only ever inserted.

Each entry is sealed: ``entry_hash`` is the SHA-256 of its fields and of the previous entry's
hash (a chain), ``hmac`` an HMAC-SHA256 of ``entry_hash`` with ``AUDIT_HMAC_KEY``, a key kept
outside the database. ``flask audit verify`` recomputes both. Entries written before the chain
existed keep NULL in the three columns. On PostgreSQL triggers refuse UPDATE, DELETE and
TRUNCATE of the table, for its owner as well, and the application's role may only read and
insert (see docs/security.md, "Audit log"); on SQLite triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, utcnow
from app.core.db_roles import APP_ACCESS, APPEND_ONLY
from app.extensions import Model


class AuditEntry(Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        sa.Index("ix_audit_entries_object", "object_type", "object_id"),
        # the sequence starts at 1: a row at 0 or below was written past the application
        sa.CheckConstraint("id > 0", name="id_positive"),
        {"info": {APP_ACCESS: APPEND_ONLY}},
    )

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # Who acted when there is no user row: "system", "cli", "import".
    actor_label: Mapped[str] = mapped_column(sa.String(40))
    action: Mapped[str] = mapped_column(sa.String(60))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[str] = mapped_column(sa.String(60))
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # The client address (behind PROXY_FIX_HOPS trusted proxies: the forwarded one).
    remote_addr: Mapped[str | None] = mapped_column(sa.String(45))
    # The seal: NULL only on entries written before the chain existed.
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    entry_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hmac: Mapped[str | None] = mapped_column(sa.String(64))
