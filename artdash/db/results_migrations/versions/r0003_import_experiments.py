"""results: each import lists the experiments its impressions belong to (a JSON list), so
reviews can tell simulated experiments from real traffic without scanning the impression log,
which may now live outside the database (Parquet files by day). Filled for every existing
import from its impressions; nothing else changes.

Revision ID: r0003
Revises: r0002
Create Date: 2026-12-01
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("results_imports", sa.Column("experiments", sa.Text(), nullable=True))
    conn = op.get_bind()
    found: dict[int, list[str]] = {}
    for import_id, experiment in conn.execute(sa.text(
            "SELECT import_id, experiment FROM impressions GROUP BY import_id, experiment "
            "ORDER BY import_id, experiment")):
        found.setdefault(int(import_id), []).append(experiment)
    for import_id, names in found.items():
        conn.execute(sa.text("UPDATE results_imports SET experiments = :e WHERE id = :i"),
                     {"e": json.dumps(names), "i": import_id})
    conn.execute(sa.text("UPDATE results_imports SET experiments = '[]' WHERE experiments IS NULL"))


def downgrade() -> None:
    with op.batch_alter_table("results_imports") as batch:
        batch.drop_column("experiments")
