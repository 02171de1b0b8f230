"""Reading the audit trail: checking the chain."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.operations import GENESIS_HASH, compute_entry_hash, compute_hmac
from app.extensions import db

# Actions that mean someone saw identifying data of the case named by the entry.
VIEW_ACTIONS = frozenset(
    {"case.view", "case.reveal_identity", "case.attachment_download", "referral.open"}
)

EDITED = "edited"
PREVIOUS_MISSING = "previous entry missing (deleted?)"
HMAC_MISMATCH = "hmac mismatch"
NOT_SEALED = "not sealed (written outside the application?)"
ID_NOT_POSITIVE = "id 0 or below (written outside the application)"


class BadHead(ValueError):
    """A chain head given on the command line that cannot be read."""


@dataclass(frozen=True)
class ChainHead:
    """The last sealed entry: its id and hash. Kept outside the database (``flask audit
    head``), it is what a later ``flask audit verify --expect`` holds the chain to."""

    entry_id: int
    entry_hash: str

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.entry_hash}"

    @classmethod
    def parse(cls, text: str) -> ChainHead:
        """``ID:HASH`` as ``flask audit head`` prints it; ``ID HASH`` and the ``head: entry ID
        HASH`` line of ``flask audit verify`` are read as well."""
        words = text.strip().removeprefix("head:").split()
        if words[:1] == ["entry"]:
            words = words[1:]
        if len(words) == 1 and words[0].count(":") == 1:
            words = words[0].split(":")
        if len(words) != 2 or not words[0].isdigit():
            raise BadHead(f"not a chain head: {text!r} (expected ID:HASH, as `flask audit head`)")
        entry_hash = words[1].lower()
        if len(entry_hash) != 64 or any(c not in "0123456789abcdef" for c in entry_hash):
            raise BadHead(f"not a chain head: {text!r} (the hash is 64 hexadecimal digits)")
        return cls(int(words[0]), entry_hash)


# A redaction: personal data removed from an entry already sealed (the break-the-glass reasons
# older releases wrote into the log). The redacted entry keeps its seal (entry_hash, hmac, its
# place in the chain) but no longer hashes to it; a later sealed entry of this action attests
# the change: ``{"entry": id, "sealed_hash": <its entry_hash>, "redacted_hash": <the hash of its
# fields as they are now>, "fields": [...], "why": "..."}``. Only someone holding
# AUDIT_HMAC_KEY can seal such an entry, and any other change to the redacted entry (or to the
# attestation) is still reported as an edit.
REDACT_ACTION = "audit.redact"


@dataclass
class ChainReport:
    sealed: int = 0
    # entries written before the chain existed (NULL seal, before the first sealed one)
    unsealed_before: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    # (redacted entry, the audit.redact entry that attests it)
    redacted: list[tuple[int, int]] = field(default_factory=list)
    head_id: int | None = None
    head_hash: str | None = None
    # id -> hash of the sealed entry verify_chain() was asked to remember
    seen: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _entries(batch: int) -> Iterator[sa.RowMapping]:
    """Every entry in id order as plain rows (no ORM objects), read in batches; from the very
    first row, whatever its id (a row at 0 or below was forged and must be seen)."""
    table = AuditEntry.__table__
    last: int | None = None
    while True:
        query = sa.select(table).order_by(table.c.id).limit(batch)
        if last is not None:
            query = query.where(table.c.id > last)
        rows = db.session.execute(query).mappings().all()
        if not rows:
            return
        yield from rows
        last = rows[-1]["id"]


def _attestations() -> dict[int, tuple[int, dict[str, Any]]]:
    """The redactions recorded in the log: redacted entry id → (attesting entry id, changes).
    The attesting entries are verified like every other entry."""
    table = AuditEntry.__table__
    found: dict[int, tuple[int, dict[str, Any]]] = {}
    for entry_id, changes in db.session.execute(
        sa.select(table.c.id, table.c.changes)
        .where(table.c.action == REDACT_ACTION, table.c.entry_hash.is_not(None))
        .order_by(table.c.id)
    ):
        target = (changes or {}).get("entry")
        if isinstance(target, int):
            found.setdefault(target, (entry_id, changes))
    return found


def verify_chain(
    key: str | None = None, *, batch: int = 2000, remember: int | None = None
) -> ChainReport:
    """Recompute every entry's hash and HMAC in id order and check each links to the one
    before. Problems per entry: edited (fields differ from the hash), hmac mismatch (hash
    recomputed without the key), previous entry missing (an entry before it was deleted, or
    the chain was re-linked), not sealed (inserted past the application), id 0 or below (the
    sequence never gives one). An entry whose fields differ from its hash exactly as a later
    sealed ``audit.redact`` entry attests is redacted, not edited. ``remember``: keep the hash
    of that entry in ``seen``."""
    report = ChainReport()
    attested = _attestations()
    expected_prev: str | None = None  # None: the chain has not started yet
    for entry in _entries(batch):
        entry_id, entry_hash = entry["id"], entry["entry_hash"]
        if entry_id <= 0:
            report.problems.append((entry_id, ID_NOT_POSITIVE))
            continue
        if entry_id == remember and entry_hash is not None:
            report.seen[entry_id] = entry_hash
        if entry_hash is None or entry["hmac"] is None or entry["prev_hash"] is None:
            if expected_prev is None:
                report.unsealed_before += 1
            else:
                report.problems.append((entry_id, NOT_SEALED))
            continue
        report.sealed += 1
        if entry["prev_hash"] != (expected_prev or GENESIS_HASH):
            report.problems.append((entry_id, PREVIOUS_MISSING))
        now_hash = compute_entry_hash(entry, entry["prev_hash"])
        if now_hash != entry_hash:
            attestation = attested.get(entry_id)
            if (
                attestation is not None
                and attestation[0] > entry_id
                and attestation[1].get("sealed_hash") == entry_hash
                and attestation[1].get("redacted_hash") == now_hash
            ):
                report.redacted.append((entry_id, attestation[0]))
            else:
                report.problems.append((entry_id, EDITED))
        if not hmac.compare_digest(compute_hmac(entry_hash, key), entry["hmac"]):
            report.problems.append((entry_id, HMAC_MISMATCH))
        expected_prev = entry_hash
        report.head_id, report.head_hash = entry_id, entry_hash
    return report


def expected_head_problem(report: ChainReport, expected: ChainHead) -> str | None:
    """Why the chain ``report`` describes does not hold the head kept outside the database
    (None when it does): the entry must still be there with the same hash. A chain cut back at
    its end, or rebuilt from the start, cannot show that."""
    if expected.entry_id == 0 and expected.entry_hash == GENESIS_HASH:
        return None  # kept when the log was empty: every chain extends it
    found = report.seen.get(expected.entry_id)
    if found is None:
        if report.head_id is None or expected.entry_id > report.head_id:
            return (
                f"expected head entry {expected.entry_id} is missing: the log ends at entry "
                f"{report.head_id or 0} (entries were removed from its end, or it was rebuilt)"
            )
        return (
            f"expected head entry {expected.entry_id} is missing from the chain (removed, or "
            "the log was rebuilt)"
        )
    if found != expected.entry_hash:
        return (
            f"expected head entry {expected.entry_id} has another hash: the log up to it was "
            "rewritten"
        )
    return None


def chain_head() -> ChainHead:
    """The last sealed entry, without checking the chain (``flask audit head``)."""
    table = AuditEntry.__table__
    row = db.session.execute(
        sa.select(table.c.id, table.c.entry_hash)
        .where(table.c.entry_hash.is_not(None))
        .order_by(table.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return ChainHead(0, GENESIS_HASH)
    return ChainHead(row.id, row.entry_hash)
