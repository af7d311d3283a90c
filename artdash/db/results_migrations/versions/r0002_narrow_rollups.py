"""results: one narrow rollup table per grain (variants, cells, segments), filled
from the old combined rollups, which are then dropped; the impression log gets a row id in
import order (appends instead of inserts at hashed positions) with the event key as a unique
index. No data is lost: every row and every sum is carried over.

Revision ID: r0002
Revises: r0001
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

SUMS = "impressions, plays, quality_plays, play_seconds"
SUMMED = "sum(impressions), sum(plays), sum(quality_plays), sum(play_seconds)"


def _sums() -> list[sa.Column]:
    return [sa.Column("impressions", sa.BigInteger(), nullable=False),
            sa.Column("plays", sa.BigInteger(), nullable=False),
            sa.Column("quality_plays", sa.BigInteger(), nullable=False),
            sa.Column("play_seconds", sa.Float(), nullable=False)]


IMPRESSION_COLUMNS = ("event_key, event_id, ts, day, member_id, title_id, variant_id, policy, experiment, cell, "
                      "propensity, played, play_seconds, country, device, import_id")


def _impressions_table(name: str, with_id: bool) -> None:
    key_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    columns = [sa.Column("id", key_type, autoincrement=False, nullable=False)] if with_id else []
    columns.append(sa.Column("event_key", sa.BigInteger() if with_id else key_type, autoincrement=False,
                             nullable=False))
    op.create_table(
        name, *columns,
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
        sa.PrimaryKeyConstraint("id" if with_id else "event_key"),
    )


def upgrade() -> None:
    # The log: copy into the new shape (ids in import order), then swap the tables.
    _impressions_table("impressions_v2", with_id=True)
    op.execute(f"INSERT INTO impressions_v2 (id, {IMPRESSION_COLUMNS}) "
               f"SELECT row_number() OVER (ORDER BY import_id, event_key), {IMPRESSION_COLUMNS} FROM impressions")
    op.drop_index("ix_impressions_import_id", table_name="impressions")
    op.drop_table("impressions")
    op.rename_table("impressions_v2", "impressions")
    op.create_index("ux_impressions_event_key", "impressions", ["event_key"], unique=True)
    op.create_index("ix_impressions_import_id", "impressions", ["import_id"])
    op.create_table(
        "rollup_variants",
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("variant_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("experiment", sa.String(length=80), nullable=False),
        sa.Column("title_id", sa.Integer(), nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint("day", "variant_id", "experiment"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_rollup_variants_title_day", "rollup_variants", ["title_id", "day"])
    op.create_table(
        "rollup_cells",
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("experiment", sa.String(length=80), nullable=False),
        sa.Column("cell", sa.String(length=40), nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint("day", "experiment", "cell"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rollup_segments",
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("variant_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("experiment", sa.String(length=80), nullable=False),
        sa.Column("segment_kind", sa.String(length=10), nullable=False),
        sa.Column("segment", sa.String(length=40), nullable=False),
        sa.Column("title_id", sa.Integer(), nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint("day", "variant_id", "experiment", "segment_kind", "segment"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_rollup_segments_title_kind_day", "rollup_segments", ["title_id", "segment_kind", "day"])
    op.execute(f"INSERT INTO rollup_variants (day, variant_id, experiment, title_id, {SUMS}) "
               f"SELECT day, variant_id, experiment, min(title_id), {SUMMED} FROM daily_rollups "
               "WHERE segment_kind = 'all' GROUP BY day, variant_id, experiment")
    op.execute(f"INSERT INTO rollup_cells (day, experiment, cell, {SUMS}) "
               f"SELECT day, experiment, cell, {SUMMED} FROM daily_rollups "
               "WHERE segment_kind = 'all' GROUP BY day, experiment, cell")
    op.execute(f"INSERT INTO rollup_segments (day, variant_id, experiment, segment_kind, segment, title_id, {SUMS}) "
               f"SELECT day, variant_id, experiment, segment_kind, segment, min(title_id), {SUMMED} "
               "FROM daily_rollups WHERE segment_kind <> 'all' "
               "GROUP BY day, variant_id, experiment, segment_kind, segment")
    op.drop_index("ix_daily_rollups_kind_day", table_name="daily_rollups")
    op.drop_index("ix_daily_rollups_title_day", table_name="daily_rollups")
    op.drop_table("daily_rollups")


def downgrade() -> None:
    _impressions_table("impressions_v1", with_id=False)
    op.execute(f"INSERT INTO impressions_v1 ({IMPRESSION_COLUMNS}) SELECT {IMPRESSION_COLUMNS} FROM impressions")
    op.drop_index("ix_impressions_import_id", table_name="impressions")
    op.drop_index("ux_impressions_event_key", table_name="impressions")
    op.drop_table("impressions")
    op.rename_table("impressions_v1", "impressions")
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
        *_sums(),
        sa.PrimaryKeyConstraint("day", "title_id", "variant_id", "experiment", "cell", "segment_kind", "segment"),
    )
    op.create_index("ix_daily_rollups_title_day", "daily_rollups", ["title_id", "day"])
    op.create_index("ix_daily_rollups_kind_day", "daily_rollups",
                    ["segment_kind", "day", "variant_id", "title_id", "impressions", "plays", "quality_plays",
                     "play_seconds"])
    # The old rollups were kept per cell; only the cell totals per day keep the cell now, so
    # variant and segment rows come back under the empty cell (every total is unchanged; the
    # sample-ratio check of a downgraded database starts again from its next import).
    op.execute(f"INSERT INTO daily_rollups (day, title_id, variant_id, experiment, cell, segment_kind, segment, "
               f"{SUMS}) SELECT day, title_id, variant_id, experiment, '', 'all', '', {SUMS} FROM rollup_variants")
    op.execute(f"INSERT INTO daily_rollups (day, title_id, variant_id, experiment, cell, segment_kind, segment, "
               f"{SUMS}) SELECT day, title_id, variant_id, experiment, '', segment_kind, segment, {SUMS} "
               "FROM rollup_segments")
    op.drop_index("ix_rollup_segments_title_kind_day", table_name="rollup_segments")
    op.drop_table("rollup_segments")
    op.drop_table("rollup_cells")
    op.drop_index("ix_rollup_variants_title_day", table_name="rollup_variants")
    op.drop_table("rollup_variants")
