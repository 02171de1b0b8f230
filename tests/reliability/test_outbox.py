"""Issue #7 item 9, Redis down: no web request waits more than 2 s and nothing is lost. Tasks go
to the outbox table in the transaction that needs them and are sent when Redis is back.

The time limits below are fault-injection assertions (a request must not hang on an absent
broker), not benchmarks."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
import sqlalchemy as sa

from app.core import outbox
from app.core.outbox import OutboxMessage, relay
from app.core.tasks import enqueue_after_commit
from app.extensions import db
from app.workflow.models import CaseTransition
from tests.fixtures import login, login_as
from tests.reliability.conftest import PrivateRedis
from tests.workflow.test_views import form_for, page, step_url

LIMIT = 2.0  # seconds a request may take with the broker down or hung


def messages(task: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if task:
        query = query.where(OutboxMessage.task_name == task)
    return list(db.session.scalars(query))


def queued(server: PrivateRedis) -> list[tuple[str, list[Any], dict[str, Any]]]:
    """The tasks waiting in the Celery queue, oldest first (kombu pushes on the left)."""
    out = []
    for item in reversed(server.client().lrange("simpul", 0, -1)):
        message = json.loads(item)
        args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        out.append((message["headers"]["task"], args, kwargs))
    return out


def take_a_step(app: Any, case: Any, manager: Any) -> tuple[Any, float]:
    client = app.test_client()
    login_as(client, manager)
    url = step_url(case, "start_identification")
    data = form_for(page(client, case), url).data(reason="Telepon korban, risiko dikonfirmasi.")
    started = time.monotonic()
    response = client.post(url, data=data)
    took = time.monotonic() - started
    print(f"step request answered {response.status_code} in {took:.3f} s")  # shown with -s
    return response, took


def test_a_step_with_redis_down_answers_in_time_and_keeps_the_task(app, case, manager, redis_down):
    response, took = take_a_step(app, case, manager)

    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert took < LIMIT, f"the request took {took:.2f} s with Redis down"
    transition = db.session.scalar(
        sa.select(CaseTransition).where(
            CaseTransition.case_id == case.id, CaseTransition.event == "start_identification"
        )
    )
    assert transition is not None  # the step itself is committed
    (row,) = messages("workflow.notify_transition")
    assert row.args == [transition.id] and row.kwargs == {}
    assert row.sent_at is None and row.attempts == 1
    assert "Error" in (row.last_error or "")


def test_a_step_with_a_hung_redis_answers_in_time(app, case, manager, redis_hung):
    response, took = take_a_step(app, case, manager)

    assert response.status_code == 302
    assert took < LIMIT, f"the request took {took:.2f} s with Redis hung"
    (row,) = messages("workflow.notify_transition")
    assert row.sent_at is None


def test_after_one_failure_the_next_requests_do_not_wait_at_all(app, redis_down):
    enqueue_after_commit(db.session, "demo.first", 1)
    db.session.commit()
    assert outbox.breaker.is_open()
    started = time.monotonic()
    enqueue_after_commit(db.session, "demo.second", 2)
    db.session.commit()
    assert time.monotonic() - started < 0.2
    assert [(m.task_name, m.sent_at, m.attempts) for m in messages()] == [
        ("demo.first", None, 1),
        ("demo.second", None, 0),  # not even tried: the relay sends it
    ]


def test_signing_in_with_the_rate_limit_store_down_neither_hangs_nor_fails(
    client, manager, monkeypatch, redis_down
):
    """Flask-Limiter falls back to in-memory counting (RATELIMIT storage unreachable)."""
    from flask_limiter._extension import STRATEGIES  # the limiter's own strategy table
    from limits.storage import storage_from_string

    from app.extensions import limiter

    storage = storage_from_string(redis_down, **limiter._storage_options)
    monkeypatch.setattr(limiter, "_storage", storage)
    monkeypatch.setattr(limiter, "_limiter", STRATEGIES["moving-window"](storage))
    monkeypatch.setattr(limiter, "_storage_dead", False)

    started = time.monotonic()
    response = login(client, manager)  # asserts the 302 of a successful sign-in
    took = time.monotonic() - started
    print(f"sign-in answered {response.status_code} in {took:.3f} s")  # shown with -s

    assert response.status_code == 302
    assert took < LIMIT, f"sign-in took {took:.2f} s with the rate-limit store down"
    assert limiter._storage_dead  # counting in memory until Redis answers again


def test_when_redis_is_back_the_relay_sends_what_waited_and_marks_it(
    app, monkeypatch, redis_down, private_redis
):
    enqueue_after_commit(db.session, "demo.first", 1)
    enqueue_after_commit(db.session, "demo.second", 2, why="x")
    db.session.commit()
    assert [m.sent_at for m in messages()] == [None, None]

    from tests.reliability.conftest import use_broker

    private_redis.client().flushall()
    use_broker(app, monkeypatch, private_redis.url)  # Redis is back
    report = relay(db.session.get_bind(), app.extensions["simpul_dispatch"])

    assert (report.sent, report.failed) == (2, 0)
    rows = messages()
    assert all(m.sent_at is not None for m in rows)
    assert [m.attempts for m in rows] == [2, 1]  # the first was tried once while Redis was down
    assert queued(private_redis) == [("demo.first", [1], {}), ("demo.second", [2], {"why": "x"})]


def test_running_the_relay_twice_sends_once(app, redis_down, monkeypatch, private_redis):
    enqueue_after_commit(db.session, "demo.once", 7)
    db.session.commit()

    from tests.reliability.conftest import use_broker

    private_redis.client().flushall()
    use_broker(app, monkeypatch, private_redis.url)
    bind = db.session.get_bind()
    first = relay(bind, app.extensions["simpul_dispatch"])
    second = relay(bind, app.extensions["simpul_dispatch"])

    assert (first.sent, second.sent) == (1, 0)
    assert queued(private_redis) == [("demo.once", [7], {})]


def test_with_redis_up_the_task_is_sent_right_after_the_commit(app, redis_up):
    enqueue_after_commit(db.session, "demo.now", 3)
    db.session.commit()

    (row,) = messages("demo.now")
    assert row.sent_at is not None and row.attempts == 1 and row.last_error is None
    assert queued(redis_up) == [("demo.now", [3], {})]
    # nothing is left for the relay
    assert relay(db.session.get_bind(), app.extensions["simpul_dispatch"]).sent == 0


def test_a_rolled_back_transaction_leaves_no_outbox_row(app, redis_up):
    enqueue_after_commit(db.session, "demo.never", 4)
    assert len(messages("demo.never")) == 1  # written in the transaction...
    db.session.rollback()
    db.session.commit()

    assert messages("demo.never") == []  # ...and gone with it
    assert queued(redis_up) == []


@pytest.mark.postgres
def test_the_relay_skips_rows_another_relay_holds(app):
    """FOR UPDATE SKIP LOCKED: two relays at once never send the same row. Committed rows on the
    real engine (and removed again), since locks need two transactions."""
    table = OutboxMessage.__table__
    sent: list[str] = []

    def dispatch(name: str, args: Any, kwargs: Any) -> None:
        sent.append(name)

    engine = db.engine
    with engine.begin() as conn:
        ids = [
            conn.execute(
                sa.insert(table)
                .values(
                    task_name=name,
                    args=[],
                    kwargs={},
                    created_at=sa.func.now(),
                    attempts=0,
                )
                .returning(table.c.id)
            ).scalar_one()
            for name in ("demo.held", "demo.free")
        ]
    try:
        with engine.connect() as other:
            with other.begin():
                other.execute(sa.select(table.c.id).where(table.c.id == ids[0]).with_for_update())
                assert relay(engine, dispatch).sent == 1
                assert sent == ["demo.free"]
            assert relay(engine, dispatch).sent == 1
            assert relay(engine, dispatch).sent == 0
        assert sent == ["demo.free", "demo.held"]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.id.in_(ids)))
