"""One submission per form: a form that creates something is taken once, however often it is
sent.

Each form that creates a record (a complaint, a note, a consent decision, a referral, a
transfer request, …) carries a hidden ``idempotency_key``: a random key made when the page is
rendered (``form_key()`` in a template). The view is decorated with :func:`once_per_form`:

* the first POST with a key claims it — a ``form_submissions`` row (user, key), inserted before
  the view runs, in the request's own transaction — and, when the view answers with a redirect
  (the record was created), keeps the address it redirected to;
* a POST with a key already claimed by the same user (a double click, the browser's "send
  again", a second tab) creates nothing: it is redirected to that address with the notice
  "This form has already been sent";
* two POSTs with one key at the same moment: on PostgreSQL the second insert waits for the first
  transaction on the unique index and then finds the key taken; on SQLite every transaction
  starts with ``BEGIN IMMEDIATE``, so they follow one another;
* a POST that does not end in a redirect (a form error, 4xx, or a page asking a question) keeps
  no claim: its rows are rolled back, or the claim is removed, and the same form may be sent
  again.

A POST without a key (a script, an old page) is handled as before, without this protection. A
key that is not one we make is refused (400). Claims are kept for ``KEEP`` and then removed, a
user's old ones at each of that user's claims.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import Flask, abort, flash, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.wrappers import Response

from app.core.db import UTCDateTime, utcnow
from app.core.extensions import Model, db
from app.core.i18n import gettext as _

FIELD = "idempotency_key"
KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEEP = dt.timedelta(days=1)

View = TypeVar("View", bound=Callable[..., ResponseReturnValue])


class FormSubmission(Model):
    """A form key a user has sent, and where its first submission led (``result_url``)."""

    __tablename__ = "form_submissions"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(64))
    endpoint: Mapped[str] = mapped_column(sa.String(100))
    result_url: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


def form_key() -> str:
    """A new key for one rendering of a create form (a template global)."""
    return secrets.token_urlsafe(24)


def _found(user_id: int, key: str) -> FormSubmission | None:
    return cast(
        FormSubmission | None,
        db.session.scalar(
            sa.select(FormSubmission).where(
                FormSubmission.user_id == user_id, FormSubmission.key == key
            )
        ),
    )


def _claim(user_id: int, key: str) -> FormSubmission | None:
    """Claim ``key`` for this submission. Returns the earlier submission when the key was
    already taken (None: the claim is ours)."""
    earlier = _found(user_id, key)
    if earlier is not None:
        return earlier
    db.session.execute(
        sa.delete(FormSubmission).where(
            FormSubmission.user_id == user_id, FormSubmission.created_at < utcnow() - KEEP
        )
    )
    try:
        with db.session.begin_nested():
            db.session.add(
                FormSubmission(user_id=user_id, key=key, endpoint=request.endpoint or "")
            )
            db.session.flush()
    except IntegrityError:
        # a submission with the same key committed while this one waited for it
        return _found(user_id, key)
    return None


def _local(url: str | None) -> str | None:
    """An address of this application (a path), else None."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url[:500]
    return None


def _already_sent(earlier: FormSubmission) -> Response:
    """Where the first submission led, with the notice; nothing is created again."""
    flash(_("This form has already been sent."), "info")
    return redirect(_local(earlier.result_url) or url_for("home.index"))


def once_per_form(view: View) -> View:
    """Take a create form once per key (see the module's docstring). Put it under the route's
    ``@requires``, so that the permission is checked first."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        key = request.form.get(FIELD) if request.method == "POST" else None
        if not key or not current_user.is_authenticated:
            return view(*args, **kwargs)
        if not KEY.fullmatch(key):
            abort(400)
        user_id = int(current_user.id)
        earlier = _claim(user_id, key)
        if earlier is not None:
            return _already_sent(earlier)
        response = make_response(view(*args, **kwargs))
        mine = _found(user_id, key)  # None when the view rolled its work back
        target = _local(response.location) if 300 <= response.status_code < 400 else None
        if target is None:
            if mine is not None and response.status_code < 400:
                db.session.delete(mine)  # nothing was created: the form may be sent again
        elif mine is None:
            db.session.add(
                FormSubmission(
                    user_id=user_id, key=key, endpoint=request.endpoint or "", result_url=target
                )
            )
        else:
            mine.result_url = target
        return response

    wrapper.once_per_form = True  # type: ignore[attr-defined]  # (the decorators above keep it)
    return cast(View, wrapper)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["form_key"] = form_key
