"""The write side of accounts: users, role grants, passwords, preferences."""

from __future__ import annotations

import datetime as dt
import re
from typing import Protocol

from flask import current_app
from sqlalchemy import select, update

from app.agencies.models import Agency, SubTaskForce
from app.audit.operations import SystemActor, record
from app.auth import totp
from app.auth.grants import supervisors_of
from app.auth.models import RecoveryCode, RoleGrant, User
from app.auth.passwords import hash_password, password_problems, verify_password
from app.auth.queries import get_user_for_login
from app.core.db import model_diff, utcnow
from app.core.enums import Role
from app.core.errors import DomainError
from app.core.i18n import lazy_gettext as _l
from app.core.permissions import CASE_DATA_ROLES
from app.extensions import db

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

Actor = User | SystemActor


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _check_email(email: str, *, exclude_user_id: int | None = None) -> str:
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise DomainError(_l("Enter a valid e-mail address."), field="email")
    clash = db.session.scalar(select(User.id).where(User.email == email))
    if clash is not None and clash != exclude_user_id:
        raise DomainError(_l("Another account already uses this e-mail address."), field="email")
    return email


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise DomainError(_l("Enter a name of at most 200 characters."), field="name")
    return name


def check_password(password: str, *, email: str = "", name: str = "") -> None:
    problems = password_problems(
        password,
        min_length=current_app.config["PASSWORD_MIN_LENGTH"],
        user_inputs=[
            part for part in re.split(r"[\s._+-]+", f"{email.partition('@')[0]} {name}") if part
        ],
    )
    if problems:
        raise DomainError(problems[0], field="password")


def create_user(
    email: str, name: str, password: str, *, actor: Actor, locale: str | None = None
) -> User:
    email = _check_email(email)
    name = _check_name(name)
    check_password(password, email=email, name=name)
    user = User(email=email, name=name, password_hash=hash_password(password), locale=locale)
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", "user", user.id, {"email": email, "name": name})
    return user


def update_user(
    user: User, *, email: str, name: str, active: bool, expected_version: int, actor: Actor
) -> User:
    if user.version != expected_version:
        raise DomainError(
            _l("Someone else changed this account while you were editing. Reload and try again.")
        )
    # every check before the first change: a refusal leaves the account as it was
    email = _check_email(email, exclude_user_id=user.id)
    name = _check_name(name)
    if not active and user.id == getattr(actor, "id", None):
        raise DomainError(_l("You cannot disable your own account."), field="active")
    before = {"email": user.email, "name": user.name, "active": user.active}
    user.email, user.name = email, name
    if user.active and not active:
        user.session_generation += 1
    user.active = active
    after = {"email": user.email, "name": user.name, "active": user.active}
    db.session.flush()
    record(actor, "user.update", "user", user.id, model_diff(before, after))
    return user


def set_password(user: User, password: str, *, actor: Actor) -> None:
    check_password(password, email=user.email, name=user.name)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.session_generation += 1
    db.session.flush()
    record(actor, "user.set_password", "user", user.id)


def reset_password(user: User, password: str, *, actor: Actor) -> None:
    """An administrator sets another user's password (the user's sessions end). Not one's own:
    that is changed on the profile page, with the current password."""
    if user.id == getattr(actor, "id", None):
        raise DomainError(
            _l("Change your own password on your profile page, with your current password."),
            field="password",
        )
    set_password(user, password, actor=actor)


def reset_totp(user: User, *, actor: Actor) -> None:
    """An administrator turns off another user's two-step verification (a lost phone and lost
    recovery codes). Not one's own: another administrator does that."""
    if user.id == getattr(actor, "id", None):
        raise DomainError(
            _l("You cannot reset your own two-step verification. Ask another administrator.")
        )
    disable_totp(user, actor=actor)


def set_locale(user: User, locale: str, *, actor: Actor) -> None:
    if locale not in ("id", "en"):
        raise DomainError(_l("Unknown language."), field="locale")
    if user.locale != locale:
        user.locale = locale
        db.session.flush()
        record(actor, "user.set_locale", "user", user.id, {"locale": locale})


def record_login(user: User, new_hash: str | None = None, *, method: str = "password") -> None:
    reset_failures(user)
    user.last_login_at = utcnow()
    if new_hash:
        user.password_hash = new_hash
    db.session.flush()
    record(user, "user.login", "user", user.id, {"method": method} if method != "password" else {})


# --- lockout ---------------------------------------------------------------------------------

LOCKOUT_THRESHOLD = 6
"""Consecutive failed sign-in steps (password or code) that lock the account."""
LOCKOUT_MINUTES = 30


def is_locked(user: User, now: dt.datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def register_failure(user: User, *, step: str) -> bool:
    """Count one failed sign-in step of ``user``; lock the account for LOCKOUT_MINUTES at the
    threshold (the count starts again after the lock). True when this failure locked it.

    Written with UPDATE statements, not through the version counter: two failures at the same
    moment must both count and neither may fail on a version conflict."""
    now = utcnow()
    if is_locked(user, now):
        return False  # attempts while locked neither count nor extend the lock
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .execution_options(synchronize_session=False)
    )
    count = db.session.scalar(select(User.failed_logins).where(User.id == user.id)) or 0
    locked = count >= LOCKOUT_THRESHOLD
    values: dict[str, object] = {"failed_logins": count}
    if locked:
        values = {"failed_logins": 0, "locked_until": now + dt.timedelta(minutes=LOCKOUT_MINUTES)}
        db.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    db.session.expire(user, ["failed_logins", "locked_until"])
    if locked:
        record(
            SystemActor("login"),
            "user.locked",
            "user",
            user.id,
            {"failures": count, "minutes": LOCKOUT_MINUTES, "step": step},
        )
    return locked


def end_all_sessions(user: User) -> None:
    """End every session of ``user`` on the server: bump the session generation, which each
    session id carries, so every cookie made before — this one, copies of it, those on other
    devices — no longer loads the user from the next request on. A plain UPDATE, outside the
    version counter: ending sessions must never fail on a concurrent edit of the account."""
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(user, ["session_generation"])


def register_session_failure(user: User, *, step: str) -> bool:
    """A wrong password (or code) given from inside a session (re-authentication, password
    change, turning two-step verification off, new recovery codes): counted like a sign-in
    failure. When it locks the account, every session of the user ends as well — someone
    guessing the password of a session they hold may have stolen it, and ending only this
    browser's copy would leave other copies of the cookie working. True when it locked."""
    locked = register_failure(user, step=step)
    if locked:
        end_all_sessions(user)
    return locked


def reset_failures(user: User) -> None:
    if user.failed_logins or user.locked_until is not None:
        db.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=0, locked_until=None)
            .execution_options(synchronize_session=False)
        )
        db.session.expire(user, ["failed_logins", "locked_until"])


def unlock(user: User, *, actor: Actor) -> None:
    """An administrator lifts a lock before it runs out."""
    reset_failures(user)
    record(actor, "user.unlock", "user", user.id)


# --- the TOTP second factor ------------------------------------------------------------------


def pending_totp_secret(user: User) -> str:
    """The secret of an enrolment not yet confirmed, made on first use (kept until confirmed
    or restarted, so reloading the page shows the same QR code)."""
    if user.totp_enabled:
        raise DomainError(_l("Two-step verification is already on."))
    if not user.totp_secret:
        user.totp_secret = totp.new_secret()
        db.session.flush()
    return user.totp_secret


def restart_totp_enrolment(user: User) -> None:
    if user.totp_enabled:
        raise DomainError(_l("Two-step verification is already on."))
    user.totp_secret = None
    db.session.flush()


def use_totp_code(user: User, code: str) -> bool:
    """Accept ``code`` once: True when it is the code of a time step later than the last one
    accepted for ``user`` (a conditional UPDATE, so two requests cannot both use it)."""
    if not user.totp_secret:
        return False
    step = totp.matching_step(user.totp_secret, code)
    if step is None:
        return False
    result = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(user, ["totp_last_step"])
    return bool(result.rowcount)  # type: ignore[attr-defined]


def use_recovery_code(user: User, code: str) -> bool:
    """Consume one unused recovery code of ``user`` matching ``code``."""
    if not totp.looks_like_recovery_code(code):
        return False
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    match = None
    for candidate in unused:  # every one is compared: the time taken says nothing
        if totp.recovery_code_matches(candidate.code_hash, code) and match is None:
            match = candidate
    if match is None:
        return False
    result = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == match.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.expire(match)
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    record(user, "user.recovery_code_used", "user", user.id, {"left": len(unused) - 1})
    return True


def verify_second_factor(user: User, code: str) -> str | None:
    """``"totp"`` or ``"recovery"`` when ``code`` is accepted (and now used up), else None."""
    if use_totp_code(user, code):
        return "totp"
    if use_recovery_code(user, code):
        return "recovery"
    return None


class OperatorRefused(DomainError):
    """A command-line operator could not be confirmed; the message says no more than the
    sign-in page would."""


def confirm_operator_password(email: str, password: str, *, role: Role = Role.ADMIN) -> User:
    """The first step of confirming who runs a sensitive command (``flask keys rotate``): the
    account's password, with sign-in's rules — one argon2 verification whether the account
    exists or not, failures counted towards the lockout (and committed, since the command then
    stops), a locked or disabled account refused with the same message. The account must hold
    ``role``. The second factor follows with ``confirm_operator_code`` when it is on."""
    user = get_user_for_login(email)
    valid = verify_password(user.password_hash if user else None, password)
    refused = OperatorRefused(_l("The e-mail or password is not correct."))
    if user is None or not user.active:
        raise refused
    if is_locked(user):
        raise refused
    if not valid:
        register_failure(user, step="operator")
        db.session.commit()
        raise refused
    if role not in user.role_set:
        raise OperatorRefused(_l("Only an administrator may do this."))
    policy = current_app.config["TOTP_REQUIRED"]
    if not user.totp_enabled:
        if totp.totp_required(policy, user.role_set):
            raise OperatorRefused(
                _l("Turn on two-step verification for this account (in the web) first.")
            )
        reset_failures(user)
    return user


def confirm_operator_code(user: User, code: str) -> str:
    """The second step: a TOTP code or a recovery code, used up once accepted. Returns the
    method; a wrong or reused code counts towards the lockout."""
    method = None if is_locked(user) else verify_second_factor(user, code)
    if method is None:
        register_failure(user, step="operator")
        db.session.commit()
        raise OperatorRefused(_l("The code is not correct or has already been used."))
    reset_failures(user)
    return method


def unused_recovery_codes(user: User) -> int:
    return sum(1 for c in user.recovery_codes if c.used_at is None)


def _replace_recovery_codes(user: User) -> list[str]:
    codes = totp.new_recovery_codes()
    user.recovery_codes.clear()
    db.session.flush()
    user.recovery_codes.extend(RecoveryCode(code_hash=totp.hash_recovery_code(c)) for c in codes)
    db.session.flush()
    return codes


def enable_totp(user: User, code: str) -> list[str]:
    """Confirm the pending enrolment with a first code; returns the new recovery codes (shown
    once, stored only hashed). Other sessions of the user end."""
    if user.totp_enabled:
        raise DomainError(_l("Two-step verification is already on."))
    if not user.totp_secret:
        raise DomainError(_l("Start the set-up again."), field="code")
    if not use_totp_code(user, code):
        raise DomainError(
            _l("The code is not correct. Check the time on your phone and try again."),
            field="code",
        )
    user.totp_enabled_at = utcnow()
    user.session_generation += 1
    codes = _replace_recovery_codes(user)
    record(user, "user.totp_enable", "user", user.id)
    return codes


def disable_totp(user: User, *, actor: Actor) -> None:
    """Turn the second factor off (the caller has checked the password, or an administrator
    resets a lost device). Other sessions of the user end."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.recovery_codes.clear()
    user.session_generation += 1
    db.session.flush()
    record(actor, "user.totp_disable", "user", user.id)


def regenerate_recovery_codes(user: User) -> list[str]:
    if not user.totp_enabled:
        raise DomainError(_l("Two-step verification is off."))
    codes = _replace_recovery_codes(user)
    record(user, "user.recovery_codes_regenerate", "user", user.id)
    return codes


def sign_out(user: User) -> None:
    """Sign-out ends the session on the server, not only in the browser: a copy of the
    cookie taken before must be refused afterwards. Sessions are signed cookies, so this
    ends every session of the user (``end_all_sessions``), on other devices too."""
    end_all_sessions(user)
    record(user, "user.logout", "user", user.id)


def change_password(user: User, current_password: str, new_password: str) -> str:
    """The signed-in ``user`` changes their own password. Returns ``"changed"``, or, for a
    wrong current password, ``"wrong"`` or ``"locked"`` (this failure locked the account and
    ended every session of the user), counted and audited by ``password_change_failed``; while
    the account is locked even the right one is refused, the same way. A password the policy
    refuses raises DomainError (field ``new_password``) and counts nothing: the current one was
    right."""
    if is_locked(user) or not verify_password(user.password_hash, current_password):
        return "locked" if password_change_failed(user) else "wrong"
    try:
        set_password(user, new_password, actor=user)
    except DomainError as exc:
        raise DomainError(exc.message, field="new_password") from exc
    reset_failures(user)
    return "changed"


def password_change_failed(user: User) -> bool:
    """A wrong current password on the password-change form: counted towards the sign-in
    lockout (``register_session_failure``: a lock ends every session of the user) and audited as
    ``user.password_change_failed`` (never a password). True when this failure locked the
    account. The form is answered 422, which rolls the request back: the view has the commit
    point do this again apart (``keep_on_refusal``), so the count and the entry are kept."""
    locked = register_session_failure(user, step="password_change")
    record(
        user,
        "user.password_change_failed",
        "user",
        user.id,
        {"locked": locked or is_locked(user)},
    )
    return locked


ROLE_GRANTED_KIND = "case_role_granted"
"""The notification of an agency's supervisors that someone was given a case role there."""


class Notify(Protocol):
    def __call__(self, user: User, kind: str, *, reference: str, key: str) -> object: ...


# Notifications are built on the accounts (a notification is addressed to a user): they register
# how to tell someone from their ``init_app`` (``notifications.operations.notify``).
_notifiers: list[Notify] = []


def register_notifier(notify: Notify) -> None:
    _notifiers[:] = [notify]


def _check_role_combination(user: User, role: Role, actor: Actor) -> None:
    """Nobody changes their own roles, and an administrator account holds no case role (a role
    opening case data): administration has no access to case content, so an administrator
    cannot give themselves that access, on this account or by adding a role to it."""
    if user.id == getattr(actor, "id", None):
        raise DomainError(
            _l("You cannot change your own roles. Ask another administrator."), field="role"
        )
    held = user.role_set
    if role in CASE_DATA_ROLES and Role.ADMIN in held:
        raise DomainError(
            _l(
                "An administrator account cannot hold a role with access to cases. If this "
                "person also works on cases, create a second account for that work."
            ),
            field="role",
        )
    if role is Role.ADMIN and held & CASE_DATA_ROLES:
        raise DomainError(
            _l(
                "This account holds a role with access to cases, so it cannot become an "
                "administrator account. Create a separate account for administration."
            ),
            field="role",
        )


def _notify_supervisors_of_grant(
    user: User, grant: RoleGrant, agency: Agency | None, sub_task_force: SubTaskForce | None
) -> None:
    """Tell the supervisors of the agency where a case role was granted (for a Sub GT
    coordinator: of the Sub GT's member agencies), the grantee excepted. The notification names
    the account by its e-mail address; its e-mail copy goes out after the commit."""
    if agency is not None:
        agency_ids = [agency.id]
    elif sub_task_force is not None:
        agency_ids = sorted(m.agency_id for m in sub_task_force.members)
    else:
        agency_ids = []
    told: set[int] = set()
    for agency_id in agency_ids:
        for supervisor in supervisors_of(agency_id):
            if supervisor.id in told or supervisor.id == user.id:
                continue
            told.add(supervisor.id)
            for notify in _notifiers:
                notify(
                    supervisor,
                    ROLE_GRANTED_KIND,
                    reference=_shorten(user.email, 60),
                    key=f"role_grant:{grant.id}",
                )


def _shorten(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def grant_role(
    user: User,
    role: Role,
    *,
    agency: Agency | None = None,
    sub_task_force: SubTaskForce | None = None,
    actor: Actor,
    tell_supervisors: bool = True,
) -> RoleGrant:
    """Give ``user`` ``role`` at ``agency`` (or, for a Sub GT coordinator, in
    ``sub_task_force``). Refused for the actor's own account and for a case role on an
    administrator account (``_check_role_combination``). A case role is told to the supervisors
    of the agency (``case_role_granted`` notifications), in the same transaction, unless
    ``tell_supervisors`` is False (the demo data, made all at once); the web route asks for a
    fresh re-authentication first."""
    _check_role_combination(user, role, actor)
    if role.scoped_to_subtaskforce:
        if sub_task_force is None or agency is not None:
            raise DomainError(
                _l("A Sub GT coordinator role is granted for one Sub GT."), field="sub_task_force"
            )
    elif agency is None or sub_task_force is not None:
        raise DomainError(_l("This role is granted at one agency."), field="agency")
    for grant in user.grants:
        if (grant.role, grant.agency_id, grant.sub_task_force_id) == (
            role,
            agency.id if agency else None,
            sub_task_force.id if sub_task_force else None,
        ):
            raise DomainError(_l("The user already holds this role there."), field="role")
    grant = RoleGrant(
        role=role, agency=agency, sub_task_force=sub_task_force, created_by_id=actor.id
    )
    user.grants.append(grant)
    db.session.flush()
    record(
        actor,
        "user.grant_role",
        "user",
        user.id,
        {
            "role": role.value,
            "agency": agency.code if agency else None,
            "sub_task_force": sub_task_force.id if sub_task_force else None,
        },
    )
    if tell_supervisors and role in CASE_DATA_ROLES:
        _notify_supervisors_of_grant(user, grant, agency, sub_task_force)
    return grant


def revoke_grant(grant: RoleGrant, *, actor: Actor) -> None:
    """Remove a role. One's own administrator role stays (another administrator removes it);
    one's own other roles may go — removing a role never widens access, and it is how an
    administrator account gives up a case role it held from before that was refused."""
    user = grant.user
    if grant.role is Role.ADMIN and user.id == getattr(actor, "id", None):
        raise DomainError(_l("You cannot remove your own administrator role."))
    details = {
        "role": grant.role.value,
        "agency": grant.agency.code if grant.agency else None,
        "sub_task_force": grant.sub_task_force_id,
    }
    user.grants.remove(grant)
    db.session.flush()
    record(actor, "user.revoke_role", "user", user.id, details)
