"""simulation jobs

Revision ID: 6b2e9f0c1d45
Revises: 085963974e0c
Create Date: 2026-11-27 03:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = '6b2e9f0c1d45'
down_revision: Union[str, Sequence[str], None] = '085963974e0c'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'simulations',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('requested_by', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('spec', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('phase', sa.String(length=40), nullable=True),
        sa.Column('holders_done', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('holders_total', sa.BigInteger(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('summary', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('report_dir', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        schema='scoring',
    )
    op.create_index('ix_scoring_simulations_requested_by', 'simulations', ['requested_by'], schema='scoring')
    op.create_index('ix_scoring_simulations_state', 'simulations', ['state'], schema='scoring')


def downgrade() -> None:
    op.drop_table('simulations', schema='scoring')
