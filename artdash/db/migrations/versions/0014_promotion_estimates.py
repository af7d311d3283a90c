"""promotion_estimates: what each promotion was expected to earn — the lab's estimate, the
offline estimate and the shadow estimate of the promoted policy's quality take rate, each with
its interval — kept beside the promotion so the calibration history can set them against what
came true. Promotions made before have no rows: their estimates were not recorded.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'promotion_estimates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('promotion_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('low', sa.Float(), nullable=True),
        sa.Column('high', sa.Float(), nullable=True),
        sa.Column('sample', sa.Integer(), nullable=False),
        sa.Column('detail', sa.String(length=300), nullable=False),
        sa.CheckConstraint("source in ('lab', 'offline', 'shadow')", name='ck_promotion_estimates_source'),
        sa.ForeignKeyConstraint(['promotion_id'], ['policy_promotions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_promotion_estimates_promotion_id', 'promotion_estimates', ['promotion_id'])


def downgrade() -> None:
    op.drop_index('ix_promotion_estimates_promotion_id', table_name='promotion_estimates')
    op.drop_table('promotion_estimates')
