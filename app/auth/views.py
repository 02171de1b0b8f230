"""Sign-in, sign-out, own account, language, and the administration of users."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from app.agencies.models import Agency, SubTaskForce
from app.agencies.queries import agency_choices, sub_task_force_choices
from app.auth import bp
from app.auth import operations as ops
from app.auth.forms import (
    ChangePasswordForm,
    GrantForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    RevokeForm,
    UserCreateForm,
    UserEditForm,
)
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.queries import get_user, get_user_for_login, users_query
from app.core.enums import Role
from app.core.errors import DomainError
from app.core.permissions import AUTHENTICATED, public, requires
from app.extensions import db, limiter

SESSION_LAST_SEEN = "last_seen"


def safe_next(target: str | None) -> str | None:
    """A same-site path to return to, or None (never an absolute URL: no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def _login_key() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return f"login-account:{email}"


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


@bp.before_app_request
def enforce_idle_timeout() -> Response | None:
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    last_seen = session.get(SESSION_LAST_SEEN)
    limit = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
    if last_seen is not None and now - int(last_seen) > limit:
        logout_user()
        session.clear()
        flash(
            _("Your session ended after a period of inactivity. Please sign in again."), "warning"
        )
        return redirect(url_for("auth.login"))
    session[SESSION_LAST_SEEN] = now
    return None


@bp.route("/masuk", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_key)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = get_user_for_login(form.email.data or "")
        password = form.password.data or ""
        valid = verify_password(user.password_hash if user else None, password)
        if user is not None and valid and user.active:
            new_hash = hash_password(password) if needs_rehash(user.password_hash) else None
            locale = session.get("locale")
            session.clear()  # a new session on every sign-in
            if locale:
                session["locale"] = locale
            login_user(user)
            session[SESSION_LAST_SEEN] = int(time.time())
            ops.record_login(user, new_hash)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        flash(_("The e-mail or password is not correct."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/keluar", methods=["POST"])
@requires(AUTHENTICATED)
def logout() -> Response:
    user = current_user._get_current_object()
    ops.record_logout(user)
    locale = user.locale or session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale  # the sign-in page stays in the language the person chose
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/bahasa", methods=["POST"])
@public
def set_language() -> Response:
    locale = request.form.get("locale", "")
    if locale not in ("id", "en"):
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        ops.set_locale(
            current_user._get_current_object(), locale, actor=current_user._get_current_object()
        )
    return redirect(safe_next(request.form.get("next")) or url_for("home.index"))


@bp.route("/akun", methods=["GET", "POST"])
@requires(AUTHENTICATED)
def profile() -> Any:
    user = current_user._get_current_object()
    form = ProfileForm(
        prefix="profile", data={"locale": user.locale or current_app.config["DEFAULT_LOCALE"]}
    )
    password_form = ChangePasswordForm(prefix="pw")
    if request.method == "POST" and "profile-locale" in request.form and form.validate():
        ops.set_locale(user, form.locale.data, actor=user)
        session["locale"] = form.locale.data
        flash(_("Your language has been saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", user=user, form=form, password_form=password_form)


@bp.route("/akun/kata-sandi", methods=["POST"])
@requires(AUTHENTICATED)
def change_password() -> Any:
    user = current_user._get_current_object()
    form = ProfileForm(prefix="profile", data={"locale": user.locale})
    password_form = ChangePasswordForm(prefix="pw")
    if password_form.validate_on_submit():
        if not verify_password(user.password_hash, password_form.current_password.data or ""):
            password_form.current_password.errors.append(_("The current password is not correct."))
        else:
            try:
                ops.set_password(user, password_form.new_password.data or "", actor=user)
            except DomainError as exc:
                password_form.new_password.errors.append(str(exc.message))
            else:
                # The password change ended every session; keep this one going.
                login_user(user)
                flash(
                    _("Your password has been changed. Other sessions were signed out."), "success"
                )
                return redirect(url_for("auth.profile"))
    return render_template(
        "auth/profile.html", user=user, form=form, password_form=password_form
    ), 422


# --- administration of users -------------------------------------------------------------


def _load_user_or_404(user_id: int) -> Any:
    user = get_user(user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/admin/pengguna")
@requires("users:manage")
def users() -> Any:
    search = request.args.get("q", "").strip()[:100]
    page = db.paginate(users_query(search or None), per_page=50, error_out=False)
    return render_template("auth/users.html", page=page, search=search)


@bp.route("/admin/pengguna/baru", methods=["GET", "POST"])
@requires("users:manage")
def user_create() -> Any:
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = ops.create_user(
                form.email.data or "",
                form.name.data or "",
                form.password.data or "",
                actor=current_user,
            )
        except DomainError as exc:
            getattr(form, exc.field or "email").errors.append(str(exc.message))
        else:
            flash(_("The account has been created. Now give it one or more roles."), "success")
            return redirect(url_for("auth.user_edit", user_id=user.id))
    return render_template("auth/user_create.html", form=form), 422 if form.errors else 200


def _grant_form() -> GrantForm:
    form = GrantForm(prefix="grant")
    form.agency.choices = [("", "—"), *agency_choices()]
    form.sub_task_force.choices = [("", "—"), *sub_task_force_choices()]
    return form


def _render_user_edit(
    user: Any,
    form: UserEditForm | None = None,
    grant_form: GrantForm | None = None,
    reset_form: ResetPasswordForm | None = None,
    status: int = 200,
) -> Any:
    if form is None:
        form = UserEditForm(
            prefix="user",
            data={
                "email": user.email,
                "name": user.name,
                "active": user.active,
                "version": user.version,
            },
        )
    return render_template(
        "auth/user_edit.html",
        user=user,
        form=form,
        grant_form=grant_form or _grant_form(),
        reset_form=reset_form or ResetPasswordForm(prefix="reset"),
        revoke_form=RevokeForm(),
    ), status


@bp.route("/admin/pengguna/<int:user_id>", methods=["GET", "POST"])
@requires("users:manage")
def user_edit(user_id: int) -> Any:
    user = _load_user_or_404(user_id)
    if request.method == "GET":
        return _render_user_edit(user)
    form = UserEditForm(prefix="user")
    if form.validate_on_submit():
        try:
            ops.update_user(
                user,
                email=form.email.data or "",
                name=form.name.data or "",
                active=bool(form.active.data),
                expected_version=int(form.version.data or 0),
                actor=current_user,
            )
        except DomainError as exc:
            db.session.rollback()
            user = _load_user_or_404(user_id)
            target = getattr(form, exc.field, None) if exc.field else None
            if target is not None:
                target.errors.append(str(exc.message))
            else:
                form.form_errors.append(str(exc.message))
        else:
            flash(_("The account has been saved."), "success")
            return redirect(url_for("auth.user_edit", user_id=user.id))
    return _render_user_edit(user, form=form, status=422)


@bp.route("/admin/pengguna/<int:user_id>/peran", methods=["POST"])
@requires("users:manage")
def user_grant(user_id: int) -> Any:
    user = _load_user_or_404(user_id)
    form = _grant_form()
    if form.validate_on_submit():
        role = Role(form.role.data)
        agency = db.session.get(Agency, int(form.agency.data)) if form.agency.data else None
        stf = (
            db.session.get(SubTaskForce, int(form.sub_task_force.data))
            if form.sub_task_force.data
            else None
        )
        try:
            ops.grant_role(user, role, agency=agency, sub_task_force=stf, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            user = _load_user_or_404(user_id)
            target = getattr(form, exc.field, None) if exc.field else None
            (target.errors if target is not None else form.role.errors).append(str(exc.message))
        else:
            flash(_("The role has been granted."), "success")
            return redirect(url_for("auth.user_edit", user_id=user.id))
    return _render_user_edit(user, grant_form=form, status=422)


@bp.route("/admin/pengguna/<int:user_id>/peran/hapus", methods=["POST"])
@requires("users:manage")
def user_revoke(user_id: int) -> Any:
    user = _load_user_or_404(user_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        abort(400)
    grant = next((g for g in user.grants if g.id == form.grant_id.data), None)
    if grant is None:
        abort(404)
    try:
        ops.revoke_grant(grant, actor=current_user)
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The role has been removed."), "success")
    return redirect(url_for("auth.user_edit", user_id=user.id))


@bp.route("/admin/pengguna/<int:user_id>/kata-sandi", methods=["POST"])
@requires("users:manage")
def user_reset_password(user_id: int) -> Any:
    user = _load_user_or_404(user_id)
    form = ResetPasswordForm(prefix="reset")
    if form.validate_on_submit():
        try:
            ops.set_password(user, form.password.data or "", actor=current_user)
        except DomainError as exc:
            form.password.errors.append(str(exc.message))
        else:
            flash(_("The password has been set and the user's sessions were ended."), "success")
            return redirect(url_for("auth.user_edit", user_id=user.id))
    return _render_user_edit(user, reset_form=form, status=422)
