"""Regions (wilayah) with their Kemendagri codes, and population figures."""

from flask import Blueprint, Flask

from app.core.i18n import lazy_gettext as _l
from app.core.templating import register_nav

bp = Blueprint("regions", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.regions import views  # noqa: F401  (routes)
    from app.regions.cli import population_cli, regions_cli

    app.register_blueprint(bp)
    app.cli.add_command(regions_cli)
    app.cli.add_command(population_cli)
    register_nav("regions.index", _l("Regions"), "regions:manage", group="admin")
    register_nav("regions.population", _l("Population"), "population:manage", group="admin")
