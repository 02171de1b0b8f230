"""Every setting of the application, in one table.

A setting's value comes from, in order: the default below, then the environment variable of the
same name, then the ``overrides`` passed to ``create_app`` (tests). The README's configuration
table is checked against this list by the test suite.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
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


# Days a service may go without any change (a step, a referral sent) before the Sub GT board
# counts it as late ("Terlambat"), per service type; ``SUBGT_STALE_DAYS`` changes some of them.
# Urgent services are looked at within days; those that follow a court's or a family's pace, in
# weeks. docs/operations.md §15 gives the reasons.
STALE_DAYS_DEFAULT: dict[str, int] = {
    "pengaduan": 7,
    "penjangkauan": 7,
    "kedaruratan": 3,
    "penampungan_sementara": 14,
    "rehabilitasi_kesehatan": 14,
    "rehabilitasi_sosial": 30,
    "bantuan_hukum": 30,
    "penegakan_hukum": 60,
    "mediasi": 30,
    "pendampingan": 30,
    "pemulangan": 14,
    "reintegrasi_sosial": 60,
    "pendampingan_rohani": 30,
    "pemberdayaan_ekonomi": 60,
    "dokumen_kependudukan": 30,
}


def _stale_days(value: str) -> dict[str, int]:
    """``service=days`` pairs separated by commas, over ``STALE_DAYS_DEFAULT``:
    ``penegakan_hukum=90,kedaruratan=2``. An unknown service or a day count under 1 is refused."""
    days = dict(STALE_DAYS_DEFAULT)
    for pair in value.split(","):
        if not pair.strip():
            continue
        service, sep, count = pair.partition("=")
        service = service.strip()
        if not sep or service not in STALE_DAYS_DEFAULT:
            raise ConfigError(f"not a service type=days pair: {pair.strip()!r}")
        number = _int(count.strip())
        if number < 1:
            raise ConfigError(f"days must be 1 or more: {pair.strip()!r}")
        days[service] = number
    return days


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
        "DATABASE_OWNER_URL",
        None,
        _str,
        "PostgreSQL URL of the role that owns the schema, for `flask db upgrade` (which then "
        "grants the role of `DATABASE_URL` what it needs), `flask db grant-app-role` and `flask "
        "keys rotate`; the same database as `DATABASE_URL`. Give it only to those commands, "
        "never to the web, worker or beat processes. Unset: they use `DATABASE_URL` (one role, "
        "as in development).",
        secret=True,
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
        "CASE_SUMMARY_RATE_LIMIT",
        "30 per hour",
        _str,
        "Printable case summaries (PDF) one user may make (Flask-Limiter syntax). Each is "
        "audit-logged as an export; past the limit the form asks to try later.",
    ),
    Setting(
        "SUBGT_STALE_DAYS",
        dict(STALE_DAYS_DEFAULT),
        _stale_days,
        "Days without any change after which an open service counts as late on the Sub GT "
        "board, per service type: `service=days` pairs over the defaults, e.g. "
        "`penegakan_hukum=90,kedaruratan=2` (docs/operations.md §15).",
    ),
    Setting(
        "UPLOAD_DIR",
        None,
        _str,
        "Where case attachments are kept, outside the web root, under random names: a "
        "persistent directory, included in the backup, that every web and worker process shares "
        "(e.g. `/var/lib/simpul/uploads`). Required in production (an absolute path to an "
        "existing, writable directory); elsewhere unset means `instance/uploads`.",
    ),
    Setting(
        "REPORT_DIR",
        None,
        _str,
        "Where the report files people download (XLSX/PDF) are kept: written by the worker, "
        "served by the web, so both must share it (e.g. `/var/lib/simpul/reports`). Required in "
        "production (an absolute path to an existing, writable directory, not `UPLOAD_DIR`); "
        "elsewhere unset means `reports` beside the upload directory.",
    ),
    Setting(
        "PROXY_FIX_HOPS",
        0,
        _int,
        "Trusted reverse proxies in front of the app (1 behind the nginx of `deploy/`): their "
        "`X-Forwarded-For/-Proto/-Host` give the client address used by rate limits and the audit "
        "log, on requests that come from a `TRUSTED_PROXIES` address. Leave 0 when the app is "
        "reached directly.",
    ),
    Setting(
        "TRUSTED_PROXIES",
        "127.0.0.1,::1",
        _str,
        "Addresses or networks (comma-separated) of the proxy in front of the app. Only a request "
        "whose immediate peer is one of them (or comes over a unix socket) has its "
        "`X-Forwarded-*` headers believed (with `PROXY_FIX_HOPS` > 0); from any other peer they "
        "are dropped, so a client reaching the app directly cannot pick its own address.",
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
        "BLIND_INDEX_KEYS",
        None,
        _str,
        "Keys of the keyed hashes (blind indexes) that find a victim by name or NIK and detect "
        "duplicates, as `id:base64key` pairs separated by commas (`flask keys generate`), the "
        "current key first; an older key stays listed until `flask keys reindex` has recomputed "
        "every index. Not `SECRET_KEY`: replacing that only ends sessions. Required in "
        "production (and different from every `DATA_ENCRYPTION_KEYS` key); in development "
        "generated once into `instance/`.",
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
        "TASK_VISIBILITY_TIMEOUT_MINUTES",
        10,
        _int,
        "A task a worker took but never acknowledged (the worker crashed or was killed) is "
        "handed to another worker after this long (Redis `visibility_timeout`; Celery's own "
        "default is an hour). Keep it above the longest task, or a task still running is handed "
        "out twice (harmless, every task is idempotent, but wasted work).",
    ),
    Setting(
        "OUTBOX_RESEND_MINUTES",
        30,
        _int,
        "A task sent to Redis that no worker has completed after this long is sent again by the "
        "outbox relay (Redis lost it, e.g. restarted without persistence, or the task failed). "
        "Must be larger than `TASK_VISIBILITY_TIMEOUT_MINUTES` and than the longest task plus "
        "the longest wait in the queue.",
    ),
    Setting(
        "OUTBOX_MAX_DELIVERIES",
        5,
        _int,
        "After this many sends without completion a task is given up (state `failed` in "
        "`flask outbox status`, with its last error) instead of being sent again; "
        "`flask outbox retry` sends it again after the cause is fixed.",
    ),
    Setting(
        "SCHEDULER",
        "auto",
        _str,
        "Who runs the periodic work (the deadline check, the monthly rollup, retention, the "
        "weekly access review, the outbox relay, the daily audit-chain head in the log): `auto` "
        "(the server itself when `REDIS_URL` is not set, Celery beat otherwise), `inprocess` "
        "(always the server), `off` (beat or cron with `flask schedule run-due`).",
    ),
    Setting(
        "SQL_COUNT_HEADER",
        False,
        _bool,
        "Benchmarks only: each response carries `X-SQL-Statements`, the number of SQL "
        "statements the request ran (counted with SQLAlchemy events), read by `make bench`. "
        "Leave off in production.",
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


WRITE_PROBE_PREFIX = ".simpul-write-check-"  # the start-up probe file; never an attachment


def _usable_directory(name: str, path: Path) -> str | None:
    """Why ``path`` cannot hold the application's files, or None: it must be a directory in
    which this process can create (and remove) a file."""
    if not path.is_dir():
        return f"{name} {path} does not exist or is not a directory"
    try:
        descriptor, probe = tempfile.mkstemp(dir=path, prefix=WRITE_PROBE_PREFIX)
    except OSError as error:
        return f"{name} {path} is not writable by this process ({error.strerror or error})"
    os.close(descriptor)
    os.unlink(probe)
    return None


def resolve_storage_dirs(config: MutableMapping[str, Any], instance_path: str) -> None:
    """Settle ``UPLOAD_DIR`` and ``REPORT_DIR`` and check both can be written, at start.

    Production names both explicitly (absolute paths to existing, writable directories): a
    default under the instance folder would put attachments where neither the backup nor a
    container volume looks, and a worker writing reports into a folder the web cannot see would
    make every report a 404. Elsewhere the defaults are ``instance/uploads`` and ``reports``
    beside the upload directory, created when missing. Raises ConfigError."""
    production = config.get("APP_ENV") == "production"
    resolved: dict[str, Path] = {}
    for name in ("UPLOAD_DIR", "REPORT_DIR"):
        raw = str(config.get(name) or "").strip()
        if production:
            if not raw:
                raise ConfigError(
                    f"refusing to start in production: {name} is not set (attachments and "
                    "reports must live on persistent storage that the web and worker processes "
                    "share and the backup covers, e.g. "
                    f"/var/lib/simpul/{'uploads' if name == 'UPLOAD_DIR' else 'reports'})"
                )
            if not Path(raw).is_absolute():
                raise ConfigError(
                    f"refusing to start in production: {name} must be an absolute path, not {raw!r}"
                )
        if raw:
            resolved[name] = Path(raw)
        elif name == "UPLOAD_DIR":
            resolved[name] = Path(instance_path) / "uploads"
        else:
            resolved[name] = resolved["UPLOAD_DIR"].parent / "reports"
    if resolved["UPLOAD_DIR"].resolve() == resolved["REPORT_DIR"].resolve():
        raise ConfigError("UPLOAD_DIR and REPORT_DIR must be two different directories")
    for name, path in resolved.items():
        if not production:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        reason = _usable_directory(name, path)
        if reason:
            prefix = "refusing to start in production: " if production else ""
            raise ConfigError(prefix + reason)
        config[name] = str(path)


def check_task_settings(config: MutableMapping[str, Any]) -> None:
    """The visibility time-out and the outbox's re-send time-out fit together; raises
    ConfigError. A task the broker lost is re-sent only after a crashed worker's task would
    have come back on its own (the visibility time-out), so the two never race."""
    visibility = int(config.get("TASK_VISIBILITY_TIMEOUT_MINUTES") or 0)
    resend = int(config.get("OUTBOX_RESEND_MINUTES") or 0)
    deliveries = int(config.get("OUTBOX_MAX_DELIVERIES") or 0)
    if visibility < 1:
        raise ConfigError("TASK_VISIBILITY_TIMEOUT_MINUTES must be at least 1")
    if resend <= visibility:
        raise ConfigError(
            f"OUTBOX_RESEND_MINUTES ({resend}) must be larger than "
            f"TASK_VISIBILITY_TIMEOUT_MINUTES ({visibility})"
        )
    if deliveries < 1:
        raise ConfigError("OUTBOX_MAX_DELIVERIES must be at least 1")
