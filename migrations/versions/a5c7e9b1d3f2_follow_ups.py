"""follow-ups (tindak lanjut) for "Tugas saya": a user's date on a case or one of its service
tracks, with an encrypted short note, done or cancelled, reminded once; indexed for the user's
open ones by day and for the reminder job (docs/scaling.md, "Tugas saya")

Revision ID: a5c7e9b1d3f2
Revises: e5a7c3d9f2b8
Create Date: 2026-12-08 01:20:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a5c7e9b1d3f2"
down_revision = "e5a7c3d9f2b8"
branch_labels = None
depends_on = None

OPEN = "done_at IS NULL AND cancelled_at IS NULL"


def upgrade():
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "done_at IS NULL OR cancelled_at IS NULL", name=op.f("ck_follow_ups_done_or_cancelled")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_follow_ups_case_id_cases"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["service_tracks.id"],
            name=op.f("fk_follow_ups_track_id_service_tracks"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_follow_ups_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_ups_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_track_id"), ["track_id"], unique=False)
        batch_op.create_index(
            "ix_follow_ups_user_open_due",
            ["user_id", "due_on"],
            unique=False,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )
        batch_op.create_index(
            "ix_follow_ups_to_remind",
            ["due_on"],
            unique=False,
            postgresql_where=sa.text(f"{OPEN} AND reminded_at IS NULL"),
            sqlite_where=sa.text(f"{OPEN} AND reminded_at IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index("ix_follow_ups_to_remind")
        batch_op.drop_index("ix_follow_ups_user_open_due")
        batch_op.drop_index(batch_op.f("ix_follow_ups_track_id"))
        batch_op.drop_index(batch_op.f("ix_follow_ups_case_id"))
    op.drop_table("follow_ups")
