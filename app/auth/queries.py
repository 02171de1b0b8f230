"""The read side of accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.core.enums import Role
from app.core.permissions import CASE_DATA_ROLES
from app.extensions import db

if TYPE_CHECKING:
    from flask_sqlalchemy.pagination import Pagination

USERS_PER_PAGE = 50


def get_user_for_login(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def load_session_user(session_id: str) -> User | None:
    """The user a session cookie names, if the session is still valid."""
    try:
        user_id, generation = (int(part) for part in session_id.split(":", 1))
    except ValueError:
        return None
    # the grants with the account: every request asks for the user's permissions
    user = db.session.get(User, user_id, options=[joinedload(User.grants)])
    if user is None or not user.active or user.session_generation != generation:
        return None
    return user


def users_query(search: str | None = None) -> Select[tuple[User]]:
    query = select(User).order_by(User.name)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(or_(User.email.like(pattern), User.name.ilike(pattern)))
    return query


def list_users(search: str | None = None, *, page: int = 1) -> Pagination:
    """One page of accounts whose e-mail address or name contains ``search``, by name."""
    return db.paginate(users_query(search), page=page, per_page=USERS_PER_PAGE, error_out=False)


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def admin_with_case_roles(user: User) -> bool:
    """An administrator account that still holds a case role, granted before such grants were
    refused: shown on the account's page, to be removed."""
    held = user.role_set
    return Role.ADMIN in held and bool(held & CASE_DATA_ROLES)
