"""results: the decision service's shared secret (event ids are signed with it, so any worker
or replica checks an outcome's id without a lookup) and its shared counters (outcomes taken
from the workers' journals: the learner retrains on them, whichever worker took them). New
tables; nothing else changes.

Revision ID: r0010
Revises: r0009
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "r0010"
down_revision = "r0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


    op.create_table(
        "service_counters",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("service_counters")
    op.drop_table("service_secrets")
