"""submitted applications: who submitted each, its holder and review deadline

Revision ID: 8c3f51a0e2d7
Revises: 6b2e9f0c1d45
Create Date: 2026-11-29 23:10:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '8c3f51a0e2d7'
down_revision: Union[str, Sequence[str], None] = '6b2e9f0c1d45'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('applications',
    sa.Column('application_id', sa.String(length=40), nullable=False),
    sa.Column('principal', sa.String(length=200), nullable=True),
    sa.Column('holder', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('expected_departments', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('cut_off_date', sa.Date(), nullable=False),
    sa.Column('review_deadline', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('application_id'),
    schema='scoring'
    )
    op.create_index(op.f('ix_scoring_applications_review_deadline'), 'applications', ['review_deadline'],
                    unique=False, schema='scoring')


def downgrade() -> None:
    op.drop_index(op.f('ix_scoring_applications_review_deadline'), table_name='applications', schema='scoring')
    op.drop_table('applications', schema='scoring')
