"""``flask keys``: the data encryption keys (``DATA_ENCRYPTION_KEYS``) and the blind-index keys
(``BLIND_INDEX_KEYS``).

* ``generate`` prints a new ``id:base64key`` entry to put first in either setting;
* ``rotate`` re-encrypts every encrypted column of every row with the current (first) key,
  legacy plaintext included, in batches, one transaction per batch; idempotent;
* ``reindex`` recomputes every blind index with the current (first) blind-index key, legacy
  (``SECRET_KEY``-keyed) values included, in batches, one transaction per batch; idempotent;
* ``status`` counts the stored values per key id, to know when an old key may be removed.

Rotation and reindexing are command-line operations only (there is no web route for them), and
they ask the person running them to re-authenticate as an administrator — password, and code
when two-step verification is on — right before they start; they are audit-logged under their
name. The check is registered by the accounts module (``app.extensions[OPERATOR_CHECK]``): core
knows no users. Without one registered, both refuse.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.core.crypto import (
    index_key_id,
    index_keyring,
    indexed_tables,
    rebuilt_indexes,
    resolve_blind_index_keys,
)
from app.core.db_roles import database_owner
from app.core.encryption import (
    EncryptionError,
    decrypt_value,
    encrypt_value,
    encrypted_columns,
    generate_key,
    key_usage,
    keyring,
    resolve_data_keys,
    stored_key_id,
)
from app.core.extensions import db

keys_cli = click.Group(
    "keys",
    help="Data encryption keys (DATA_ENCRYPTION_KEYS) and blind-index keys (BLIND_INDEX_KEYS).",
)

OPERATOR_CHECK = "simpul_keys_operator"


class Operator(Protocol):
    """Who runs a sensitive command, once re-authenticated."""

    def record(self, action: str, details: dict[str, Any]) -> None:
        """Append (and commit) an audit entry under the operator's name."""


OperatorCheck = Callable[[str], Operator]
"""Given the e-mail typed on the command line: prompt for the password (and code), return the
operator, or raise ``click.ClickException`` with the reason."""

DEFAULT_BATCH = 500


def init_app(app: Flask) -> None:
    """Settle the keys at start-up (production refuses to start without them) and register
    ``flask keys``."""
    resolve_data_keys(app)
    resolve_blind_index_keys(app)
    app.cli.add_command(keys_cli)


@dataclass
class RotationReport:
    rows_checked: int = 0
    values_reencrypted: int = 0
    skipped_changed: int = 0  # changed by someone else meanwhile: already on the current key
    before: Counter[str | None] = field(default_factory=Counter)

    def summary(self) -> str:
        return (
            f"{self.rows_checked} rows checked, {self.values_reencrypted} values re-encrypted, "
            f"{self.skipped_changed} skipped (changed meanwhile)"
        )


def _raw(column: sa.Column[Any]) -> Any:
    """The stored text of an encrypted column, bypassing decryption."""
    return sa.type_coerce(column, sa.Text)


def rotate_keys(batch_size: int = DEFAULT_BATCH, echo: Any = None) -> RotationReport:
    """Re-encrypt with the current key every value stored under another key or as plaintext.
    Each batch of rows is its own transaction; an update only applies when the stored value is
    still the one read (compare and set), so a concurrent edit is never overwritten."""
    ring = keyring()
    report = RotationReport()
    for table, columns in encrypted_columns(db.metadata):
        pk_columns = list(table.primary_key.columns)
        if len(pk_columns) != 1:
            raise EncryptionError(f"{table.name}: rotation needs a single-column primary key")
        pk = pk_columns[0]
        # re-encryption is no edit: keep columns with an update default (updated_at) as they are
        untouched: dict[Any, Any] = {c: c for c in table.columns if c.onupdate is not None}
        total = db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        last: Any = None
        done = 0
        changed_in_table = 0
        while True:
            query = sa.select(pk, *(_raw(c) for c in columns)).order_by(pk).limit(batch_size)
            if last is not None:
                query = query.where(pk > last)
            rows = db.session.execute(query).all()
            if not rows:
                break
            for row in rows:
                row_id = row[0]
                stale: dict[Any, Any] = {}
                conditions = [pk == row_id]
                for column, stored in zip(columns, row[1:], strict=True):
                    if stored is None:
                        continue
                    key_id = stored_key_id(stored)
                    report.before[key_id] += 1
                    if key_id != ring.current_id:
                        context = f"{table.name}.{column.name}"
                        # the new ciphertext of the same plaintext, written as stored text: the
                        # column's own type would process it again (an EncryptedJSON column
                        # would store the document's text as a JSON string)
                        plaintext = decrypt_value(stored, context, ring)
                        stale[column] = sa.literal(encrypt_value(plaintext, context), sa.Text)
                        conditions.append(_raw(column) == stored)
                if not stale:
                    continue
                result = db.session.execute(
                    sa.update(table).where(*conditions).values({**untouched, **stale})
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    report.values_reencrypted += len(stale)
                    changed_in_table += len(stale)
                else:
                    report.skipped_changed += len(stale)
            db.session.commit()
            last = rows[-1][0]
            done += len(rows)
            report.rows_checked += len(rows)
            if echo:
                echo(f"{table.name}: {done}/{total} rows, {changed_in_table} values re-encrypted")
    return report


def count_key_usage() -> dict[str, Counter[str | None]]:
    """Per table, how many stored values use each key id (None: legacy plaintext)."""
    usage: dict[str, Counter[str | None]] = {}
    for table, columns in encrypted_columns(db.metadata):
        counts: Counter[str | None] = Counter()
        for column in columns:
            for (stored,) in db.session.execute(
                sa.select(_raw(column)).where(column.is_not(None))
            ).yield_per(1000):
                counts[stored_key_id(stored)] += 1
        usage[table.name] = counts
    db.session.rollback()
    return usage


@dataclass
class ReindexReport:
    rows_checked: int = 0
    values_recomputed: int = 0
    skipped_changed: int = 0  # changed by someone else meanwhile: already under the current key
    before: Counter[str | None] = field(default_factory=Counter)
    # the indexes held as rows: per table, (records checked, rows written)
    rebuilt: dict[str, tuple[int, int]] = field(default_factory=dict)

    def summary(self) -> str:
        rebuilt = "".join(
            f"; {table}: {checked} records checked, {written} rows written"
            for table, (checked, written) in self.rebuilt.items()
        )
        return (
            f"{self.rows_checked} rows checked, {self.values_recomputed} indexes recomputed, "
            f"{self.skipped_changed} skipped (changed meanwhile){rebuilt}"
        )


def _same(column: sa.Column[Any], value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


def reindex_blind_indexes(batch_size: int = DEFAULT_BATCH, echo: Any = None) -> ReindexReport:
    """Recompute every blind index with the current blind-index key, from the identity each row
    holds. Each batch of rows is its own transaction; an update only applies while the stored
    indexes are still the ones read (compare and set): an edit meanwhile wrote fresh ones with
    the current key and is never overwritten. Rows already right are left alone, so a second run
    changes nothing and an interrupted run may simply be started again."""
    report = ReindexReport()
    for spec in indexed_tables():
        table = db.metadata.tables[spec.table]
        pk_columns = list(table.primary_key.columns)
        if len(pk_columns) != 1:
            raise EncryptionError(f"{table.name}: reindexing needs a single-column primary key")
        pk = pk_columns[0]
        columns = [table.c[name] for name in spec.columns]
        untouched: dict[Any, Any] = {c: c for c in table.columns if c.onupdate is not None}
        total = db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        last: Any = None
        done = 0
        changed_in_table = 0
        while True:
            query = sa.select(pk, *columns).order_by(pk).limit(batch_size)
            if last is not None:
                query = query.where(pk > last)
            rows = db.session.execute(query).all()
            if not rows:
                break
            wanted = spec.recompute([row[0] for row in rows])
            for row in rows:
                stored = dict(zip(spec.columns, row[1:], strict=True))
                for value in stored.values():
                    if value is not None:
                        report.before[index_key_id(value)] += 1
                target = wanted.get(row[0])
                if target is None:
                    continue
                stale = {
                    name: target[name] for name in spec.columns if target[name] != stored[name]
                }
                if not stale:
                    continue
                result = db.session.execute(
                    sa.update(table)
                    .where(pk == row[0], *(_same(table.c[n], v) for n, v in stored.items()))
                    .values({**untouched, **{table.c[n]: v for n, v in stale.items()}})
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    report.values_recomputed += len(stale)
                    changed_in_table += len(stale)
                else:
                    report.skipped_changed += len(stale)
            db.session.commit()
            last = rows[-1][0]
            done += len(rows)
            report.rows_checked += len(rows)
            if echo:
                echo(f"{table.name}: {done}/{total} rows, {changed_in_table} indexes recomputed")
    # the indexes held as rows (several per record): rewritten record by record
    for rebuilt in rebuilt_indexes():
        report.rebuilt[rebuilt.table] = rebuilt.rebuild(batch_size, echo)
    return report


def count_index_keys() -> dict[str, Counter[str | None]]:
    """Per ``table.column`` of every blind index, how many stored values each blind-index key id
    made (None: legacy, keyed from ``SECRET_KEY``)."""
    usage: dict[str, Counter[str | None]] = {}
    for spec in indexed_tables():
        table = db.metadata.tables[spec.table]
        for name in spec.columns:
            column = table.c[name]
            counts: Counter[str | None] = Counter()
            for (stored,) in db.session.execute(
                sa.select(column).where(column.is_not(None))
            ).yield_per(1000):
                counts[index_key_id(stored)] += 1
            usage[f"{table.name}.{name}"] = counts
    for rebuilt in rebuilt_indexes():
        key_column = db.metadata.tables[rebuilt.table].c[rebuilt.key_column]
        counts = Counter()
        for key_id, n in db.session.execute(
            sa.select(key_column, sa.func.count()).group_by(key_column)
        ).all():
            counts[key_id] += n
        usage[rebuilt.table] = counts
    db.session.rollback()
    return usage


def index_usage(counts: Mapping[str | None, int]) -> str:
    """``b2: 12, legacy (SECRET_KEY): 3`` for a progress or status line."""
    return ", ".join(
        f"{'legacy (SECRET_KEY)' if key is None else key}: {n}"
        for key, n in sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    )


@keys_cli.command("generate")
@click.option("--id", "key_id", default=None, help="Key id (default: k<date><random>).")
def generate(key_id: str | None) -> None:
    """Print a new `id:base64key` to put FIRST in DATA_ENCRYPTION_KEYS or BLIND_INDEX_KEYS."""
    try:
        click.echo(generate_key(key_id))
    except EncryptionError as exc:
        raise click.ClickException(str(exc)) from exc


@keys_cli.command("rotate")
@click.option(
    "--email",
    required=True,
    help="Your administrator account: its password (and code) are asked before anything starts.",
)
@click.option("--batch-size", default=DEFAULT_BATCH, show_default=True, type=click.IntRange(1))
@with_appcontext
def rotate(email: str, batch_size: int) -> None:
    """Re-encrypt every encrypted field with the current (first) key. Connects as the owner of
    the tables when DATABASE_OWNER_URL is set: the history tables are append-only for the
    application's role, and only their owner may re-encrypt their text."""
    with database_owner():
        _rotate(email, batch_size)


def _rotate(email: str, batch_size: int) -> None:
    operator = _operator(email, "rotate")
    ring = keyring()
    click.echo(f"current key: {ring.current_id}; known keys: {', '.join(ring.ids)}")
    operator.record("keys.rotate_start", {"key": ring.current_id, "known": list(ring.ids)})
    try:
        report = rotate_keys(batch_size, echo=click.echo)
    except EncryptionError as exc:
        db.session.rollback()
        operator.record("keys.rotate_failed", {"key": ring.current_id, "error": str(exc)})
        raise click.ClickException(str(exc)) from exc
    operator.record(
        "keys.rotate",
        {
            "key": ring.current_id,
            "rows_checked": report.rows_checked,
            "values_reencrypted": report.values_reencrypted,
            "skipped_changed": report.skipped_changed,
        },
    )
    click.echo(f"before: {key_usage(report.before) or 'no values'}")
    click.echo(report.summary())
    click.echo(
        "Run `flask keys status`: once no value uses an old key, it can be removed from "
        "DATA_ENCRYPTION_KEYS."
    )


def _operator(email: str, what: str) -> Operator:
    check: OperatorCheck | None = current_app.extensions.get(OPERATOR_CHECK)
    if check is None:
        raise click.ClickException(f"no operator check is registered: refusing to {what}")
    return check(email)


@keys_cli.command("reindex")
@click.option(
    "--email",
    required=True,
    help="Your administrator account: its password (and code) are asked before anything starts.",
)
@click.option("--batch-size", default=DEFAULT_BATCH, show_default=True, type=click.IntRange(1))
@with_appcontext
def reindex(email: str, batch_size: int) -> None:
    """Recompute every blind index (name, NIK search; duplicate check) with the current (first)
    key of BLIND_INDEX_KEYS."""
    operator = _operator(email, "reindex")
    ring = index_keyring()
    click.echo(f"current blind-index key: {ring.current_id}; known keys: {', '.join(ring.ids)}")
    operator.record("keys.reindex_start", {"key": ring.current_id, "known": list(ring.ids)})
    try:
        report = reindex_blind_indexes(batch_size, echo=click.echo)
    except EncryptionError as exc:
        db.session.rollback()
        operator.record("keys.reindex_failed", {"key": ring.current_id, "error": str(exc)})
        raise click.ClickException(str(exc)) from exc
    operator.record(
        "keys.reindex",
        {
            "key": ring.current_id,
            "rows_checked": report.rows_checked,
            "values_recomputed": report.values_recomputed,
            "skipped_changed": report.skipped_changed,
        },
    )
    click.echo(f"before: {index_usage(report.before) or 'no values'}")
    click.echo(report.summary())
    click.echo(
        "Run `flask keys status`: once no index uses an old key (or SECRET_KEY), the old key can "
        "be removed from BLIND_INDEX_KEYS."
    )


@keys_cli.command("status")
@with_appcontext
def status() -> None:
    """Count the stored values per key id."""
    ring = keyring()
    click.echo(f"current key: {ring.current_id}; known keys: {', '.join(ring.ids)}")
    total: Counter[str | None] = Counter()
    for table, counts in count_key_usage().items():
        click.echo(f"{table}: {key_usage(counts) or 'no values'}")
        total.update(counts)
    click.echo(f"all: {key_usage(total) or 'no values'}")
    stale = sorted(k for k in total if k != ring.current_id and k is not None)
    legacy = total.get(None, 0)
    if stale or legacy:
        click.echo("not yet rotated: run `flask keys rotate`")
    else:
        click.echo("every value uses the current key; older keys may be removed")
    index_ring = index_keyring()
    click.echo(
        f"current blind-index key: {index_ring.current_id}; known keys: {', '.join(index_ring.ids)}"
    )
    indexes: Counter[str | None] = Counter()
    for column, counts in count_index_keys().items():
        click.echo(f"{column}: {index_usage(counts) or 'no values'}")
        indexes.update(counts)
    click.echo(f"all indexes: {index_usage(indexes) or 'no values'}")
    if any(k != index_ring.current_id for k in indexes):
        click.echo("not yet reindexed: run `flask keys reindex`")
    else:
        click.echo(
            "every index uses the current blind-index key; older blind-index keys can leave "
            "BLIND_INDEX_KEYS"
        )
