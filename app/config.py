"""Every setting of the application, in one table.

A setting's value comes from, in order: the default below, then the environment variable of the
same name, then the ``overrides`` passed to ``create_app`` (tests). The README's configuration
table is checked against this list by the test suite.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says why."""


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"not an integer: {value!r}") from exc


def _str(value: str) -> str:
    return value


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    doc: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "APP_ENV",
        "development",
        _str,
        "`development`, `production` or `testing`. Production refuses a missing or weak "
        "`SECRET_KEY` and marks cookies Secure.",
    ),
    Setting(
        "SECRET_KEY",
        None,
        _str,
        "Signs sessions and CSRF tokens. At least 32 characters in production. In development "
        "a random key is generated once and kept in `instance/secret_key`.",
        secret=True,
    ),
    Setting(
        "DATABASE_URL",
        None,
        _str,
        "SQLAlchemy URL, e.g. `postgresql+psycopg://simpul@127.0.0.1/simpul`. Unset: an "
        "SQLite file `instance/simpul.sqlite3` (development only).",
    ),
    Setting(
        "REDIS_URL",
        None,
        _str,
        "Redis for Celery and rate limits, e.g. `redis://127.0.0.1:6379/0`. Unset: background "
        "tasks run in-process and rate limits are kept in memory.",
    ),
    Setting(
        "IDLE_TIMEOUT_MINUTES",
        30,
        _int,
        "A signed-in session with no request for this long is ended.",
    ),
    Setting("PASSWORD_MIN_LENGTH", 12, _int, "Minimum password length."),
    Setting(
        "DEFAULT_LOCALE", "id", _str, "Language for people who have not chosen one (`id` or `en`)."
    ),
    Setting("DISPLAY_TIMEZONE", "Asia/Jakarta", _str, "Time zone in which times are shown."),
    Setting("MAX_UPLOAD_MB", 20, _int, "Largest accepted upload, in megabytes."),
    Setting(
        "LOGIN_RATE_LIMIT",
        "6 per minute",
        _str,
        "Login attempts allowed per account and per address (Flask-Limiter syntax).",
    ),
    Setting(
        "UPLOAD_DIR",
        None,
        _str,
        "Where case attachments are kept, outside the web root, under random names. Unset: "
        "`instance/uploads`.",
    ),
    Setting(
        "PROXY_FIX_HOPS",
        0,
        _int,
        "Trusted reverse proxies in front of the app (1 behind the nginx of `deploy/`): their "
        "`X-Forwarded-For/-Proto/-Host` give the client address used by rate limits and the audit "
        "log. Leave 0 when the app is reached directly.",
    ),
    Setting("LOG_LEVEL", "INFO", _str, "Python logging level."),
)

KNOWN_WEAK_SECRETS = frozenset(
    {
        "dev",
        "development",
        "secret",
        "changeme",
        "change-me",
        "password",
        "simpul",
        "test",
        "secret-key",
        "your-secret-key",
        "default",
        "insecure",
    }
)
MIN_SECRET_LENGTH = 32


def load_settings(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then the environment. Raises ConfigError on an unparsable value."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = env.get(setting.name)
        if raw is None or raw == "":
            values[setting.name] = setting.default
        else:
            try:
                values[setting.name] = setting.parse(raw)
            except ConfigError as exc:
                raise ConfigError(f"{setting.name}: {exc}") from exc
    return values


def check_secret_key(secret: str | None) -> str | None:
    """The reason a secret key is unacceptable in production, or None when it is fine."""
    if not secret:
        return "SECRET_KEY is not set"
    if secret.strip().lower() in KNOWN_WEAK_SECRETS:
        return "SECRET_KEY is a well-known placeholder"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(secret)) < 8:
        return "SECRET_KEY repeats too few distinct characters"
    return None
