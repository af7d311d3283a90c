"""Artwork discovery: the videos stills came from (source_videos; the file itself only when the
editor kept it), and on every variant its focal point, face boxes, annotations, where it came
from ("frame 00:12:31.4 of trailer.mp4") and, for a crop, the box cut from its parent. Existing
variants get no focal point (the centre is used) and empty annotations until `artdash annotate`.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'source_videos',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('title_id', sa.Integer(), sa.ForeignKey('titles.id', ondelete='RESTRICT'), nullable=False,
                  index=True),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('kept', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('media_ext', sa.String(length=5), nullable=False),
        sa.Column('n_bytes', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('codec', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.UniqueConstraint('title_id', 'sha256', name='uq_source_videos_title_sha256'),
    )
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('focal_x', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('focal_y', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('faces', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('annotations', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('origin', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('source_video_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('frame_seconds', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('crop_box', sa.JSON(), nullable=True))
        batch_op.create_foreign_key('fk_variants_source_video', 'source_videos', ['source_video_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_constraint('fk_variants_source_video', type_='foreignkey')
        for column in ('crop_box', 'frame_seconds', 'source_video_id', 'origin', 'annotations', 'faces',
                       'focal_y', 'focal_x'):
            batch_op.drop_column(column)
    op.drop_table('source_videos')
