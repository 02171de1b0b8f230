"""Service tracks: one per victim and planned service type, each with its own state."""

from flask import Flask

from app.cases.operations import register_victim_removal_guard


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.services import models  # noqa: F401  (tables)
    from app.services.queries import tracks_keep

    register_victim_removal_guard("services.tracks", 20, tracks_keep)
