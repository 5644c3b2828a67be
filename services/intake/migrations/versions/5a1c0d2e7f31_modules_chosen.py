"""the X-modules an application is for

Revision ID: 5a1c0d2e7f31
Revises: e0f02715cc2e
Create Date: 2026-11-27 02:40:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '5a1c0d2e7f31'
down_revision: Union[str, Sequence[str], None] = 'e0f02715cc2e'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('applications', sa.Column('modules', postgresql.JSONB(astext_type=sa.Text()),
                                            server_default=sa.text("'[]'::jsonb"), nullable=False), schema='intake')


def downgrade() -> None:
    op.drop_column('applications', 'modules', schema='intake')
