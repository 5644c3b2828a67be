"""round scores: rounds closed, their candidates, and score versions marked as a round's

Revision ID: b7e3d0c4f218
Revises: e4f1c2b9a8d3
Create Date: 2026-11-30 05:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'b7e3d0c4f218'
down_revision: Union[str, Sequence[str], None] = 'e4f1c2b9a8d3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('scores', sa.Column('round_id', sa.String(length=40), nullable=True), schema='scoring')
    op.add_column('scores', sa.Column('based_on', sa.Integer(), nullable=True), schema='scoring')
    op.create_table(
        'rounds',
        sa.Column('round_id', sa.String(length=40), nullable=False),
        sa.Column('module_id', sa.String(length=60), nullable=False),
        sa.Column('candidate', sa.String(length=10), nullable=False),
        sa.Column('cut_off_date', sa.Date(), nullable=False),
        sa.Column('rules_on', sa.Date(), nullable=False),
        sa.Column('final', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('round_id'),
        schema='scoring',
    )
    op.create_table(
        'round_candidates',
        sa.Column('round_id', sa.String(length=40), nullable=False),
        sa.Column('application_id', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('round_id', 'application_id'),
        schema='scoring',
    )
    op.create_index(op.f('ix_scoring_round_candidates_application_id'), 'round_candidates', ['application_id'],
                    unique=False, schema='scoring')


def downgrade() -> None:
    op.drop_index(op.f('ix_scoring_round_candidates_application_id'), table_name='round_candidates', schema='scoring')
    op.drop_table('round_candidates', schema='scoring')
    op.drop_table('rounds', schema='scoring')
    op.drop_column('scores', 'based_on', schema='scoring')
    op.drop_column('scores', 'round_id', schema='scoring')
