"""``SQL_COUNT_HEADER``: the number of SQL statements a request ran, in an ``X-SQL-Statements``
response header, for the benchmarks of ``bench/`` (``make bench``). Off unless the setting is
on; when off nothing is registered, so a production server pays nothing for it.

Every statement sent through the application's engine while a request is handled is counted
(``before_cursor_execute``), including the ones the commit point runs after the view."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context
from sqlalchemy import event
from werkzeug.wrappers import Response

from app.core.extensions import db

HEADER = "X-SQL-Statements"
_COUNTER = "sql_statements"


def _count(*_args: Any, **_kwargs: Any) -> None:
    if has_request_context() and _COUNTER in g:
        g.sql_statements += 1


def init_sql_count(app: Flask) -> None:
    """Register the counter when ``SQL_COUNT_HEADER`` is on. Call it before the request
    handling's own after-request functions are registered (``init_request_handling``), so that
    the header is set after the commit point has run (Flask runs them in reverse order)."""
    if not app.config["SQL_COUNT_HEADER"]:
        return
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _count)

    def start_counting() -> None:
        g.sql_statements = 0

    # first of all before-request functions: the session and user loading count too
    app.before_request_funcs.setdefault(None, []).insert(0, start_counting)

    @app.after_request
    def statements_header(response: Response) -> Response:
        response.headers[HEADER] = str(g.get(_COUNTER, 0))
        return response
