"""owner sources: a module owner's registry endpoint and its credential

Revision ID: c3a9e5d1f742
Revises: 8e2f4b6a1c07
Create Date: 2026-11-30 02:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "c3a9e5d1f742"
down_revision: Union[str, Sequence[str], None] = "8e2f4b6a1c07"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "owner_sources",
        sa.Column("owner", sa.String(40), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.String(200), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema="verification",
    )


def downgrade() -> None:
    op.drop_table("owner_sources", schema="verification")
