"""Every setting of the application, in one table.

A setting's value comes from, in order: the default below, then the environment variable of the
same name, then the ``overrides`` passed to ``create_app`` (tests). The README's configuration
table is checked against this list by the test suite.
"""

from __future__ import annotations

import os
from collections.abc import Callable, MutableMapping
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


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"not true or false: {value!r}")


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
        "DUPLICATE_CHECK_RATE_LIMIT",
        "120 per hour",
        _str,
        "Identities (victim rows) one user may look up with the intake duplicate check "
        "(Flask-Limiter syntax). Each check is audit-logged; past the limit it is paused.",
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
    Setting(
        "DATA_ENCRYPTION_KEYS",
        None,
        _str,
        "Keys that encrypt identifying fields (AES-256-GCM), as `id:base64key` pairs separated "
        "by commas, the current key first; older keys stay listed until `flask keys rotate` has "
        "re-encrypted everything. Required in production; in development generated once into "
        "`instance/`.",
        secret=True,
    ),
    Setting(
        "AUDIT_HMAC_KEY",
        None,
        _str,
        "Key of the HMAC that seals each audit entry (kept outside the database). Required in "
        "production; in development generated once into `instance/`.",
        secret=True,
    ),
    Setting(
        "TOTP_REQUIRED",
        None,
        _str,
        "Who must sign in with a TOTP second factor: `case_roles` (every role with access to "
        "case data), `all` or `none`. Default: `case_roles` in production, `none` otherwise.",
    ),
    Setting(
        "SESSION_ABSOLUTE_HOURS",
        12,
        _int,
        "A session ends this many hours after sign-in, however active.",
    ),
    Setting(
        "MAIL_BACKEND",
        None,
        _str,
        "How e-mail copies of notifications leave: `smtp`, `console` (written to the log), "
        "`memory` (kept in a list, for tests) or `none`. Unset: `smtp` in production, "
        "`console` otherwise. Production refuses `smtp` without `MAIL_SERVER`.",
    ),
    Setting("MAIL_SERVER", None, _str, "SMTP server host name, e.g. `smtp.example.go.id`."),
    Setting("MAIL_PORT", 587, _int, "SMTP server port (usually 587 with STARTTLS, 465 with SSL)."),
    Setting("MAIL_USE_TLS", True, _bool, "Upgrade the SMTP connection with STARTTLS."),
    Setting(
        "MAIL_USE_SSL",
        False,
        _bool,
        "Connect over SSL/TLS from the start (port 465); not together with `MAIL_USE_TLS`.",
    ),
    Setting("MAIL_USERNAME", None, _str, "SMTP user name; unset: no authentication."),
    Setting("MAIL_PASSWORD", None, _str, "SMTP password. Never logged.", secret=True),
    Setting(
        "MAIL_FROM",
        "Simpul <noreply@localhost>",
        _str,
        "Sender of the e-mails, e.g. `Simpul <noreply@simpul.example.go.id>`.",
    ),
    Setting(
        "RETENTION_YEARS_AFTER_CLOSE",
        10,
        _int,
        "Years after a case is closed before `flask privacy retention` erases its victims' "
        "identities (statistical fields stay; never while legal proceedings are open). Legal "
        "basis: policy, to be set by the agency (UU 27/2022 asks for a retention period, it "
        "does not fix one).",
    ),
    Setting(
        "REFERRAL_SHARING_GRACE_DAYS",
        30,
        _int,
        "Days after a referral is completed during which the receiving agency still sees what it "
        "shared (identity, incident summary, findings, attachments); a withdrawn or declined "
        "referral stops sharing at once. 0: sharing ends on completion.",
    ),
    Setting(
        "INDICATOR_REGION",
        "agency",
        _str,
        "Which region a victim is counted in by the indicators: `agency` (the jurisdiction of the "
        "agency that first registered the case, domain.md §6) or `incident` (the region of the "
        "incident; a case without one counts only nationally). Roll up again after a change.",
    ),
    Setting(
        "JOB_STALLED_MINUTES",
        10,
        _int,
        "A background job (a rollup, a report) that has shown no progress for this long is "
        'shown as stalled, and may be started again, instead of "queued" or "running" '
        "forever.",
    ),
    Setting(
        "SCHEDULER",
        "auto",
        _str,
        "Who runs the periodic work (the deadline check, the monthly rollup, retention, the "
        "weekly access review, the outbox relay): `auto` (the server itself when `REDIS_URL` is "
        "not set, Celery beat otherwise), `inprocess` (always the server), `off` (beat or cron "
        "with `flask schedule run-due`).",
    ),
    Setting(
        "BASE_URL",
        "http://127.0.0.1:5000",
        _str,
        "Public address of the application, used to build the links in e-mails, e.g. "
        "`https://simpul.example.go.id`.",
    ),
)

MAIL_BACKENDS = ("smtp", "console", "memory", "none")

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


def resolve_mail_settings(config: MutableMapping[str, Any]) -> None:
    """Fill in the default ``MAIL_BACKEND`` of the environment (``smtp`` in production,
    ``console`` otherwise) and check the mail settings together; raises ConfigError, in
    production as well when ``smtp`` has no ``MAIL_SERVER`` to send to."""
    backend = config.get("MAIL_BACKEND")
    if not backend:
        backend = "smtp" if config.get("APP_ENV") == "production" else "console"
    backend = str(backend).strip().lower()
    if backend not in MAIL_BACKENDS:
        raise ConfigError(
            f"MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}, not {backend!r}"
        )
    config["MAIL_BACKEND"] = backend
    if config.get("MAIL_USE_TLS") and config.get("MAIL_USE_SSL"):
        raise ConfigError(
            "MAIL_USE_TLS (STARTTLS) and MAIL_USE_SSL cannot both be true; choose one"
        )
    base_url = str(config.get("BASE_URL") or "")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"BASE_URL must start with http:// or https://, not {base_url!r}")
    config["BASE_URL"] = base_url.rstrip("/")
    if (
        config.get("APP_ENV") == "production"
        and backend == "smtp"
        and not config.get("MAIL_SERVER")
    ):
        raise ConfigError(
            "refusing to start in production: MAIL_BACKEND is smtp but MAIL_SERVER is not set"
        )
