"""``SQL_COUNT_HEADER``: off by default (no header, no listener); on, every response says how
many SQL statements its request ran, the same number an independent listener counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from app.core.enums import Role
from app.core.sql_count import HEADER
from app.extensions import db
from tests.conftest import make_app, rolled_back_session
from tests.factories import AgencyFactory, UserFactory
from tests.fixtures import login_as


def test_off_by_default(app: Flask, client: Any) -> None:
    assert app.config["SQL_COUNT_HEADER"] is False
    user = UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory())])
    login_as(client, user)
    for url in ("/healthz", "/beranda", "/kasus"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert HEADER not in response.headers, url


@pytest.fixture
def counting_app() -> Iterator[Flask]:
    counting = make_app(SQL_COUNT_HEADER=True)
    yield counting
    with counting.app_context():
        db.engine.dispose()


def test_on_every_response_counts_the_statements_of_its_request(counting_app: Flask) -> None:
    with rolled_back_session(counting_app):
        user = UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory())])
        db.session.commit()
        client = counting_app.test_client()
        login_as(client, user)

        seen: list[str] = []

        def independent(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", independent)
        try:
            counts = {}
            for url in ("/healthz", "/beranda", "/kasus", "/kasus/999999"):
                seen.clear()
                response = client.get(url)
                assert HEADER in response.headers, url
                counts[url] = int(response.headers[HEADER])
                assert counts[url] == len(seen), (url, seen)
        finally:
            event.remove(db.engine, "before_cursor_execute", independent)
    # plausible: a page that loads the signed-in user and lists cases runs statements; a case
    # outside the user's scope is a 404 that still carries the header
    assert counts["/beranda"] >= 1
    assert counts["/kasus"] > counts["/healthz"]
    assert counts["/kasus/999999"] >= 1
