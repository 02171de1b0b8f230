"""The signed-in user of the request, typed.

Flask-Login's ``current_user`` is an untyped proxy that may stand for an anonymous visitor.
Code behind a sign-in asks ``me()`` for the ``User`` itself; code that also serves visitors
asks ``signed_in()``.
"""

from __future__ import annotations

from flask_login import current_user
from werkzeug.exceptions import Unauthorized

from app.auth.models import User


def signed_in() -> User | None:
    """The signed-in user, or ``None`` for a visitor who has not signed in."""
    user = current_user._get_current_object()
    return user if isinstance(user, User) else None


def me() -> User:
    """The signed-in user of a view behind a sign-in (``login_required``, a permission check).
    Nobody signed in is answered 401, as Flask-Login answers an unauthorised request."""
    user = signed_in()
    if user is None:
        raise Unauthorized()
    return user
