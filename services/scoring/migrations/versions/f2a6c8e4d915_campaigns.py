"""campaigns: the policy office's 模拟积分 campaigns, their participants and reports

Revision ID: f2a6c8e4d915
Revises: b7e3d0c4f218
Create Date: 2026-11-30 04:50:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = "f2a6c8e4d915"
down_revision: Union[str, Sequence[str], None] = "b7e3d0c4f218"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("doc", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("keep_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="scoring",
    )
    op.create_table(
        "campaign_participants",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("holder_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("declared", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("invited", sa.Boolean(), nullable=True),
        sa.Column("stratum", sa.Integer(), nullable=True),
        sa.Column("labels", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("keep_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "holder_key"),
        schema="scoring",
    )
    op.create_table(
        "campaign_reports",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("produced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "number"),
        schema="scoring",
    )


def downgrade() -> None:
    op.drop_table("campaign_reports", schema="scoring")
    op.drop_table("campaign_participants", schema="scoring")
    op.drop_table("campaigns", schema="scoring")
