"""Background tasks are sent only after the transaction that made their data commits."""

import pytest

from app.core.tasks import enqueue_after_commit, pending_tasks
from app.extensions import db


@pytest.fixture
def sent(app, monkeypatch):
    calls = []
    monkeypatch.setitem(
        app.extensions,
        "simpul_dispatch",
        lambda name, args, kwargs: calls.append((name, args, kwargs)),
    )
    return calls


def test_task_is_sent_after_commit(sent):
    enqueue_after_commit(db.session, "demo.noop", 7, reason="test")
    assert sent == []
    db.session.commit()
    assert sent == [("demo.noop", (7,), {"reason": "test"})]
    assert pending_tasks(db.session) == []


def test_task_is_dropped_on_rollback(sent):
    enqueue_after_commit(db.session, "demo.noop", 8)
    db.session.rollback()
    db.session.commit()
    assert sent == []


def test_a_file_written_for_a_rolled_back_change_is_removed(tmp_path):
    from app.core.tasks import delete_on_rollback

    kept, dropped = tmp_path / "kept", tmp_path / "dropped"
    kept.write_bytes(b"1")
    delete_on_rollback(db.session, kept)
    db.session.commit()
    dropped.write_bytes(b"2")
    delete_on_rollback(db.session, dropped)
    db.session.rollback()
    assert kept.exists() and not dropped.exists()
