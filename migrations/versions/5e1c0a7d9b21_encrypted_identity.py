"""encryption at rest: identifying fields become TEXT holding AES-256-GCM ciphertext
(``enc1:<key id>:<base64>``), written by the application's EncryptedText type

Revision ID: 5e1c0a7d9b21
Revises: 07104b5c91ec
Create Date: 2026-11-23 06:00:00.000000

The values themselves are encrypted by the application (on each write, and for existing rows by
``flask keys rotate``), not by this migration: a migration imports no application code and
holds no key. Existing plaintext keeps being read as it is until the rotation.

Downgrade alters the columns back to their old lengths, and refuses (raises) when a stored value
is longer than the old length — which every encrypted value of a short column is. There is no
way back to plaintext columns in a populated database without decrypting first; restore the
backup taken before the upgrade instead.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1c0a7d9b21'
down_revision = '07104b5c91ec'
branch_labels = None
depends_on = None


# table -> [(column, old length, nullable)]; cases.kronologi and case_notes.body were TEXT already
COLUMNS = {
    'cases': [('reporter_name', 200, True), ('reporter_phone', 40, True)],
    'victims': [
        ('name', 200, True),
        ('nik', 16, True),
        ('disability_kind', 200, True),
        ('address', 500, True),
        ('phone', 40, True),
        ('tppo_recruiter', 200, True),
        ('tppo_documents', 500, True),
    ],
    'perpetrators': [('name', 200, True), ('notes', 500, True)],
    'guardians': [('name', 200, False), ('phone', 40, True)],
    'witnesses': [('name', 200, False), ('phone', 40, True), ('notes', 500, True)],
    'consent_entries': [('given_by_name', 200, True), ('note', 500, True)],
    'attachments': [('original_name', 200, False), ('description', 500, True)],
    # the TOTP secret of the second factor (base32)
    'users': [('totp_secret', 64, True)],
}


def upgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, length, nullable in columns:
                batch_op.alter_column(
                    name,
                    existing_type=sa.String(length=length),
                    type_=sa.Text(),
                    existing_nullable=nullable,
                )


def downgrade():
    connection = op.get_bind()
    too_long = []
    for table, columns in COLUMNS.items():
        for name, length, _nullable in columns:
            count = connection.execute(
                sa.text(f'SELECT COUNT(*) FROM "{table}" WHERE LENGTH("{name}") > :length'),
                {'length': length},
            ).scalar()
            if count:
                too_long.append(f'{table}.{name} ({count})')
    if too_long:
        raise RuntimeError(
            'refusing to downgrade: encrypted values do not fit the old column lengths in '
            + ', '.join(too_long)
            + '; restore the backup taken before the upgrade instead'
        )
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, length, nullable in columns:
                batch_op.alter_column(
                    name,
                    existing_type=sa.Text(),
                    type_=sa.String(length=length),
                    existing_nullable=nullable,
                )
