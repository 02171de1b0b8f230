"""Agencies (lembaga), the services they provide, and the TPPO task force with its Sub GTs."""

from flask import Blueprint, Flask

bp = Blueprint("agencies", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from app.agencies import views  # noqa: F401  (routes)
    from app.agencies.cli import agencies_cli

    app.register_blueprint(bp)
    app.cli.add_command(agencies_cli)
