"""Data quality (domain.md §7): checks of each case, the verification queue per agency, and the
timeliness, completeness, uniqueness and validity scores of a period."""

from flask import Blueprint, Flask

from app.core.i18n import lazy_gettext as _l
from app.core.templating import register_nav

bp = Blueprint("quality", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.quality import views  # noqa: F401  (routes)

    app.register_blueprint(bp)
    register_nav("quality.queue", _l("Data quality"), "quality:review")
