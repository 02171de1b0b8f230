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
    ID_NOT_POSITIVE,
    NOT_SEALED,
    PREVIOUS_MISSING,
    ChainHead,
    chain_head,
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


# --- forged entries below id 1 -------------------------------------------------------------


def _forge(entry_id: int, prev_hash: str) -> None:
    """An entry sealed with the key (whoever holds the application's environment has it),
    written with an id of its own choosing."""
    fields = {
        "at": db.session.scalar(sa.select(sa.func.now())),
        "actor_id": None,
        "actor_label": "system",
        "action": "consent.add",
        "object_type": "case",
        "object_id": "1",
        "changes": {},
        "remote_addr": None,
    }
    entry_hash = compute_entry_hash(fields, prev_hash)
    raw(
        "INSERT INTO audit_entries (id, at, actor_label, action, object_type, object_id,"
        " changes, prev_hash, entry_hash, hmac) VALUES (:id, :at, 'system', 'consent.add',"
        " 'case', '1', '{}', :prev, :hash, :hmac)",
        id=entry_id,
        at=fields["at"],
        prev=prev_hash,
        hash=entry_hash,
        hmac=compute_hmac(entry_hash),
    )


def test_the_database_refuses_an_entry_below_id_1(app):
    _entries(1)
    with pytest.raises(sa.exc.IntegrityError, match="id_positive"), db.session.begin_nested():
        _forge(0, GENESIS_HASH)


def test_an_entry_below_id_1_is_found(app):
    """Such a row sorts before the whole chain: verify used to start reading after id 0 and
    never saw it."""
    _entries(2)
    raw("ALTER TABLE audit_entries DROP CONSTRAINT ck_audit_entries_id_positive")  # rolled back
    _forge(-7, GENESIS_HASH)
    _forge(0, GENESIS_HASH)
    report = verify_chain()
    assert report.problems == [(-7, ID_NOT_POSITIVE), (0, ID_NOT_POSITIVE)]
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "entry -7: id 0 or below (written outside the application)" in result.output
    assert "ok:" not in result.output


# --- the head kept outside the database -------------------------------------------------------


def _head_of(entries: list[AuditEntry]) -> str:
    return f"{entries[-1].id}:{entries[-1].entry_hash}"


def test_audit_head_prints_the_last_sealed_entry(app):
    entries = _entries(2)
    result = app.test_cli_runner().invoke(args=["audit", "head"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == _head_of(entries)
    assert chain_head() == ChainHead(entries[-1].id, entries[-1].entry_hash)


@pytest.mark.parametrize(
    "form", ["{id}:{hash}", "{id} {hash}", "head: entry {id} {hash}", "  {id}:{HASH}  "]
)
def test_verify_expect_accepts_the_head_and_any_later_chain(app, form):
    entries = _entries(2)
    head = form.format(
        id=entries[-1].id, hash=entries[-1].entry_hash, HASH=entries[-1].entry_hash.upper()
    )
    _entries(3)  # the log goes on after the head was kept
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--expect", head])
    assert result.exit_code == 0, result.output
    assert f"expected head: entry {entries[-1].id} is in the chain" in result.output


def test_verify_expect_finds_entries_removed_from_the_end(app):
    """The chain itself cannot show it: what is left is a valid chain."""
    entries = _entries(4)
    head = _head_of(entries)
    bypass_triggers()
    raw("DELETE FROM audit_entries WHERE id >= :id", id=entries[2].id)
    assert verify_chain().ok  # without the head kept elsewhere: nothing to see
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--expect", head])
    assert result.exit_code == 1
    assert f"expected head entry {entries[-1].id} is missing: the log ends at entry " in (
        result.output
    )
    assert "ok:" not in result.output


def test_verify_expect_finds_a_log_rebuilt_from_the_start(app):
    """Truncated and written again with the key, the same ids and a valid chain: only the head
    kept outside tells the difference."""
    entries = _entries(3)
    head = _head_of(entries)
    bypass_triggers()
    raw("DELETE FROM audit_entries")
    prev = GENESIS_HASH
    for entry in entries:
        _forge(entry.id, prev)
        prev = db.session.scalar(sa.select(AuditEntry.entry_hash).where(AuditEntry.id == entry.id))
    assert verify_chain().ok
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--expect", head])
    assert result.exit_code == 1
    assert f"expected head entry {entries[-1].id} has another hash" in result.output


def test_verify_expect_refuses_what_is_not_a_head(app):
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--expect", "12:abc"])
    assert result.exit_code != 0
    assert "not a chain head" in result.output


def test_the_daily_job_logs_the_head(app, caplog):
    from app.audit.tasks import log_head

    entries = _entries(1)
    with caplog.at_level("INFO", logger="app.audit.tasks"):
        assert log_head.run() == {"head": _head_of(entries)}
    assert f"audit chain head: {_head_of(entries)}" in caplog.text


pytestmark = pytest.mark.postgres  # raw edits need a superuser bypassing the triggers
