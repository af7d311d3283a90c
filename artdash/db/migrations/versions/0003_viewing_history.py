"""viewing history

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 04:03:59.873220
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('viewing_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('persona_id', sa.Integer(), nullable=False),
    sa.Column('title_id', sa.Integer(), nullable=False),
    sa.Column('watched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['persona_id'], ['personas.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['title_id'], ['titles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('persona_id', 'title_id', 'watched_at', name='uq_viewing_history_view')
    )
    with op.batch_alter_table('viewing_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_viewing_history_persona_id'), ['persona_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_viewing_history_title_id'), ['title_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('viewing_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_viewing_history_title_id'))
        batch_op.drop_index(batch_op.f('ix_viewing_history_persona_id'))

    op.drop_table('viewing_history')
