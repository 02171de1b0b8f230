"""Flask extensions, created unbound and initialised in ``create_app``. Domains import them as
``app.extensions``; the infrastructure in ``app.core`` imports them from here, so that the two
form no cycle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import Celery
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from app.core.celery_task import FlaskTask
from app.core.db import Base

db = SQLAlchemy(model_class=Base)
# The base class of every model: at run time Flask-SQLAlchemy's ``db.Model`` (``Base`` with its
# table-name and bind mixins); for the type checker ``Base`` itself, a typed declarative base
# (``db.Model`` is an attribute, which mypy cannot take as a base class).
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Redis down must not hang or fail a sign-in: 1 s time-outs, then limits are counted in memory
# (per process) until Redis answers again, and any other storage error is logged, not raised.
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    storage_options={"socket_connect_timeout": 1, "socket_timeout": 1},
    in_memory_fallback_enabled=True,
    swallow_errors=True,
)
# every task is a FlaskTask from the start, whenever Celery creates it (app/core/celery_task.py)
celery = Celery("simpul", task_cls=FlaskTask)
