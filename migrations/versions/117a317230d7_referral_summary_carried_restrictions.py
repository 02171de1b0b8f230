"""A referral's own incident summary (written by the sender, encrypted), and a victim
restriction carried over to the new case of a transfer

Revision ID: 117a317230d7
Revises: eb63b99cce81
Create Date: 2026-12-10 09:00:00

Existing referrals get no summary: nothing is copied from the case's chronology (the whole
confidential narrative, often about other people too). Their receivers read "no summary was
written" where the chronology used to be.
"""
from alembic import op
import sqlalchemy as sa


revision = '117a317230d7'
down_revision = 'eb63b99cce81'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        # ciphertext (EncryptedText): "enc1:<key id>:<base64>"
        batch_op.add_column(sa.Column('incident_summary', sa.Text(), nullable=True))
    with op.batch_alter_table('victim_restrictions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried_from_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_victim_restrictions_carried_from_id_victim_restrictions'),
            'victim_restrictions', ['carried_from_id'], ['id'], ondelete='RESTRICT',
        )


def downgrade():
    with op.batch_alter_table('victim_restrictions', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_victim_restrictions_carried_from_id_victim_restrictions'),
            type_='foreignkey',
        )
        batch_op.drop_column('carried_from_id')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('incident_summary')
