"""The start page each user lands on after signing in."""

from flask import Blueprint, Flask

bp = Blueprint("home", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.home import views  # noqa: F401  (routes)

    app.register_blueprint(bp)
