"""campaigns on the estimate page, and the invitations' one-time codes

Revision ID: a7c3e91f2d60
Revises: b8e4f0a2c6d1
Create Date: 2026-11-30 05:40:00

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = "a7c3e91f2d60"
down_revision: Union[str, Sequence[str], None] = "b8e4f0a2c6d1"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="publicity",
    )
    op.create_table(
        "campaign_codes",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("holder_key", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "holder_key"),
        schema="publicity",
    )


def downgrade() -> None:
    op.drop_table("campaign_codes", schema="publicity")
    op.drop_table("campaigns", schema="publicity")
