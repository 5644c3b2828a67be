"""round scores: a closed round's candidates re-scored at the round's cut-off

Revision ID: c5d1e8a92b34
Revises: f2a8c3d51e07
Create Date: 2026-11-30 05:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = 'c5d1e8a92b34'
down_revision: Union[str, Sequence[str], None] = 'f2a8c3d51e07'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('rounds', sa.Column('rescored', sa.Boolean(), nullable=False, server_default=sa.false()),
                  schema='publicity')
    op.create_table(
        'round_scores',
        sa.Column('round_id', sa.String(length=40), nullable=False),
        sa.Column('application_id', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
        sa.Column('version', sa.Integer(), nullable=True),
        sa.Column('based_on', sa.Integer(), nullable=True),
        sa.Column('total', sa.Float(), nullable=True),
        sa.Column('modules', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
        sa.Column('lines', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('round_id', 'application_id'),
        schema='publicity',
    )
    op.create_index('ix_publicity_round_scores_pending', 'round_scores', ['round_id'], unique=False,
                    schema='publicity', postgresql_where=sa.text("status = 'pending'"))
    # Lists published before rounds were re-scored rank by the applications' own scores: those are
    # their round scores, so an objection during their notice still moves them.
    op.execute("""
        INSERT INTO publicity.round_scores (round_id, application_id, status, version, based_on, total, modules, lines)
        SELECT e.round_id, e.application_id, s.status, s.version, s.version, s.total, s.modules, s.lines
        FROM publicity.round_entries e JOIN publicity.scores s ON s.application_id = e.application_id
        ON CONFLICT DO NOTHING
    """)


def downgrade() -> None:
    op.drop_index('ix_publicity_round_scores_pending', table_name='round_scores', schema='publicity',
                  postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('round_scores', schema='publicity')
    op.drop_column('rounds', 'rescored', schema='publicity')
