"""titles.cast_order: the cast's tag ids in the order the editor typed them (billing order).
Existing titles get [] and list their cast alphabetically, as before, until next saved.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('titles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cast_order', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('titles', schema=None) as batch_op:
        batch_op.drop_column('cast_order')
