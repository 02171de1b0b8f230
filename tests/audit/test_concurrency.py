"""Two transactions appending at once still build one chain: the advisory lock serialises them."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.operations import SystemActor, record
from app.audit.queries import verify_chain
from app.extensions import db

LABELS = ("audit-thread-a", "audit-thread-b")


def _delete_committed_entries() -> None:
    """Remove what this test committed; as a superuser, past the append-only triggers."""
    db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    db.session.execute(
        sa.text("DELETE FROM audit_entries WHERE actor_label = ANY(:labels)"),
        {"labels": list(LABELS)},
    )
    db.session.commit()


@pytest.mark.postgres
@pytest.mark.demo_database  # outside the rolled-back transaction: real, concurrent sessions
def test_concurrent_appends_make_one_valid_chain(app):
    per_thread = 8
    start = threading.Barrier(len(LABELS))
    errors: list[BaseException] = []

    def append(label: str) -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                for i in range(per_thread):
                    record(SystemActor(label), "thing.update", "thing", i)
                    time.sleep(0.005)  # the other thread is now waiting for the chain lock
                    record(SystemActor(label), "thing.update", "thing", f"{i}b")
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(label,)) for label in LABELS]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads)
        assert not errors, errors
        with app.app_context():
            entries = db.session.scalars(
                sa.select(AuditEntry)
                .where(AuditEntry.actor_label.in_(LABELS))
                .order_by(AuditEntry.id)
            ).all()
            assert len(entries) == 2 * 2 * per_thread
            # both threads took turns, and no two entries chain onto the same one
            assert {e.actor_label for e in entries} == set(LABELS)
            all_prev = db.session.scalars(
                sa.select(AuditEntry.prev_hash).where(AuditEntry.prev_hash.is_not(None))
            ).all()
            assert len(all_prev) == len(set(all_prev))
            report = verify_chain()
            assert report.ok, report.problems
            db.session.remove()
    finally:
        with app.app_context():
            _delete_committed_entries()
            db.session.remove()
