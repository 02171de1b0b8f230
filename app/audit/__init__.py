"""The audit trail: an append-only, hash-chained record of every change, of every view of
identifying data and of every refusal, and who did it, when and from where."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from app.config import ConfigError
from app.core.schedule import At, Periodic, register

MIN_HMAC_KEY_LENGTH = 32


def _instance_hmac_key(app: Flask) -> str:
    """Development and tests only: a random key generated once and kept under ``instance/``."""
    path = Path(app.instance_path) / "audit_hmac_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # created with mode 0600 from the start: never readable by others, not even for a moment
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it a moment ago
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def configure_hmac_key(app: Flask) -> None:
    """Production refuses to start without a strong ``AUDIT_HMAC_KEY``; elsewhere a missing key
    is generated once into ``instance/audit_hmac_key``."""
    key = app.config.get("AUDIT_HMAC_KEY")
    if app.config.get("APP_ENV") == "production":
        if not key:
            raise ConfigError("refusing to start in production: AUDIT_HMAC_KEY is not set")
        if len(key) < MIN_HMAC_KEY_LENGTH or len(set(key)) < 8:
            raise ConfigError(
                "refusing to start in production: AUDIT_HMAC_KEY is shorter than "
                f"{MIN_HMAC_KEY_LENGTH} characters or repeats too few distinct characters"
            )
        if key == app.config.get("SECRET_KEY"):
            raise ConfigError(
                "refusing to start in production: AUDIT_HMAC_KEY must differ from SECRET_KEY"
            )
    elif not key:
        app.config["AUDIT_HMAC_KEY"] = _instance_hmac_key(app)


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.audit import models, tasks  # noqa: F401  (tables, task)
    from app.audit.cli import audit_cli
    from app.audit.web import init_request_hooks

    configure_hmac_key(app)
    app.cli.add_command(audit_cli)
    init_request_hooks(app)
    register(
        Periodic(
            name="audit.log_head",
            task="audit.log_head",
            schedule=At(0, 30),
            command="flask audit head",
            description="write the audit chain's head to the log (kept off the server)",
        )
    )
