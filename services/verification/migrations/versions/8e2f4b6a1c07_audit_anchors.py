"""audit anchors: each department's chain head, recorded where the verifier can only add to it

Revision ID: 8e2f4b6a1c07
Revises: 5c1e7d2a9b30
Create Date: 2026-11-29 23:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "8e2f4b6a1c07"
down_revision: Union[str, Sequence[str], None] = "5c1e7d2a9b30"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.false()),
        schema="verification",
    )
    op.create_index("ix_audit_anchors_head", "audit_anchors", ["department", "entry_id"], schema="verification")
    # A department's chain head and its verification walk the department's entries in order.
    op.create_index("ix_audit_log_chain", "audit_log", ["department", "id"], schema="verification")
    op.execute("CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON verification.audit_anchors "
               "FOR EACH ROW EXECUTE FUNCTION verification.refuse_audit_change()")
    op.execute("CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON verification.audit_anchors "
               "FOR EACH STATEMENT EXECUTE FUNCTION verification.refuse_audit_change()")


def downgrade() -> None:
    op.drop_index("ix_audit_log_chain", "audit_log", schema="verification")
    op.drop_table("audit_anchors", schema="verification")
