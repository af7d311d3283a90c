"""results: an experiment's plan may declare its success metric ("quality_plays" or "plays");
empty means the readout uses what the log supports. A new nullable column: existing plans keep
their weights and end, and read as before.

Revision ID: r0011
Revises: r0010
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "r0011"
down_revision = "r0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experiment_plans") as batch:
        batch.add_column(sa.Column("metric", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("experiment_plans") as batch:
        batch.drop_column("metric")
