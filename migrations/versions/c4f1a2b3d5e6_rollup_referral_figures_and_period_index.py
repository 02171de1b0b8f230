"""rollup at national scale: the referral figures of each receiving agency stored at rollup
(the dashboard reads them), indicator values found by period (the rollup reads a period's
stored values of every region) and referrals by the time they were sent (the rollup reads a
period's referrals); the plans are in docs/scaling.md

Revision ID: c4f1a2b3d5e6
Revises: c4a5e1d0b7f2
Create Date: 2026-12-07 20:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c4f1a2b3d5e6"
down_revision = "c4a5e1d0b7f2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "indicator_referral_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("declined", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("median_hours", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_indicator_referral_figures_agency_id_agencies"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_referral_figures")),
        sa.UniqueConstraint(
            "period", "agency_id", name=op.f("uq_indicator_referral_figures_period_agency_id")
        ),
    )
    with op.batch_alter_table("indicator_referral_figures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicator_referral_figures_agency_id"), ["agency_id"], unique=False
        )
    op.create_index("ix_indicator_values_period", "indicator_values", ["period"], unique=False)
    op.create_index("ix_referrals_sent_at", "referrals", ["sent_at"], unique=False)


def downgrade():
    op.drop_index("ix_referrals_sent_at", table_name="referrals")
    op.drop_index("ix_indicator_values_period", table_name="indicator_values")
    with op.batch_alter_table("indicator_referral_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_referral_figures_agency_id"))
    op.drop_table("indicator_referral_figures")
