"""victims findable by any word of their name, in any usual spelling, without the name: keyed
hashes of the words and of their phonetic keys (app.core.crypto.name_keys), one row each. The
rows of victims registered before are written by `flask keys reindex` (it needs the blind-index
key, which a migration does not hold); until then those victims are found by their full name,
as before. The plan of the search is in docs/scaling.md.

Revision ID: e5a7c3d9f2b8
Revises: d7e2a9c4b1f0
Create Date: 2026-12-08 01:10:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e5a7c3d9f2b8"
down_revision = "d7e2a9c4b1f0"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "victim_name_keys",
        sa.Column("victim_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_victim_name_keys_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["victim_id"],
            ["victims.id"],
            name=op.f("fk_victim_name_keys_victim_id_victims"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("victim_id", "digest", name=op.f("pk_victim_name_keys")),
    )
    # covering: a search reads (victim, case) of a word's keys from the index alone
    op.create_index(
        "ix_victim_name_keys_digest_case_victim",
        "victim_name_keys",
        ["digest", "case_id", "victim_id"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_victim_name_keys_digest_case_victim", table_name="victim_name_keys")
    op.drop_table("victim_name_keys")
