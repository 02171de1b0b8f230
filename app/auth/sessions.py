"""What the session cookie carries about sign-in, and the rules applied to it on every request:
the idle and absolute lifetimes, the pending second step of a sign-in, users confined to the
TOTP enrolment page, and recent re-authentication before sensitive actions."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth.models import User
from app.auth.totp import totp_required
from app.core.i18n import gettext as _
from app.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

SESSION_LAST_SEEN = "last_seen"
SESSION_SIGNED_IN_AT = "signed_in_at"
SESSION_REAUTH_AT = "reauth_at"
SESSION_PENDING = "pending_login"

PENDING_SECONDS = 5 * 60
"""How long the second step of a sign-in may wait after the password."""

# Endpoints a user who must enrol in TOTP may still reach.
ENROLMENT_ENDPOINTS = frozenset(
    {
        "auth.totp_setup",
        "auth.totp_confirm",
        "auth.totp_restart",
        "auth.logout",
        "auth.set_language",
        "home.health",
        "static",
    }
)


def now_ts() -> int:
    return int(time.time())


def safe_next(target: str | None) -> str | None:
    """A same-site path to return to, or None (never an absolute URL: no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def _fresh_session() -> None:
    """Drop everything the session held (a new session on every sign-in), keeping only the
    language the person chose."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def start_session(user: User) -> None:
    """Sign ``user`` in on a fresh session; sign-in counts as a recent authentication."""
    _fresh_session()
    login_user(user)
    now = now_ts()
    session[SESSION_SIGNED_IN_AT] = now
    session[SESSION_LAST_SEEN] = now
    session[SESSION_REAUTH_AT] = now


def end_session() -> None:
    logout_user()
    _fresh_session()


# --- the pending second step -----------------------------------------------------------------


def start_pending_login(user: User, next_url: str | None) -> None:
    """The password was right and a code is needed: remember who, not yet signed in."""
    _fresh_session()
    session[SESSION_PENDING] = {
        "uid": user.id,
        "gen": user.session_generation,
        "exp": now_ts() + PENDING_SECONDS,
        "next": safe_next(next_url),
    }


def pending_login() -> dict[str, Any] | None:
    pending = session.get(SESSION_PENDING)
    if not isinstance(pending, dict) or int(pending.get("exp", 0)) < now_ts():
        return None
    return pending


def pending_user() -> User | None:
    """The user whose sign-in waits for a code, while the marker is fresh and still valid."""
    pending = pending_login()
    if pending is None:
        return None
    user = db.session.get(User, int(pending["uid"]))
    if user is None or not user.active or user.session_generation != pending.get("gen"):
        return None
    return user


def clear_pending_login() -> None:
    session.pop(SESSION_PENDING, None)


# --- policy ------------------------------------------------------------------------------------


def must_use_totp(user: User) -> bool:
    """The deployment's TOTP_REQUIRED applies to the roles ``user`` holds."""
    return totp_required(current_app.config["TOTP_REQUIRED"], user.role_set)


def needs_enrolment(user: User) -> bool:
    return must_use_totp(user) and not user.totp_enabled


# --- checked on every request ----------------------------------------------------------------


def enforce_session_rules() -> Response | None:
    """Idle and absolute lifetimes, then the confinement of users who must enrol in TOTP."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = now_ts()
    signed_in_at = session.get(SESSION_SIGNED_IN_AT)
    absolute = current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    if signed_in_at is None or now - int(signed_in_at) > absolute:
        end_session()
        flash(_("Your session has ended. Please sign in again."), "warning")
        return redirect(url_for("auth.login"))
    last_seen = session.get(SESSION_LAST_SEEN)
    idle = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
    if last_seen is not None and now - int(last_seen) > idle:
        end_session()
        flash(
            _("Your session ended after a period of inactivity. Please sign in again."), "warning"
        )
        return redirect(url_for("auth.login"))
    session[SESSION_LAST_SEEN] = now
    if request.endpoint not in ENROLMENT_ENDPOINTS and needs_enrolment(current_user):
        return redirect(url_for("auth.totp_setup"))
    return None


# --- re-authentication before sensitive actions ----------------------------------------------


def has_recent_auth(minutes: int = 5) -> bool:
    """The signed-in user gave their password (and code) within the last ``minutes``."""
    at = session.get(SESSION_REAUTH_AT)
    return at is not None and now_ts() - int(at) <= minutes * 60


def mark_recent_auth() -> None:
    session[SESSION_REAUTH_AT] = now_ts()


def reauth_redirect() -> Response:
    """Send the user to confirm their password, then back. A GET comes back to itself; a form
    post cannot be replayed, so it comes back to the page the form was on."""
    if request.method == "GET":
        target = request.full_path if request.query_string else request.path
    else:
        referrer = urlsplit(request.referrer or "")
        same_site = not referrer.netloc or referrer.netloc == request.host
        target = referrer.path if same_site and referrer.path else request.path
        if same_site and referrer.query:
            target = f"{target}?{referrer.query}"
    flash(_("For your protection, confirm it is you to continue."), "info")
    return redirect(url_for("auth.reauthenticate", next=safe_next(target)))


def require_recent_auth(minutes: int = 5) -> Callable[[F], F]:
    """Decorate a view (under its ``@requires``) that needs a re-authentication within the
    last ``minutes``: bulk export, break-the-glass, key rotation. Without one the user is sent
    to ``/masuk/ulang`` and brought back afterwards."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if current_user.is_authenticated and not has_recent_auth(minutes):
                return reauth_redirect()
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate
