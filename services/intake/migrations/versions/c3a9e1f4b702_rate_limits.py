"""rate limits: requests per bucket and hour, shared by every replica

Revision ID: c3a9e1f4b702
Revises: 5a1c0d2e7f31
Create Date: 2026-11-29 23:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'c3a9e1f4b702'
down_revision: Union[str, Sequence[str], None] = '5a1c0d2e7f31'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'rate_limits',
        sa.Column('bucket', sa.String(length=200), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('bucket', 'window_start'),
        schema='intake',
    )


def downgrade() -> None:
    op.drop_table('rate_limits', schema='intake')
