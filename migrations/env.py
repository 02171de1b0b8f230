import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from app.core.db import declared_for

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


_owner_engine = None


def get_engine():
    """The owner's connection (DATABASE_OWNER_URL) when it is set, else the application's."""
    global _owner_engine
    if current_app.config.get("DATABASE_OWNER_URL"):
        if _owner_engine is None:
            from app.core.db_roles import owner_engine

            _owner_engine = owner_engine(current_app.config)
        return _owner_engine
    try:
        # this works with Flask-SQLAlchemy<3 and Alchemical
        return current_app.extensions["migrate"].db.engine
    except (TypeError, AttributeError):
        # this works with Flask-SQLAlchemy>=3
        return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def _sqlite_pragma(connection, statement):
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(statement)
        return cursor.fetchall()
    finally:
        cursor.close()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    # The migrations applied by this run: after any, the application's role gets its grants
    # again, in the same transaction (app/core/db_roles.py).
    applied = []

    def on_version_apply(ctx, step, heads, run_args):
        applied.append(step)

    connectable = get_engine()

    try:
        with connectable.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # A batch migration copies a table into a new one and drops the old one; with
                # foreign keys enforced, SQLite refuses to drop a table other rows refer to
                # (victims, cases… of a database holding data). Enforcement is switched off for
                # the migrations — the pragma only works outside a transaction, so on the
                # driver's connection before the first statement (SQLAlchemy would open one) —
                # and every reference is checked afterwards. The copy then takes the old
                # table's name without SQLite re-checking every trigger and view against a schema
                # in which that table is briefly missing (legacy_alter_table): the append-only
                # guards of consent_entries name victims and cases (migration 21bb479f935a), and
                # they name them by the same name after the copy.
                _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
                _sqlite_pragma(connection, "PRAGMA legacy_alter_table=ON")
                # rows that already referred to missing rows (written before foreign keys were
                # enforced) are not the migrations' doing: only new ones stop the upgrade
                broken_before = set(_sqlite_pragma(connection, "PRAGMA foreign_key_check"))
            context.configure(
                connection=connection,
                target_metadata=get_metadata(),
                on_version_apply=on_version_apply,
                # what the models declare for another database only is not proposed here
                include_object=declared_for(connection.dialect.name),
                **conf_args,
            )

            with context.begin_transaction():
                context.run_migrations()
                if applied:
                    grant_app_role(connection)
            if sqlite:
                connection.commit()
                broken = [
                    row
                    for row in _sqlite_pragma(connection, "PRAGMA foreign_key_check")
                    if row not in broken_before
                ]
                _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")
                _sqlite_pragma(connection, "PRAGMA legacy_alter_table=OFF")
                if broken:
                    raise RuntimeError(
                        f"the migrations left {len(broken)} rows referring to missing rows, "
                        f"e.g. {broken[0][0]} row {broken[0][1]} -> {broken[0][2]}"
                    )
    finally:
        if connectable is _owner_engine:
            dispose_owner_engine()


def grant_app_role(connection):
    from app.core.db_roles import app_role_name, grant_app_role

    role = app_role_name(current_app.config)
    if role is None or connection.dialect.name != "postgresql":
        return
    report = grant_app_role(connection, role, get_metadata())
    logger.info("Granted the application role %s its rights:", report.role)
    for line in report.lines():
        logger.info("  %s", line)


def dispose_owner_engine():
    global _owner_engine
    if _owner_engine is not None:
        _owner_engine.dispose()
        _owner_engine = None


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
