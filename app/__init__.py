"""Simpul: case management for KtP/A and TPPO victims. ``create_app`` builds the application."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from app.config import (
    ConfigError,
    check_secret_key,
    check_task_settings,
    load_settings,
    resolve_mail_settings,
    resolve_storage_dirs,
)
from app.core.celery_task import bind_worker_app
from app.core.db import configure_sqlite, render_migration_item
from app.core.db_roles import init_app as init_db_roles
from app.core.i18n import init_i18n
from app.core.idempotency import init_app as init_idempotency
from app.core.keys_cli import init_app as init_keys
from app.core.outbox import init_outbox
from app.core.proxy import TrustedProxyFix, parse_trusted_proxies
from app.core.schedule import init_schedule
from app.core.sql_count import init_sql_count
from app.core.static_files import init_static_files
from app.core.tasks import celery_dispatcher, inprocess_dispatcher
from app.core.templating import init_templating
from app.core.web import (
    ErrorPageMiddleware,
    IdConverter,
    SimpulFlask,
    init_request_handling,
    select_locale,
    select_timezone,
)
from app.extensions import babel, celery, csrf, db, limiter, login_manager, migrate


def _instance_secret(app: Flask) -> str:
    """Development only: a random key generated once and kept under ``instance/``."""
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    os.chmod(path, 0o600)
    return key


def _configure(app: Flask, overrides: dict[str, Any] | None) -> None:
    settings = load_settings()
    if overrides:
        settings.update(overrides)
    env = settings["APP_ENV"]
    if env not in {"development", "production", "testing"}:
        raise ConfigError(f"APP_ENV must be development, production or testing, not {env!r}")
    if settings["INDICATOR_REGION"] not in ("agency", "incident"):
        raise ConfigError(
            f"INDICATOR_REGION must be agency or incident, not {settings['INDICATOR_REGION']!r}"
        )
    if settings["DEFAULT_LOCALE"] not in ("id", "en"):
        raise ConfigError(f"DEFAULT_LOCALE must be id or en, not {settings['DEFAULT_LOCALE']!r}")

    if env == "production":
        reason = check_secret_key(settings["SECRET_KEY"])
        if reason:
            raise ConfigError(f"refusing to start in production: {reason}")
        if not settings["DATABASE_URL"]:
            raise ConfigError("refusing to start in production: DATABASE_URL is not set")
    elif not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(app)
    # the environment's default MAIL_BACKEND; production refuses smtp without MAIL_SERVER
    resolve_mail_settings(settings)

    try:
        settings["TRUSTED_PROXY_NETWORKS"] = parse_trusted_proxies(
            str(settings["TRUSTED_PROXIES"] or "")
        )
    except ValueError as exc:
        raise ConfigError(f"TRUSTED_PROXIES: {exc}") from exc
    if settings["PROXY_FIX_HOPS"] and not settings["TRUSTED_PROXY_NETWORKS"]:
        raise ConfigError(
            "PROXY_FIX_HOPS is set but TRUSTED_PROXIES names no proxy: set the proxy's address "
            "(127.0.0.1,::1 for nginx on the same machine)"
        )

    # attachments and reports: explicit, persistent and writable in production (checked now,
    # not at the first upload); the visibility and re-send time-outs of background tasks
    resolve_storage_dirs(settings, app.instance_path)
    check_task_settings(settings)

    database_url = settings["DATABASE_URL"] or "sqlite:///" + str(
        Path(app.instance_path) / "simpul.sqlite3"
    )
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    app.config.update(settings)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_url,
        # hide_parameters: a failing statement's error never carries the values (identities)
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "hide_parameters": True},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=env == "production",
        SESSION_COOKIE_NAME="simpul_session",
        REMEMBER_COOKIE_DURATION=0,
        # one megabyte above the file limit, so a file just over it gets the form's own message
        MAX_CONTENT_LENGTH=(settings["MAX_UPLOAD_MB"] + 1) * 1024 * 1024,
        BABEL_DEFAULT_LOCALE=settings["DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE="UTC",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_STORAGE_URI=settings["REDIS_URL"] or "memory://",
        RATELIMIT_STRATEGY="moving-window",
        RATELIMIT_HEADERS_ENABLED=False,
        TESTING=env == "testing" or bool(settings.get("TESTING")),
        # an error raised outside a view (e.g. by the commit point) goes to the 500 handler and
        # its page, also under the test client and in debug mode (Flask would re-raise it there)
        PROPAGATE_EXCEPTIONS=False,
    )
    if settings["DATABASE_URL"] is None or database_url.startswith("sqlite"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)


def celery_init_app(app: Flask) -> None:
    """Bind the Celery app to Flask as the Flask docs describe: every task runs in an app context
    and ends with one commit (or a rollback on error) — the task class is
    ``app.core.celery_task.FlaskTask``, given to Celery when it is created."""
    bind_worker_app(app)
    redis_url = app.config["REDIS_URL"]
    celery.conf.update(
        broker_url=redis_url or "memory://",
        result_backend=None,
        task_ignore_result=True,
        # a task is acknowledged when it ends, so a worker that dies mid-task loses nothing:
        # the pool's parent requeues it at once (reject_on_worker_lost), and when the whole
        # worker is gone Redis hands it out again after the visibility time-out (every task is
        # idempotent). The outbox relay re-sends what Redis itself lost (app/core/outbox.py).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        broker_transport_options={
            "visibility_timeout": app.config["TASK_VISIBILITY_TIMEOUT_MINUTES"] * 60
        },
        worker_prefetch_multiplier=1,
        task_default_queue="simpul",
        broker_connection_retry_on_startup=True,
        timezone="Asia/Jakarta",
        enable_utc=True,
    )
    celery.set_default()
    app.extensions["celery"] = celery

    app.extensions["simpul_dispatch"] = (
        celery_dispatcher(app) if redis_url else inprocess_dispatcher(app)
    )
    app.extensions["simpul_outbox"] = bool(redis_url)  # tasks also go through the outbox table
    init_outbox(app)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = SimpulFlask(__name__, instance_path=os.environ.get("SIMPUL_INSTANCE_PATH") or None)
    # before any route is added: every <int:...> of the app is a bounded record id (404 else)
    app.url_map.converters["int"] = IdConverter
    _configure(app, config)
    init_keys(app)  # DATA_ENCRYPTION_KEYS, `flask keys`
    init_db_roles(app)  # DATABASE_OWNER_URL
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        # X-Forwarded-* believed only from TRUSTED_PROXIES (checked in _configure)
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, hops=hops, trusted=app.config["TRUSTED_PROXY_NETWORKS"]
        )
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).parent.parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_item,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    init_i18n(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    celery_init_app(app)
    init_sql_count(app)  # before the commit point: its header counts the commit's statements
    init_request_handling(app)
    init_static_files(app)
    init_schedule(app)
    init_templating(app)
    init_idempotency(app)  # one submission per form

    # local: the domains import app's submodules at their top; importing them here, when an
    # application is built, keeps `import app.core...` free of every domain
    from app import (
        agencies,
        assessments,
        audit,
        auth,
        breakglass,
        cases,
        casework,
        deadlines,
        demo,
        help,
        home,
        indicators,
        intake,
        notifications,
        privacy,
        quality,
        referrals,
        regions,
        services,
        subgt,
        tasks,
        workflow,
    )

    for module in (
        auth,
        home,
        regions,
        agencies,
        audit,
        intake,  # before cases: its "New complaint" comes before "Cases" in the navigation
        cases,
        services,
        notifications,
        workflow,
        assessments,
        referrals,
        casework,
        tasks,
        indicators,
        deadlines,
        demo,
        help,
        subgt,
        quality,
        breakglass,
        privacy,
    ):
        module.init_app(app)
    # outermost: whatever escapes Flask still gets the app's own error page (app.core.web)
    app.wsgi_app = ErrorPageMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app
