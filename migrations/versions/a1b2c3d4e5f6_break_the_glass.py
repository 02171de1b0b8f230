"""break-the-glass: read-only, three-hour grants to open a case outside one's scope, with the
written reason and the address it was asked from

Revision ID: a1b2c3d4e5f6
Revises: 5c1f0e7a9d42
Create Date: 2026-11-25 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1b2c3d4e5f6'
down_revision = '5c1f0e7a9d42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('break_glass_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_break_glass_grants_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_break_glass_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_break_glass_grants'))
    )
    with op.batch_alter_table('break_glass_grants', schema=None) as batch_op:
        batch_op.create_index('ix_break_glass_grants_case', ['case_id'], unique=False)
        batch_op.create_index('ix_break_glass_grants_granted_at', ['granted_at'], unique=False)
        batch_op.create_index('ix_break_glass_grants_user_expires', ['user_id', 'expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('break_glass_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_break_glass_grants_user_expires')
        batch_op.drop_index('ix_break_glass_grants_granted_at')
        batch_op.drop_index('ix_break_glass_grants_case')

    op.drop_table('break_glass_grants')
