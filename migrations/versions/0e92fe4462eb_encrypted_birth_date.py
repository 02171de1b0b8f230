"""victims' birth dates are encrypted: victims.birth_date becomes TEXT holding AES-256-GCM
ciphertext (``enc1:<key id>:<base64>`` of the ISO date), and the existing dates are encrypted here

Revision ID: 0e92fe4462eb
Revises: de212e7ae20c
Create Date: 2026-12-09 10:00:00.000000

With sex and domicile, an exact birth date made nearly every victim of a database dump unique.
Statistics use the age at the incident, which stays in clear (and the child flag).

The dates are encrypted with the current (first) key of DATA_ENCRYPTION_KEYS of the application
running ``flask db upgrade``, in the format of the application's EncryptedDate type; the
associated data is ``victims.birth_date``. Run without that setting (bare Alembic), the dates
stay as ISO text, which the application reads as legacy plaintext until ``flask keys rotate``
encrypts it.

Downgrade decrypts the dates with the keys of DATA_ENCRYPTION_KEYS and turns the column back into
a DATE; it refuses (raises) when a stored date cannot be decrypted with them.
"""
import base64
import binascii
import datetime
import secrets

from alembic import op
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


# revision identifiers, used by Alembic.
revision = '0e92fe4462eb'
down_revision = 'de212e7ae20c'
branch_labels = None
depends_on = None

CONTEXT = b'victims.birth_date'
PREFIX = 'enc1'
BATCH = 1000


def _keys():
    """The configured data keys as [(id, key)], current first; [] without an application."""
    try:
        from flask import current_app

        raw = current_app.config.get('DATA_ENCRYPTION_KEYS')
    except RuntimeError:  # outside an application context
        raw = None
    keys = []
    for item in (raw or '').split(','):
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
                keys.append((key_id.strip(), key))
                break
    return keys


def _encrypt(key_id, key, plaintext):
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode('utf-8'), CONTEXT)
    return f'{PREFIX}:{key_id}:{base64.b64encode(nonce + sealed).decode("ascii")}'


def _decrypt(keys, stored):
    if not stored.startswith(PREFIX + ':'):
        return stored
    _prefix, key_id, payload = stored.split(':', 2)
    for candidate, key in keys:
        if candidate == key_id:
            blob = base64.b64decode(payload)
            try:
                return AESGCM(key).decrypt(blob[:12], blob[12:], CONTEXT).decode('utf-8')
            except InvalidTag:
                break
    raise RuntimeError(
        f'refusing to downgrade: a birth date under key {key_id!r} does not decrypt with the '
        'keys of DATA_ENCRYPTION_KEYS'
    )


def upgrade():
    with op.batch_alter_table('victims', schema=None) as batch_op:
        batch_op.alter_column(
            'birth_date',
            existing_type=sa.Date(),
            type_=sa.Text(),
            existing_nullable=True,
            postgresql_using='birth_date::text',
        )
    keys = _keys()
    if not keys:
        print('victims.birth_date: no DATA_ENCRYPTION_KEYS here; run `flask keys rotate` to '
              'encrypt the birth dates')
        return
    key_id, key = keys[0]
    connection = op.get_bind()
    victims = sa.table('victims', sa.column('id', sa.Integer), sa.column('birth_date', sa.Text))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(victims.c.id, victims.c.birth_date)
            .where(
                victims.c.id > last,
                victims.c.birth_date.is_not(None),
                victims.c.birth_date.not_like(PREFIX + ':%'),
            )
            .order_by(victims.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row_id, born in rows:
            connection.execute(
                sa.update(victims)
                .where(victims.c.id == row_id)
                .values(birth_date=_encrypt(key_id, key, str(born).strip()[:10]))
            )
        last = rows[-1][0]


def downgrade():
    connection = op.get_bind()
    victims = sa.table('victims', sa.column('id', sa.Integer), sa.column('birth_date', sa.Text))
    stored = connection.execute(
        sa.select(victims.c.id, victims.c.birth_date).where(victims.c.birth_date.is_not(None))
    ).all()
    keys = _keys() if any(value.startswith(PREFIX + ':') for _id, value in stored) else []
    dates = {
        row_id: datetime.date.fromisoformat(_decrypt(keys, value).strip()[:10])
        for row_id, value in stored
    }
    # emptied first and written back as dates: SQLite's table copy would CAST the ISO text to
    # a number (1994) on the way to a DATE column
    connection.execute(sa.update(victims).values(birth_date=None))
    with op.batch_alter_table('victims', schema=None) as batch_op:
        batch_op.alter_column(
            'birth_date',
            existing_type=sa.Text(),
            type_=sa.Date(),
            existing_nullable=True,
            postgresql_using='birth_date::date',
        )
    dated = sa.table('victims', sa.column('id', sa.Integer), sa.column('birth_date', sa.Date))
    for row_id, day in dates.items():
        connection.execute(sa.update(dated).where(dated.c.id == row_id).values(birth_date=day))
