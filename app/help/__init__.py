"""Help pages: how a case and its service tracks move through the workflow."""

from flask import Blueprint, Flask

from app.core.i18n import lazy_gettext as _l
from app.core.permissions import AUTHENTICATED
from app.core.templating import register_nav

bp = Blueprint("help", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.help import views  # noqa: F401  (routes)

    app.register_blueprint(bp)
    register_nav("help.workflow", _l("How a case moves"), AUTHENTICATED)
