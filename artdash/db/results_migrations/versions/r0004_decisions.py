"""results: the decision service's log — decisions (with propensities, candidates, policy and
model version), their contexts, outcomes joined by event id, and trained policy versions.
New tables only; nothing existing changes.

Revision ID: r0004
Revises: r0003
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("event_id", sa.String(40), primary_key=True),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.String(100), nullable=False),
        sa.Column("title_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("propensity", sa.Float(), nullable=False),
        sa.Column("candidates", sa.Text(), nullable=False),
        sa.Column("policy", sa.String(40), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("context_hash", sa.String(16), nullable=False),
        sa.Column("country", sa.String(2), nullable=False, server_default=""),
        sa.Column("device", sa.String(10), nullable=False, server_default=""),
        sa.Column("shadow_policy", sa.String(40), nullable=True),
        sa.Column("shadow_variant_id", sa.Integer(), nullable=True),
        sa.Column("shadow_propensity", sa.Float(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_decisions_at_ms", "decisions", ["at_ms"])
    op.create_index("ix_decisions_import_id", "decisions", ["import_id"])
    op.create_table(
        "decision_contexts",
        sa.Column("context_hash", sa.String(16), primary_key=True),
        sa.Column("affinities", sa.Text(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False, server_default=""),
        sa.Column("device", sa.String(10), nullable=False, server_default=""),
    )
    op.create_table(
        "outcomes",
        sa.Column("event_id", sa.String(40), primary_key=True),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("played", sa.SmallInteger(), nullable=False),
        sa.Column("play_seconds", sa.Float(), nullable=False),
        sa.Column("late", sa.SmallInteger(), nullable=False, server_default="0"),
    )
    op.create_table(
        "policy_models",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("policy", sa.String(40), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_rows", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    for table in ("policy_models", "outcomes", "decision_contexts"):
        op.drop_table(table)
    op.drop_index("ix_decisions_import_id", "decisions")
    op.drop_index("ix_decisions_at_ms", "decisions")
    op.drop_table("decisions")
