"""credit reports: dishonesty records owed to the credit registry after a forgery

Revision ID: d5b7e3f1a942
Revises: c3a9e5d1f742
Create Date: 2026-11-30 02:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = "d5b7e3f1a942"
down_revision: Union[str, Sequence[str], None] = "c3a9e5d1f742"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "credit_reports",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("act", sa.String(length=120), nullable=False),
        sa.Column("application_id", sa.String(length=40), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("attempts", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("act"),
        schema="verification",
    )
    op.create_index(
        "ix_credit_reports_pending", "credit_reports", ["state", "id"], unique=False, schema="verification"
    )


def downgrade() -> None:
    op.drop_index("ix_credit_reports_pending", table_name="credit_reports", schema="verification")
    op.drop_table("credit_reports", schema="verification")
