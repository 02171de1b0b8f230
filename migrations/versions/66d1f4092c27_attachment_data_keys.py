"""Attachments encrypted on disk: each file's data key, wrapped by the column's encryption

Revision ID: 66d1f4092c27
Revises: 2d3e4f5a6b7c
Create Date: 2026-12-09 10:00:00

The column is NULL for files written before encryption; `flask attachments encrypt-existing`
seals them (the migration holds no key and touches no file).
"""
from alembic import op
import sqlalchemy as sa


revision = '66d1f4092c27'
down_revision = '2d3e4f5a6b7c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_key', sa.Text(), nullable=True))


def downgrade():
    # without the data keys the sealed files cannot be read: refuse while any is recorded
    bind = op.get_bind()
    sealed = bind.execute(
        sa.text("SELECT COUNT(*) FROM attachments WHERE data_key IS NOT NULL")
    ).scalar()
    if sealed:
        raise RuntimeError(
            f"{sealed} attachment files are encrypted with the data keys this downgrade would "
            "drop; restore the backup taken before the upgrade instead"
        )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('data_key')
