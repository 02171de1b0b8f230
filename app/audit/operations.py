"""Writing the audit trail. Called by operations, inside their transaction.

Every entry is sealed when it is written to the database: it carries the hash of the entry
before it (``prev_hash``), the SHA-256 of its own fields and that hash (``entry_hash``) and an
HMAC of ``entry_hash`` with ``AUDIT_HMAC_KEY`` (``hmac``). The entries a flush writes are sealed
together, just before it, in the order they are inserted (``_seal_at_flush``): one chain lock and
one look-up of the chain's tail per flush, not per entry. On PostgreSQL appends are serialised by
a transaction-level advisory lock, held until the writing transaction ends, so two transactions
never chain onto the same previous entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac as hmac_lib
import json
import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.core.db import AnySession, insert_new, take_ids, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key of the audit chain: "SimpulAu" read as a big-endian integer.
CHAIN_LOCK_KEY = int.from_bytes(b"SimpulAu", "big")
# The previous hash of the first sealed entry.
GENESIS_HASH = "0" * 64
# The fields an entry's hash covers (with its prev_hash); the id is not among them — order is
# kept by the chain itself.
SEAL_VERSION = 1
# A flush sealing at least this many entries takes their ids from the sequence first (_seal_all).
BATCH_IDS_FROM = 50
# A user opening the same record again within this time is not recorded again.
VIEW_WINDOW = dt.timedelta(minutes=10)


class SystemActor:
    """The actor of work no person did directly (CLI imports, demo data, periodic tasks)."""

    id = None
    is_authenticated = False

    def __init__(self, label: str = "system") -> None:
        self.label = label


# --- the seal -------------------------------------------------------------------------------


# an entry read as a row (verification reads the columns, not the model)
EntryRow = Mapping[str, Any] | RowMapping


def _timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(entry: AuditEntry | EntryRow, prev_hash: str) -> bytes:
    """The canonical JSON an entry's hash is computed over."""

    # checked once: an ABC check per field cost as much as the hash
    mapping = entry if isinstance(entry, Mapping) else None

    def get(name: str) -> Any:
        return mapping[name] if mapping is not None else getattr(entry, name)

    document = {
        "v": SEAL_VERSION,
        "at": _timestamp(get("at")),
        "actor_id": get("actor_id"),
        "actor_label": get("actor_label"),
        "action": get("action"),
        "object_type": get("object_type"),
        "object_id": get("object_id"),
        "changes": get("changes") if get("changes") is not None else {},
        "remote_addr": get("remote_addr"),
        "prev_hash": prev_hash,
    }
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def compute_entry_hash(entry: AuditEntry | EntryRow, prev_hash: str) -> str:
    return hashlib.sha256(canonical_bytes(entry, prev_hash)).hexdigest()


def compute_hmac(entry_hash: str, key: str | None = None) -> str:
    secret = (key if key is not None else current_app.config["AUDIT_HMAC_KEY"]).encode("utf-8")
    return hmac_lib.new(secret, entry_hash.encode("ascii"), hashlib.sha256).hexdigest()


def _is_postgres(session: AnySession) -> bool:
    return session.get_bind(mapper=AuditEntry.__mapper__).dialect.name == "postgresql"


def chain_tail(session: AnySession) -> str:
    """Take the chain lock (PostgreSQL) and return the hash the next entry chains onto: the
    latest sealed entry by id, GENESIS_HASH when there is none. Entries of this transaction not
    yet written are not part of it: call it from a flush (``_seal_at_flush``), which writes them
    right after."""
    if _is_postgres(session):
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    with session.no_autoflush:
        tail = session.scalar(
            sa.select(AuditEntry.entry_hash)
            .where(AuditEntry.entry_hash.is_not(None))
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
    return tail or GENESIS_HASH


def _seal_all(session: AnySession, entries: list[AuditEntry], *, ids: bool = False) -> None:
    """Seal ``entries``, in the order they are about to be inserted, onto the chain's tail
    (``ids``: give them their ids whatever their number)."""
    prev_hash = chain_tail(session)
    if _is_postgres(session) and (ids or len(entries) >= BATCH_IDS_FROM):
        # a batch (an import): ids taken under the chain lock, in sealing order; the rows then go
        # in as one prepared statement sent many times (not INSERT … RETURNING over every row),
        # and each id still follows the entry its prev_hash names
        for entry, new_id in zip(
            entries, take_ids(session, AuditEntry.__table__, len(entries)), strict=True
        ):
            entry.id = new_id
    for entry in entries:
        entry.prev_hash = prev_hash
        entry.entry_hash = compute_entry_hash(entry, prev_hash)
        entry.hmac = compute_hmac(entry.entry_hash)
        prev_hash = entry.entry_hash


@sa.event.listens_for(Session, "before_flush")
def _seal_at_flush(session: Session, flush_context: Any, instances: Any) -> None:
    """Seal the new entries this flush writes, together. The unit of work inserts the rows of
    one table in the order they were added to the session (``insert_order``), so sealing them in
    that order makes each id follow the entry its ``prev_hash`` names."""
    _seal_new(session)


def _seal_new(session: AnySession, *, ids: bool = False) -> None:
    entries = [obj for obj in session.new if isinstance(obj, AuditEntry) and obj.entry_hash is None]
    if entries:
        entries.sort(key=lambda entry: sa.inspect(entry).insert_order or 0)
        _seal_all(session, entries, ids=ids)


def write_batch(session: AnySession) -> None:
    """Write what ``session`` holds of a batch of new rows (an import's): on PostgreSQL its new
    audit entries sealed now (as a flush would) and given their ids under the chain lock, then
    all the new rows — which have their ids already (``IdPool``, ``assign_ids``) — inserted
    table by table (``insert_new``), then what else changed flushed; elsewhere a flush."""
    if _is_postgres(session):
        _seal_new(session, ids=True)
        insert_new(session)
    session.flush()


def append_entries(session: AnySession, rows: list[dict[str, Any]]) -> None:
    """Seal and insert entries given as rows (``entry_row``; an import's batch, PostgreSQL):
    onto the chain's tail under the chain lock, their ids taken under it in sealing order, then
    inserted as one prepared statement sent many times. The same columns as ``write_batch``
    writes for entry objects."""
    if not rows:
        return
    prev_hash = chain_tail(session)
    secret = current_app.config["AUDIT_HMAC_KEY"]
    for row, new_id in zip(rows, take_ids(session, AuditEntry.__table__, len(rows)), strict=True):
        row["id"] = new_id
        row["prev_hash"] = prev_hash
        row["entry_hash"] = prev_hash = compute_entry_hash(row, prev_hash)
        row["hmac"] = compute_hmac(prev_hash, secret)
    session.connection().execute(AuditEntry.__table__.insert(), rows)


def entry_row(
    actor: User | SystemActor,
    action: str,
    object_type: str,
    object_id: object,
    changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The entry ``record`` would add, as a row to seal (``append_entries``)."""
    return {
        "at": utcnow(),
        "actor_id": actor.id,
        "actor_label": actor.label if isinstance(actor, SystemActor) else "user",
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id)[:60],
        "changes": _jsonable(changes or {}),
        "remote_addr": _client_address(),
    }


def _new_entry(
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: object,
    changes: dict[str, Any] | None,
) -> AuditEntry:
    return AuditEntry(
        at=utcnow(),
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:60],
        changes=_jsonable(changes or {}),
        remote_addr=_client_address(),
    )


def _client_address() -> str | None:
    if not has_request_context():
        return None
    address = request.remote_addr
    return address[:45] if address else None


# --- writing --------------------------------------------------------------------------------


def record(
    actor: User | SystemActor,
    action: str,
    object_type: str,
    object_id: object,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction (kept or dropped with its work); it is sealed
    when the session next flushes."""
    entry = _new_entry(
        actor.id,
        actor.label if isinstance(actor, SystemActor) else "user",
        action,
        object_type,
        object_id,
        changes,
    )
    db.session.add(entry)
    return entry


def record_view(
    actor: User,
    action: str,
    object_type: str,
    object_id: object,
    changes: dict[str, Any] | None = None,
    *,
    within: dt.timedelta = VIEW_WINDOW,
) -> AuditEntry | None:
    """Record that ``actor`` looked at a record, unless they already did within ``within``: the
    log stays readable while every viewer and every visit more than ``within`` apart is kept.
    A zero ``within`` records every visit."""
    if within <= dt.timedelta(0):
        return record(actor, action, object_type, object_id, changes)
    seen = db.session.scalar(
        sa.select(AuditEntry.id)
        .where(
            AuditEntry.object_type == object_type,
            AuditEntry.object_id == str(object_id),
            AuditEntry.actor_id == actor.id,
            AuditEntry.action == action,
            AuditEntry.at >= utcnow() - within,
        )
        .limit(1)
    )
    if seen is not None:
        return None
    return record(actor, action, object_type, object_id, changes)


def record_apart(
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: object,
    changes: dict[str, Any] | None = None,
) -> None:
    """Append a sealed entry in a short transaction of its own, kept whatever becomes of the
    request's (used for refusals, whose request transaction is rolled back). Call it only when
    the request's session holds no transaction: on PostgreSQL it would otherwise wait for the
    chain lock that transaction may hold."""
    bind = db.session.get_bind(mapper=AuditEntry.__mapper__)
    # Bound to an engine: a connection and transaction of its own. Bound to a connection that is
    # already in a transaction (the test suite): a savepoint of it.
    with Session(bind=bind, join_transaction_mode="create_savepoint") as session:
        entry = _new_entry(actor_id, actor_label, action, object_type, object_id, changes)
        session.add(entry)
        session.commit()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int):  # the common case first (bool is an int)
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON (and PostgreSQL's json) has no NaN or infinity
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
