"""In-app notifications: the bell in the navigation bar and the list behind it, and their e-mail
copies (``tasks.send_email``, sent through ``mail.send_message``)."""

from flask import Blueprint, Flask
from flask_login import current_user

from app.auth.operations import register_notifier

bp = Blueprint("notifications", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.notifications import models, tasks, views  # noqa: F401  (table, task, routes)
    from app.notifications.operations import notify
    from app.notifications.queries import unread_count

    app.register_blueprint(bp)
    register_notifier(notify)

    @app.context_processor
    def bell() -> dict[str, object]:
        if current_user and current_user.is_authenticated:
            return {"unread_notifications": unread_count(current_user)}
        return {"unread_notifications": 0}
