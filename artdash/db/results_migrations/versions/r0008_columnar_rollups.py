"""results: the daily rollups become columnar — each grain's rows move out of its table
(rollup_variants, rollup_cells, rollup_segments) into one Parquet generation in
``rollup_generations``, read by DuckDB; the three tables are then dropped. No data is lost:
every row and every sum is carried over (and back, on downgrade).

Revision ID: r0008
Revises: r0007
Create Date: 2026-12-03
"""
import secrets

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from alembic import op

revision = "r0008"
down_revision = "r0007"
branch_labels = None
depends_on = None

SUMS = ("impressions", "plays", "quality_plays", "play_seconds")
TEXT = ("experiment", "cell", "segment_kind", "segment")
# The columns of each grain, in the order the columnar rollups keep them.
GRAINS = {
    "variants": ("rollup_variants", ("day", "variant_id", "experiment", "title_id")),
    "cells": ("rollup_cells", ("day", "experiment", "cell")),
    "segments": ("rollup_segments", ("day", "variant_id", "experiment", "segment_kind", "segment", "title_id")),
}
BATCH = 200_000


def _type(name: str) -> pa.DataType:
    if name in TEXT:
        return pa.string()
    if name == "play_seconds":
        return pa.float64()
    return pa.int64() if name in SUMS else pa.int32()


def _sums() -> list[sa.Column]:
    return [sa.Column("impressions", sa.BigInteger(), nullable=False),
            sa.Column("plays", sa.BigInteger(), nullable=False),
            sa.Column("quality_plays", sa.BigInteger(), nullable=False),
            sa.Column("play_seconds", sa.Float(), nullable=False)]


def _generations_table() -> sa.TableClause:
    return sa.table("rollup_generations", sa.column("id", sa.Integer), sa.column("grain", sa.String),
                    sa.column("token", sa.String), sa.column("n_rows", sa.BigInteger),
                    sa.column("data", sa.LargeBinary))


def upgrade() -> None:
    op.create_table(
        "rollup_generations",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("grain", sa.String(length=10), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("n_rows", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    conn = op.get_bind()
    generations = _generations_table()
    next_id = 1
    for grain, (table, keys) in GRAINS.items():
        columns = (*keys, *SUMS)
        # Sorted by title, in small row groups: a one-title question reads one or two of them.
        order = ", ".join(["title_id", "day"] if "title_id" in keys else [k for k in keys])
        schema = pa.schema([(c, _type(c)) for c in columns])
        sink = pa.BufferOutputStream()
        n = 0
        with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
            result = conn.execute(sa.text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"))
            while part := result.fetchmany(BATCH):
                values = list(zip(*part))
                writer.write_table(pa.table([pa.array([(v if v is not None else ("" if c in TEXT else 0))
                                                       for v in values[i]]).cast(_type(c))
                                             for i, c in enumerate(columns)], schema=schema),
                                   row_group_size=16_384)
                n += len(part)
        if n:
            conn.execute(sa.insert(generations).values(id=next_id, grain=grain, token=secrets.token_hex(16),
                                                       n_rows=n, data=sink.getvalue().to_pybytes()))
            next_id += 1
    op.drop_index("ix_rollup_variants_title_day", table_name="rollup_variants")
    op.drop_table("rollup_variants")
    op.drop_table("rollup_cells")
    op.drop_index("ix_rollup_segments_title_kind_day", table_name="rollup_segments")
    op.drop_table("rollup_segments")


def downgrade() -> None:
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
    conn = op.get_bind()
    import pandas as pd

    for grain, (table, keys) in GRAINS.items():
        parts = [pq.read_table(pa.BufferReader(bytes(data))).to_pandas()
                 for (data,) in conn.execute(sa.text("SELECT data FROM rollup_generations WHERE grain = :g "
                                                     "ORDER BY id"), {"g": grain})]
        if not parts:
            continue
        frame = pd.concat(parts, ignore_index=True)
        group = [k for k in keys if k != "title_id"]
        agg = {c: "sum" for c in SUMS} | ({"title_id": "min"} if "title_id" in keys else {})
        frame = frame.groupby(group, as_index=False).agg(agg)
        frame = frame[frame["impressions"] > 0]
        columns = [*keys, *SUMS]
        target = sa.table(table, *(sa.column(c) for c in columns))
        records = frame[columns].to_dict(orient="records")
        for start in range(0, len(records), BATCH):
            conn.execute(sa.insert(target), records[start:start + BATCH])
    op.drop_table("rollup_generations")
