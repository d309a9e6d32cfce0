"""photo registration, region figures and marker size

Revision ID: e5871521b199
Revises: 275c3a65b0e2
Create Date: 2026-12-01

Photos taken before this revision stay unregistered (all new columns null) until they are
re-analysed; progress then uses their whole-frame figures (docs/verdict-rules.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e5871521b199'
down_revision: str | None = '275c3a65b0e2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region_area_cm2', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('region_hair_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('region_terminal_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('region_density_per_cm2', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('region_vellus_fraction', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('region_mean_width_um', sa.Float(), nullable=True))

    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aruco_mm', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('registered_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('registration_matrix', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('registration_inliers', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('registration_coverage', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('different_spot', sa.Boolean(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_photos_registered_to_id_photos'), 'photos', ['registered_to_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_photos_registered_to_id_photos'), type_='foreignkey')
        batch_op.drop_column('different_spot')
        batch_op.drop_column('registration_coverage')
        batch_op.drop_column('registration_inliers')
        batch_op.drop_column('registration_matrix')
        batch_op.drop_column('registered_to_id')
        batch_op.drop_column('aruco_mm')

    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.drop_column('region_mean_width_um')
        batch_op.drop_column('region_vellus_fraction')
        batch_op.drop_column('region_density_per_cm2')
        batch_op.drop_column('region_terminal_count')
        batch_op.drop_column('region_hair_count')
        batch_op.drop_column('region_area_cm2')
