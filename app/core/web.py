"""Request plumbing: the one commit point, security headers, error pages, locale selection."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Flask, Response, abort, g, render_template, request, send_from_directory, session
from flask_login import current_user
from werkzeug.exceptions import HTTPException

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


def csp_nonce() -> str:
    """The nonce of the current response's CSP, made once per request."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return str(nonce)


def content_security_policy(nonce: str) -> str:
    return "; ".join(d.format(nonce=nonce) for d in CSP_DIRECTIVES)


def select_locale() -> str:
    from flask import current_app, has_request_context

    if not has_request_context():
        return str(current_app.config["DEFAULT_LOCALE"])
    if current_user and current_user.is_authenticated and current_user.locale in SUPPORTED_LOCALES:
        return str(current_user.locale)
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return str(chosen)
    return str(current_app.config["DEFAULT_LOCALE"])


def select_timezone() -> str:
    from flask import current_app

    return str(current_app.config["DISPLAY_TIMEZONE"])


def init_request_handling(app: Flask) -> None:
    from app.extensions import db

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
        """One commit per request: keep the work of a successful request, drop any other."""
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
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
            return render_template("errors/error.html", code=code, error=error), code
        return error

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> Any:
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.endpoint)
        return render_template("errors/error.html", code=500, error=None), 500


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
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "no-store, private"
    return response
