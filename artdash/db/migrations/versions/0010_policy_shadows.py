"""policy_shadows: which policy the decision service runs in shadow mode, an append-only
history (started, stopped, by whom, why). New table only; nothing existing changes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'policy_shadows',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('policy', sa.String(length=40), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('by', sa.String(length=120), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('policy_shadows')
