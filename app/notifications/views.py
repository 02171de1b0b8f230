from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from app.core.i18n import gettext as _
from app.core.permissions import AUTHENTICATED, requires
from app.notifications import bp
from app.notifications.labels import kind_label, link_endpoint
from app.notifications.operations import mark_all_read
from app.notifications.queries import notifications_for


@bp.route("/notifikasi")
@requires(AUTHENTICATED)
def index() -> Any:
    return render_template(
        "notifications/index.html",
        items=notifications_for(current_user),
        form=FlaskForm(),
        kind_label=kind_label,
        link_for=link_endpoint,
    )


@bp.route("/notifikasi/dibaca", methods=["POST"])
@requires(AUTHENTICATED)
def read_all() -> Any:
    form = FlaskForm()
    if form.validate_on_submit():
        mark_all_read(current_user._get_current_object())
        flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))
