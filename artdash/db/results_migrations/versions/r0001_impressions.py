"""results: impression log, daily rollups, import batches

Revision ID: r0001
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "results_imports",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("n_rows", sa.BigInteger(), nullable=False),
        sa.Column("n_already_present", sa.BigInteger(), nullable=False),
        sa.Column("n_skipped", sa.BigInteger(), nullable=False),
        sa.Column("quality_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "impressions",
        sa.Column("event_key", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False,
                  nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=100), nullable=False),
        sa.Column("title_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(length=40), nullable=False),
        sa.Column("experiment", sa.String(length=80), server_default="", nullable=False),
        sa.Column("cell", sa.String(length=40), server_default="", nullable=False),
        sa.Column("propensity", sa.Float(), nullable=False),
        sa.Column("played", sa.SmallInteger(), nullable=False),
        sa.Column("play_seconds", sa.Float(), nullable=False),
        sa.Column("country", sa.String(length=2), server_default="", nullable=False),
        sa.Column("device", sa.String(length=10), server_default="", nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("event_key"),
    )
    op.create_index("ix_impressions_import_id", "impressions", ["import_id"])
    op.create_table(
        "daily_rollups",
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("variant_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("experiment", sa.String(length=80), nullable=False),
        sa.Column("cell", sa.String(length=40), nullable=False),
        sa.Column("segment_kind", sa.String(length=10), nullable=False),
        sa.Column("segment", sa.String(length=40), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("plays", sa.BigInteger(), nullable=False),
        sa.Column("quality_plays", sa.BigInteger(), nullable=False),
        sa.Column("play_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day", "title_id", "variant_id", "experiment", "cell", "segment_kind", "segment"),
    )
    op.create_index("ix_daily_rollups_title_day", "daily_rollups", ["title_id", "day"])
    op.create_index("ix_daily_rollups_kind_day", "daily_rollups",
                    ["segment_kind", "day", "variant_id", "title_id", "impressions", "plays", "quality_plays",
                     "play_seconds"])


def downgrade() -> None:
    op.drop_index("ix_daily_rollups_kind_day", table_name="daily_rollups")
    op.drop_index("ix_daily_rollups_title_day", table_name="daily_rollups")
    op.drop_table("daily_rollups")
    op.drop_index("ix_impressions_import_id", table_name="impressions")
    op.drop_table("impressions")
    op.drop_table("results_imports")
