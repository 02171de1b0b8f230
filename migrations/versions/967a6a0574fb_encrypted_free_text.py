"""encryption at rest of case free text: referral messages, reasons and outcomes, coordination
notes, workflow reasons and transition data, closing and ending reasons, transfer reasons and
data-subject requests become TEXT holding AES-256-GCM ciphertext

Revision ID: 967a6a0574fb
Revises: f6e5d4c3b2a1
Create Date: 2026-11-23 08:00:00.000000

Like 5e1c0a7d9b21, the values are encrypted by the application (on each write, and for existing
rows by ``flask keys rotate``), not by this migration. Until the rotation, existing plaintext is
read as it is; ``case_transitions.data`` keeps its JSON text, which the application's
EncryptedJSON type reads. ``break_glass_grants.reason`` was TEXT already: only its type in the
application changes.

Downgrade refuses (raises) when a value no longer fits its old column, which every encrypted
value of a 500-character column may not, and when ``case_transitions.data`` holds ciphertext
(it would not be JSON); restore the backup taken before the upgrade instead.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '967a6a0574fb'
down_revision = 'f6e5d4c3b2a1'
branch_labels = None
depends_on = None


# table -> [(column, old length, nullable)]
COLUMNS = {
    'cases': [('closed_reason', 500, True)],
    'service_tracks': [('end_reason', 500, True)],
    'case_transitions': [('reason', 1000, True)],
    'case_transfers': [('reason', 1000, False), ('decision_reason', 1000, True)],
    'referrals': [
        ('message', 2000, True),
        ('override_reason', 1000, True),
        ('decline_reason', 1000, True),
        ('outcome', 1000, True),
        ('withdraw_reason', 1000, True),
    ],
    'referral_events': [('text', 2000, True)],
    'coordination_notes': [('body', 2000, False)],
    'data_subject_requests': [('requester', 500, False), ('reason', 1000, True)],
    'victim_restrictions': [('lift_reason', 1000, True)],
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
    with op.batch_alter_table('case_transitions', schema=None) as batch_op:
        batch_op.alter_column(
            'data',
            existing_type=sa.JSON(),
            type_=sa.Text(),
            existing_nullable=False,
            postgresql_using='data::text',
        )


def downgrade():
    connection = op.get_bind()
    refused = []
    for table, columns in COLUMNS.items():
        for name, length, _nullable in columns:
            count = connection.execute(
                sa.text(f'SELECT COUNT(*) FROM "{table}" WHERE LENGTH("{name}") > :length'),
                {'length': length},
            ).scalar()
            if count:
                refused.append(f'{table}.{name} ({count})')
    count = connection.execute(
        sa.text("SELECT COUNT(*) FROM case_transitions WHERE data LIKE 'enc1:%'")
    ).scalar()
    if count:
        refused.append(f'case_transitions.data ({count})')
    if refused:
        raise RuntimeError(
            'refusing to downgrade: encrypted values do not fit the old columns in '
            + ', '.join(refused)
            + '; restore the backup taken before the upgrade instead'
        )
    with op.batch_alter_table('case_transitions', schema=None) as batch_op:
        batch_op.alter_column(
            'data',
            existing_type=sa.Text(),
            type_=sa.JSON(),
            existing_nullable=False,
            postgresql_using='data::json',
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
