"""rate limits: requests per bucket and hour, shared by every replica

Revision ID: d8b2f5a7c913
Revises: 8c3f51a0e2d7
Create Date: 2026-11-29 23:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'd8b2f5a7c913'
down_revision: Union[str, Sequence[str], None] = '8c3f51a0e2d7'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'rate_limits',
        sa.Column('bucket', sa.String(length=200), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('bucket', 'window_start'),
        schema='scoring',
    )


def downgrade() -> None:
    op.drop_table('rate_limits', schema='scoring')
