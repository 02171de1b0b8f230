"""Shared steps of the second-factor tests."""

from __future__ import annotations

import time
from typing import Any

import pyotp
from flask.testing import FlaskClient

from app.auth import operations as ops
from app.core.db import utcnow
from app.extensions import db, limiter
from tests.factories import TEST_PASSWORD


def enrol(user: Any) -> tuple[str, list[str]]:
    """Turn the second factor on for ``user`` without using a code; returns the secret and the
    recovery codes."""
    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    db.session.flush()
    return secret, ops.regenerate_recovery_codes(user)


def code_at(secret: str, step_offset: int = 0) -> str:
    """The code of the current time step, or of the one ``step_offset`` steps away."""
    return pyotp.TOTP(secret).at(int(time.time()) + step_offset * 30)


def post_password(client: FlaskClient, user: Any, password: str = TEST_PASSWORD, **kw: Any) -> Any:
    return client.post("/masuk", data={"email": user.email, "password": password}, **kw)


def post_code(client: FlaskClient, code: str) -> Any:
    return client.post("/masuk/kode", data={"code": code})


def reset_limits() -> None:
    limiter.reset()
