"""determinations: each score reproducible from what it was made of

Revision ID: e4f1c2b9a8d3
Revises: a3d9e5c17b42
Create Date: 2026-11-30 02:00:00

Every rule-set and module text ever used is kept by its content hash (`rule_texts`), and each
score version keeps the departments' answers it was computed from, the engine version and the
determination id (a hash over all of them), so a determination can be recomputed from outside.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = 'e4f1c2b9a8d3'
down_revision: Union[str, Sequence[str], None] = 'a3d9e5c17b42'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'rule_texts',
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('document_id', sa.String(length=60), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('content_hash'),
        schema='scoring',
    )
    op.add_column('scores', sa.Column('answers', postgresql.JSONB(astext_type=sa.Text()), nullable=True), schema='scoring')
    op.add_column('scores', sa.Column('engine_version', sa.String(length=20), nullable=True), schema='scoring')
    op.add_column('scores', sa.Column('determination_id', sa.String(length=64), nullable=True), schema='scoring')


def downgrade() -> None:
    op.drop_column('scores', 'determination_id', schema='scoring')
    op.drop_column('scores', 'engine_version', schema='scoring')
    op.drop_column('scores', 'answers', schema='scoring')
    op.drop_table('rule_texts', schema='scoring')
