"""Regions (wilayah) with their Kemendagri codes, and population figures."""

from flask import Blueprint, Flask

bp = Blueprint("regions", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from app.regions import views  # noqa: F401  (routes)
    from app.regions.cli import population_cli, regions_cli

    app.register_blueprint(bp)
    app.cli.add_command(regions_cli)
    app.cli.add_command(population_cli)
