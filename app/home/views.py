from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from flask_login import current_user

from app.core.db import utcnow
from app.core.permissions import AUTHENTICATED, public, requires
from app.core.templating import nav_for
from app.deadlines.queries import deadlines_for
from app.home import bp

MY_DEADLINES_SHOWN = 20


@bp.route("/")
@public
def root() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    return redirect(url_for("auth.login"))


@bp.route("/beranda")
@requires(AUTHENTICATED)
def index() -> Any:
    sections = nav_for(current_user, "main") + nav_for(current_user, "admin")
    deadlines = deadlines_for(current_user, limit=MY_DEADLINES_SHOWN)
    return render_template("home/index.html", sections=sections, deadlines=deadlines, now=utcnow())


@bp.route("/healthz")
@public
def health() -> Any:
    return {"status": "ok"}
