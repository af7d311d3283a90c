"""personas and editors picks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 03:53:36.376996
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('personas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('device', sa.String(length=10), nullable=False),
    sa.Column('member_id', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind in ('synthetic', 'member')", name='ck_personas_kind'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key'),
    sa.UniqueConstraint('member_id')
    )
    op.create_table('editors_picks',
    sa.Column('title_id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('chosen_by', sa.String(length=80), nullable=False),
    sa.Column('chosen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['title_id'], ['titles.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['variants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('title_id')
    )
    op.create_table('persona_affinities',
    sa.Column('persona_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.CheckConstraint('weight >= -1 and weight <= 1', name='ck_persona_affinities_weight'),
    sa.ForeignKeyConstraint(['persona_id'], ['personas.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('persona_id', 'tag_id')
    )
    with op.batch_alter_table('persona_affinities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persona_affinities_tag_id'), ['tag_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('persona_affinities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persona_affinities_tag_id'))

    op.drop_table('persona_affinities')
    op.drop_table('editors_picks')
    op.drop_table('personas')
