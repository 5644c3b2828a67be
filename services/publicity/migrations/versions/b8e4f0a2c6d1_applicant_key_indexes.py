"""applicants found by candidate key: a re-scored candidate's best application without the round

Revision ID: b8e4f0a2c6d1
Revises: a7d3e9c41b20
Create Date: 2026-11-30 05:00:00

A re-rank asked for the re-scored candidate's best application by computing every candidate of
the round and keeping one: at 200,000 candidates, seconds per objection. With these indexes it
reads the candidate's own applications.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'b8e4f0a2c6d1'
down_revision: Union[str, Sequence[str], None] = 'a7d3e9c41b20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_publicity_applicants_holder_key', 'applicants', ['holder_key'], schema='publicity')
    op.create_index('ix_publicity_applicants_child_key', 'applicants', ['child_key'], schema='publicity',
                    postgresql_where=sa.text('child_key IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_publicity_applicants_child_key', table_name='applicants', schema='publicity')
    op.drop_index('ix_publicity_applicants_holder_key', table_name='applicants', schema='publicity')
