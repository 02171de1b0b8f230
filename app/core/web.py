"""Request plumbing: the one commit point, security headers, error pages, locale selection."""

from __future__ import annotations

import logging
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    has_request_context,
    render_template,
    request,
    send_from_directory,
    session,
)
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError
from werkzeug.routing import IntegerConverter, Map

from app.core.bounds import MAX_ID
from app.core.errors import ConcurrentChange, new_error_id
from app.core.extensions import db

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

SUPPORTED_LOCALES = ("id", "en")

# The Content Security Policy of every response that does not set its own (downloads set
# ``sandbox``). No 'unsafe-inline' and no 'unsafe-eval' anywhere: scripts and styles come from our
# own static files; an inline <script> runs only if it carries the nonce of its response
# (``<script nonce="{{ csp_nonce() }}">``). Inline styles are not allowed at all (style-src has no
# nonce: no template needs one). ``base-uri 'none'``: no template uses <base>, so an injected one
# cannot redirect relative script URLs.
CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self' 'nonce-{nonce}'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)

# Only to our own pages: full URLs (/kasus/<id>…) never leave for another site. Not
# ``no-referrer``: on HTTPS, Flask-WTF (WTF_CSRF_SSL_STRICT, on by default) refuses a form post
# without a same-origin Referer, so ``no-referrer`` would break every form in production.
REFERRER_POLICY = "same-origin"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"


class ExplainedBadRequest(BadRequest):
    """A 400 whose description is a sentence for people (translated), shown on the error page:
    ``raise ExplainedBadRequest(_("..."))`` for a query argument that cannot be read (a period
    ``0000-01``) where no form is there to carry the message."""


def csp_nonce() -> str:
    """The nonce of the current response's CSP, made once per request."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return str(nonce)


def content_security_policy(nonce: str) -> str:
    return "; ".join(d.format(nonce=nonce) for d in CSP_DIRECTIVES)


def select_locale() -> str:
    if not has_request_context():
        return str(current_app.config["DEFAULT_LOCALE"])
    if current_user and current_user.is_authenticated and current_user.locale in SUPPORTED_LOCALES:
        return str(current_user.locale)
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return str(chosen)
    return str(current_app.config["DEFAULT_LOCALE"])


def select_timezone() -> str:
    return str(current_app.config["DISPLAY_TIMEZONE"])


_KEPT_ON_REFUSAL = "simpul_kept_on_refusal"


def keep_on_refusal(work: Callable[[], object]) -> None:
    """``work``, already done in the request's transaction, is kept even when the request is
    answered with an error (status >= 400), whose transaction the commit point rolls back: a
    wrong password given on a form counts towards the lockout and is audited although the form
    is answered 422. After the rollback the commit point calls ``work`` again, in a transaction
    of its own, and commits it. On success ``work`` is committed with the rest of the request and
    not called again. (The rollback expires the objects of the request's session; they load again
    when ``work`` uses them.)"""
    g.setdefault(_KEPT_ON_REFUSAL, []).append(work)


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """Work in the ``with`` block is kept only if the block ends without an exception: it runs
    in a savepoint, rolled back when an operation refuses after it has written something (the
    refusal is raised on), so the page that shows the refusal sees the records as stored and
    the request's session stays usable. The block's changes are flushed before it ends; a
    concurrent change found by a flush (``StaleDataError``) is refused as ``ConcurrentChange``.
    For operations that cannot check everything before their first write; the request's commit
    point still commits (or not) the whole request."""
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except StaleDataError:
        raise ConcurrentChange() from None


def init_request_handling(app: Flask) -> None:
    @app.before_request
    def refuse_nul_bytes() -> None:
        """A NUL byte has no place in anything a person types, and PostgreSQL cannot store it
        (an encrypted column would hide it): refused before any view runs (400)."""
        values = [v for vs in request.args.listvalues() for v in vs]
        values += [v for vs in request.form.listvalues() for v in vs]
        values += [f.filename or "" for f in request.files.values()]
        if any("\x00" in value for value in values):
            abort(400)

    @app.after_request
    def commit_point(response: Response) -> Response:
        """One commit per request: keep the work of a successful request, drop any other.

        A commit that fails is rolled back and raised: Flask hands it to the 500 handler
        (``internal_server_error``), so the person gets the error page, not the page or redirect
        the view had prepared as if the work had been kept. Work the view asked to keep on a
        refusal (``keep_on_refusal``) is done again after the rollback and committed apart."""
        kept = g.pop(_KEPT_ON_REFUSAL, [])
        if response.status_code < 400:
            try:
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
        else:
            db.session.rollback()
            if kept:
                try:
                    for work in kept:
                        work()
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    raise
        return response

    def fresh_csp_nonce() -> None:
        # ``g`` can outlive a request when an app context was pushed around it (tests, CLI):
        # every request starts with a nonce of its own.
        g.pop("csp_nonce", None)

    # first of all before-request functions: the CSRF check (registered earlier) may end the
    # request with an error page, which renders base.html and needs the new nonce too
    app.before_request_funcs.setdefault(None, []).insert(0, fresh_csp_nonce)
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["APP_ENV"] == "production":
            headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "static" and "no-store" not in headers.get("Cache-Control", ""):
            # pages, JSON and downloads carry case data: never kept by the browser or a proxy
            # (also over a file response's own ``no-cache``/``max-age``). Static files may be
            # cached.
            headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        db.session.rollback()
        code = error.code or 500
        if code in (400, 403, 404, 405, 413, 429):
            # the reason a view gave (``ExplainedBadRequest``), shown above the page's general
            # explanation; werkzeug's and Flask-WTF's own English descriptions are not
            detail = error.description if isinstance(error, ExplainedBadRequest) else None
            return (
                render_template("errors/error.html", code=code, error=error, detail=detail),
                code,
            )
        return error

    @app.errorhandler(InternalServerError)
    def internal_server_error(error: InternalServerError) -> Response:
        """A 500 Flask made itself: an error raised outside the view (an after_request function
        such as the commit point; Flask keeps it as ``original_exception``), or ``abort(500)``.
        Registered for the code, so it comes before ``http_error``."""
        return server_error_response(error.original_exception or error)

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> Response:
        return server_error_response(error)


def server_error_response(error: BaseException) -> Response:
    """The answer to an unexpected error: a new error id, one log line with the id and the
    traceback (no request data: no form values, no query), and the translated 500 page showing
    the id. When that page cannot be made (a template error; the database down, since base.html
    loads the signed-in user), the static page in both languages, with the same id."""
    error_id = new_error_id()
    log.error(
        "unhandled error [error id %s] on %s %s",
        error_id,
        request.method,
        request.endpoint,
        exc_info=error,
    )
    try:
        db.session.rollback()
        page = render_template("errors/error.html", code=500, error=None, error_id=error_id)
        return Response(page, status=500, mimetype="text/html")
    except Exception:
        log.exception("error page failed; the static page was sent [error id %s]", error_id)
        return Response(static_error_page(error_id), status=500, headers=STATIC_ERROR_HEADERS)


def numbers_up_to(limit: int) -> str:
    """A regular expression for the whole numbers 1 to ``limit``, written without leading
    zeros: ``[1-9]\\d{0,8}|1\\d{9}|20\\d{8}|…|214748364[0-7]`` for 2^31 - 1."""
    text = str(limit)
    parts = [rf"[1-9]\d{{0,{len(text) - 2}}}"] if len(text) > 1 else []
    for i, digit in enumerate(text):
        low = 1 if i == 0 else 0
        high = int(digit) - 1
        if high >= low:
            rest = len(text) - i - 1
            tail = rf"\d{{{rest}}}" if rest else ""
            parts.append(f"{text[:i]}[{low}-{high}]{tail}")
    parts.append(text)
    return "(?:" + "|".join(parts) + ")"


class IdConverter(IntegerConverter):
    """The ``int`` of every route (``/kasus/<int:case_id>``): a record id, 1 to ``MAX_ID`` (the
    largest value of an integer column). Any other number — 0, 2^31, 10^20, a thousand digits,
    a leading zero — matches no route (its pattern, not a check after matching: the answer is
    the ordinary 404 whatever the method), before any view or query runs (a PostgreSQL integer
    column would refuse such a value with an error, a 500)."""

    regex = numbers_up_to(MAX_ID)

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = 1,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class SimpulFlask(Flask):
    def log_exception(self, exc_info: OptExcInfo) -> None:
        """Flask's own "Exception on …" line is left out: the 500 handler
        (``server_error_response``) logs the same exception once, with the error id the person
        sees. (Flask calls this just before handing the error to that handler.)"""


# The last-resort error page: plain HTML in both languages, made without the template engine,
# the translations or the database, any of which may be what failed. No script, no style; its
# own CSP allows nothing else.
_STATIC_ERROR_PAGE = """<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>Terjadi kesalahan · Something went wrong · Simpul</title>
</head>
<body>
<main>
<h1>Terjadi kesalahan pada sistem kami</h1>
<p>Kesalahan ini telah dicatat. Data yang Anda masukkan mungkin sudah tersimpan, mungkin juga
belum: sebelum memasukkannya lagi, buka menu Kasus dan periksa apakah data itu sudah ada.</p>
<p>Kode kesalahan: <strong>{error_id}</strong></p>
<p>Saat melaporkan masalah ini kepada administrator, sebutkan kode ini.</p>
<p><a href="/">Ke halaman awal</a></p>
<hr>
<div lang="en">
<h2>Something went wrong on our side</h2>
<p>The error has been recorded. What you entered may or may not have been saved: before
entering it again, open Cases and check whether it is already there.</p>
<p>Error code: <strong>{error_id}</strong></p>
<p>When you report this problem to the administrator, quote this code.</p>
<p><a href="/">Go to the start page</a></p>
</div>
</main>
</body>
</html>
"""

STATIC_ERROR_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", REFERRER_POLICY),
    (
        "Content-Security-Policy",
        "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
]


def static_error_page(error_id: str) -> bytes:
    """The static 500 page (both languages) showing ``error_id``."""
    return _STATIC_ERROR_PAGE.format(error_id=escape(error_id)).encode()


class ErrorPageMiddleware:
    """The last line, around ``app.wsgi_app`` (outermost): an error that escapes Flask — raised
    by an after_request or teardown function while an error was being handled, by the 500
    handler itself, or while a streamed body was being produced — is answered with the static
    error page under a new error id, logged with that id, instead of the server's bare English
    "Internal Server Error" (werkzeug's, gunicorn's or the test client's exception).

    The response's start (status and headers) is held back until its first body bytes, so that
    an error before them can still be answered with the page; the server is told to start only
    once. Once bytes have gone out, the error is logged and raised again: the server drops the
    connection, so a cut-off download does not look complete. A file response the server sends
    itself (gunicorn's ``wsgi.file_wrapper``, with sendfile) is passed through untouched."""

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start = _HeldStart(start_response)
        try:
            body = self.wsgi_app(environ, start)
        except Exception as error:
            if start.sent:  # bytes went out through the old write() callable
                self.log_error(environ, error, "after the response had started")
                raise
            return self.error_page(environ, start_response, error)
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            start.send()
            return body
        return _GuardedBody(self, environ, start, body)

    def log_error(self, environ: WSGIEnvironment, error: BaseException, when: str) -> str:
        error_id = new_error_id()
        log.error(
            "unhandled error [error id %s] %s on %s %s",
            error_id,
            when,
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
            exc_info=error,
        )
        return error_id

    def error_page(
        self, environ: WSGIEnvironment, start_response: StartResponse, error: BaseException
    ) -> list[bytes]:
        error_id = self.log_error(environ, error, "outside the request handling")
        page = static_error_page(error_id)
        start_response(
            "500 INTERNAL SERVER ERROR",
            [*STATIC_ERROR_HEADERS, ("Content-Length", str(len(page)))],
        )
        return [page]


class _HeldStart:
    """The ``start_response`` the application is given: it keeps status and headers until
    :meth:`send` passes them on to the server's, once."""

    def __init__(self, start_response: StartResponse) -> None:
        self.server_start_response = start_response
        self.held: tuple[str, list[tuple[str, str]]] | None = None
        self.sent = False
        self._write: Callable[[bytes], object] | None = None

    def __call__(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: OptExcInfo | None = None,
        /,
    ) -> Callable[[bytes], object]:
        if self.sent:  # the server decides (PEP 3333: it raises exc_info again)
            return self.server_start_response(status, headers, exc_info)
        self.held = (status, headers)  # nothing went out: a later start replaces an earlier one
        return self.write

    def send(self) -> None:
        if not self.sent and self.held is not None:
            self._write = self.server_start_response(*self.held)
            self.sent = True

    def write(self, data: bytes) -> object:
        """The old imperative write() callable of PEP 3333 (Flask does not use it)."""
        self.send()
        assert self._write is not None, "write() before start_response()"
        return self._write(data)


class _GuardedBody:
    """The application's body, passed on chunk by chunk; see :class:`ErrorPageMiddleware`."""

    def __init__(
        self,
        middleware: ErrorPageMiddleware,
        environ: WSGIEnvironment,
        start: _HeldStart,
        body: Iterable[bytes],
    ) -> None:
        self.middleware, self.environ, self.start, self.body = middleware, environ, start, body

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.body:
                if not self.start.sent:
                    if not chunk:
                        continue  # nothing to send yet: keep the start back
                    self.start.send()
                yield chunk
        except Exception as error:
            if self.start.sent:
                self.middleware.log_error(self.environ, error, "while the response was sent")
                raise
            yield from self.middleware.error_page(
                self.environ, self.start.server_start_response, error
            )
            return
        self.start.send()  # an empty body

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is None:
            return
        try:
            close()
        except Exception as error:  # the response is complete (or replaced) by now
            self.middleware.log_error(self.environ, error, "while the response was closed")


def _private_download_headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "no-store, private"
    return response


def send_private_file(
    directory: Any, stored_name: str, *, mimetype: str, download_name: str
) -> Response:
    """A stored file (evidence, a report) as a download, never rendered by the browser:
    an attachment, no content sniffing, a sandbox, and never cached."""
    response = send_from_directory(
        directory,
        stored_name,
        mimetype=mimetype,
        as_attachment=True,
        download_name=download_name,
        max_age=0,
    )
    return _private_download_headers(response)


def send_private_stream(
    chunks: Iterable[bytes], *, mimetype: str, download_name: str, size: int
) -> Response:
    """Like ``send_private_file`` for bytes produced as they are sent (a file decrypted on the
    way out): an attachment named ``download_name``, no sniffing, a sandbox, never cached."""
    response = Response(chunks, mimetype=mimetype, direct_passthrough=True)
    response.content_length = size
    try:
        download_name.encode("ascii")
        names = {"filename": download_name}
    except UnicodeEncodeError:
        plain = unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore").decode()
        names = {
            "filename": plain,
            "filename*": "UTF-8''" + quote(download_name, safe="!#$&+-.^_`|~"),
        }
    response.headers.set("Content-Disposition", "attachment", **names)
    return _private_download_headers(response)
