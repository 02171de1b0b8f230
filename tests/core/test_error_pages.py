"""One error page everywhere: an unexpected error answers the app's own translated 500 page
with a short error id, and the same id is in the error's log line — whether the error is raised
by a view, by an after_request function (the commit point), while the error page itself is
made, or outside Flask altogether (the WSGI middleware); under the test client and under a real
server."""

from __future__ import annotations

import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server
from werkzeug.wsgi import FileWrapper

from app.core.web import ErrorPageMiddleware, static_error_page
from app.extensions import db

ID_PAGE = re.compile(r"Kode kesalahan:\s*<strong[^>]*>([0-9a-f]{8})</strong>")
EN_PAGE = re.compile(r"Error code:\s*<strong[^>]*>([0-9a-f]{8})</strong>")
WERKZEUG_500 = "The server encountered an internal error"


def error_id(body: str, pattern: re.Pattern[str] = ID_PAGE) -> str:
    found = pattern.search(body)
    assert found, body[:2000]
    return found.group(1)


def logged_with(caplog: pytest.LogCaptureFixture, code: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if code in r.getMessage()]


def explode(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("boom from a test")


@pytest.fixture
def failing_view(app, monkeypatch):
    """GET /healthz raises in the view."""
    monkeypatch.setitem(app.view_functions, "home.health", explode)


@pytest.fixture
def failing_after_request(app, monkeypatch):
    """An after_request function that raises (it runs first: they run in reverse order)."""

    def fail(response):
        raise RuntimeError("boom in after_request")

    funcs = app.after_request_funcs.setdefault(None, [])
    monkeypatch.setitem(app.after_request_funcs, None, [*funcs, fail])


# --- the Flask handlers ----------------------------------------------------------------------


def test_an_error_in_a_view_shows_the_500_page_with_an_id_that_is_in_the_log(
    client, failing_view, caplog
):
    caplog.set_level(logging.ERROR)
    response = client.get("/healthz")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert 'lang="id"' in body and "Terjadi kesalahan pada sistem kami" in body
    assert "mungkin sudah tersimpan, mungkin juga belum" in body
    assert "sebutkan kode ini" in body
    assert WERKZEUG_500 not in body
    code = error_id(body)
    (record,) = logged_with(caplog, code)
    assert record.levelno == logging.ERROR
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)
    assert "home.health" in record.getMessage()
    # the page is a full app page (base.html), with the security headers of every page
    assert "Content-Security-Policy" in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_each_error_gets_its_own_id(client, failing_view):
    first = error_id(client.get("/healthz").get_data(as_text=True))
    second = error_id(client.get("/healthz").get_data(as_text=True))
    assert first != second


def test_the_log_line_holds_no_form_values(app, client, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setitem(app.view_functions, "auth.logout", explode)
    name, nik = "Kartini Rahayu Wulandari", "3273016608950099"
    response = client.post("/keluar", data={"name": name, "nik": nik})
    assert response.status_code == 500
    code = error_id(response.get_data(as_text=True))
    assert logged_with(caplog, code)
    logged = caplog.text + "".join(
        logging.Formatter().formatException(r.exc_info) for r in caplog.records if r.exc_info
    )
    assert name not in logged and nik not in logged


def test_the_page_is_english_for_an_english_user(client, failing_view, caplog):
    client.post("/bahasa", data={"locale": "en"})
    response = client.get("/healthz")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert 'lang="en"' in body and "Something went wrong on our side" in body
    assert "may or may not have been saved" in body and "quote this code" in body
    assert "Terjadi kesalahan" not in body
    assert logged_with(caplog, error_id(body, EN_PAGE))


def test_abort_500_shows_the_page_with_an_id(app, client, monkeypatch, caplog):
    from flask import abort

    monkeypatch.setitem(app.view_functions, "home.health", lambda: abort(500))
    response = client.get("/healthz")
    assert response.status_code == 500
    assert logged_with(caplog, error_id(response.get_data(as_text=True)))


def test_an_error_in_an_after_request_function_shows_the_app_page(
    client, failing_after_request, caplog
):
    response = client.get("/healthz")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert WERKZEUG_500 not in body
    assert "Terjadi kesalahan pada sistem kami" in body
    code = error_id(body)
    (record,) = logged_with(caplog, code)
    assert record.exc_info and "boom in after_request" in str(record.exc_info[1])
    # the translated page of the app (base.html), not the static fallback
    assert 'href="/static/css/app.css?v=' in body


def test_a_failing_commit_shows_the_500_page_and_keeps_nothing(
    app, client, admin_user, monkeypatch, caplog
):
    """The commit point's commit fails (the database went away): the person sees the error
    page with an id — not the page the view had prepared — and the request's work is rolled
    back."""
    from app.audit.models import AuditEntry
    from app.audit.operations import SystemActor, record
    from tests.fixtures import login_as

    login_as(client, admin_user)
    before = db.session.query(AuditEntry).count()
    session = db.session()

    def fail_on_commit(session: Any) -> None:
        raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

    def write_then_answer():
        record(SystemActor(), "half.written", "test", 1)
        db.session.flush()
        sa.event.listen(session, "before_commit", fail_on_commit, once=True)
        return "saved!"

    monkeypatch.setitem(app.view_functions, "home.health", write_then_answer)
    try:
        response = client.get("/healthz")
    finally:
        if sa.event.contains(session, "before_commit", fail_on_commit):
            sa.event.remove(session, "before_commit", fail_on_commit)
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "saved!" not in body and WERKZEUG_500 not in body
    assert 'href="/static/css/app.css?v=' in body  # the translated page, not the fallback
    code = error_id(body)
    (record_,) = logged_with(caplog, code)
    assert isinstance(record_.exc_info[1], sa.exc.OperationalError)
    # one log line for the error: Flask's own "Exception on …" line is not written as well
    assert [r for r in caplog.records if r.exc_info] == [record_]
    assert db.session.query(AuditEntry).count() == before  # rolled back, and usable again


def test_when_the_error_page_cannot_be_made_the_static_page_is_sent(
    client, failing_view, monkeypatch, caplog
):
    """E.g. the database is down: base.html loads the signed-in user, so the page fails too."""
    import jinja2

    def broken(*args: Any, **kwargs: Any) -> str:
        raise jinja2.TemplateError("the template engine is broken")

    monkeypatch.setattr("app.core.web.render_template", broken)
    response = client.get("/healthz")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert WERKZEUG_500 not in body
    # both languages, no template: the same text as the translated page
    assert "Terjadi kesalahan pada sistem kami" in body and "Something went wrong" in body
    code = error_id(body)
    assert error_id(body, EN_PAGE) == code
    records = logged_with(caplog, code)
    assert {type(r.exc_info[1]) for r in records} == {RuntimeError, jinja2.TemplateError}
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["Cache-Control"] == "no-store"


def test_when_the_500_handler_itself_fails_the_middleware_answers(
    client, failing_view, monkeypatch, caplog
):
    monkeypatch.setattr("app.core.web.server_error_response", explode)
    response = client.get("/healthz")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert WERKZEUG_500 not in body and "Terjadi kesalahan pada sistem kami" in body
    (record,) = logged_with(caplog, error_id(body))
    assert "outside the request handling" in record.getMessage()


# --- the middleware on its own ---------------------------------------------------------------


class Server:
    """A stand-in for the WSGI server: records every start_response call."""

    def __init__(self) -> None:
        self.starts: list[tuple[str, list[tuple[str, str]], Any]] = []

    def start_response(self, status, headers, exc_info=None):
        if self.starts and not exc_info:
            raise AssertionError("start_response called twice without exc_info")
        self.starts.append((status, headers, exc_info))
        return lambda data: None

    def call(self, wsgi_app, environ=None) -> tuple[list[bytes], Any]:
        body = ErrorPageMiddleware(wsgi_app)(
            environ or {"REQUEST_METHOD": "GET", "PATH_INFO": "/x"}, self.start_response
        )
        try:
            return list(body), body
        finally:
            if hasattr(body, "close"):
                body.close()


def test_middleware_answers_an_app_that_raises(caplog):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])  # then fails anyway
        raise RuntimeError("teardown failed")

    server = Server()
    chunks, _ = server.call(app)
    ((status, headers, exc_info),) = server.starts  # only the error page started
    assert status.startswith("500") and exc_info is None
    body = b"".join(chunks).decode()
    assert dict(headers)["Content-Length"] == str(len(b"".join(chunks)))
    code = error_id(body)
    (record,) = logged_with(caplog, code)
    assert record.exc_info and "teardown failed" in str(record.exc_info[1])
    assert "GET /x" in record.getMessage()


def test_middleware_answers_an_error_before_the_first_body_bytes(caplog):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body() -> Iterator[bytes]:
            yield b""
            raise RuntimeError("failed while streaming")

        return body()

    server = Server()
    chunks, _ = server.call(app)
    assert [s[0][:3] for s in server.starts] == ["500"]
    assert logged_with(caplog, error_id(b"".join(chunks).decode()))


def test_middleware_does_not_restart_a_response_already_sent(caplog):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body() -> Iterator[bytes]:
            yield b"first part"
            raise RuntimeError("failed half-way")

        return body()

    server = Server()
    body = ErrorPageMiddleware(app)({"REQUEST_METHOD": "GET"}, server.start_response)
    received = []
    with pytest.raises(RuntimeError, match="failed half-way"):
        for chunk in body:
            received.append(chunk)
    assert received == [b"first part"]
    assert [s[0] for s in server.starts] == ["200 OK"]
    (record,) = [r for r in caplog.records if "while the response was sent" in r.getMessage()]
    assert re.search(r"error id [0-9a-f]{8}", record.getMessage())


def test_middleware_passes_a_stream_on_unchanged_and_starts_it_once():
    closed = []

    class Body:
        def __iter__(self):
            started = server.starts[:]
            yield b""
            assert server.starts == started  # held back until there are bytes
            yield b"one"
            yield b""
            yield b"two"

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Test", "1")])
        return Body()

    server = Server()
    chunks, _ = server.call(app)
    assert chunks == [b"one", b"", b"two"]
    assert server.starts == [("200 OK", [("Content-Type", "text/plain"), ("X-Test", "1")], None)]
    assert closed == [True]


def test_middleware_starts_an_empty_response():
    def app(environ, start_response):
        start_response("204 NO CONTENT", [])
        return []

    server = Server()
    chunks, _ = server.call(app)
    assert chunks == [] and [s[0] for s in server.starts] == ["204 NO CONTENT"]


def test_middleware_hands_a_file_wrapper_to_the_server_untouched(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](path.open("rb"))

    server = Server()
    environ = {"REQUEST_METHOD": "GET", "wsgi.file_wrapper": FileWrapper}
    body = ErrorPageMiddleware(app)(environ, server.start_response)
    assert isinstance(body, FileWrapper)  # sendfile stays possible (gunicorn)
    assert [s[0] for s in server.starts] == ["200 OK"]
    assert b"".join(body) == b"x" * 10
    body.close()


def test_middleware_logs_an_error_on_close(caplog):
    class Body(list):
        def close(self):
            raise RuntimeError("close failed")

    def app(environ, start_response):
        start_response("200 OK", [])
        return Body([b"done"])

    server = Server()
    chunks, _ = server.call(app)
    assert chunks == [b"done"]
    (record,) = [r for r in caplog.records if "while the response was closed" in r.getMessage()]
    assert record.exc_info


def test_the_static_page_needs_nothing_but_the_id():
    page = static_error_page("ab12cd34").decode()
    assert error_id(page) == "ab12cd34" and error_id(page, EN_PAGE) == "ab12cd34"
    assert "{" not in page and "<script" not in page and "<style" not in page


# --- a real server ---------------------------------------------------------------------------


@pytest.fixture
def served(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (a local test server)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_served_by_werkzeug_a_failing_view_gets_the_app_page(served, failing_view, caplog):
    status, body = fetch(served + "/healthz")
    assert status == 500
    assert WERKZEUG_500 not in body and "Terjadi kesalahan pada sistem kami" in body
    assert logged_with(caplog, error_id(body))


def test_served_by_werkzeug_an_after_request_error_gets_the_app_page(
    served, failing_after_request, caplog
):
    status, body = fetch(served + "/healthz")
    assert status == 500
    assert WERKZEUG_500 not in body and "Terjadi kesalahan pada sistem kami" in body
    assert logged_with(caplog, error_id(body))


def test_served_by_werkzeug_an_error_escaping_flask_gets_the_static_page(
    served, failing_view, monkeypatch, caplog
):
    monkeypatch.setattr("app.core.web.server_error_response", explode)
    status, body = fetch(served + "/healthz")
    assert status == 500
    assert WERKZEUG_500 not in body
    assert "Terjadi kesalahan pada sistem kami" in body and "Something went wrong" in body
    assert logged_with(caplog, error_id(body))


# --- in-process background tasks -------------------------------------------------------------


def test_a_failing_in_process_task_is_logged_with_an_error_id(app, monkeypatch, caplog):
    from app.core.tasks import inprocess_dispatcher
    from app.extensions import celery

    monkeypatch.setitem(celery.tasks, "test.explode", explode)
    caplog.set_level(logging.ERROR, logger="app.core.tasks")
    inprocess_dispatcher(app)("test.explode", (), {})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        failed = [r for r in caplog.records if "in-process task test.explode" in r.getMessage()]
        if failed:
            break
        time.sleep(0.02)
    (record,) = failed
    assert re.search(r"failed \[error id [0-9a-f]{8}\]", record.getMessage())
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)
