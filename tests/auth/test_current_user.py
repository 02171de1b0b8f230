"""``app.auth.current``: the signed-in user as a ``User``."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_login import login_user
from werkzeug.exceptions import Unauthorized

from app.auth.current import me, signed_in
from app.auth.models import User
from tests.factories import UserFactory


def test_me_is_the_signed_in_user(app: Flask) -> None:
    user = UserFactory()
    with app.test_request_context("/"):
        login_user(user)
        assert me() is user
        assert isinstance(signed_in(), User)


def test_a_visitor_is_nobody(app: Flask) -> None:
    with app.test_request_context("/"):
        assert signed_in() is None
        with pytest.raises(Unauthorized):
            me()
