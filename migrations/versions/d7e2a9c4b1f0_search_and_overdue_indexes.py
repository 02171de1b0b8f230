"""case search and the overdue filter at national scale: references found by their trigrams
(PostgreSQL only, with the pg_trgm extension) and the complaints still waiting for their first
response (a partial index of their open deadlines); the plans are in docs/scaling.md

Revision ID: d7e2a9c4b1f0
Revises: b7d2e9f4a1c3
Create Date: 2026-12-07 22:15:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d7e2a9c4b1f0"
down_revision = "b7d2e9f4a1c3"
branch_labels = None
depends_on = None

OPEN_FIRST_RESPONSE = (
    "track_id IS NULL AND completed_at IS NULL AND cancelled_at IS NULL AND code IN "
    "('first_response_tinggi', 'first_response_sedang', 'first_response_rendah')"
)


def upgrade():
    op.create_index(
        "ix_deadlines_first_response_open",
        "deadlines",
        ["case_id"],
        unique=False,
        postgresql_where=sa.text(OPEN_FIRST_RESPONSE),
        sqlite_where=sa.text(OPEN_FIRST_RESPONSE),
    )
    if op.get_bind().dialect.name == "postgresql":
        # a trusted extension: the owner of the database may create it
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_cases_reference_trgm",
            "cases",
            ["reference"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"reference": "gin_trgm_ops"},
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        # the extension stays: something else may have come to use it
        op.drop_index("ix_cases_reference_trgm", table_name="cases")
    op.drop_index("ix_deadlines_first_response_open", table_name="deadlines")
