"""The hash chain: every entry sealed onto the one before; ``flask audit verify`` finds any
edited, deleted, re-sealed or foreign entry."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.operations import GENESIS_HASH, SystemActor, compute_entry_hash, compute_hmac, record
from app.audit.queries import (
    EDITED,
    HMAC_MISMATCH,
    NOT_SEALED,
    PREVIOUS_MISSING,
    verify_chain,
)
from app.extensions import db
from tests.audit.conftest import bypass_triggers, raw


def _entries(n: int, label: str = "chain-test") -> list[AuditEntry]:
    actor = SystemActor(label)
    entries = [
        record(actor, "thing.update", "thing", i, {"name": ["a", f"b{i}"], "n": i, "x": 1.5})
        for i in range(n)
    ]
    db.session.flush()
    return entries


def test_each_entry_carries_the_hash_of_the_one_before(app):
    entries = _entries(4)
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.entry_hash
    for entry in entries:
        assert entry.entry_hash == compute_entry_hash(entry, entry.prev_hash)
        assert entry.hmac == compute_hmac(entry.entry_hash)
        assert len(entry.entry_hash) == len(entry.hmac) == 64
    first_sealed = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.entry_hash.is_not(None)).order_by(AuditEntry.id)
    )
    assert first_sealed.prev_hash == GENESIS_HASH


def test_the_seal_survives_the_round_trip_through_the_database(app):
    [entry] = _entries(1)
    entry_id = entry.id
    db.session.expire_all()
    loaded = db.session.get(AuditEntry, entry_id)
    assert compute_entry_hash(loaded, loaded.prev_hash) == loaded.entry_hash


def test_a_correct_chain_verifies(app):
    _entries(5)
    report = verify_chain()
    assert report.ok, report.problems
    assert report.sealed >= 5


def test_an_edited_entry_is_found(app):
    entries = _entries(3)
    bypass_triggers()
    raw("UPDATE audit_entries SET object_id = 'someone-else' WHERE id = :id", id=entries[1].id)
    report = verify_chain()
    assert report.problems == [(entries[1].id, EDITED)]


def test_a_deleted_entry_is_found(app):
    entries = _entries(3)
    bypass_triggers()
    raw("DELETE FROM audit_entries WHERE id = :id", id=entries[1].id)
    report = verify_chain()
    assert report.problems == [(entries[2].id, PREVIOUS_MISSING)]


def test_deleting_the_first_entry_of_the_chain_is_found(app):
    entries = _entries(2)
    first = db.session.scalar(
        sa.select(sa.func.min(AuditEntry.id)).where(AuditEntry.entry_hash.is_not(None))
    )
    assert first == entries[0].id
    bypass_triggers()
    raw("DELETE FROM audit_entries WHERE id = :id", id=first)
    assert verify_chain().problems == [(entries[1].id, PREVIOUS_MISSING)]


def test_an_entry_resealed_without_the_key_is_found(app):
    entries = _entries(3)
    forged = {c.name: getattr(entries[1], c.name) for c in AuditEntry.__table__.columns} | {
        "object_id": "forged"
    }
    new_hash = compute_entry_hash(forged, forged["prev_hash"])
    bypass_triggers()
    raw(
        "UPDATE audit_entries SET object_id = 'forged', entry_hash = :h WHERE id = :id",
        h=new_hash,
        id=entries[1].id,
    )
    report = verify_chain()
    # its own seal is wrong, and the next entry no longer links to it
    assert report.problems == [
        (entries[1].id, HMAC_MISMATCH),
        (entries[2].id, PREVIOUS_MISSING),
    ]


def test_a_different_key_fails_every_hmac(app):
    entries = _entries(2)
    report = verify_chain(key="another-key-entirely-0123456789-abcdef")
    assert [p for p in report.problems if p[0] in {e.id for e in entries}] == [
        (entries[0].id, HMAC_MISMATCH),
        (entries[1].id, HMAC_MISMATCH),
    ]


def test_an_entry_inserted_past_the_application_is_found(app):
    entries = _entries(1)
    raw(
        "INSERT INTO audit_entries (at, actor_label, action, object_type, object_id, changes)"
        " VALUES (now(), 'x', 'case.view', 'case', '1', '{}')"
        if db.engine.dialect.name == "postgresql"
        else "INSERT INTO audit_entries (at, actor_label, action, object_type, object_id, changes)"
        " VALUES (CURRENT_TIMESTAMP, 'x', 'case.view', 'case', '1', '{}')"
    )
    foreign = db.session.scalar(sa.select(sa.func.max(AuditEntry.id)))
    _entries(1)
    problems = verify_chain().problems
    assert problems == [(foreign, NOT_SEALED)]
    assert foreign > entries[0].id


def test_entries_before_the_chain_are_counted_not_checked(app):
    bypass_triggers()
    # an entry written before the migration: no seal. Only possible before any sealed one, so
    # pretend the table held nothing sealed yet.
    raw("DELETE FROM audit_entries")
    raw(
        "INSERT INTO audit_entries (at, actor_label, action, object_type, object_id, changes)"
        " VALUES (now(), 'system', 'case.view', 'case', '1', '{}')"
    )
    _entries(2)
    report = verify_chain()
    assert report.ok and report.unsealed_before == 1 and report.sealed == 2


# --- flask audit verify -----------------------------------------------------------------------


def test_verify_command_says_ok(app):
    _entries(3)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("ok: ") and line.endswith(" entries") for line in lines)
    assert any(line.startswith("head: entry ") for line in lines)


def test_verify_command_lists_problems_and_exits_1(app):
    entries = _entries(3)
    bypass_triggers()
    raw("UPDATE audit_entries SET action = 'x' WHERE id = :id", id=entries[0].id)
    raw("DELETE FROM audit_entries WHERE id = :id", id=entries[1].id)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"entry {entries[0].id}: edited" in result.output
    assert f"entry {entries[2].id}: previous entry missing (deleted?)" in result.output
    assert "ok:" not in result.output


pytestmark = pytest.mark.postgres  # raw edits need a superuser bypassing the triggers
