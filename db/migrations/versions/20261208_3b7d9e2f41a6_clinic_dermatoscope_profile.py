"""the clinic's dermatoscope profile (pixels per mm)

Revision ID: 3b7d9e2f41a6
Revises: e5871521b199
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '3b7d9e2f41a6'
down_revision: str | None = 'e5871521b199'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dermatoscope_px_per_mm', sa.Float(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_clinics_dermatoscope_px_per_mm'),
            'dermatoscope_px_per_mm IS NULL OR dermatoscope_px_per_mm > 0',
        )


def downgrade() -> None:
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_clinics_dermatoscope_px_per_mm'), type_='check')
        batch_op.drop_column('dermatoscope_px_per_mm')
