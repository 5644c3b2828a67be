"""campaign draws: a 模拟积分 campaign's sample from the permit register, by pseudonymous key

Revision ID: e7c2a4f9b613
Revises: d5b7e3f1a942
Create Date: 2026-11-30 04:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = "e7c2a4f9b613"
down_revision: Union[str, Sequence[str], None] = "d5b7e3f1a942"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "campaign_draws",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("strata", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("cut_off_date", sa.Date(), nullable=False),
        sa.Column("keep_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id"),
        schema="verification",
    )
    op.create_table(
        "campaign_invitations",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("holder_key", sa.String(length=64), nullable=False),
        sa.Column("stratum", sa.BigInteger(), nullable=False),
        sa.Column("keep_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "holder_key"),
        schema="verification",
    )


def downgrade() -> None:
    op.drop_table("campaign_invitations", schema="verification")
    op.drop_table("campaign_draws", schema="verification")
