"""Sign-in, sign-out, own account, language, and the administration of users."""

from __future__ import annotations

from typing import Any

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
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from app.agencies.queries import (
    agency_choices,
    get_agency,
    get_sub_task_force_by_id,
    sub_task_force_choices,
)
from app.audit.operations import record
from app.auth import bp, totp
from app.auth import operations as ops
from app.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    GrantForm,
    LoginForm,
    PasswordConfirmForm,
    ProfileForm,
    ReauthForm,
    ResetPasswordForm,
    RevokeForm,
    TotpConfirmForm,
    UserCreateForm,
    UserEditForm,
)
from app.auth.models import User
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.queries import admin_with_case_roles, get_user, get_user_for_login, list_users
from app.auth.sessions import (
    SESSION_LAST_SEEN,  # noqa: F401  (kept importable from here)
    clear_pending_login,
    end_session,
    enforce_session_rules,
    mark_recent_auth,
    must_use_totp,
    needs_enrolment,
    pending_login,
    pending_user,
    require_recent_auth,
    safe_next,
    start_pending_login,
    start_session,
)
from app.core.bounds import parse_id, parse_page
from app.core.enums import Role
from app.core.errors import DomainError
from app.core.forms import field_error
from app.core.i18n import gettext as _
from app.core.idempotency import once_per_form
from app.core.permissions import AUTHENTICATED, public, requires
from app.core.web import keep_on_refusal
from app.extensions import limiter

__all__ = ["safe_next"]


def _account_key() -> str:
    """The account an attempt is for. Password, code and re-authentication attempts share
    the limits (``shared_limit``): at most LOGIN_RATE_LIMIT per account and per address."""
    if request.endpoint == "auth.login":
        email = (request.form.get("email") or "").strip().lower()
    elif current_user.is_authenticated:
        email = current_user.email
    else:
        user = pending_user()
        email = user.email if user is not None else ""
    return f"login-account:{email}"


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _generic_failure() -> None:
    # One message for a wrong password, an unknown account, a disabled and a locked account.
    flash(_("The e-mail or password is not correct."), "error")


def _locked_out() -> Response:
    """A wrong password from inside a session locked the account (and ended the user's
    sessions): out, with sign-in's answer for a locked account."""
    end_session()
    _generic_failure()
    return redirect(url_for("auth.login"))


bp.before_app_request(enforce_session_rules)


@bp.route("/masuk", methods=["GET", "POST"])
@public
@limiter.shared_limit(_login_limit, scope="login-address", methods=["POST"])
@limiter.shared_limit(_login_limit, scope="login-account", methods=["POST"], key_func=_account_key)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = get_user_for_login(form.email.data or "")
        password = form.password.data or ""
        # Always one argon2 verification, known account or not, locked or not: same time.
        valid = verify_password(user.password_hash if user else None, password)
        if user is not None and user.active:
            if ops.is_locked(user):
                valid = False
            elif not valid:
                ops.register_failure(user, step="password")
        if user is not None and valid and user.active:
            new_hash = hash_password(password) if needs_rehash(user.password_hash) else None
            next_url = request.args.get("next")
            if user.totp_enabled:
                if new_hash:
                    user.password_hash = new_hash
                start_pending_login(user, next_url)
                return redirect(url_for("auth.login_code"))
            start_session(user)
            ops.record_login(user, new_hash)
            return redirect(safe_next(next_url) or url_for("home.index"))
        _generic_failure()
    return render_template("auth/login.html", form=form)


@bp.route("/masuk/kode", methods=["GET", "POST"])
@public
@limiter.shared_limit(_login_limit, scope="login-address", methods=["POST"])
@limiter.shared_limit(_login_limit, scope="login-account", methods=["POST"], key_func=_account_key)
def login_code() -> Any:
    """The second step of sign-in: a TOTP code, or one of the recovery codes."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    user = pending_user()
    if user is None:
        clear_pending_login()
        flash(_("Please sign in to continue."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        method = None
        if not ops.is_locked(user):
            method = ops.verify_second_factor(user, form.code.data or "")
            if method is None:
                ops.register_failure(user, step="code")
        if method is not None:
            next_url = (pending_login() or {}).get("next")
            start_session(user)
            ops.record_login(user, method=method)
            if method == "recovery":
                flash(
                    _(
                        "You signed in with a recovery code; %(n)d remain. Each works once.",
                        n=ops.unused_recovery_codes(user),
                    ),
                    "warning",
                )
            return redirect(safe_next(next_url) or url_for("home.index"))
        # the same answer for a wrong, a reused code and a locked account
        form.code.errors.append(_("The code is not correct or has already been used."))
    return render_template("auth/login_code.html", form=form)


@bp.route("/masuk/ulang", methods=["GET", "POST"])
@requires(AUTHENTICATED)
@limiter.shared_limit(_login_limit, scope="login-address", methods=["POST"])
@limiter.shared_limit(_login_limit, scope="login-account", methods=["POST"], key_func=_account_key)
def reauthenticate() -> Any:
    """Confirm the password (and a code, with two-step verification on) before a sensitive
    action; see ``require_recent_auth``."""
    user = current_user._get_current_object()
    next_url = safe_next(request.args.get("next")) or url_for("home.index")
    form = ReauthForm()
    if form.validate_on_submit():
        ok = False
        if not ops.is_locked(user):
            ok = verify_password(user.password_hash, form.password.data or "")
            if ok and user.totp_enabled:
                ok = ops.verify_second_factor(user, form.code.data or "") is not None
            if not ok and ops.register_session_failure(user, step="reauth"):
                # guessing from inside a session: the lock ends the user's sessions as well
                return _locked_out()
        if ok:
            ops.reset_failures(user)
            mark_recent_auth()
            record(user, "user.reauthenticate", "user", user.id)
            return redirect(next_url)
        form.password.errors.append(
            _("The password or the code is not correct.")
            if user.totp_enabled
            else _("The password is not correct.")
        )
    return render_template("auth/reauth.html", form=form, user=user)


@bp.route("/keluar", methods=["POST"])
@requires(AUTHENTICATED)
def logout() -> Response:
    user = current_user._get_current_object()
    locale = user.locale or session.get("locale")
    # ended on the server too: a copy of the cookie is refused from now on (docs/security.md)
    ops.sign_out(user)
    end_session()
    if locale:
        session["locale"] = locale  # the sign-in page stays in the language the person chose
    flash(_("You have signed out. Your sessions on other devices have ended too."), "info")
    return redirect(url_for("auth.login"))


# --- two-step verification (TOTP) ----------------------------------------------------------


def _render_totp(
    user: User,
    *,
    confirm_form: TotpConfirmForm | None = None,
    disable_form: PasswordConfirmForm | None = None,
    codes_form: PasswordConfirmForm | None = None,
    status: int = 200,
) -> Any:
    context: dict[str, Any] = {
        "user": user,
        "required": must_use_totp(user),
        "confined": needs_enrolment(user),
        "confirm_form": confirm_form or TotpConfirmForm(formdata=None),
        "disable_form": disable_form or PasswordConfirmForm(prefix="off", formdata=None),
        "codes_form": codes_form or PasswordConfirmForm(prefix="rc", formdata=None),
    }
    if user.totp_enabled:
        context["unused_codes"] = ops.unused_recovery_codes(user)
    else:
        secret = ops.pending_totp_secret(user)
        context["secret"] = secret
        context["qr"] = totp.qr_data_uri(totp.provisioning_uri(secret, user.email))
    return render_template("auth/totp.html", **context), status


@bp.route("/profil/2fa")
@requires(AUTHENTICATED)
def totp_setup() -> Any:
    return _render_totp(current_user._get_current_object())


@bp.route("/profil/2fa/konfirmasi", methods=["POST"])
@requires(AUTHENTICATED)
def totp_confirm() -> Any:
    user = current_user._get_current_object()
    form = TotpConfirmForm()
    if form.validate_on_submit():
        try:
            codes = ops.enable_totp(user, form.code.data or "")
        except DomainError as exc:
            field_error(form, exc, "code")
        else:
            login_user(user)  # enabling ended every session; keep this one going
            return render_template("auth/recovery_codes.html", codes=codes, first=True)
    return _render_totp(user, confirm_form=form, status=422)


@bp.route("/profil/2fa/mulai-ulang", methods=["POST"])
@requires(AUTHENTICATED)
def totp_restart() -> Any:
    user = current_user._get_current_object()
    try:
        ops.restart_totp_enrolment(user)
    except DomainError as exc:
        flash(str(exc.message), "error")
    return redirect(url_for("auth.totp_setup"))


def _password_checked(user: User, form: PasswordConfirmForm, step: str) -> bool | None:
    """The password of the signed-in user, counted towards the lockout when wrong. None when
    this failure locked the account (the user's sessions have ended)."""
    if not form.validate_on_submit():
        return False
    if not ops.is_locked(user) and verify_password(user.password_hash, form.password.data or ""):
        return True
    if ops.register_session_failure(user, step=step):
        return None
    form.password.errors.append(_("The password is not correct."))
    return False


@bp.route("/profil/2fa/nonaktifkan", methods=["POST"])
@requires(AUTHENTICATED)
def totp_disable() -> Any:
    user = current_user._get_current_object()
    if not user.totp_enabled:
        return redirect(url_for("auth.totp_setup"))
    form = PasswordConfirmForm(prefix="off")
    checked = _password_checked(user, form, "totp_disable")
    if checked is None:
        return _locked_out()
    if not checked:
        # 200, not 4xx: the failed attempt is counted (a 4xx rolls the request back)
        return _render_totp(user, disable_form=form)
    ops.disable_totp(user, actor=user)
    login_user(user)  # the change ended every session; keep this one going
    flash(_("Two-step verification is off. Other sessions were signed out."), "success")
    return redirect(url_for("auth.totp_setup"))


@bp.route("/profil/2fa/kode-pemulihan", methods=["POST"])
@requires(AUTHENTICATED)
def totp_recovery_codes() -> Any:
    user = current_user._get_current_object()
    if not user.totp_enabled:
        return redirect(url_for("auth.totp_setup"))
    form = PasswordConfirmForm(prefix="rc")
    checked = _password_checked(user, form, "recovery_codes")
    if checked is None:
        return _locked_out()
    if not checked:
        return _render_totp(user, codes_form=form)
    codes = ops.regenerate_recovery_codes(user)
    return render_template("auth/recovery_codes.html", codes=codes, first=False)


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
@limiter.shared_limit(_login_limit, scope="login-address", methods=["POST"])
@limiter.shared_limit(_login_limit, scope="login-account", methods=["POST"], key_func=_account_key)
def change_password() -> Any:
    """A wrong current password counts like a failed sign-in: the lockout, the sign-in rate
    limits, and an audit entry; the count and the entry are kept although the form is refused."""
    user = current_user._get_current_object()
    form = ProfileForm(prefix="profile", data={"locale": user.locale})
    password_form = ChangePasswordForm(prefix="pw")
    if password_form.validate_on_submit():
        try:
            outcome = ops.change_password(
                user,
                password_form.current_password.data or "",
                password_form.new_password.data or "",
            )
        except DomainError as exc:
            field_error(password_form, exc, "new_password")
        else:
            if outcome == "locked":
                return _locked_out()
            if outcome == "changed":
                # The password change ended every session; keep this one going.
                login_user(user)
                flash(
                    _("Your password has been changed. Other sessions were signed out."), "success"
                )
                return redirect(url_for("auth.profile"))
            # refused (422, rolled back): the failure is counted and audited again, apart
            keep_on_refusal(lambda: ops.password_change_failed(user))
            password_form.current_password.errors.append(_("The current password is not correct."))
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
    page = list_users(search or None, page=parse_page(request.args.get("page")))
    return render_template("auth/users.html", page=page, search=search)


@bp.route("/admin/pengguna/baru", methods=["GET", "POST"])
@requires("users:manage")
@once_per_form
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
            field_error(form, exc, "email")
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
    user: User,
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
        locked=ops.is_locked(user),
        own_account=user.id == current_user.id,
        admin_with_case_roles=admin_with_case_roles(user),
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
                expected_version=parse_id(form.version.data) or 0,
                actor=current_user,
            )
        except DomainError as exc:
            field_error(form, exc)
        else:
            flash(_("The account has been saved."), "success")
            return redirect(url_for("auth.user_edit", user_id=user.id))
    return _render_user_edit(user, form=form, status=422)


@bp.route("/admin/pengguna/<int:user_id>/peran", methods=["POST"])
@requires("users:manage")
@require_recent_auth()  # a role may open case data: the password (and code) again, 5 minutes
def user_grant(user_id: int) -> Any:
    user = _load_user_or_404(user_id)
    form = _grant_form()
    if form.validate_on_submit():
        role = Role(form.role.data)
        agency = get_agency(int(form.agency.data)) if form.agency.data else None
        stf = (
            get_sub_task_force_by_id(int(form.sub_task_force.data))
            if form.sub_task_force.data
            else None
        )
        try:
            ops.grant_role(user, role, agency=agency, sub_task_force=stf, actor=current_user)
        except DomainError as exc:
            field_error(form, exc, "role")
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
@require_recent_auth()  # whoever sets the password can sign in as the user
def user_reset_password(user_id: int) -> Any:
    user = _load_user_or_404(user_id)
    form = ResetPasswordForm(prefix="reset")
    if form.validate_on_submit():
        try:
            ops.reset_password(user, form.password.data or "", actor=current_user)
        except DomainError as exc:
            field_error(form, exc, "password")
        else:
            flash(_("The password has been set and the user's sessions were ended."), "success")
            return redirect(url_for("auth.user_edit", user_id=user.id))
    return _render_user_edit(user, reset_form=form, status=422)


@bp.route("/admin/pengguna/<int:user_id>/buka-kunci", methods=["POST"])
@requires("users:manage")
def user_unlock(user_id: int) -> Any:
    """Lift a lockout before its 30 minutes run out."""
    user = _load_user_or_404(user_id)
    ops.unlock(user, actor=current_user)
    flash(_("The account is unlocked."), "success")
    return redirect(url_for("auth.user_edit", user_id=user.id))


@bp.route("/admin/pengguna/<int:user_id>/2fa/reset", methods=["POST"])
@requires("users:manage")
@require_recent_auth()  # with the password, the account is then one step from being taken
def user_totp_reset(user_id: int) -> Any:
    """Turn off a user's two-step verification (a lost phone and lost recovery codes); their
    sessions end, and a role that requires it sends them to set it up at the next sign-in."""
    user = _load_user_or_404(user_id)
    try:
        ops.reset_totp(user, actor=current_user)
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(
            _("Two-step verification of this account is off; its sessions were ended."), "success"
        )
    return redirect(url_for("auth.user_edit", user_id=user.id))
