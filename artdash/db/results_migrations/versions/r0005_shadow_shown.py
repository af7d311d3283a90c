"""results: decisions also keep the shadow policy's probability of the variant that was shown
(what an offline estimate of the shadow needs: its weight is that over the served propensity),
and outcomes are indexed by arrival time (training adds only what arrived since the last
version). One nullable column and one index; every existing row keeps its values.

Revision ID: r0005
Revises: r0004
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "r0005"
down_revision = "r0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shadow_p_shown", sa.Float(), nullable=True))
    op.create_index("ix_outcomes_at_ms", "outcomes", ["at_ms"])


def downgrade() -> None:
    op.drop_index("ix_outcomes_at_ms", table_name="outcomes")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("shadow_p_shown")
