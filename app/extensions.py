"""The Flask extensions (``app.core.extensions``) under the name the domains import them by."""

from app.core.extensions import (
    Model,
    babel,
    celery,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
)

__all__ = ["Model", "babel", "celery", "csrf", "db", "limiter", "login_manager", "migrate"]
