"""audit chain: each audit entry sealed with the previous entry's hash, its own hash and an HMAC;
on PostgreSQL triggers make audit_entries append-only (UPDATE, DELETE, TRUNCATE refused, for the
table's owner too)

Entries written before this migration keep NULL seals; `flask audit verify` starts the chain at
the first sealed entry.

Revision ID: 07104b5c91ec
Revises: de8f45a7a08d
Create Date: 2026-11-24 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '07104b5c91ec'
down_revision = 'de8f45a7a08d'
branch_labels = None
depends_on = None


APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_entries_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hmac', sa.String(length=64), nullable=True))

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_entries_no_update_delete"
            " BEFORE UPDATE OR DELETE ON audit_entries"
            " FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_no_truncate"
            " BEFORE TRUNCATE ON audit_entries"
            " FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()"
        )
        # Nobody but the owner may change the table; the application's own role is given
        # SELECT and INSERT only (docs/security.md, "Audit log").
        op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries FROM PUBLIC")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update_delete ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")

    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('hmac')
        batch_op.drop_column('entry_hash')
        batch_op.drop_column('prev_hash')
