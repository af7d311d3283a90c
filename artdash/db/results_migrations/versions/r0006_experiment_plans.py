"""results: each experiment's plan — the planned share of traffic per cell (for the
sample-ratio check) and its planned end. New table only; nothing existing changes.

Revision ID: r0006
Revises: r0005
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "r0006"
down_revision = "r0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiment_plans",
        sa.Column("experiment", sa.String(80), primary_key=True),
        sa.Column("weights", sa.Text(), nullable=False),
        sa.Column("planned_end_day", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("experiment_plans")
