"""results: trained policy versions become artifacts — what each was trained on (source: the
live service, the lab or an imported log; the catalog's fingerprint; the time span of its
data), by whom, and from when members are served it (a retrain reaches a member at their next
sticky window). Nullable or defaulted columns only; every stored version keeps its state, and
reads as trained by the live service, in effect from when it was trained.

Revision ID: r0009
Revises: r0008
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "r0009"
down_revision = "r0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policy_models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(20), nullable=False, server_default="live"))
        batch_op.add_column(sa.Column("trained_by", sa.String(120), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("catalog_fingerprint", sa.String(32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("data_from", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("data_to", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("policy_models", schema=None) as batch_op:
        for column in ("effective_at", "data_to", "data_from", "catalog_fingerprint", "trained_by", "source"):
            batch_op.drop_column(column)
