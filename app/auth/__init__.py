"""Accounts: sign-in, sessions, own profile, and the administration of users and roles."""

from flask import Blueprint, Flask

from app.agencies.queries import register_coordinators
from app.core.i18n import lazy_gettext as _l
from app.core.keys_cli import OPERATOR_CHECK
from app.core.templating import register_nav
from app.extensions import login_manager

bp = Blueprint("auth", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.auth import views  # noqa: F401  (routes)
    from app.auth.cli import confirm_operator_at_terminal, users_cli
    from app.auth.grants import coordinators_of
    from app.auth.queries import load_session_user
    from app.auth.totp import resolve_totp_setting

    # TOTP_REQUIRED: case_roles in production, none otherwise (docs/security.md)
    resolve_totp_setting(app.config)
    login_manager.user_loader(load_session_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
    # `flask keys rotate` asks an administrator to re-authenticate first
    app.extensions[OPERATOR_CHECK] = confirm_operator_at_terminal
    register_nav("auth.users", _l("Users"), "users:manage", group="admin")
    register_coordinators(coordinators_of)
