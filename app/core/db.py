"""Declarative base, naming convention and column types shared by all models."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import sqlalchemy as sa
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

from app.core.encryption import EncryptedText

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # every model is mapped to a table of its own (SQLAlchemy allows any FROM clause)
        __table__: ClassVar[sa.Table]


# A session to work in: a plain SQLAlchemy session, or Flask-SQLAlchemy's ``db.session``, the
# scoped session that stands for the current one (it passes every call on to it).
AnySession: TypeAlias = Session | scoped_session[FlaskSession]


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no zone of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def enum_type(enum_cls: type[enum.StrEnum], name: str) -> sa.Enum:
    """A string column restricted to the values of ``enum_cls`` by a CHECK named ``name``."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(32, max(len(m.value) for m in enum_cls)),
        values_callable=lambda members: [m.value for m in members],
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def model_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def render_migration_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Alembic hook: write our column types as plain SQLAlchemy types in migrations, so a
    migration never imports application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"

    if type_ == "type" and isinstance(obj, EncryptedText):
        return "sa.Text()"  # ciphertext (enc1:<key id>:<base64>)
    return False


def declared_for(dialect: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` for a database of ``dialect``: what the models declare for
    other databases only (``sa.Index(…).ddl_if(dialect="postgresql")``: an index SQLite has no
    kind for) is not expected there, so comparing the models with it reports no difference."""

    def include(obj: Any, name: Any, type_: str, reflected: bool, compare_to: Any) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        if condition is None or condition.dialect is None:
            return True
        wanted = condition.dialect
        return dialect == wanted if isinstance(wanted, str) else dialect in wanted

    return include


# How long a connection waits for another's write lock before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000


def configure_sqlite(engine: sa.Engine) -> None:
    """SQLite as a real embedded engine for several people and the in-process background work.

    Every connection gets:
    - ``journal_mode=WAL``: readers never wait for the writer and the writer never waits for
      readers (the mode is kept in the file; asking again costs nothing);
    - ``busy_timeout``: a connection that finds the write lock taken waits for it instead of
      failing at once with "database is locked";
    - ``foreign_keys=ON``, which SQLite leaves off by default.

    Every transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock at its start, so
    transactions follow one another instead of failing half-way. With a deferred ``BEGIN`` a
    transaction that has read and then writes after another connection committed cannot be
    upgraded (SQLite answers SQLITE_BUSY at once, whatever the busy timeout): that is how a case
    page's audit insert used to collide with a background notification. The driver's own
    transaction handling is switched off so that SQLAlchemy emits BEGIN itself (this also makes
    SAVEPOINTs work). Work that takes long (a rollup, a report) commits in short steps so that it
    never holds the lock for long."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def take_ids(session: AnySession, table: sa.Table, count: int) -> list[int]:
    """``count`` new ids of ``table``'s single-column primary key from its sequence
    (PostgreSQL), in ascending order, in one query."""
    column = next(iter(table.primary_key.columns))
    ids = session.scalars(
        sa.select(
            sa.func.nextval(sa.func.pg_get_serial_sequence(table.name, column.name))
        ).select_from(sa.func.generate_series(1, count))
    )
    return sorted(ids)


def assign_ids(session: AnySession, *, skip: tuple[type[Any], ...] = ()) -> None:
    """Give the new objects of ``session`` (but those of ``skip``) their ids before the flush,
    one query per table, in the order they were added (PostgreSQL; elsewhere nothing happens).
    The flush then inserts each table's rows with one prepared statement sent many times
    instead of ``INSERT … RETURNING id`` over every row: what a batch of thousands of rows
    spends most of its time on is the client building and parsing those statements."""
    if session.get_bind().dialect.name != "postgresql":
        return
    wanted: dict[sa.Table, list[tuple[int, Any, str]]] = {}
    for obj in session.new:
        if isinstance(obj, skip):
            continue
        state = sa.inspect(obj)
        mapper = state.mapper
        if len(mapper.primary_key) != 1:
            continue
        column = mapper.primary_key[0]
        if column.autoincrement not in (True, "auto") or not isinstance(column.type, sa.Integer):
            continue
        if column.foreign_keys:  # a key shared with a parent row, not a sequence of its own
            continue
        key = mapper.get_property_by_column(column).key
        if getattr(obj, key) is not None:
            continue
        wanted.setdefault(mapper.local_table, []).append((state.insert_order or 0, obj, key))
    for table, objects in wanted.items():
        objects.sort(key=lambda item: item[0])
        for (_, obj, key), new_id in zip(
            objects, take_ids(session, table, len(objects)), strict=True
        ):
            setattr(obj, key, new_id)


class IdPool:
    """Ids for the new rows of an import, taken from their tables' sequences in blocks
    (PostgreSQL), so a row can be audited before it is flushed and a whole file is written by one
    flush. Elsewhere (SQLite) ``give`` flushes the session for the row's id."""

    BLOCK = 500

    def __init__(self, session: AnySession) -> None:
        self._session = session
        self._sequences = session.get_bind().dialect.name == "postgresql"
        self._ids: dict[str, list[int]] = {}

    def give(self, row: Any) -> None:
        if not self._sequences:
            self._session.flush()
            return
        table = type(row).__table__
        pool = self._ids.setdefault(table.name, [])
        if not pool:
            pool.extend(reversed(take_ids(self._session, table, self.BLOCK)))
        row.id = pool.pop()
