"""``flask users create``, and the re-authentication of an administrator at the terminal."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from app.agencies.queries import get_agency_by_code, get_sub_task_force
from app.audit.operations import SystemActor, record
from app.auth import operations as ops
from app.auth.models import User
from app.core.enums import Role
from app.core.errors import DomainError
from app.extensions import db

users_cli = click.Group("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--email", required=True, help="Sign-in e-mail address.")
@click.option("--name", required=True, help="Full name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice([r.value for r in Role]),
    help="Role to grant; may repeat. Paired in order with --agency/--subgt.",
)
@click.option(
    "--agency",
    "agencies",
    multiple=True,
    metavar="CODE",
    help="Agency code for the role at the same position (one value applies to all).",
)
@click.option(
    "--subgt",
    "subgts",
    multiple=True,
    metavar="REGION/KEY",
    help="Sub GT for koordinator_subgt roles, e.g. 32.73/penegakan_hukum.",
)
@click.password_option("--password", prompt="Password", help="Prompted when not given.")
@with_appcontext
def create(
    email: str,
    name: str,
    roles: tuple[str, ...],
    agencies: tuple[str, ...],
    subgts: tuple[str, ...],
    password: str,
) -> None:
    """Create a user (prompts for a password); --role/--agency may repeat."""
    actor = SystemActor("cli")
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        try:
            plain_roles = [Role(r) for r in roles if Role(r) is not Role.KOORDINATOR_SUBGT]
            coord_roles = [Role(r) for r in roles if Role(r) is Role.KOORDINATOR_SUBGT]
            if plain_roles and not agencies:
                raise click.ClickException(
                    "--agency is required for role(s) " + ", ".join(plain_roles)
                )
            if len(agencies) not in (0, 1, len(plain_roles)):
                raise click.ClickException("give one --agency for all roles or one per role")
            if coord_roles and len(subgts) != len(coord_roles):
                raise click.ClickException("give one --subgt per koordinator_subgt role")
            if subgts and not coord_roles:
                raise click.ClickException("--subgt is only for the koordinator_subgt role")
            user = ops.create_user(email, name, password, actor=actor)
            for index, role in enumerate(plain_roles):
                code = agencies[0] if len(agencies) == 1 else agencies[index]
                agency = get_agency_by_code(code)
                if agency is None:
                    raise click.ClickException(f"unknown agency {code!r}")
                ops.grant_role(user, role, agency=agency, actor=actor)
            for role, ref in zip(coord_roles, subgts, strict=True):
                region_code, _, key = ref.partition("/")
                stf = get_sub_task_force(region_code, key)
                if stf is None:
                    raise click.ClickException(f"unknown Sub GT {ref!r}")
                ops.grant_role(user, role, sub_task_force=stf, actor=actor)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from exc
        except click.ClickException:
            db.session.rollback()
            raise
    db.session.commit()
    click.echo(f"created user {user.id} ({user.email}) with {len(user.grants)} role grant(s)")


# --- confirming who runs a sensitive command (`flask keys rotate`) ----------------------------


class TerminalOperator:
    """An administrator who re-authenticated at the terminal; what they do is audit-logged."""

    def __init__(self, user: User) -> None:
        self.user = user

    def record(self, action: str, details: dict[str, Any]) -> None:
        record(self.user, action, "keys", "data_encryption", details)
        db.session.commit()


def confirm_operator_at_terminal(email: str) -> TerminalOperator:
    """Ask for the password of the administrator account ``email`` (hidden), then for a code
    when its two-step verification is on; sign-in's lockout rules apply. Registered as the
    operator check of `flask keys rotate`."""
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        password = click.prompt("Password", hide_input=True, default="", show_default=False)
        try:
            user = ops.confirm_operator_password(email, password)
            if user.totp_enabled:
                code = click.prompt(
                    "Code from the authenticator app (or a recovery code)",
                    hide_input=True,
                    default="",
                    show_default=False,
                )
                method = ops.confirm_operator_code(user, code)
            else:
                method = "password"
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from exc
    record(user, "user.reauthenticate", "user", user.id, {"where": "cli", "method": method})
    db.session.commit()
    return TerminalOperator(user)
