"""Agencies (lembaga), the services they provide, and the TPPO task force with its Sub GTs."""

from flask import Blueprint, Flask

from app.core.i18n import lazy_gettext as _l
from app.core.templating import register_nav

bp = Blueprint("agencies", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.agencies import views  # noqa: F401  (routes)
    from app.agencies.cli import agencies_cli

    app.register_blueprint(bp)
    app.cli.add_command(agencies_cli)
    register_nav("agencies.index", _l("Agencies"), "agencies:manage", group="admin")
    register_nav(
        "agencies.task_forces", _l("Task forces (GT P2TPPO)"), "taskforces:manage", group="admin"
    )
