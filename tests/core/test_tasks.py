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
