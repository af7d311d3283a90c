"""results: sources — impression logs read where they live (a table or view elsewhere, its
columns mapped), and what each last added to the rollups. New tables only.

Revision ID: r0007
Revises: r0006
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "r0007"
down_revision = "r0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "results_sources",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("table_name", sa.String(200), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("impressions", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_table(
        "source_contributions",
        sa.Column("source", sa.String(80), primary_key=True),
        sa.Column("grain", sa.String(10), primary_key=True),
        sa.Column("rows", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("source_contributions")
    op.drop_table("results_sources")
