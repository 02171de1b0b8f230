"""Declarative base, naming convention and column types shared by all models."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
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


_SETTINGS = frozenset({"jit", "cursor_tuple_fraction", "plan_cache_mode"})
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.]+")


def set_local(session: AnySession, **settings: str) -> None:
    """PostgreSQL planner settings for the rest of the session's transaction (``SET LOCAL``);
    nothing on another database, which has no such settings. A SET statement takes no
    parameters, so the names are a known few and the values plain words or numbers."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name, value in settings.items():
        if name not in _SETTINGS or not _PLAIN_VALUE.fullmatch(value):
            raise ValueError(f"set_local: {name} = {value!r} is not a known setting")
        session.execute(sa.text(f"SET LOCAL {name} = {value}"))


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


_SEQUENCE_KEYS: dict[Any, str | None] = {}


def _sequence_key(mapper: Any) -> str | None:
    """The attribute of ``mapper``'s primary key when it takes its values from a sequence of its
    own (a single whole-number column, not a key shared with a parent row), else None."""
    if mapper not in _SEQUENCE_KEYS:
        key = None
        if len(mapper.primary_key) == 1:
            column = mapper.primary_key[0]
            if (
                column.autoincrement in (True, "auto")
                and isinstance(column.type, sa.Integer)
                and not column.foreign_keys
            ):
                key = mapper.get_property_by_column(column).key
        _SEQUENCE_KEYS[mapper] = key
    return _SEQUENCE_KEYS[mapper]


def assign_ids(session: AnySession, *, skip: tuple[type[Any], ...] = ()) -> None:
    """Give the new objects of ``session`` (but those of ``skip``) their ids before the flush,
    one query per table, in the order they were added (PostgreSQL; elsewhere nothing happens).
    The flush then inserts each table's rows with one prepared statement sent many times
    instead of ``INSERT … RETURNING id`` over every row: what a batch of thousands of rows
    spends most of its time on is the client building and parsing those statements."""
    if session.get_bind().dialect.name != "postgresql":
        return
    wanted: dict[Any, list[tuple[int, Any, str]]] = {}
    for obj in session.new:
        if isinstance(obj, skip):
            continue
        state = sa.orm.attributes.instance_state(obj)
        key = _sequence_key(state.mapper)
        if key is None or state.dict.get(key) is not None:
            continue
        wanted.setdefault(state.mapper.local_table, []).append((state.insert_order or 0, obj, key))
    for table, objects in wanted.items():
        objects.sort(key=lambda item: item[0])
        for (_, obj, key), new_id in zip(
            objects, take_ids(session, table, len(objects)), strict=True
        ):
            setattr(obj, key, new_id)


@dataclass(frozen=True)
class _InsertPlan:
    """How ``insert_new`` turns an object of one mapper into a row of its table."""

    table: sa.Table
    # (attribute, column key, whether None is a value of the column: JSON's null)
    columns: tuple[tuple[str, str, bool], ...]
    # many-to-one relationships: (attribute, ((column of the target, attribute of the target,
    # column key set here), ...), the target's collection that holds the object or None)
    parents: tuple[tuple[str, tuple[tuple[str, str], ...], str | None], ...]
    # one-to-many relationships: (attribute, ((attribute here, column key set on the child)...))
    children: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    version: str | None
    version_of_new: Any
    primary_key: tuple[str, ...]
    own_keys: tuple[str, ...]  # the columns that name a row of the same table


_PLANS: dict[Any, _InsertPlan] = {}


def _insert_plan(mapper: Any) -> _InsertPlan:
    plan = _PLANS.get(mapper)
    if plan is not None:
        return plan
    if len(mapper.tables) != 1:
        raise TypeError(f"insert_new cannot write {mapper}: it maps several tables")
    table = mapper.local_table
    parents = []
    children = []
    for prop in mapper.relationships:
        if prop.viewonly:
            continue
        if prop.secondary is not None:
            raise TypeError(f"insert_new cannot write {prop}: it has a secondary table")
        if prop.direction is sa.orm.MANYTOONE:
            pairs = tuple(
                (prop.mapper.get_property_by_column(source).key, dest.key)
                for source, dest in prop.synchronize_pairs
            )
            parents.append((prop.key, pairs, prop.back_populates or None))
        elif prop.direction is sa.orm.ONETOMANY:
            pairs = tuple(
                (mapper.get_property_by_column(source).key, dest.key)
                for source, dest in prop.synchronize_pairs
            )
            children.append((prop.key, pairs))
    version = mapper.version_id_col
    versioned = version is not None and mapper.version_id_generator is not False
    plan = _InsertPlan(
        table=table,
        columns=tuple(
            (
                mapper.get_property_by_column(column).key,
                column.key,
                bool(getattr(column.type, "should_evaluate_none", False)),
            )
            for column in table.columns
        ),
        parents=tuple(parents),
        children=tuple(children),
        version=version.key if versioned else None,
        version_of_new=mapper.version_id_generator(None) if versioned else None,
        primary_key=tuple(column.key for column in table.primary_key.columns),
        own_keys=tuple(fk.parent.key for fk in table.foreign_keys if fk.column.table is table),
    )
    _PLANS[mapper] = plan
    return plan


def insert_new(session: AnySession) -> None:
    """Insert the new objects of ``session`` with one prepared statement per table (and set of
    columns), sent many times, instead of the unit of work's flush, then let the session forget
    them: the rows and their values are those a flush would write, without its bookkeeping per
    object (cascades, attribute history, identity map), which is most of what an import of
    thousands of rows spends. For a batch that is only inserted and not used afterwards (an
    import's): every new object must have its id already (``assign_ids``, audit entries sealed
    beforehand), foreign keys are taken from the relationships set on the objects, and tables
    are written parents first. The objects stay readable (detached) but are not in the session.
    """
    states = sorted(
        (sa.orm.attributes.instance_state(obj) for obj in session.new),
        key=lambda state: state.insert_order or 0,
    )
    if not states:
        return
    set_by: dict[Any, dict[str, Any]] = {state: {} for state in states}

    def read(state: Any, key: str) -> Any:
        return state.dict[key] if key in state.dict else getattr(state.obj(), key)

    stale: dict[tuple[int, str], Any] = {}
    for state in states:  # foreign keys from the relationships, as the flush would sync them
        plan = _insert_plan(state.mapper)
        values = state.dict
        for key, pairs, collection in plan.parents:
            target = values.get(key)
            if target is None:
                continue
            parent = sa.orm.attributes.instance_state(target)
            for source, dest in pairs:
                set_by[state][dest] = read(parent, source)
            if collection is not None and parent.persistent:
                # a stored row's collection that a new row joined (a new region under a stored
                # one) is read again when next used: the session no longer holds the new row
                stale[(id(target), collection)] = target
        for key, pairs in plan.children:
            for child in values.get(key) or ():
                child_state = sa.orm.attributes.instance_state(child)
                if child_state in set_by:
                    for source, dest in pairs:
                        set_by[child_state][dest] = read(state, source)
    # each table's statements: rows grouped by their columns, then rows naming their own table
    rows: dict[sa.Table, tuple[list[list[dict[str, Any]]], list[list[dict[str, Any]]]]] = {}
    by_columns: dict[tuple[sa.Table, frozenset[str]], list[dict[str, Any]]] = {}
    for state in states:
        plan = _insert_plan(state.mapper)
        values = state.dict
        row: dict[str, Any] = {}
        for key, column, none_is_value in plan.columns:
            if key in values:
                given = values[key]
                # None leaves the column to its default, as the flush does (but JSON's null)
                if given is not None or none_is_value:
                    row[column] = given
        for column, given in set_by[state].items():
            if given is not None:
                row[column] = given
        if plan.version is not None:
            row[plan.version] = plan.version_of_new  # a new row's first version
        for column in plan.primary_key:
            if row.get(column) is None:
                raise ValueError(f"insert_new: a new {state.class_.__name__} has no {column}")
        groups, chained = rows.setdefault(plan.table, ([], []))
        if any(row.get(column) is not None for column in plan.own_keys):
            # a row naming a row of its own table (a region its parent) goes after the rows that
            # name none, in the order the rows were added: each run of rows with the same
            # columns one statement
            if not chained or frozenset(chained[-1][0]) != frozenset(row):
                chained.append([])
            chained[-1].append(row)
        else:
            same = by_columns.get((plan.table, frozenset(row)))
            if same is None:
                same = by_columns[(plan.table, frozenset(row))] = []
                groups.append(same)
            same.append(row)
    connection = session.connection()
    order = {table: i for i, table in enumerate(next(iter(rows)).metadata.sorted_tables)}
    for table in sorted(rows, key=lambda t: order[t]):
        groups, chained = rows[table]
        for group in groups + chained:
            connection.execute(table.insert(), group)
    # the session forgets them as ``expunge`` would, without following every object's
    # cascades again: each new object is in ``states`` already
    session_ = session() if isinstance(session, scoped_session) else session
    session_._expunge_states(states)
    for (_, key), target in stale.items():
        session.expire(target, [key])


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
        row.id = self.take(type(row))

    def take(self, model: type[Any]) -> int:
        """The next id of ``model``'s table (PostgreSQL), ascending."""
        table = model.__table__
        pool = self._ids.setdefault(table.name, [])
        if not pool:
            pool.extend(reversed(take_ids(self._session, table, self.BLOCK)))
        return int(pool.pop())
