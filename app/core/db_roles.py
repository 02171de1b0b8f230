"""The two PostgreSQL roles of a production database: the owner and the application.

* The **owner** (``DATABASE_OWNER_URL``) owns the schema, its tables, sequences and trigger
  functions. It runs ``flask db upgrade`` and the few commands that rewrite stored values
  (``flask keys rotate``), and nothing else.
* The **application** role (``DATABASE_URL`` of web, worker and beat) owns nothing, is no
  superuser and may not create roles. It holds only the grants made here: it cannot alter,
  disable or drop a trigger, truncate a table, move a sequence, or change the history tables.

What the application may do to a table is declared on the table itself
(``__table_args__ = (..., {"info": {APP_ACCESS: APPEND_ONLY}})``; default: read and write).
:func:`grant_app_role` turns those declarations into GRANTs, after revoking whatever the role
held before. It runs at the end of every ``flask db upgrade`` that applied a migration, when the
two URLs name different roles (so a new table is granted in the same transaction that creates
it), and on demand as ``flask db grant-app-role`` (after a restore with ``--no-acl``). A table
the models do not know (``alembic_version``) is readable only.

Without ``DATABASE_OWNER_URL`` everything runs on ``DATABASE_URL`` as before (SQLite, ``make
run``, development): one role, no grants.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate.cli import db as db_cli
from sqlalchemy.engine import make_url

from app.config import ConfigError
from app.core.extensions import db

# Key of ``Table.info`` holding the table's AppAccess.
APP_ACCESS = "app_access"


@dataclass(frozen=True)
class AppAccess:
    """What the application role may do to a table besides reading it."""

    insert: bool = True
    # True: every column; a tuple: only these columns; False: no UPDATE at all
    update: bool | tuple[str, ...] = True
    delete: bool = True

    def privileges(self, quote: Any) -> str:
        """The privilege list of a GRANT, e.g. ``SELECT, INSERT, UPDATE (note), DELETE``."""
        parts = ["SELECT"]
        if self.insert:
            parts.append("INSERT")
        if self.update is True:
            parts.append("UPDATE")
        elif self.update:
            parts.append(f"UPDATE ({', '.join(quote(c) for c in self.update)})")
        if self.delete:
            parts.append("DELETE")
        return ", ".join(parts)


READ_WRITE = AppAccess()
# History: rows are added, never changed or removed (the database's triggers say the same).
APPEND_ONLY = AppAccess(update=False, delete=False)
READ_ONLY = AppAccess(insert=False, update=False, delete=False)


class RoleError(click.ClickException):
    """The application role cannot be set up as asked; the message says why."""


def sqlalchemy_url(url: str) -> str:
    """``postgresql://`` means the psycopg 3 driver, as for ``DATABASE_URL``."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def check_owner_url(config: Mapping[str, Any]) -> None:
    """``DATABASE_OWNER_URL`` must name the same PostgreSQL database as ``DATABASE_URL``."""
    owner_url = config.get("DATABASE_OWNER_URL")
    if not owner_url:
        return
    app_url = config.get("DATABASE_URL")
    if not app_url:
        raise ConfigError("DATABASE_OWNER_URL is set but DATABASE_URL is not")
    try:
        owner, app = make_url(sqlalchemy_url(owner_url)), make_url(sqlalchemy_url(app_url))
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"DATABASE_OWNER_URL is not a database URL: {exc}") from None
    if owner.get_backend_name() != "postgresql":
        raise ConfigError("DATABASE_OWNER_URL is for PostgreSQL only")
    if (owner.get_backend_name(), owner.host, owner.port, owner.database) != (
        app.get_backend_name(),
        app.host,
        app.port,
        app.database,
    ):
        raise ConfigError(
            "DATABASE_OWNER_URL and DATABASE_URL must name the same database "
            "(host, port and database name)"
        )


def app_role_name(config: Mapping[str, Any]) -> str | None:
    """The application's role, to be granted by ``flask db upgrade``: the user of
    ``DATABASE_URL`` when ``DATABASE_OWNER_URL`` names another one; None with a single role."""
    owner_url, app_url = config.get("DATABASE_OWNER_URL"), config.get("DATABASE_URL")
    if not owner_url or not app_url:
        return None
    app_user = make_url(sqlalchemy_url(app_url)).username
    if not app_user or app_user == make_url(sqlalchemy_url(owner_url)).username:
        return None
    return app_user


def owner_engine(config: Mapping[str, Any]) -> sa.Engine | None:
    """A new engine connecting as the owner, or None when ``DATABASE_OWNER_URL`` is not set."""
    owner_url = config.get("DATABASE_OWNER_URL")
    if not owner_url:
        return None
    return sa.create_engine(
        sqlalchemy_url(owner_url), **dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    )


@contextmanager
def database_owner() -> Iterator[bool]:
    """Within the block the application's ``db`` (engine and session) connects as the owner,
    when ``DATABASE_OWNER_URL`` is set (yields True); otherwise nothing changes (False). For
    command-line work that rewrites stored values (``flask keys rotate``), never for requests."""
    engine = owner_engine(current_app.config)
    if engine is None:
        yield False
        return
    # Flask-SQLAlchemy keeps this application's engines in a dict, keyed by bind (None: the
    # default); its sessions and ``db.engine`` look the engine up there on every use.
    engines = cast(dict[str | None, sa.Engine], db.engines)
    original = engines[None]
    db.session.remove()
    engines[None] = engine
    try:
        yield True
    finally:
        db.session.remove()
        engines[None] = original
        engine.dispose()


# --- granting --------------------------------------------------------------------------------


@dataclass
class GrantReport:
    role: str
    schema: str
    # table name -> privilege list, for every table not simply read-write
    restricted: dict[str, str] = field(default_factory=dict)
    read_write: int = 0

    def lines(self) -> list[str]:
        out = [f"{name}: {privileges}" for name, privileges in sorted(self.restricted.items())]
        out.append(f"{self.read_write} other tables: SELECT, INSERT, UPDATE, DELETE")
        out.append("sequences: USAGE, SELECT")
        return out


def table_access(table: sa.Table | None) -> AppAccess:
    if table is None:
        return READ_ONLY
    return cast(AppAccess, table.info.get(APP_ACCESS, READ_WRITE))


def _check_role(connection: sa.Connection, role: str, schema: str) -> None:
    """Refuse a role that could get past the grants: a superuser, a role that may create roles
    or databases, the role running this, an owner (or a member of an owner) of the schema."""
    row = connection.execute(
        sa.text(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls"
            " FROM pg_roles WHERE rolname = :role"
        ),
        {"role": role},
    ).one_or_none()
    if row is None:
        raise RoleError(f"role {role} does not exist (create it first: docs/operations.md)")
    if row.rolsuper:
        raise RoleError(f"role {role} is a superuser: the application role must not be one")
    if row.rolcreaterole or row.rolcreatedb or row.rolbypassrls:
        raise RoleError(
            f"role {role} may create roles or databases or bypass row security: "
            f"ALTER ROLE {role} NOCREATEROLE NOCREATEDB NOBYPASSRLS"
        )
    current = connection.scalar(sa.text("SELECT current_user"))
    if current == role:
        raise RoleError(f"connected as {role} itself: run this as the owner (DATABASE_OWNER_URL)")
    owners = connection.execute(
        sa.text(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'S', 'v', 'm')"
            " UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = :schema"
            " UNION SELECT pg_get_userbyid(datdba) FROM pg_database"
            " WHERE datname = current_database()"
        ),
        {"schema": schema},
    ).scalars()
    for owner in owners:
        if connection.scalar(
            sa.text("SELECT pg_has_role(:role, :owner, 'MEMBER')"),
            {"role": role, "owner": owner},
        ):
            raise RoleError(
                f"role {role} owns (or is a member of {owner}, which owns) the database, the "
                f"schema or its tables: the application role must own nothing"
            )


def grant_app_role(connection: sa.Connection, role: str, metadata: sa.MetaData) -> GrantReport:
    """Give ``role`` exactly what each table declares, and the use of the sequences; revoke
    everything else it held in the schema. Runs in the caller's transaction, as the owner."""
    if connection.dialect.name != "postgresql":
        raise RoleError("database roles are a PostgreSQL feature")
    schema = str(connection.scalar(sa.text("SELECT current_schema()")))
    _check_role(connection, role, schema)
    quote = connection.dialect.identifier_preparer.quote
    tables = connection.execute(
        sa.text(
            "SELECT c.relname, pg_has_role(current_user, c.relowner, 'USAGE') AS mine,"
            " pg_get_userbyid(c.relowner) AS owner"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') ORDER BY c.relname"
        ),
        {"schema": schema},
    ).all()
    foreign = [f"{t.relname} ({t.owner})" for t in tables if not t.mine]
    if foreign:
        # a GRANT on them would only warn and do nothing
        raise RoleError(
            "tables not owned by the role running this: " + ", ".join(foreign[:5]) + ": run it "
            "as their owner, or give them to it (ALTER TABLE ... OWNER TO ...)"
        )
    who, where = quote(role), quote(schema)
    connection.execute(sa.text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}"))
    connection.execute(sa.text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {where} FROM {who}"))
    connection.execute(sa.text(f"GRANT USAGE ON SCHEMA {where} TO {who}"))
    report = GrantReport(role=role, schema=schema)
    known = metadata.tables
    for row in tables:
        access = table_access(known.get(row.relname))
        privileges = access.privileges(quote)
        connection.execute(sa.text(f"GRANT {privileges} ON {quote(row.relname)} TO {who}"))
        if access == READ_WRITE:
            report.read_write += 1
        else:
            report.restricted[row.relname] = privileges
    # nextval() for new rows; no UPDATE, so no setval() to reuse or skip ids
    connection.execute(sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {who}"))
    return report


# --- command line ----------------------------------------------------------------------------


@click.command("grant-app-role")
@click.argument("role", required=False)
@with_appcontext
def grant_app_role_command(role: str | None) -> None:
    """Give the application's database ROLE exactly the rights it needs (default: the user of
    DATABASE_URL), revoking anything else. Runs as the owner (DATABASE_OWNER_URL). `flask db
    upgrade` does it after every migration; run it by hand after a restore."""
    role = role or app_role_name(current_app.config)
    if not role:
        raise click.ClickException(
            "no application role: give ROLE, or set DATABASE_OWNER_URL to the owner and "
            "DATABASE_URL to the application role"
        )
    with database_owner():
        if db.engine.dialect.name != "postgresql":
            raise click.ClickException("database roles are a PostgreSQL feature")
        with db.engine.begin() as connection:
            report = grant_app_role(connection, role, db.metadata)
    click.echo(f"granted to {report.role} in schema {report.schema}:")
    for line in report.lines():
        click.echo(f"  {line}")


def init_app(app: Flask) -> None:
    """Check ``DATABASE_OWNER_URL`` and add ``flask db grant-app-role``."""
    check_owner_url(app.config)
    db_cli.add_command(grant_app_role_command)
