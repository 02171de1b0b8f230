"""blind indexes under keys of their own (BLIND_INDEX_KEYS): each stored index carries the id of
the key that made it (``<key id>:<64 hex>``), so the columns grow from 64 to 105 characters

Revision ID: de212e7ae20c
Revises: 21bb479f935a
Create Date: 2026-12-09 09:00:00.000000

The indexes already stored (64 hex digits, keyed from SECRET_KEY) stay as they are: the
application still matches them, and ``flask keys reindex`` recomputes them with the first key of
BLIND_INDEX_KEYS. A migration holds no key, so it recomputes nothing itself.

Downgrade refuses (raises) while any stored index is longer than 64 characters — which every
index made with BLIND_INDEX_KEYS is: the release before cannot read them. Restore the backup
taken before the upgrade instead.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'de212e7ae20c'
down_revision = '21bb479f935a'
branch_labels = None
depends_on = None

OLD_LENGTH = 64
NEW_LENGTH = 105
COLUMNS = {
    'victims': ('name_index', 'nik_index'),
    'persons': ('name_dob_index', 'nik_index'),
}


def upgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in columns:
                batch_op.alter_column(
                    name,
                    existing_type=sa.String(length=OLD_LENGTH),
                    type_=sa.String(length=NEW_LENGTH),
                    existing_nullable=True,
                )


def downgrade():
    connection = op.get_bind()
    too_long = []
    for table, columns in COLUMNS.items():
        for name in columns:
            count = connection.execute(
                sa.text(f'SELECT COUNT(*) FROM "{table}" WHERE LENGTH("{name}") > :length'),
                {'length': OLD_LENGTH},
            ).scalar()
            if count:
                too_long.append(f'{table}.{name} ({count})')
    if too_long:
        raise RuntimeError(
            'refusing to downgrade: blind indexes made with BLIND_INDEX_KEYS do not fit the old '
            'columns in ' + ', '.join(too_long)
            + '; restore the backup taken before the upgrade instead'
        )
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in columns:
                batch_op.alter_column(
                    name,
                    existing_type=sa.String(length=NEW_LENGTH),
                    type_=sa.String(length=OLD_LENGTH),
                    existing_nullable=True,
                )
