from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from flask_login import current_user

from app.core.db import utcnow
from app.core.permissions import AUTHENTICATED, public, requires
from app.core.templating import nav_for
from app.deadlines.queries import deadlines_for
from app.home import bp
from app.tasks.queries import task_counts

MY_DEADLINES_SHOWN = 20
CASE_WORK = "cases:view_own"
ANSWER = "referrals:receive"


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
    now = utcnow()
    # "Tugas saya" counters for whoever has case work or referrals to answer
    has_tasks = current_user.has_permission(CASE_WORK) or current_user.has_permission(ANSWER)
    counts = task_counts(current_user, now) if has_tasks else None
    return render_template(
        "home/index.html", sections=sections, deadlines=deadlines, now=now, task_counts=counts
    )


@bp.route("/healthz")
@public
def health() -> Any:
    return {"status": "ok"}
