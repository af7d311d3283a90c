"""service_holdouts: the decision service's holdout (a share of members served a fixed
comparison policy), as an append-only history. No row: no holdout, as before.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'service_holdouts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('share', sa.Float(), nullable=False),
        sa.Column('policy', sa.String(length=40), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('by', sa.String(length=80), nullable=False),
        sa.CheckConstraint('share >= 0 AND share <= 0.5', name='ck_service_holdouts_share'),
        sa.PrimaryKeyConstraint('id'))


def downgrade() -> None:
    op.drop_table('service_holdouts')
