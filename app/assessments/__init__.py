"""The biopsikososial assessment of each victim (domain.md §4, stage ``asesmen``)."""

from flask import Blueprint, Flask

bp = Blueprint("assessments", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.assessments import labels, models, views  # noqa: F401  (labels, tables, routes)

    app.register_blueprint(bp)
