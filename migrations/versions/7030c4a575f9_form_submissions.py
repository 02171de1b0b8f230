"""form submissions: the one-time key of each create form a user sent, and where its first
submission led, so that a form sent twice creates its record once

Revision ID: 7030c4a575f9
Revises: 117a317230d7
Create Date: 2026-12-01 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7030c4a575f9'
down_revision = '117a317230d7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('endpoint', sa.String(length=100), nullable=False),
    sa.Column('result_url', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_form_submissions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_submissions')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_form_submissions_user_id_key'))
    )


def downgrade():
    op.drop_table('form_submissions')
