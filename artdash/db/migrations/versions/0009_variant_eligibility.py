"""variants: where, when and to whom each may be shown (territories, languages, availability
window, maturity rating, approval). Every existing variant stays shown as before: no
territories or languages (everywhere), no window, rated "all", approved.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('territories', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('available_from', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('available_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('maturity', sa.String(length=4), nullable=False, server_default='all'))
        batch_op.add_column(sa.Column('approved', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('variants', schema=None) as batch_op:
        for column in ('approved', 'maturity', 'available_until', 'available_from', 'languages', 'territories'):
            batch_op.drop_column(column)
