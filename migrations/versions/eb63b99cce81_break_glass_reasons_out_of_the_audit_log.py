"""break-the-glass reasons leave the audit log: requests that named no case are kept in
break_glass_attempts (reference and reason encrypted), and the reasons older releases wrote in
clear into audit entries are redacted, each redaction attested by a sealed audit.redact entry

Revision ID: eb63b99cce81
Revises: 0e92fe4462eb
Create Date: 2026-12-09 11:00:00.000000

Until this release a ``break_glass.grant`` entry carried the reason (which is also kept,
encrypted, on the grant) and a ``break_glass.no_match`` entry the reason and the reference typed
(kept nowhere else) — the only identities readable in a dump, and beyond the reach of an
erasure. The audit log is hash-chained: an entry's hash covers its fields. So this migration,
for each such entry, in one transaction:

1. a ``no_match`` entry: copies the reference and the reason into a new ``break_glass_attempts``
   row, encrypted with the current key of DATA_ENCRYPTION_KEYS (format of the application's
   EncryptedText, associated data ``break_glass_attempts.<column>``), and points the entry at it
   (``object_type`` ``break_glass_attempt``, ``changes`` ``{"attempt": id, "redacted": [...]}``);
   a ``grant`` entry: drops ``reason`` from ``changes`` and adds ``"redacted": ["reason"]``;
2. appends a sealed ``audit.redact`` entry (chained onto the head, HMAC with AUDIT_HMAC_KEY,
   actor label ``migration``) naming the entry, its sealed hash and the hash of its fields as
   they are now. ``flask audit verify`` reports the entry as redacted instead of edited, and any
   other change to it as an edit.

On PostgreSQL the append-only trigger is switched off for these updates and on again in the same
transaction (on SQLite its UPDATE guard is dropped and created again): run ``flask db upgrade`` as the tables' owner (as every migration). Without
DATA_ENCRYPTION_KEYS and AUDIT_HMAC_KEY (bare Alembic) the migration refuses when there is
anything to redact.

A redaction cannot be undone. Downgrade drops ``break_glass_attempts`` and refuses (raises)
while it holds rows: the requests' reasons would be lost; restore the backup taken before the
upgrade instead.
"""
import base64
import binascii
import datetime
import hashlib
import hmac
import json
import secrets

from alembic import op
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


# revision identifiers, used by Alembic.
revision = 'eb63b99cce81'
down_revision = '0e92fe4462eb'
branch_labels = None
depends_on = None

CHAIN_LOCK_KEY = int.from_bytes(b'SimpulAu', 'big')
GENESIS_HASH = '0' * 64
SEAL_VERSION = 1
WHY = 'break-the-glass reason (and a reference that named no case) kept encrypted instead'

audit = sa.table(
    'audit_entries',
    sa.column('id', sa.Integer),
    sa.column('at', sa.DateTime(timezone=True)),
    sa.column('actor_id', sa.Integer),
    sa.column('actor_label', sa.String),
    sa.column('action', sa.String),
    sa.column('object_type', sa.String),
    sa.column('object_id', sa.String),
    sa.column('changes', sa.JSON),
    sa.column('remote_addr', sa.String),
    sa.column('prev_hash', sa.String),
    sa.column('entry_hash', sa.String),
    sa.column('hmac', sa.String),
)
attempts = sa.table(
    'break_glass_attempts',
    sa.column('id', sa.Integer),
    sa.column('user_id', sa.Integer),
    sa.column('reference', sa.Text),
    sa.column('reason', sa.Text),
    sa.column('at', sa.DateTime(timezone=True)),
    sa.column('ip', sa.String),
)


def _config(name):
    try:
        from flask import current_app

        return current_app.config.get(name)
    except RuntimeError:  # outside an application context
        return None


def _data_key():
    for item in (_config('DATA_ENCRYPTION_KEYS') or '').split(','):
        key_id, sep, text = item.strip().partition(':')
        if not sep:
            continue
        text = text.strip()
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                key = decode(text.encode('ascii') + b'=' * (-len(text) % 4))
            except (binascii.Error, ValueError):
                continue
            if len(key) == 32:
                return key_id.strip(), key
        return None  # the current key is the first one
    return None


def _encrypt(data_key, plaintext, context):
    key_id, key = data_key
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode('utf-8'), context.encode('utf-8'))
    return f'enc1:{key_id}:{base64.b64encode(nonce + sealed).decode("ascii")}'


def _utc(at):
    return (at if at.tzinfo else at.replace(tzinfo=datetime.timezone.utc)).astimezone(
        datetime.timezone.utc
    )


def _entry_hash(entry, prev_hash):
    """The hash of an entry, as app.audit.operations.canonical_bytes (seal version 1)."""
    document = {
        'v': SEAL_VERSION,
        'at': _utc(entry['at']).strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
        'actor_id': entry['actor_id'],
        'actor_label': entry['actor_label'],
        'action': entry['action'],
        'object_type': entry['object_type'],
        'object_id': entry['object_id'],
        'changes': entry['changes'] if entry['changes'] is not None else {},
        'remote_addr': entry['remote_addr'],
        'prev_hash': prev_hash,
    }
    canonical = json.dumps(
        document, sort_keys=True, separators=(',', ':'), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode('utf-8')).hexdigest()


def upgrade():
    op.create_table('break_glass_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_break_glass_attempts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_break_glass_attempts'))
    )
    with op.batch_alter_table('break_glass_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_break_glass_attempts_at', ['at'], unique=False)
        batch_op.create_index('ix_break_glass_attempts_user_at', ['user_id', 'at'], unique=False)

    _redact_reasons(op.get_bind())


def _redact_reasons(connection):
    postgres = connection.dialect.name == 'postgresql'
    if postgres:
        connection.execute(sa.text('SELECT pg_advisory_xact_lock(:key)'), {'key': CHAIN_LOCK_KEY})
    rows = connection.execute(
        sa.select(audit)
        .where(
            audit.c.action.in_(['break_glass.grant', 'break_glass.no_match']),
            audit.c.entry_hash.is_not(None),
        )
        .order_by(audit.c.id)
    ).mappings().all()
    todo = [dict(r) for r in rows if 'reason' in (r['changes'] or {})]
    if not todo:
        return
    data_key, seal_key = _data_key(), _config('AUDIT_HMAC_KEY')
    if data_key is None or not seal_key:
        raise RuntimeError(
            f'{len(todo)} audit entries hold break-the-glass reasons in clear: run '
            '`flask db upgrade` with DATA_ENCRYPTION_KEYS and AUDIT_HMAC_KEY set to redact them'
        )
    if postgres:
        connection.execute(sa.text('ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_update_delete'))
    # SQLite has no way to switch a trigger off: the UPDATE guard of migration 21bb479f935a is
    # dropped and created again, exactly as it was, in this same transaction
    sqlite_guard = None
    if connection.dialect.name == 'sqlite':
        sqlite_guard = connection.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_entries_no_update'")
        ).scalar()
        if sqlite_guard is not None:
            connection.execute(sa.text('DROP TRIGGER audit_entries_no_update'))
    redactions = []
    for entry in todo:
        changes = dict(entry['changes'])
        if entry['action'] == 'break_glass.no_match':
            reference = str(changes.get('reference') or entry['object_id'] or '-')
            attempt_id = connection.execute(
                sa.insert(attempts)
                .values(
                    user_id=entry['actor_id'],
                    reference=_encrypt(data_key, reference, 'break_glass_attempts.reference'),
                    reason=_encrypt(data_key, str(changes['reason']), 'break_glass_attempts.reason'),
                    at=_utc(entry['at']),
                    ip=entry['remote_addr'],
                )
                .returning(attempts.c.id)
            ).scalar_one()
            redacted = {
                'object_type': 'break_glass_attempt',
                'object_id': str(attempt_id),
                'changes': {'attempt': attempt_id, 'redacted': ['reason', 'reference']},
            }
        else:
            changes.pop('reason')
            changes['redacted'] = ['reason']
            redacted = {'changes': changes}
        connection.execute(sa.update(audit).where(audit.c.id == entry['id']).values(**redacted))
        now = {**entry, **redacted}
        redactions.append(
            {
                'entry': entry['id'],
                'sealed_hash': entry['entry_hash'],
                'redacted_hash': _entry_hash(now, entry['prev_hash']),
                'fields': sorted(set(entry['changes']) - set(now['changes'])) + (
                    ['object_id'] if now['object_id'] != entry['object_id'] else []
                ),
                'why': WHY,
            }
        )
    if postgres:
        connection.execute(sa.text('ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_update_delete'))
    if sqlite_guard is not None:
        connection.execute(sa.text(sqlite_guard))

    prev_hash = connection.execute(
        sa.select(audit.c.entry_hash)
        .where(audit.c.entry_hash.is_not(None))
        .order_by(audit.c.id.desc())
        .limit(1)
    ).scalar() or GENESIS_HASH
    for attestation in redactions:
        entry = {
            'at': datetime.datetime.now(datetime.timezone.utc),
            'actor_id': None,
            'actor_label': 'migration',
            'action': 'audit.redact',
            'object_type': 'audit_entry',
            'object_id': str(attestation['entry']),
            'changes': attestation,
            'remote_addr': None,
        }
        entry_hash = _entry_hash(entry, prev_hash)
        seal = hmac.new(seal_key.encode('utf-8'), entry_hash.encode('ascii'), hashlib.sha256)
        connection.execute(
            sa.insert(audit).values(
                **entry, prev_hash=prev_hash, entry_hash=entry_hash, hmac=seal.hexdigest()
            )
        )
        prev_hash = entry_hash


def downgrade():
    kept = op.get_bind().execute(sa.select(sa.func.count()).select_from(attempts)).scalar()
    if kept:
        raise RuntimeError(
            f'refusing to downgrade: break_glass_attempts holds {kept} requests whose reasons '
            'the release before kept in the audit log; restore the backup taken before the '
            'upgrade instead'
        )
    with op.batch_alter_table('break_glass_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_break_glass_attempts_user_at')
        batch_op.drop_index('ix_break_glass_attempts_at')

    op.drop_table('break_glass_attempts')
