"""catalog: titles, variants, taxonomy

Revision ID: 0001
Revises:
Create Date: 2026-11-28 03:01:56.021934
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('facets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('titles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('synopsis', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind in ('movie', 'series')", name='ck_titles_kind'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('titles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_titles_name'), ['name'], unique=False)

    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facet_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['facet_id'], ['facets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('facet_id', 'key', name='uq_tags_facet_key')
    )
    with op.batch_alter_table('tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tags_facet_id'), ['facet_id'], unique=False)

    op.create_table('variants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('media_ext', sa.String(length=5), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('source_format', sa.String(length=10), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('n_bytes', sa.Integer(), nullable=False),
    sa.Column('source_n_bytes', sa.Integer(), nullable=False),
    sa.Column('phash', sa.String(length=16), nullable=False),
    sa.Column('brightness', sa.Float(), nullable=False),
    sa.Column('contrast', sa.Float(), nullable=False),
    sa.Column('colourfulness', sa.Float(), nullable=False),
    sa.Column('warmth', sa.Float(), nullable=False),
    sa.Column('dominant_colours', sa.JSON(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('near_duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('lineage_kind', sa.String(length=20), nullable=True),
    sa.Column('locale', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("lineage_kind is null or lineage_kind in ('crop', 'localisation')", name='ck_variants_lineage_kind'),
    sa.CheckConstraint("status in ('draft', 'active', 'retired')", name='ck_variants_status'),
    sa.ForeignKeyConstraint(['near_duplicate_of_id'], ['variants.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['variants.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['title_id'], ['titles.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sha256')
    )
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variants_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_variants_phash'), ['phash'], unique=False)
        batch_op.create_index(batch_op.f('ix_variants_source_sha256'), ['source_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_variants_title_id'), ['title_id'], unique=False)

    op.create_table('tag_suggestions',
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status in ('pending', 'accepted', 'rejected')", name='ck_tag_suggestions_status'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['variants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('variant_id', 'tag_id')
    )
    op.create_table('title_tags',
    sa.Column('title_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['title_id'], ['titles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('title_id', 'tag_id')
    )
    with op.batch_alter_table('title_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_title_tags_tag_id'), ['tag_id'], unique=False)

    op.create_table('variant_tags',
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('added_by', sa.String(length=80), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['variants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('variant_id', 'tag_id')
    )
    with op.batch_alter_table('variant_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variant_tags_tag_id'), ['tag_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('variant_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_variant_tags_tag_id'))

    op.drop_table('variant_tags')
    with op.batch_alter_table('title_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_title_tags_tag_id'))

    op.drop_table('title_tags')
    op.drop_table('tag_suggestions')
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_variants_title_id'))
        batch_op.drop_index(batch_op.f('ix_variants_source_sha256'))
        batch_op.drop_index(batch_op.f('ix_variants_phash'))
        batch_op.drop_index(batch_op.f('ix_variants_parent_id'))

    op.drop_table('variants')
    with op.batch_alter_table('tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tags_facet_id'))

    op.drop_table('tags')
    with op.batch_alter_table('titles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_titles_name'))

    op.drop_table('titles')
    op.drop_table('facets')
