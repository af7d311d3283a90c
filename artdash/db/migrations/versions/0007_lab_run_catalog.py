"""lab_runs.catalog_fingerprint: the catalog a Policy-lab run ran on

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Runs saved before this revision do not know their catalog: null, shown as "not recorded".
    with op.batch_alter_table('lab_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('catalog_fingerprint', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('lab_runs', schema=None) as batch_op:
        batch_op.drop_column('catalog_fingerprint')
