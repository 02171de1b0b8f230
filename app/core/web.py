"""Request plumbing: the one commit point, security headers, error pages, locale selection."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, render_template, request, session
from flask_login import current_user
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

SUPPORTED_LOCALES = ("id", "en")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


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

    @app.after_request
    def commit_point(response: Response) -> Response:
        """One commit per request: keep the work of a successful request, drop any other."""
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["APP_ENV"] == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
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
