"""The write side of accounts: users, role grants, passwords, preferences."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.agencies.models import Agency, SubTaskForce
from app.audit.operations import SystemActor, record
from app.auth.models import RoleGrant, User
from app.auth.passwords import hash_password, password_problems
from app.core.db import model_diff, utcnow
from app.core.enums import Role
from app.core.errors import DomainError
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
    before = {"email": user.email, "name": user.name, "active": user.active}
    user.email = _check_email(email, exclude_user_id=user.id)
    user.name = _check_name(name)
    if not active and user.id == getattr(actor, "id", None):
        raise DomainError(_l("You cannot disable your own account."), field="active")
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


def set_locale(user: User, locale: str, *, actor: Actor) -> None:
    if locale not in ("id", "en"):
        raise DomainError(_l("Unknown language."), field="locale")
    if user.locale != locale:
        user.locale = locale
        db.session.flush()
        record(actor, "user.set_locale", "user", user.id, {"locale": locale})


def record_login(user: User, new_hash: str | None = None) -> None:
    user.last_login_at = utcnow()
    if new_hash:
        user.password_hash = new_hash
    db.session.flush()
    record(user, "user.login", "user", user.id)


def record_logout(user: User) -> None:
    record(user, "user.logout", "user", user.id)


def grant_role(
    user: User,
    role: Role,
    *,
    agency: Agency | None = None,
    sub_task_force: SubTaskForce | None = None,
    actor: Actor,
) -> RoleGrant:
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
    return grant


def revoke_grant(grant: RoleGrant, *, actor: Actor) -> None:
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
